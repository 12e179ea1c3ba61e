// Deterministic parallel loops for the native core.
//
// Work is split into contiguous chunks by index only (never by timing), so any loop whose
// iterations write disjoint outputs gives bit-identical results for every thread count.
#pragma once

#include <algorithm>
#include <cstdint>
#include <cstdlib>
#include <exception>
#include <mutex>
#include <thread>
#include <vector>

namespace edge3d {

// Threads to use: EDGE3D_NUM_THREADS if set, else the hardware concurrency.
inline int default_num_threads() {
  static const int n = [] {
    if (const char* env = std::getenv("EDGE3D_NUM_THREADS")) {
      int v = std::atoi(env);
      if (v > 0) return v;
    }
    unsigned hc = std::thread::hardware_concurrency();
    return hc == 0 ? 1 : static_cast<int>(hc);
  }();
  return n;
}

// Calls fn(begin, end) on disjoint chunks covering [0, n). Chunks are at least `grain` long so
// small inputs stay on the calling thread. The first exception thrown by any chunk is rethrown.
template <typename Fn>
void parallel_for(int64_t n, int64_t grain, Fn&& fn, int num_threads = 0) {
  if (n <= 0) return;
  int threads = num_threads > 0 ? num_threads : default_num_threads();
  int64_t chunks = std::min<int64_t>(threads, (n + grain - 1) / std::max<int64_t>(grain, 1));
  if (chunks <= 1) {
    fn(int64_t{0}, n);
    return;
  }
  std::exception_ptr error;
  std::mutex error_mutex;
  std::vector<std::thread> pool;
  pool.reserve(chunks - 1);
  auto run = [&](int64_t c) {
    int64_t b = n * c / chunks, e = n * (c + 1) / chunks;
    try {
      fn(b, e);
    } catch (...) {
      std::lock_guard<std::mutex> lock(error_mutex);
      if (!error) error = std::current_exception();
    }
  };
  for (int64_t c = 1; c < chunks; ++c) pool.emplace_back(run, c);
  run(0);
  for (auto& t : pool) t.join();
  if (error) std::rethrow_exception(error);
}

}  // namespace edge3d
