// Device helpers shared by the edge3d kernels (dtype-generic loads and stores, FP32 compute,
// launch sizes) and the C ABI's plumbing: errors, argument checks, the host-memory runner.
#pragma once

#include <cuda_fp16.h>
#include <cuda_runtime.h>

#include <cstddef>
#include <cstdint>
#include <functional>
#include <initializer_list>
#include <string>
#include <utility>
#include <vector>

#include "edge3d_ops.h"

namespace edge3d {

constexpr int kThreads = 256;

__device__ __forceinline__ float load(const float* p, int64_t i) { return p[i]; }
__device__ __forceinline__ float load(const __half* p, int64_t i) { return __half2float(p[i]); }
__device__ __forceinline__ void store(float* p, int64_t i, float v) { p[i] = v; }
__device__ __forceinline__ void store(__half* p, int64_t i, float v) { p[i] = __float2half_rn(v); }

inline int64_t blocks_for(int64_t total) {
  const int64_t blocks = (total + kThreads - 1) / kThreads;
  return blocks < 65535 * 16 ? blocks : 65535 * 16;  // grid-stride loops cover the rest
}

// Bytes of one element of a float dtype.
inline size_t elem(int dtype) { return dtype == EDGE3D_FLOAT16 ? 2 : 4; }

void set_error(const std::string& message);
int fail(int status, const std::string& message);
int check_launch(const char* op);

// The checks every launcher shares: a float dtype and no negative size.
inline int check_dtype_and_sizes(const char* op, int dtype, std::initializer_list<int64_t> sizes) {
  if (dtype != EDGE3D_FLOAT32 && dtype != EDGE3D_FLOAT16)
    return fail(EDGE3D_INVALID_ARGUMENT, std::string(op) + ": dtype must be 0 (FP32) or 1 (FP16)");
  for (int64_t s : sizes)
    if (s < 0) return fail(EDGE3D_INVALID_ARGUMENT, std::string(op) + ": negative size");
  return EDGE3D_OK;
}

// A host array the runner copies back from the device after the launches.
struct Output {
  void* host;
  size_t bytes;
  void* dev = nullptr;
};

using DeviceLaunch = std::function<int(const std::vector<void*>& inputs,
                                       const std::vector<void*>& outputs, void* workspace,
                                       cudaStream_t stream)>;

// Uploads the (host pointer, bytes) inputs, allocates the outputs and a workspace, runs
// `launch` `repeats` times between two CUDA events (mean time in `elapsed_ms`, nullable) and
// downloads the outputs: the body of every *_host variant of the C ABI.
int run_host(const std::vector<std::pair<const void*, size_t>>& inputs,
             std::vector<Output> outputs, size_t workspace_bytes, int32_t repeats,
             float* elapsed_ms, const DeviceLaunch& launch);

}  // namespace edge3d
