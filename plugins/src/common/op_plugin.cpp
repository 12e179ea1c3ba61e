// The shared IPluginV3 implementation of the edge3d ops (op_plugin.h).
#include "op_plugin.h"

#include <cmath>
#include <cstring>
#include <limits>
#include <sstream>

#include "edge3d_ops.h"
#include "plugin_log.h"

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

bool is_float(DataType t) noexcept { return t == DataType::kFLOAT || t == DataType::kHALF; }

int64_t product(nvinfer1::Dims const& d, int32_t from, int32_t to) noexcept {
  int64_t p = 1;
  for (int32_t i = from; i < to; ++i) p *= d.d[i];
  return p;
}

std::string number(double v) {
  if (std::isinf(v)) return v > 0 ? "inf" : "-inf";
  std::ostringstream out;
  out << v;
  return out.str();
}

// The field's value as a double, if its type suits the attribute (ints: INT32 or INT64;
// floats: FLOAT32 or FLOAT64, as ONNX parsers send either).
bool field_value(PluginField const& f, AttrType type, double* out) noexcept {
  if (f.data == nullptr || f.length < 1) return false;
  if (type == AttrType::kInt32) {
    if (f.type == PluginFieldType::kINT32) *out = *static_cast<int32_t const*>(f.data);
    else if (f.type == PluginFieldType::kINT64) *out = static_cast<double>(*static_cast<int64_t const*>(f.data));
    else return false;
    return true;
  }
  if (f.type == PluginFieldType::kFLOAT32) *out = *static_cast<float const*>(f.data);
  else if (f.type == PluginFieldType::kFLOAT64) *out = *static_cast<double const*>(f.data);
  else return false;
  return true;
}

}  // namespace

bool AttrSpec::accepts(double v) const noexcept {
  if (std::isnan(v)) return false;
  bool const above = low_open ? v > low : v >= low;
  bool const below = high_open ? v < high : v <= high;
  return above && below;
}

std::string AttrSpec::range() const {
  return std::string(low_open || std::isinf(low) ? "(" : "[") + number(low) + ", " + number(high) +
         (high_open || std::isinf(high) ? ")" : "]");
}

std::vector<PluginField> fields_of(OpDescription const& op, AttrValues* values) {
  std::vector<PluginField> out;
  for (size_t i = 0; i < op.attributes.size(); ++i) {
    AttrSpec const& a = op.attributes[i];
    if (a.type == AttrType::kInt32) {
      out.emplace_back(a.name, &(*values)[i].i, PluginFieldType::kINT32, 1);
    } else {
      out.emplace_back(a.name, &(*values)[i].f, PluginFieldType::kFLOAT32, 1);
    }
  }
  return out;
}

// --- OpPlugin ----------------------------------------------------------------------------------

OpPlugin::OpPlugin(OpDescription const& op, AttrValues const& values) : op_(op), values_(values) {
  fields_ = fields_of(op_, &values_);
  collection_.nbFields = static_cast<int32_t>(fields_.size());
  collection_.fields = fields_.data();
}

void OpPlugin::error(std::string const& message) const noexcept { log_error(op_.name, message); }

nvinfer1::IPluginCapability* OpPlugin::getCapabilityInterface(
    nvinfer1::PluginCapabilityType type) noexcept {
  switch (type) {
    case nvinfer1::PluginCapabilityType::kCORE: return static_cast<nvinfer1::IPluginV3OneCore*>(this);
    case nvinfer1::PluginCapabilityType::kBUILD: return static_cast<nvinfer1::IPluginV3OneBuild*>(this);
    case nvinfer1::PluginCapabilityType::kRUNTIME: return static_cast<nvinfer1::IPluginV3OneRuntime*>(this);
  }
  return nullptr;
}

nvinfer1::IPluginV3* OpPlugin::clone() noexcept {
  try {
    return copy();
  } catch (...) {
    error("out of memory while cloning the plugin");
    return nullptr;
  }
}

char const* OpPlugin::getPluginName() const noexcept { return op_.name; }
char const* OpPlugin::getPluginVersion() const noexcept { return op_.version; }
char const* OpPlugin::getPluginNamespace() const noexcept { return kPluginNamespace; }
int32_t OpPlugin::getNbOutputs() const noexcept {
  return static_cast<int32_t>(op_.int32_outputs.size());
}

