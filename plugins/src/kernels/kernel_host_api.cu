// The C ABI's bookkeeping (errors, versions, device count) and its host-memory variants, which
// copy host arrays through the GPU so tests and benchmarks need nothing but ctypes.
#include <cstring>
#include <functional>
#include <string>
#include <vector>

#include "kernel_common.cuh"

namespace edge3d {

namespace {
thread_local std::string g_last_error;

// Device buffers that free themselves; every CUDA call is checked and named.
class DeviceBuffers {
 public:
  ~DeviceBuffers() {
    for (void* p : buffers_) cudaFree(p);
    if (stream_ != nullptr) cudaStreamDestroy(stream_);
    for (cudaEvent_t e : events_) cudaEventDestroy(e);
  }
  bool ok(cudaError_t err, const char* what) {
    if (err == cudaSuccess) return true;
    set_error(std::string(what) + ": " + cudaGetErrorString(err));
    return false;
  }
  void* upload(const void* host, size_t bytes) {
    void* dev = alloc(bytes);
    if (dev != nullptr && bytes > 0 &&
        !ok(cudaMemcpyAsync(dev, host, bytes, cudaMemcpyHostToDevice, stream_), "cudaMemcpy H2D"))
      return nullptr;
    return dev;
  }
  void* alloc(size_t bytes) {
    void* dev = nullptr;
    if (!ok(cudaMalloc(&dev, bytes > 0 ? bytes : 1), "cudaMalloc")) return nullptr;
    buffers_.push_back(dev);
    return dev;
  }
  bool start() { return ok(cudaStreamCreateWithFlags(&stream_, cudaStreamNonBlocking), "cudaStreamCreate"); }
  cudaStream_t stream() const { return stream_; }
  cudaEvent_t event() {
    cudaEvent_t e = nullptr;
    if (!ok(cudaEventCreate(&e), "cudaEventCreate")) return nullptr;
    events_.push_back(e);
    return e;
  }

 private:
  std::vector<void*> buffers_;
  std::vector<cudaEvent_t> events_;
  cudaStream_t stream_ = nullptr;
};

struct Output {
  void* host;
  size_t bytes;
  void* dev = nullptr;
};

// Uploads inputs, allocates outputs, launches `run(device inputs, device outputs, stream)`
// `repeats` times between two events, and downloads the outputs.
int run_host(const std::vector<std::pair<const void*, size_t>>& inputs,
             std::vector<Output> outputs, size_t workspace_bytes, int32_t repeats,
             float* elapsed_ms,
             const std::function<int(const std::vector<void*>&, const std::vector<void*>&, void*,
                                     cudaStream_t)>& run) {
  if (repeats < 1) return fail(EDGE3D_INVALID_ARGUMENT, "repeats must be >= 1");
  DeviceBuffers mem;
  if (!mem.start()) return EDGE3D_CUDA_ERROR;
  std::vector<void*> dev_in, dev_out;
  for (const auto& [host, bytes] : inputs) {
    void* d = mem.upload(host, bytes);
    if (d == nullptr) return EDGE3D_CUDA_ERROR;
    dev_in.push_back(d);
  }
  for (auto& out : outputs) {
    out.dev = mem.alloc(out.bytes);
    if (out.dev == nullptr) return EDGE3D_CUDA_ERROR;
    dev_out.push_back(out.dev);
  }
  void* workspace = workspace_bytes > 0 ? mem.alloc(workspace_bytes) : nullptr;
  if (workspace_bytes > 0 && workspace == nullptr) return EDGE3D_CUDA_ERROR;
  cudaEvent_t begin = mem.event(), end = mem.event();
  if (begin == nullptr || end == nullptr) return EDGE3D_CUDA_ERROR;
  if (!mem.ok(cudaEventRecord(begin, mem.stream()), "cudaEventRecord")) return EDGE3D_CUDA_ERROR;
  for (int32_t r = 0; r < repeats; ++r) {
    if (int st = run(dev_in, dev_out, workspace, mem.stream())) return st;
  }
  if (!mem.ok(cudaEventRecord(end, mem.stream()), "cudaEventRecord")) return EDGE3D_CUDA_ERROR;
  for (auto& out : outputs) {
    if (out.bytes > 0 && !mem.ok(cudaMemcpyAsync(out.host, out.dev, out.bytes,
                                                 cudaMemcpyDeviceToHost, mem.stream()),
                                 "cudaMemcpy D2H"))
      return EDGE3D_CUDA_ERROR;
  }
  if (!mem.ok(cudaStreamSynchronize(mem.stream()), "kernel execution")) return EDGE3D_CUDA_ERROR;
  if (elapsed_ms != nullptr) {
    float ms = 0.f;
    if (!mem.ok(cudaEventElapsedTime(&ms, begin, end), "cudaEventElapsedTime")) return EDGE3D_CUDA_ERROR;
    *elapsed_ms = ms / static_cast<float>(repeats);
  }
  return EDGE3D_OK;
}

size_t elem(int dtype) { return dtype == EDGE3D_FLOAT16 ? 2 : 4; }

}  // namespace

void set_error(const std::string& message) { g_last_error = message; }

int fail(int status, const std::string& message) {
  set_error(message);
  return status;
}

int check_launch(const char* op) {
  const cudaError_t err = cudaGetLastError();
  if (err == cudaSuccess) return EDGE3D_OK;
  return fail(EDGE3D_CUDA_ERROR, std::string(op) + " kernel launch failed: " +
                                     cudaGetErrorString(err) +
                                     " (no kernel image for this GPU? see docs/tensorrt.md)");
}

}  // namespace edge3d

