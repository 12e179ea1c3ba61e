/* C ABI of edge3d's CUDA kernels (libedge3d_kernels.so): one launcher per op, device pointers,
 * a caller's CUDA stream; plus *_host variants that copy host arrays through the GPU (tests and
 * benchmarks call those through ctypes, no TensorRT or CUDA Python needed).
 *
 * Conventions (docs/ops.md): float inputs are all FP32 or all FP16 (`dtype`), computed in FP32;
 * float outputs have the inputs' dtype; indices are int32. Tensors are dense, row-major, with a
 * leading batch dimension `batch` (1 when the op is unbatched). Every function returns
 * EDGE3D_OK or an error code; edge3d_last_error() then describes the failure (thread-local).
 */
#ifndef EDGE3D_OPS_H
#define EDGE3D_OPS_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#define EDGE3D_KERNELS_ABI_VERSION 1

/* The library is built with hidden visibility; only these functions are exported. */
#if defined(__GNUC__)
#define EDGE3D_API __attribute__((visibility("default")))
#else
#define EDGE3D_API
#endif

enum edge3d_dtype { EDGE3D_FLOAT32 = 0, EDGE3D_FLOAT16 = 1 };
enum edge3d_status { EDGE3D_OK = 0, EDGE3D_INVALID_ARGUMENT = 1, EDGE3D_CUDA_ERROR = 2 };

EDGE3D_API int edge3d_kernels_abi_version(void);
EDGE3D_API const char* edge3d_last_error(void);
/* Number of CUDA devices the runtime sees (0 without a driver or GPU; never fails). */
EDGE3D_API int edge3d_cuda_device_count(void);

/* SectorBin: points [batch, n, 3], centers [batch, k, 3] -> sector int32 [batch, k, n],
 * radius [batch, k, n]. */
EDGE3D_API int edge3d_sector_bin(const void* points, const void* centers, int dtype, int64_t batch,
                      int64_t n, int64_t k, int32_t n_azimuth, int32_t n_polar, int32_t* sector,
                      void* radius, void* stream);
/* SectorMask: + rays [batch, k, n_azimuth * n_polar], migration [batch, k, n]
 * -> logits [batch, k, n] = rays[sector] - radius + 2 * migration. */
EDGE3D_API int edge3d_sector_mask(const void* points, const void* centers, const void* rays,
                       const void* migration, int dtype, int64_t batch, int64_t n, int64_t k,
                       int32_t n_azimuth, int32_t n_polar, void* logits, void* stream);
/* PointInBoxProb: points [batch, n, 3], boxes [batch, h, 2, 3] -> prob [batch, h, n]. */
EDGE3D_API int edge3d_point_in_box_prob(const void* points, const void* boxes, int dtype, int64_t batch,
                             int64_t n, int64_t h, float theta1, float theta2, void* prob,
                             void* stream);
/* SoftBoxIoU: prob_a [batch, a, n], prob_b [batch, b, n] -> iou [batch, a, b]. `workspace` is a
 * device buffer of edge3d_soft_box_iou_workspace(batch, a, b) bytes (row sums). */
EDGE3D_API size_t edge3d_soft_box_iou_workspace(int64_t batch, int64_t a, int64_t b);
EDGE3D_API int edge3d_soft_box_iou(const void* prob_a, const void* prob_b, int dtype, int64_t batch,
                        int64_t a, int64_t b, int64_t n, float eps, void* iou, void* workspace,
                        void* stream);

/* Host-memory variants: same arguments with host pointers; they allocate, copy, run on a new
 * stream, copy back and free. `elapsed_ms` (nullable) receives the kernel time (CUDA events)
 * averaged over `repeats` (>= 1) launches. */
EDGE3D_API int edge3d_sector_bin_host(const void* points, const void* centers, int dtype, int64_t batch,
                           int64_t n, int64_t k, int32_t n_azimuth, int32_t n_polar,
                           int32_t* sector, void* radius, int32_t repeats, float* elapsed_ms);
EDGE3D_API int edge3d_sector_mask_host(const void* points, const void* centers, const void* rays,
                            const void* migration, int dtype, int64_t batch, int64_t n, int64_t k,
                            int32_t n_azimuth, int32_t n_polar, void* logits, int32_t repeats,
                            float* elapsed_ms);
EDGE3D_API int edge3d_point_in_box_prob_host(const void* points, const void* boxes, int dtype, int64_t batch,
                                  int64_t n, int64_t h, float theta1, float theta2, void* prob,
                                  int32_t repeats, float* elapsed_ms);
EDGE3D_API int edge3d_soft_box_iou_host(const void* prob_a, const void* prob_b, int dtype, int64_t batch,
                             int64_t a, int64_t b, int64_t n, float eps, void* iou,
                             int32_t repeats, float* elapsed_ms);

#ifdef __cplusplus
}
#endif

#endif /* EDGE3D_OPS_H */