int32_t OpPlugin::configurePlugin(DynamicPluginTensorDesc const* in, int32_t nbInputs,
                                  DynamicPluginTensorDesc const* /*out*/,
                                  int32_t nbOutputs) noexcept {
  if (nbInputs != nb_inputs() || nbOutputs != getNbOutputs()) {
    error("takes " + std::to_string(nb_inputs()) + " inputs and gives " +
          std::to_string(getNbOutputs()) + " outputs; the node has " + std::to_string(nbInputs) +
          " and " + std::to_string(nbOutputs));
    return -1;
  }
  int32_t const extra = in[0].desc.dims.nbDims - op_.input_ranks[0];
  for (int32_t i = 0; i < nbInputs; ++i) {
    if (in[i].desc.dims.nbDims - op_.input_ranks[i] != extra || extra < 0 || extra > 1) {
      error("inputs must all have one leading batch dimension or none");
      return -1;
    }
  }
  try {
    std::string const problem = check_shapes(in);
    if (!problem.empty()) {
      error(problem);
      return -1;
    }
  } catch (...) {
    error("out of memory while checking shapes");
    return -1;
  }
  return 0;
}

int32_t OpPlugin::getOutputDataTypes(DataType* outputTypes, int32_t nbOutputs,
                                     DataType const* inputTypes,
                                     int32_t nbInputs) const noexcept {
  if (nbInputs != nb_inputs() || nbOutputs != getNbOutputs() || !is_float(inputTypes[0])) {
    return -1;
  }
  for (int32_t i = 0; i < nbOutputs; ++i) {
    outputTypes[i] = op_.int32_outputs[i] ? DataType::kINT32 : inputTypes[0];
  }
  return 0;
}

int32_t OpPlugin::getOutputShapes(DimsExprs const* inputs, int32_t nbInputs,
                                  DimsExprs const* /*shapeInputs*/, int32_t /*nbShapeInputs*/,
                                  DimsExprs* outputs, int32_t nbOutputs,
                                  nvinfer1::IExprBuilder& /*exprBuilder*/) noexcept {
  if (nbInputs != nb_inputs() || nbOutputs != getNbOutputs()) return -1;
  int32_t const rank = inputs[0].nbDims;
  int32_t const batch_dims = rank - op_.input_ranks[0];
  if (batch_dims != 0 && batch_dims != 1) {
    error("the first input must have rank " + std::to_string(op_.input_ranks[0]) + " or " +
          std::to_string(op_.input_ranks[0] + 1));
    return -1;
  }
  DimsExprs out;
  out.nbDims = 2 + batch_dims;
  if (batch_dims == 1) out.d[0] = inputs[0].d[0];
  out.d[batch_dims] = inputs[op_.rows_of].d[batch_dims];
  out.d[batch_dims + 1] = inputs[op_.cols_of].d[batch_dims];
  for (int32_t i = 0; i < nbOutputs; ++i) outputs[i] = out;
  return 0;
}

bool OpPlugin::supportsFormatCombination(int32_t pos, DynamicPluginTensorDesc const* inOut,
                                         int32_t nbInputs, int32_t /*nbOutputs*/) noexcept {
  auto const& desc = inOut[pos].desc;
  if (desc.format != TensorFormat::kLINEAR) return false;
  if (pos < nbInputs) return is_float(desc.type) && (pos == 0 || desc.type == inOut[0].desc.type);
  if (op_.int32_outputs[pos - nbInputs]) return desc.type == DataType::kINT32;
  return desc.type == inOut[0].desc.type;  // FP32 in -> FP32 out, FP16 in -> FP16 out
}

size_t OpPlugin::getWorkspaceSize(DynamicPluginTensorDesc const* inputs, int32_t /*nbInputs*/,
                                  DynamicPluginTensorDesc const* /*outputs*/,
                                  int32_t /*nbOutputs*/) const noexcept {
  return workspace(inputs);
}

int32_t OpPlugin::onShapeChange(PluginTensorDesc const* /*in*/, int32_t nbInputs,
                                PluginTensorDesc const* /*out*/, int32_t nbOutputs) noexcept {
  return (nbInputs == nb_inputs() && nbOutputs == getNbOutputs()) ? 0 : -1;
}

