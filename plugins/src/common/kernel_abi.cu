// The C ABI's bookkeeping (errors, versions, device count) and the runner of its host-memory
// variants, which copy host arrays through the GPU so tests and benchmarks need nothing but
// ctypes. Each op's launchers live in src/ops/<op>/.
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

}  // namespace

int run_host(const std::vector<std::pair<const void*, size_t>>& inputs,
             std::vector<Output> outputs, size_t workspace_bytes, int32_t repeats,
             float* elapsed_ms, const DeviceLaunch& run) {
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
