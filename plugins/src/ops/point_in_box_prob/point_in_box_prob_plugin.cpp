// PointInBoxProb as a TensorRT plugin: points [N, 3], boxes [H, 2, 3] (min and max corners)
// -> prob [H, N] (docs/ops.md); the kernel is edge3d_point_in_box_prob.
#include "edge3d_ops.h"
#include "op_plugin.h"

namespace edge3d {
namespace {

OpDescription const& description() {
  static OpDescription const d{
      "PointInBoxProb", "1", {2, 3}, {false}, 1, 0,
      {{"theta1", AttrType::kFloat32, 100.0},
       {"theta2", AttrType::kFloat32, 20.0, 0.0, kUnbounded, /*low_open=*/true}}};
  return d;
}

class PointInBoxProbPlugin final : public OpPluginOf<PointInBoxProbPlugin> {
 public:
  explicit PointInBoxProbPlugin(AttrValues const& v) : OpPluginOf(description(), v) {}

 protected:
  int launch(nvinfer1::PluginTensorDesc const* desc, void const* const* in, void* const* out,
             void* /*workspace*/, int dtype, int64_t batch,
             cudaStream_t stream) const noexcept override {
    int32_t const rank = desc[0].dims.nbDims;
    return edge3d_point_in_box_prob(in[0], in[1], dtype, batch,
                                    desc[0].dims.d[rank - 2],
                                    desc[1].dims.d[rank - 2], float_attr(0),
                                    float_attr(1), out[0], stream);
  }
};

}  // namespace

OpCreator* point_in_box_prob_creator() { return creator_of<PointInBoxProbPlugin>(description()); }

}  // namespace edge3d