int32_t OpPlugin::enqueue(PluginTensorDesc const* inputDesc, PluginTensorDesc const* /*outputDesc*/,
                          void const* const* inputs, void* const* outputs, void* workspace,
                          cudaStream_t stream) noexcept {
  auto const& d0 = inputDesc[0].dims;
  int64_t const batch = product(d0, 0, d0.nbDims - op_.input_ranks[0]);
  int const dtype = inputDesc[0].type == DataType::kHALF ? EDGE3D_FLOAT16 : EDGE3D_FLOAT32;
  if (launch(inputDesc, inputs, outputs, workspace, dtype, batch, stream) != EDGE3D_OK) {
    error(edge3d_last_error());
    return -1;
  }
  return 0;
}

nvinfer1::IPluginV3* OpPlugin::attachToContext(nvinfer1::IPluginResourceContext* /*context*/) noexcept {
  return clone();  // no per-context resources: the kernels need only the stream
}

PluginFieldCollection const* OpPlugin::getFieldsToSerialize() noexcept { return &collection_; }

// --- OpCreator ---------------------------------------------------------------------------------

OpCreator::OpCreator(OpDescription const& op, Factory make)
    : op_(op), make_(make), defaults_(op.attributes.size()) {
  for (size_t i = 0; i < op_.attributes.size(); ++i) {
    AttrSpec const& a = op_.attributes[i];
    if (a.type == AttrType::kInt32) defaults_[i].i = static_cast<int32_t>(a.default_value);
    else defaults_[i].f = static_cast<float>(a.default_value);
  }
  fields_ = fields_of(op_, &defaults_);  // getFieldNames() shows the defaults as the data
  collection_.nbFields = static_cast<int32_t>(fields_.size());
  collection_.fields = fields_.data();
}

bool OpCreator::parse(PluginFieldCollection const* fc, AttrValues* values) const {
  *values = defaults_;
  for (int32_t i = 0; fc != nullptr && i < fc->nbFields; ++i) {
    PluginField const& f = fc->fields[i];
    if (f.name == nullptr) continue;
    // Other names are not ours to judge: the ONNX parser passes every node attribute
    // (plugin_namespace, plugin_version) as a field.
    for (size_t k = 0; k < op_.attributes.size(); ++k) {
      AttrSpec const& a = op_.attributes[k];
      if (std::strcmp(f.name, a.name) != 0) continue;
      double v = 0.0;
      if (!field_value(f, a.type, &v)) {
        log_error(op_.name, std::string(a.name) + " has the wrong field type (" +
                                (a.type == AttrType::kInt32 ? "INT32 or INT64" : "FLOAT32 or FLOAT64") +
                                " expected)");
        return false;
      }
      if (!a.accepts(v)) {
        log_error(op_.name, std::string(a.name) + " = " + number(v) + " is outside " + a.range());
        return false;
      }
      if (a.type == AttrType::kInt32 && (v < std::numeric_limits<int32_t>::min() ||
                                         v > std::numeric_limits<int32_t>::max())) {
        log_error(op_.name, std::string(a.name) + " = " + number(v) + " does not fit in int32");
        return false;
      }
      if (a.type == AttrType::kInt32) (*values)[k].i = static_cast<int32_t>(v);
      else (*values)[k].f = static_cast<float>(v);
    }
  }
  return true;
}

nvinfer1::IPluginV3* OpCreator::createPlugin(char const* /*name*/, PluginFieldCollection const* fc,
                                             nvinfer1::TensorRTPhase /*phase*/) noexcept {
  try {
    AttrValues values;
    if (!parse(fc, &values)) return nullptr;
    return make_(values);
  } catch (...) {
    log_error(op_.name, "out of memory while creating the plugin");
    return nullptr;
  }
}

PluginFieldCollection const* OpCreator::getFieldNames() noexcept { return &collection_; }
char const* OpCreator::getPluginName() const noexcept { return op_.name; }
char const* OpCreator::getPluginVersion() const noexcept { return op_.version; }
char const* OpCreator::getPluginNamespace() const noexcept { return kPluginNamespace; }

}  // namespace edge3d
