// The IPluginV3 machinery every edge3d op shares. An op is an OpDescription (name, version,
// inputs, outputs and their shape, attributes with defaults and ranges) plus an OpPlugin
// subclass with its launch and, where needed, a shape check and a workspace size. The base
// class does the rest: capabilities, names, field serialization, types, formats, rank and
// batch checks; one OpCreator per description parses and range-checks the fields. An op's
// folder src/ops/<op>/ defines ``OpCreator* <op>_creator()``; CMake generates all_creators()
// from its op list, so adding an op touches only its own folder, that list and the Python
// registry (edge3d/ops/registry.py), whose names, defaults, ranges and versions
// tests/plugins/test_plugin_registry.py compares with these. Descriptions and creators are
// function-local statics: registration at load time must not depend on the order in which the
// library's files are initialised.
#pragma once

#include <NvInferRuntime.h>

#include <cstdint>
#include <limits>
#include <string>
#include <vector>

namespace edge3d {

constexpr char const* kPluginNamespace = "edge3d";
constexpr double kUnbounded = std::numeric_limits<double>::infinity();

enum class AttrType { kInt32, kFloat32 };

// One attribute: type, default and the range it must lie in (open or closed at each end).
struct AttrSpec {
  char const* name;
  AttrType type;
  double default_value;
  double low = -kUnbounded;
  double high = kUnbounded;
  bool low_open = false;
  bool high_open = false;

  bool accepts(double v) const noexcept;
  std::string range() const;  // "[1, 1024]", "(0, inf)"
};

struct OpDescription {
  char const* name;
  char const* version;
  std::vector<int32_t> input_ranks;  // unbatched rank of each input
  std::vector<bool> int32_outputs;   // per output: int32, or the float type of input 0
  // Every output is a [rows, cols] matrix (after the batch dimension, if any): the first
  // dimension of input rows_of by that of input cols_of.
  int32_t rows_of;
  int32_t cols_of;
  std::vector<AttrSpec> attributes;  // in field order
};

// One node's attribute values, in the order of its description's attributes.
union AttrValue {
  int32_t i;
  float f;
};
using AttrValues = std::vector<AttrValue>;

class OpPlugin : public nvinfer1::IPluginV3,
                 public nvinfer1::IPluginV3OneCore,
                 public nvinfer1::IPluginV3OneBuild,
                 public nvinfer1::IPluginV3OneRuntime {
 public:
  OpPlugin(OpDescription const& op, AttrValues const& values);
  // fields_ point into values_: a copy would point into the original.
  OpPlugin(OpPlugin const&) = delete;
  OpPlugin& operator=(OpPlugin const&) = delete;
  ~OpPlugin() override = default;

  // IPluginV3
  nvinfer1::IPluginCapability* getCapabilityInterface(
      nvinfer1::PluginCapabilityType type) noexcept override;
  nvinfer1::IPluginV3* clone() noexcept override;

  // IPluginV3OneCore
  char const* getPluginName() const noexcept override;
  char const* getPluginVersion() const noexcept override;
  char const* getPluginNamespace() const noexcept override;

  // IPluginV3OneBuild
  int32_t configurePlugin(nvinfer1::DynamicPluginTensorDesc const* in, int32_t nbInputs,
                          nvinfer1::DynamicPluginTensorDesc const* out,
                          int32_t nbOutputs) noexcept override;
  int32_t getOutputDataTypes(nvinfer1::DataType* outputTypes, int32_t nbOutputs,
                             nvinfer1::DataType const* inputTypes,
                             int32_t nbInputs) const noexcept override;
  int32_t getOutputShapes(nvinfer1::DimsExprs const* inputs, int32_t nbInputs,
                          nvinfer1::DimsExprs const* shapeInputs, int32_t nbShapeInputs,
                          nvinfer1::DimsExprs* outputs, int32_t nbOutputs,
                          nvinfer1::IExprBuilder& exprBuilder) noexcept override;
  bool supportsFormatCombination(int32_t pos, nvinfer1::DynamicPluginTensorDesc const* inOut,
                                 int32_t nbInputs, int32_t nbOutputs) noexcept override;
  int32_t getNbOutputs() const noexcept override;
  size_t getWorkspaceSize(nvinfer1::DynamicPluginTensorDesc const* inputs, int32_t nbInputs,
                          nvinfer1::DynamicPluginTensorDesc const* outputs,
                          int32_t nbOutputs) const noexcept override;

  // IPluginV3OneRuntime
  int32_t onShapeChange(nvinfer1::PluginTensorDesc const* in, int32_t nbInputs,
                        nvinfer1::PluginTensorDesc const* out, int32_t nbOutputs) noexcept override;
  int32_t enqueue(nvinfer1::PluginTensorDesc const* inputDesc,
                  nvinfer1::PluginTensorDesc const* outputDesc, void const* const* inputs,
                  void* const* outputs, void* workspace, cudaStream_t stream) noexcept override;
  nvinfer1::IPluginV3* attachToContext(nvinfer1::IPluginResourceContext* context) noexcept override;
  nvinfer1::PluginFieldCollection const* getFieldsToSerialize() noexcept override;

 protected:
  int32_t int_attr(int index) const noexcept { return values_[index].i; }
  float float_attr(int index) const noexcept { return values_[index].f; }
  AttrValues const& values() const noexcept { return values_; }
  void error(std::string const& message) const noexcept;

  // A new plugin of the same op with the same attributes (clone, attachToContext).
  virtual OpPlugin* copy() const = 0;
  // Run the kernels: an edge3d_status; the base logs edge3d_last_error() for a failure.
  virtual int launch(nvinfer1::PluginTensorDesc const* inputDesc, void const* const* inputs,
                     void* const* outputs, void* workspace, int dtype, int64_t batch,
                     cudaStream_t stream) const noexcept = 0;
  // Op-specific shape checks at build time; an empty string when the shapes are fine.
  virtual std::string check_shapes(nvinfer1::DynamicPluginTensorDesc const* in) const {
    (void)in;
    return {};
  }
  virtual size_t workspace(nvinfer1::DynamicPluginTensorDesc const* inputs) const noexcept {
    (void)inputs;
    return 0;
  }

 private:
  int32_t nb_inputs() const noexcept { return static_cast<int32_t>(op_.input_ranks.size()); }
  OpDescription const& op_;
  AttrValues values_;
  std::vector<nvinfer1::PluginField> fields_;
  nvinfer1::PluginFieldCollection collection_{};
};

class OpCreator : public nvinfer1::IPluginCreatorV3One {
 public:
  using Factory = OpPlugin* (*)(AttrValues const& values);
  OpCreator(OpDescription const& op, Factory make);
  OpCreator(OpCreator const&) = delete;
  OpCreator& operator=(OpCreator const&) = delete;

