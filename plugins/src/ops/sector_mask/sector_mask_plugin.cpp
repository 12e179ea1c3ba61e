// SectorMask as a TensorRT plugin: points [N, 3], centers [K, 3], rays [K, n_azimuth * n_polar],
// migration [K, N] -> logits [K, N] (docs/ops.md); the kernel is edge3d_sector_mask.
#include "edge3d_ops.h"
#include "op_plugin.h"

namespace edge3d {
namespace {

OpDescription const& description() {
  static OpDescription const d{"SectorMask", "1", {2, 2, 2, 2}, {false}, 1, 0,
                               {{"n_azimuth", AttrType::kInt32, 5, 1, 1024},
                                {"n_polar", AttrType::kInt32, 5, 1, 1024}}};
  return d;
}

class SectorMaskPlugin final : public OpPluginOf<SectorMaskPlugin> {
 public:
  explicit SectorMaskPlugin(AttrValues const& v) : OpPluginOf(description(), v) {}

 protected:
  std::string check_shapes(nvinfer1::DynamicPluginTensorDesc const* in) const override {
    auto const& rays = in[2].desc.dims;
    int64_t const sectors = rays.d[rays.nbDims - 1];
    int64_t const want = static_cast<int64_t>(int_attr(0)) * int_attr(1);
    if (sectors != -1 && sectors != want) {
      return "rays have " + std::to_string(sectors) + " columns; n_azimuth * n_polar = " +
             std::to_string(want);
    }
    return {};
  }

  int launch(nvinfer1::PluginTensorDesc const* desc, void const* const* in, void* const* out,
             void* /*workspace*/, int dtype, int64_t batch,
             cudaStream_t stream) const noexcept override {
    int32_t const rank = desc[0].dims.nbDims;
    return edge3d_sector_mask(in[0], in[1], in[2], in[3], dtype, batch,
                              desc[0].dims.d[rank - 2], desc[1].dims.d[rank - 2],
                              int_attr(0), int_attr(1), out[0], stream);
  }
};

}  // namespace

OpCreator* sector_mask_creator() { return creator_of<SectorMaskPlugin>(description()); }

}  // namespace edge3d