using edge3d::elem;
using edge3d::Output;
using edge3d::run_host;

extern "C" int edge3d_kernels_abi_version(void) { return EDGE3D_KERNELS_ABI_VERSION; }

extern "C" const char* edge3d_last_error(void) { return edge3d::g_last_error.c_str(); }

extern "C" int edge3d_cuda_device_count(void) {
  int count = 0;
  if (cudaGetDeviceCount(&count) != cudaSuccess) {
    cudaGetLastError();  // clear the sticky "no driver" error
    return 0;
  }
  return count;
}

extern "C" int edge3d_sector_bin_host(const void* points, const void* centers, int dtype,
                                      int64_t batch, int64_t n, int64_t k, int32_t n_azimuth,
                                      int32_t n_polar, int32_t* sector, void* radius,
                                      int32_t repeats, float* elapsed_ms) {
  if (int st = edge3d::check_sector_args("SectorBin", dtype, batch, n, k, n_azimuth, n_polar))
    return st;
  const size_t e = elem(dtype), kn = static_cast<size_t>(batch * k * n);
  return run_host(
      {{points, batch * n * 3 * e}, {centers, batch * k * 3 * e}},
      {Output{sector, kn * 4}, Output{radius, kn * e}}, 0, repeats, elapsed_ms,
      [&](const auto& in, const auto& out, void*, cudaStream_t s) {
        return edge3d_sector_bin(in[0], in[1], dtype, batch, n, k, n_azimuth, n_polar,
                                 static_cast<int32_t*>(out[0]), out[1], s);
      });
}

extern "C" int edge3d_sector_mask_host(const void* points, const void* centers, const void* rays,
                                       const void* migration, int dtype, int64_t batch, int64_t n,
                                       int64_t k, int32_t n_azimuth, int32_t n_polar,
                                       void* logits, int32_t repeats, float* elapsed_ms) {
  if (int st = edge3d::check_sector_args("SectorMask", dtype, batch, n, k, n_azimuth, n_polar))
    return st;
  const size_t e = elem(dtype), kn = static_cast<size_t>(batch * k * n);
  const size_t sectors = static_cast<size_t>(n_azimuth) * static_cast<size_t>(n_polar);
  return run_host(
      {{points, batch * n * 3 * e}, {centers, batch * k * 3 * e},
       {rays, batch * k * sectors * e}, {migration, kn * e}},
      {Output{logits, kn * e}}, 0, repeats, elapsed_ms,
      [&](const auto& in, const auto& out, void*, cudaStream_t s) {
        return edge3d_sector_mask(in[0], in[1], in[2], in[3], dtype, batch, n, k, n_azimuth,
                                  n_polar, out[0], s);
      });
}

extern "C" int edge3d_point_in_box_prob_host(const void* points, const void* boxes, int dtype,
                                             int64_t batch, int64_t n, int64_t h, float theta1,
                                             float theta2, void* prob, int32_t repeats,
                                             float* elapsed_ms) {
  if (int st = edge3d::check_box_args(dtype, batch, n, h, theta2)) return st;
  const size_t e = elem(dtype);
  return run_host(
      {{points, batch * n * 3 * e}, {boxes, batch * h * 6 * e}},
      {Output{prob, static_cast<size_t>(batch * h * n) * e}}, 0, repeats, elapsed_ms,
      [&](const auto& in, const auto& out, void*, cudaStream_t s) {
        return edge3d_point_in_box_prob(in[0], in[1], dtype, batch, n, h, theta1, theta2,
                                        out[0], s);
      });
}

extern "C" int edge3d_soft_box_iou_host(const void* prob_a, const void* prob_b, int dtype,
                                        int64_t batch, int64_t a, int64_t b, int64_t n, float eps,
                                        void* iou, int32_t repeats, float* elapsed_ms) {
  if (int st = edge3d::check_iou_args(dtype, batch, a, b, n, eps)) return st;
  const size_t e = elem(dtype);
  return run_host(
      {{prob_a, batch * a * n * e}, {prob_b, batch * b * n * e}},
      {Output{iou, static_cast<size_t>(batch * a * b) * e}},
      edge3d_soft_box_iou_workspace(batch, a, b), repeats, elapsed_ms,
      [&](const auto& in, const auto& out, void* ws, cudaStream_t s) {
        return edge3d_soft_box_iou(in[0], in[1], dtype, batch, a, b, n, eps, out[0], ws, s);
      });
}
