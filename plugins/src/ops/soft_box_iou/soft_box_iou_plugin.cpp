// SoftBoxIoU as a TensorRT plugin: prob_a [A, N], prob_b [B, N] -> iou [A, B] (docs/ops.md);
// the kernels are edge3d_soft_box_iou, with a workspace for the FP32 row sums.
#include "edge3d_ops.h"
#include "op_plugin.h"

namespace edge3d {
namespace {

OpDescription const& description() {
  static OpDescription const d{
      "SoftBoxIoU", "1", {2, 2}, {false}, 0, 1,
      {{"eps", AttrType::kFloat32, 1e-6, 0.0, kUnbounded, /*low_open=*/true}}};
  return d;
}

class SoftBoxIoUPlugin final : public OpPluginOf<SoftBoxIoUPlugin> {
 public:
  explicit SoftBoxIoUPlugin(AttrValues const& v) : OpPluginOf(description(), v) {}

 protected:
  size_t workspace(nvinfer1::DynamicPluginTensorDesc const* in) const noexcept override {
    auto const& a = in[0].max;
    auto const& b = in[1].max;
    int64_t batch = 1;
    for (int32_t i = 0; i < a.nbDims - 2; ++i) batch *= a.d[i];
    return edge3d_soft_box_iou_workspace(batch, a.d[a.nbDims - 2], b.d[b.nbDims - 2]);
  }

  int launch(nvinfer1::PluginTensorDesc const* desc, void const* const* in, void* const* out,
             void* workspace, int dtype, int64_t batch,
             cudaStream_t stream) const noexcept override {
    auto const& d0 = desc[0].dims;
    int32_t const rank = d0.nbDims;
    return edge3d_soft_box_iou(in[0], in[1], dtype, batch, d0.d[rank - 2],
                               desc[1].dims.d[rank - 2], d0.d[rank - 1],
                               float_attr(0), out[0], workspace, stream);
  }
};

}  // namespace

OpCreator* soft_box_iou_creator() { return creator_of<SoftBoxIoUPlugin>(description()); }

}  // namespace edge3d