  nvinfer1::IPluginV3* createPlugin(char const* name, nvinfer1::PluginFieldCollection const* fc,
                                    nvinfer1::TensorRTPhase phase) noexcept override;
  nvinfer1::PluginFieldCollection const* getFieldNames() noexcept override;
  char const* getPluginName() const noexcept override;
  char const* getPluginVersion() const noexcept override;
  char const* getPluginNamespace() const noexcept override;

  // The attribute values of a field collection: the defaults overridden by the fields given.
  // False, with the reason logged, for an unknown name, a wrong type or a value out of range.
  bool parse(nvinfer1::PluginFieldCollection const* fc, AttrValues* values) const;

 private:
  OpDescription const& op_;
  Factory make_;
  AttrValues defaults_;
  std::vector<nvinfer1::PluginField> fields_;
  nvinfer1::PluginFieldCollection collection_{};
};

// An op's plugin class P (constructible from its AttrValues) with copy() provided.
template <typename P>
class OpPluginOf : public OpPlugin {
 public:
  using OpPlugin::OpPlugin;

 protected:
  OpPlugin* copy() const override { return new P(values()); }
};

// The creator of plugin class P, made once.
template <typename P>
OpCreator* creator_of(OpDescription const& op) {
  static OpCreator creator(op, [](AttrValues const& v) -> OpPlugin* { return new P(v); });
  return &creator;
}

// Every op's creator, alive for the whole process (TensorRT's registry keeps raw pointers to
// them); generated from the op list in CMakeLists.txt (src/registration/op_list.cpp.in).
std::vector<nvinfer1::IPluginCreatorV3One*>& all_creators() noexcept;

// The fields of ``values`` for ``op``: pointers into ``values``.
std::vector<nvinfer1::PluginField> fields_of(OpDescription const& op, AttrValues* values);

}  // namespace edge3d
