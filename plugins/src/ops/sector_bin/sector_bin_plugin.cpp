// SectorBin as a TensorRT plugin: points [N, 3], centers [K, 3] -> sector int32 [K, N] and
// radius [K, N] (docs/ops.md); the kernel is edge3d_sector_bin.
#include "edge3d_ops.h"
#include "op_plugin.h"

namespace edge3d {
namespace {

OpDescription const& description() {
  static OpDescription const d{"SectorBin", "1", {2, 2}, {true, false}, 1, 0,
                               {{"n_azimuth", AttrType::kInt32, 5, 1, 1024},
                                {"n_polar", AttrType::kInt32, 5, 1, 1024}}};
  return d;
}

class SectorBinPlugin final : public OpPluginOf<SectorBinPlugin> {
 public:
  explicit SectorBinPlugin(AttrValues const& v) : OpPluginOf(description(), v) {}

 protected:
  int launch(nvinfer1::PluginTensorDesc const* desc, void const* const* in, void* const* out,
             void* /*workspace*/, int dtype, int64_t batch,
             cudaStream_t stream) const noexcept override {
    int32_t const rank = desc[0].dims.nbDims;
    return edge3d_sector_bin(in[0], in[1], dtype, batch, desc[0].dims.d[rank - 2],
                             desc[1].dims.d[rank - 2], int_attr(0), int_attr(1),
                             static_cast<int32_t*>(out[0]), out[1], stream);
  }
};

}  // namespace

OpCreator* sector_bin_creator() { return creator_of<SectorBinPlugin>(description()); }

}  // namespace edge3d
