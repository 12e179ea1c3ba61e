// Helpers that let GCC and Clang vectorise plain loops, and run them wider where the CPU can.
#pragma once

#include <cstdint>

// A function marked EDGE3D_VECTOR_CLONES is compiled twice on x86-64, for baseline x86-64
// (SSE2, what the wheel targets) and for AVX2, and the loader picks the AVX2 one where the CPU
// has it (GNU ifunc). Elsewhere (aarch64: NEON is baseline) it is an ordinary function.
#if defined(__x86_64__) && defined(__GNUC__) && defined(__linux__)
#define EDGE3D_VECTOR_CLONES __attribute__((target_clones("avx2", "default")))
#else
#define EDGE3D_VECTOR_CLONES
#endif

namespace edge3d {

// ok ? a : b on the bits. Written as a conditional, GCC turns "store ok ? new : old" into a
// conditional store (or sinks the arithmetic into a branch) and leaves the loop scalar.
inline float select(bool ok, float a, float b) {
  const uint32_t m = 0u - static_cast<uint32_t>(ok);
  return __builtin_bit_cast(float, (__builtin_bit_cast(uint32_t, a) & m) |
                                       (__builtin_bit_cast(uint32_t, b) & ~m));
}

}  // namespace edge3d
