// IPluginV3 implementation of the edge3d ops; the kernels are the C ABI of include/edge3d_ops.h.
#include "edge3d_plugin.h"

#include <cstdio>
#include <cstring>

#include "edge3d_ops.h"

using nvinfer1::DataType;
using nvinfer1::DimsExprs;
using nvinfer1::DynamicPluginTensorDesc;
using nvinfer1::PluginField;
using nvinfer1::PluginFieldCollection;
using nvinfer1::PluginFieldType;
using nvinfer1::PluginTensorDesc;
using nvinfer1::TensorFormat;

namespace edge3d {

namespace {

void report(char const* op, char const* message) noexcept {
  std::fprintf(stderr, "[edge3d plugin %s] %s\n", op, message);
}

bool is_float(DataType t) noexcept { return t == DataType::kFLOAT || t == DataType::kHALF; }

int32_t nb_outputs_of(OpKind kind) noexcept { return kind == OpKind::kSectorBin ? 2 : 1; }

// Unbatched rank of each input, in order (one leading batch dimension may be added to all).
std::vector<int32_t> base_ranks(OpKind kind) {
  switch (kind) {
    case OpKind::kSectorBin: return {2, 2};
    case OpKind::kSectorMask: return {2, 2, 2, 2};
    case OpKind::kPointInBoxProb: return {2, 3};
    case OpKind::kSoftBoxIoU: return {2, 2};
  }
  return {};
}

// Fields an op serializes and accepts, in the order of getFieldNames().
std::vector<PluginField> fields_of(OpKind kind, OpAttributes* a) {
  switch (kind) {
    case OpKind::kSectorBin:
    case OpKind::kSectorMask:
      return {PluginField("n_azimuth", &a->n_azimuth, PluginFieldType::kINT32, 1),
              PluginField("n_polar", &a->n_polar, PluginFieldType::kINT32, 1)};
    case OpKind::kPointInBoxProb:
      return {PluginField("theta1", &a->theta1, PluginFieldType::kFLOAT32, 1),
              PluginField("theta2", &a->theta2, PluginFieldType::kFLOAT32, 1)};
    case OpKind::kSoftBoxIoU:
      return {PluginField("eps", &a->eps, PluginFieldType::kFLOAT32, 1)};
  }
  return {};
}

bool read_int(PluginField const& f, int32_t* out) noexcept {
  if (f.data == nullptr || f.length < 1) return false;
  if (f.type == PluginFieldType::kINT32) *out = *static_cast<int32_t const*>(f.data);
  else if (f.type == PluginFieldType::kINT64) *out = static_cast<int32_t>(*static_cast<int64_t const*>(f.data));
  else return false;
  return true;
}

bool read_float(PluginField const& f, float* out) noexcept {
  if (f.data == nullptr || f.length < 1) return false;
  if (f.type == PluginFieldType::kFLOAT32) *out = *static_cast<float const*>(f.data);
  else if (f.type == PluginFieldType::kFLOAT64) *out = static_cast<float>(*static_cast<double const*>(f.data));
  else return false;
  return true;
}

bool valid(OpKind kind, OpAttributes const& a) noexcept {
  switch (kind) {
    case OpKind::kSectorBin:
    case OpKind::kSectorMask:
      return a.n_azimuth >= 1 && a.n_polar >= 1 && a.n_azimuth <= 1024 && a.n_polar <= 1024;
    case OpKind::kPointInBoxProb: return a.theta2 > 0.f;
    case OpKind::kSoftBoxIoU: return a.eps > 0.f;
  }
  return false;
}

int64_t product(nvinfer1::Dims const& d, int32_t from, int32_t to) noexcept {
  int64_t p = 1;
  for (int32_t i = from; i < to; ++i) p *= d.d[i];
  return p;
}

}  // namespace

char const* op_name(OpKind kind) noexcept {
  switch (kind) {
    case OpKind::kSectorBin: return "SectorBin";
    case OpKind::kSectorMask: return "SectorMask";
    case OpKind::kPointInBoxProb: return "PointInBoxProb";
    case OpKind::kSoftBoxIoU: return "SoftBoxIoU";
  }
  return "";
}

Edge3dPlugin::Edge3dPlugin(OpKind kind, OpAttributes const& attrs) : kind_(kind), attrs_(attrs) {
  fields_ = fields_of(kind_, &attrs_);
  collection_.nbFields = static_cast<int32_t>(fields_.size());
  collection_.fields = fields_.data();
}

nvinfer1::IPluginCapability* Edge3dPlugin::getCapabilityInterface(
    nvinfer1::PluginCapabilityType type) noexcept {
  switch (type) {
    case nvinfer1::PluginCapabilityType::kCORE: return static_cast<nvinfer1::IPluginV3OneCore*>(this);
    case nvinfer1::PluginCapabilityType::kBUILD: return static_cast<nvinfer1::IPluginV3OneBuild*>(this);
    case nvinfer1::PluginCapabilityType::kRUNTIME: return static_cast<nvinfer1::IPluginV3OneRuntime*>(this);
  }
  return nullptr;
}

nvinfer1::IPluginV3* Edge3dPlugin::clone() noexcept {
  try {
    return new Edge3dPlugin(kind_, attrs_);
  } catch (...) {
    return nullptr;
  }
}

char const* Edge3dPlugin::getPluginName() const noexcept { return op_name(kind_); }
char const* Edge3dPlugin::getPluginVersion() const noexcept { return kPluginVersion; }
char const* Edge3dPlugin::getPluginNamespace() const noexcept { return kPluginNamespace; }
int32_t Edge3dPlugin::getNbOutputs() const noexcept { return nb_outputs_of(kind_); }
int32_t Edge3dPlugin::nb_inputs() const noexcept { return kind_ == OpKind::kSectorMask ? 4 : 2; }

int32_t Edge3dPlugin::configurePlugin(DynamicPluginTensorDesc const* in, int32_t nbInputs,
                                      DynamicPluginTensorDesc const* /*out*/,
                                      int32_t nbOutputs) noexcept {
  if (nbInputs != nb_inputs() || nbOutputs != getNbOutputs()) {
    report(op_name(kind_), "wrong number of inputs or outputs");
    return -1;
  }
  auto const ranks = base_ranks(kind_);
  int32_t const extra = in[0].desc.dims.nbDims - ranks[0];
  for (int32_t i = 0; i < nbInputs; ++i) {
    if (in[i].desc.dims.nbDims - ranks[i] != extra || extra < 0 || extra > 1) {
      report(op_name(kind_), "inputs must all have one leading batch dimension or none");
      return -1;
    }
  }
  if (kind_ == OpKind::kSectorMask) {
    int64_t const sectors = in[2].desc.dims.d[in[2].desc.dims.nbDims - 1];
    if (sectors != -1 && sectors != static_cast<int64_t>(attrs_.n_azimuth) * attrs_.n_polar) {
      report(op_name(kind_), "rays must have n_azimuth * n_polar columns");
      return -1;
    }
  }
  return 0;
}

int32_t Edge3dPlugin::getOutputDataTypes(DataType* outputTypes, int32_t nbOutputs,
                                         DataType const* inputTypes,
                                         int32_t nbInputs) const noexcept {
  if (nbInputs != nb_inputs() || nbOutputs != getNbOutputs() || !is_float(inputTypes[0])) return -1;
  for (int32_t i = 0; i < nbOutputs; ++i) outputTypes[i] = inputTypes[0];
  if (kind_ == OpKind::kSectorBin) outputTypes[0] = DataType::kINT32;
  return 0;
}

int32_t Edge3dPlugin::getOutputShapes(DimsExprs const* inputs, int32_t nbInputs,
                                      DimsExprs const* /*shapeInputs*/, int32_t /*nbShapeInputs*/,
                                      DimsExprs* outputs, int32_t nbOutputs,
                                      nvinfer1::IExprBuilder& /*exprBuilder*/) noexcept {
  if (nbInputs != nb_inputs() || nbOutputs != getNbOutputs()) return -1;
  int32_t const rank = inputs[0].nbDims;
  if (rank != 2 && rank != 3) {
    report(op_name(kind_), "the first input must have rank 2 or 3");
    return -1;
  }
  DimsExprs out;
  out.nbDims = rank;
  for (int32_t i = 0; i < rank - 2; ++i) out.d[i] = inputs[0].d[i];  // batch
  switch (kind_) {
    case OpKind::kSectorBin:
    case OpKind::kSectorMask:  // [K, N]: centres x points
      out.d[rank - 2] = inputs[1].d[rank - 2];
      out.d[rank - 1] = inputs[0].d[rank - 2];
      break;
    case OpKind::kPointInBoxProb:  // [H, N]: boxes [.., H, 2, 3] x points
      out.d[rank - 2] = inputs[1].d[rank - 2];
      out.d[rank - 1] = inputs[0].d[rank - 2];
      break;
    case OpKind::kSoftBoxIoU:  // [A, B]
      out.d[rank - 2] = inputs[0].d[rank - 2];
      out.d[rank - 1] = inputs[1].d[rank - 2];
      break;
  }
  for (int32_t i = 0; i < nbOutputs; ++i) outputs[i] = out;
  return 0;
}

bool Edge3dPlugin::supportsFormatCombination(int32_t pos, DynamicPluginTensorDesc const* inOut,
                                             int32_t nbInputs, int32_t /*nbOutputs*/) noexcept {
  auto const& desc = inOut[pos].desc;
  if (desc.format != TensorFormat::kLINEAR) return false;
  if (pos < nbInputs) return is_float(desc.type) && (pos == 0 || desc.type == inOut[0].desc.type);
  if (kind_ == OpKind::kSectorBin && pos == nbInputs) return desc.type == DataType::kINT32;
  return desc.type == inOut[0].desc.type;  // FP32 in -> FP32 out, FP16 in -> FP16 out
}

size_t Edge3dPlugin::getWorkspaceSize(DynamicPluginTensorDesc const* inputs, int32_t /*nbInputs*/,
                                      DynamicPluginTensorDesc const* /*outputs*/,
                                      int32_t /*nbOutputs*/) const noexcept {
  if (kind_ != OpKind::kSoftBoxIoU) return 0;
  auto const& a = inputs[0].max;
  auto const& b = inputs[1].max;
  int64_t const batch = product(a, 0, a.nbDims - 2);
  return edge3d_soft_box_iou_workspace(batch, a.d[a.nbDims - 2], b.d[b.nbDims - 2]);
}

int32_t Edge3dPlugin::onShapeChange(PluginTensorDesc const* /*in*/, int32_t nbInputs,
                                    PluginTensorDesc const* /*out*/, int32_t nbOutputs) noexcept {
  return (nbInputs == nb_inputs() && nbOutputs == getNbOutputs()) ? 0 : -1;
}

int32_t Edge3dPlugin::enqueue(PluginTensorDesc const* inputDesc,
                              PluginTensorDesc const* /*outputDesc*/, void const* const* inputs,
                              void* const* outputs, void* workspace, cudaStream_t stream) noexcept {
  auto const& d0 = inputDesc[0].dims;
  int32_t const rank = d0.nbDims;
  int64_t const batch = product(d0, 0, rank - 2);
  int64_t const n = d0.d[rank - 2];
  int const dtype = inputDesc[0].type == DataType::kHALF ? EDGE3D_FLOAT16 : EDGE3D_FLOAT32;
  int status = EDGE3D_OK;
  switch (kind_) {
    case OpKind::kSectorBin:
      status = edge3d_sector_bin(inputs[0], inputs[1], dtype, batch, n, inputDesc[1].dims.d[rank - 2],
                                 attrs_.n_azimuth, attrs_.n_polar,
                                 static_cast<int32_t*>(outputs[0]), outputs[1], stream);
      break;
    case OpKind::kSectorMask:
      status = edge3d_sector_mask(inputs[0], inputs[1], inputs[2], inputs[3], dtype, batch, n,
                                  inputDesc[1].dims.d[rank - 2], attrs_.n_azimuth,
                                  attrs_.n_polar, outputs[0], stream);
      break;
    case OpKind::kPointInBoxProb:
      status = edge3d_point_in_box_prob(inputs[0], inputs[1], dtype, batch, n,
                                        inputDesc[1].dims.d[rank - 2], attrs_.theta1,
                                        attrs_.theta2, outputs[0], stream);
      break;
    case OpKind::kSoftBoxIoU:
      status = edge3d_soft_box_iou(inputs[0], inputs[1], dtype, batch, d0.d[rank - 2],
                                   inputDesc[1].dims.d[rank - 2], d0.d[rank - 1], attrs_.eps,
                                   outputs[0], workspace, stream);
      break;
  }
  if (status != EDGE3D_OK) {
    report(op_name(kind_), edge3d_last_error());
    return -1;
  }
  return 0;
}

nvinfer1::IPluginV3* Edge3dPlugin::attachToContext(nvinfer1::IPluginResourceContext* /*context*/) noexcept {
  return clone();  // no per-context resources: the kernels need only the stream
}

PluginFieldCollection const* Edge3dPlugin::getFieldsToSerialize() noexcept { return &collection_; }

Edge3dPluginCreator::Edge3dPluginCreator(OpKind kind) : kind_(kind) {
  static OpAttributes defaults;  // getFieldNames() shows the defaults as the fields' data
  fields_ = fields_of(kind_, &defaults);
  collection_.nbFields = static_cast<int32_t>(fields_.size());
  collection_.fields = fields_.data();
}

nvinfer1::IPluginV3* Edge3dPluginCreator::createPlugin(char const* /*name*/,
                                                       PluginFieldCollection const* fc,
                                                       nvinfer1::TensorRTPhase /*phase*/) noexcept {
  OpAttributes attrs;
  for (int32_t i = 0; fc != nullptr && i < fc->nbFields; ++i) {
    PluginField const& f = fc->fields[i];
    if (f.name == nullptr) continue;
    bool ok = true;
    if (!std::strcmp(f.name, "n_azimuth")) ok = read_int(f, &attrs.n_azimuth);
    else if (!std::strcmp(f.name, "n_polar")) ok = read_int(f, &attrs.n_polar);
    else if (!std::strcmp(f.name, "theta1")) ok = read_float(f, &attrs.theta1);
    else if (!std::strcmp(f.name, "theta2")) ok = read_float(f, &attrs.theta2);
    else if (!std::strcmp(f.name, "eps")) ok = read_float(f, &attrs.eps);
    if (!ok) {
      report(op_name(kind_), "an attribute has the wrong type (ints: INT32/INT64, floats: FLOAT32/FLOAT64)");
      return nullptr;
    }
  }
  if (!valid(kind_, attrs)) {
    report(op_name(kind_), "attribute out of range (n_* in [1, 1024], theta2 > 0, eps > 0)");
    return nullptr;
  }
  try {
    return new Edge3dPlugin(kind_, attrs);
  } catch (...) {
    return nullptr;
  }
}

PluginFieldCollection const* Edge3dPluginCreator::getFieldNames() noexcept { return &collection_; }
char const* Edge3dPluginCreator::getPluginName() const noexcept { return op_name(kind_); }
char const* Edge3dPluginCreator::getPluginVersion() const noexcept { return kPluginVersion; }
char const* Edge3dPluginCreator::getPluginNamespace() const noexcept { return kPluginNamespace; }

std::vector<nvinfer1::IPluginCreatorV3One*>& all_creators() noexcept {
  static Edge3dPluginCreator sector_bin(OpKind::kSectorBin);
  static Edge3dPluginCreator sector_mask(OpKind::kSectorMask);
  static Edge3dPluginCreator point_in_box(OpKind::kPointInBoxProb);
  static Edge3dPluginCreator soft_box_iou(OpKind::kSoftBoxIoU);
  static std::vector<nvinfer1::IPluginCreatorV3One*> creators{&sector_bin, &sector_mask,
                                                              &point_in_box, &soft_box_iou};
  return creators;
}

}  // namespace edge3d
