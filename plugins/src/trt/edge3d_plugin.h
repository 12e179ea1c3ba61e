// TensorRT IPluginV3 plugins of the edge3d ops (namespace "edge3d", version "1"): one class for
// the four ops, selected by OpKind, and one creator class (IPluginCreatorV3One) per op name.
// Attributes travel only through PluginFieldCollection (getFieldsToSerialize); nothing is
// serialized as raw bytes. Shapes are rank-generic: every tensor may carry one leading batch dim.
#pragma once

#include <NvInferRuntime.h>

#include <string>
#include <vector>

namespace edge3d {

enum class OpKind { kSectorBin, kSectorMask, kPointInBoxProb, kSoftBoxIoU };

constexpr char const* kPluginNamespace = "edge3d";
constexpr char const* kPluginVersion = "1";

char const* op_name(OpKind kind) noexcept;

// Attribute values of one node; which ones an op reads depends on its kind.
struct OpAttributes {
  int32_t n_azimuth = 5;
  int32_t n_polar = 5;
  float theta1 = 100.f;
  float theta2 = 20.f;
  float eps = 1e-6f;
};

class Edge3dPlugin : public nvinfer1::IPluginV3,
                     public nvinfer1::IPluginV3OneCore,
                     public nvinfer1::IPluginV3OneBuild,
                     public nvinfer1::IPluginV3OneRuntime {
 public:
  Edge3dPlugin(OpKind kind, OpAttributes const& attrs);
  // fields_ points into attrs_: a copy would point into the original.
  Edge3dPlugin(Edge3dPlugin const&) = delete;
  Edge3dPlugin& operator=(Edge3dPlugin const&) = delete;

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

 private:
  int32_t nb_inputs() const noexcept;
  OpKind kind_;
  OpAttributes attrs_;
  std::vector<nvinfer1::PluginField> fields_;
  nvinfer1::PluginFieldCollection collection_{};
};

class Edge3dPluginCreator : public nvinfer1::IPluginCreatorV3One {
 public:
  explicit Edge3dPluginCreator(OpKind kind);
  Edge3dPluginCreator(Edge3dPluginCreator const&) = delete;
  Edge3dPluginCreator& operator=(Edge3dPluginCreator const&) = delete;
  nvinfer1::IPluginV3* createPlugin(char const* name, nvinfer1::PluginFieldCollection const* fc,
                                    nvinfer1::TensorRTPhase phase) noexcept override;
  nvinfer1::PluginFieldCollection const* getFieldNames() noexcept override;
  char const* getPluginName() const noexcept override;
  char const* getPluginVersion() const noexcept override;
  char const* getPluginNamespace() const noexcept override;

 private:
  OpKind kind_;
  std::vector<nvinfer1::PluginField> fields_;
  nvinfer1::PluginFieldCollection collection_{};
};

// The four creators, alive for the whole process (registries keep raw pointers to them).
std::vector<nvinfer1::IPluginCreatorV3One*>& all_creators() noexcept;

}  // namespace edge3d
