// Host-only checks of the edge3d TensorRT plugins through the public plugin interfaces, with no
// GPU and no libnvinfer: creators via getCreators(), field parsing and validation, the
// getFieldsToSerialize() round trip, output types and shapes, format combinations, workspace,
// and errors reaching the logger given to setLoggerFinder. Prints one line per failed check and
// exits non-zero if any failed.
//
//   plugin_selftest --describe             one JSON line per creator: name, version, namespace,
//                                          fields with their types and defaults
//   plugin_selftest --probe OP FIELD VALUE "accepted", or "refused: <the logged error>"
//
// tests/plugins/test_plugin_registry.py compares both with the Python op registry.
#include <NvInferRuntime.h>

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <string>
#include <vector>

extern "C" nvinfer1::IPluginCreatorInterface* const* getCreators(int32_t& nbCreators);
extern "C" void setLoggerFinder(nvinfer1::ILoggerFinder* finder);

using namespace nvinfer1;

namespace {

int g_failures = 0;

void check(bool ok, std::string const& what) {
  if (!ok) {
    std::printf("FAIL: %s\n", what.c_str());
    ++g_failures;
  }
}

// Keeps what the plugins log, as TensorRT's logger would receive it.
struct RecordingLogger final : ILogger {
  void log(Severity severity, AsciiChar const* msg) noexcept override {
    if (severity <= Severity::kERROR) errors.emplace_back(msg);
  }
  std::vector<std::string> errors;
};

struct Finder final : ILoggerFinder {
  ILogger* findLogger() noexcept override { return &logger; }
  RecordingLogger logger;
};

Finder g_finder;

std::vector<IPluginCreatorV3One*> all() {
  int32_t n = 0;
  auto* const* list = getCreators(n);
  std::vector<IPluginCreatorV3One*> out;
  for (int32_t i = 0; i < n; ++i) out.push_back(static_cast<IPluginCreatorV3One*>(list[i]));
  return out;
}

IPluginCreatorV3One* creator(char const* name) {
  int32_t n = 0;
  auto* const* all = getCreators(n);
  for (int32_t i = 0; i < n; ++i) {
    auto* c = static_cast<IPluginCreatorV3One*>(all[i]);
    if (!std::strcmp(c->getPluginName(), name)) return c;
  }
  return nullptr;
}

struct Plugin {
  std::unique_ptr<IPluginV3> owner;
  IPluginV3OneCore* core = nullptr;
  IPluginV3OneBuild* build = nullptr;
  IPluginV3OneRuntime* runtime = nullptr;
};

Plugin make(char const* name, std::vector<PluginField> const& fields) {
  PluginFieldCollection fc{static_cast<int32_t>(fields.size()), fields.data()};
  Plugin p;
  p.owner.reset(creator(name)->createPlugin(name, &fc, TensorRTPhase::kBUILD));
  if (p.owner) {
    p.core = static_cast<IPluginV3OneCore*>(p.owner->getCapabilityInterface(PluginCapabilityType::kCORE));
    p.build = static_cast<IPluginV3OneBuild*>(p.owner->getCapabilityInterface(PluginCapabilityType::kBUILD));
    p.runtime = static_cast<IPluginV3OneRuntime*>(p.owner->getCapabilityInterface(PluginCapabilityType::kRUNTIME));
  }
  return p;
}

// getOutputShapes only forwards input dims; a builder whose methods are never called suffices.
struct UnusedBuilder final : IExprBuilder {
  ~UnusedBuilder() noexcept override = default;
};

IDimensionExpr const* expr(intptr_t id) { return reinterpret_cast<IDimensionExpr const*>(id); }

DynamicPluginTensorDesc desc(DataType type, std::vector<int64_t> const& dims) {
  DynamicPluginTensorDesc d{};
  d.desc.type = type;
  d.desc.format = TensorFormat::kLINEAR;
  d.desc.dims.nbDims = static_cast<int32_t>(dims.size());
  for (size_t i = 0; i < dims.size(); ++i) d.desc.dims.d[i] = dims[i];
  d.min = d.max = d.opt = d.desc.dims;
  return d;
}

void creators_and_names() {
  auto const creators = all();
  check(!creators.empty(), "getCreators returns the edge3d creators");
  for (auto* c : creators) {
    std::string const name = c->getPluginName();
    check(!std::strcmp(c->getPluginNamespace(), "edge3d"), name + " namespace");
    check(creator(name.c_str()) == c, name + " is registered once");
    Plugin p = make(name.c_str(), {});
    check(p.owner != nullptr && !std::strcmp(p.core->getPluginName(), name.c_str()) &&
              !std::strcmp(p.core->getPluginVersion(), c->getPluginVersion()),
          name + " makes a plugin of its own name and version from the defaults");
  }
}

void errors_reach_the_logger() {
  g_finder.logger.errors.clear();
  int32_t const zero = 0;
  check(make("SectorBin", {PluginField("n_azimuth", &zero, PluginFieldType::kINT32, 1)}).owner == nullptr,
        "n_azimuth = 0 is refused");
  check(g_finder.logger.errors.size() == 1 &&
            g_finder.logger.errors[0].find("[edge3d SectorBin] n_azimuth = 0 is outside [1, 1024]") !=
                std::string::npos,
        "the refusal is logged on TensorRT's logger, naming the attribute and its range");
}

void fields_roundtrip() {
  int64_t const az = 8;  // INT64 as some parsers send it
  int32_t const pol = 3;
  Plugin p = make("SectorBin", {PluginField("n_azimuth", &az, PluginFieldType::kINT64, 1),
                                PluginField("n_polar", &pol, PluginFieldType::kINT32, 1)});
  check(p.owner != nullptr, "SectorBin from INT64/INT32 fields");
  if (!p.owner) return;
  check(!std::strcmp(p.core->getPluginName(), "SectorBin"), "plugin name");
  PluginFieldCollection const* out = p.runtime->getFieldsToSerialize();
  check(out->nbFields == 2, "SectorBin serializes two fields");
  // A plugin made from the serialized fields serializes the same values.
  std::unique_ptr<IPluginV3> again(
      creator("SectorBin")->createPlugin("again", out, TensorRTPhase::kRUNTIME));
  check(again != nullptr, "SectorBin from its own serialized fields");
  auto* rt = static_cast<IPluginV3OneRuntime*>(again->getCapabilityInterface(PluginCapabilityType::kRUNTIME));
  PluginFieldCollection const* out2 = rt->getFieldsToSerialize();
  check(*static_cast<int32_t const*>(out2->fields[0].data) == 8 &&
            *static_cast<int32_t const*>(out2->fields[1].data) == 3,
        "serialized n_azimuth = 8, n_polar = 3 survive the round trip");
  std::unique_ptr<IPluginV3> copy(p.owner->clone());
  check(copy != nullptr, "clone");

  double const theta1 = 50.0;  // FLOAT64 accepted
  Plugin box = make("PointInBoxProb", {PluginField("theta1", &theta1, PluginFieldType::kFLOAT64, 1)});
  check(box.owner != nullptr, "PointInBoxProb from a FLOAT64 field");
  if (box.owner) {
    auto const* f = box.runtime->getFieldsToSerialize();
    check(f->nbFields == 2 && *static_cast<float const*>(f->fields[0].data) == 50.f &&
              *static_cast<float const*>(f->fields[1].data) == 20.f,
          "PointInBoxProb serializes theta1 = 50 and the default theta2 = 20");
  }
}

void invalid_fields() {
  int32_t const zero = 0;
  check(make("SectorBin", {PluginField("n_azimuth", &zero, PluginFieldType::kINT32, 1)}).owner == nullptr,
        "n_azimuth = 0 is refused");
  float const bad = -1.f;
  check(make("PointInBoxProb", {PluginField("theta2", &bad, PluginFieldType::kFLOAT32, 1)}).owner == nullptr,
        "theta2 < 0 is refused");
  check(make("SoftBoxIoU", {PluginField("eps", &zero, PluginFieldType::kINT32, 1)}).owner == nullptr,
        "eps given as an int is refused");
}

void types_and_formats() {
  Plugin p = make("SectorBin", {});
  DataType in[2] = {DataType::kHALF, DataType::kHALF};
  DataType out[2];
  check(p.build->getOutputDataTypes(out, 2, in, 2) == 0 && out[0] == DataType::kINT32 &&
            out[1] == DataType::kHALF,
        "SectorBin outputs int32 sector and FP16 radius for FP16 inputs");
  DataType ints[2] = {DataType::kINT32, DataType::kINT32};
  check(p.build->getOutputDataTypes(out, 2, ints, 2) != 0, "integer inputs are refused");

  std::vector<DynamicPluginTensorDesc> io = {desc(DataType::kFLOAT, {100, 3}),
                                             desc(DataType::kFLOAT, {4, 3}),
                                             desc(DataType::kINT32, {4, 100}),
                                             desc(DataType::kFLOAT, {4, 100})};
  for (int pos = 0; pos < 4; ++pos)
    check(p.build->supportsFormatCombination(pos, io.data(), 2, 2),
          "FP32 in, int32 + FP32 out supported at position " + std::to_string(pos));
  io[1].desc.type = DataType::kHALF;
  check(!p.build->supportsFormatCombination(1, io.data(), 2, 2), "mixed FP32/FP16 inputs refused");
  io[1].desc.type = DataType::kFLOAT;
  io[0].desc.format = TensorFormat::kCHW32;
  check(!p.build->supportsFormatCombination(0, io.data(), 2, 2), "non-linear formats refused");
}

void shapes() {
  Plugin p = make("SectorMask", {});
  DimsExprs in[4]{};
  // Batched: points [B, N, 3], centers [B, K, 3], rays [B, K, 25], migration [B, K, N].
  for (auto& d : in) d.nbDims = 3;
  in[0].d[0] = expr(1); in[0].d[1] = expr(2); in[0].d[2] = expr(3);  // B, N, 3
  in[1].d[0] = expr(1); in[1].d[1] = expr(4); in[1].d[2] = expr(3);  // B, K, 3
  DimsExprs out[1]{};
  UnusedBuilder unused;
  IExprBuilder* builder = &unused;
  check(p.build->getOutputShapes(in, 4, nullptr, 0, out, 1, *builder) == 0 && out[0].nbDims == 3 &&
            out[0].d[0] == expr(1) && out[0].d[1] == expr(4) && out[0].d[2] == expr(2),
        "SectorMask logits are [B, K, N]");

  Plugin iou = make("SoftBoxIoU", {});
  DimsExprs ab[2]{};
  ab[0].nbDims = ab[1].nbDims = 2;
  ab[0].d[0] = expr(10); ab[0].d[1] = expr(12);  // A, N
  ab[1].d[0] = expr(11); ab[1].d[1] = expr(12);  // B, N
  check(iou.build->getOutputShapes(ab, 2, nullptr, 0, out, 1, *builder) == 0 &&
            out[0].nbDims == 2 && out[0].d[0] == expr(10) && out[0].d[1] == expr(11),
        "SoftBoxIoU output is [A, B]");

  Plugin box = make("PointInBoxProb", {});
  DimsExprs pb[2]{};
  pb[0].nbDims = 2; pb[0].d[0] = expr(20); pb[0].d[1] = expr(3);                  // N, 3
  pb[1].nbDims = 3; pb[1].d[0] = expr(21); pb[1].d[1] = expr(2); pb[1].d[2] = expr(3);  // H, 2, 3
  check(box.build->getOutputShapes(pb, 2, nullptr, 0, out, 1, *builder) == 0 &&
            out[0].d[0] == expr(21) && out[0].d[1] == expr(20),
        "PointInBoxProb output is [H, N]");

  std::vector<DynamicPluginTensorDesc> cfg = {desc(DataType::kFLOAT, {100, 3}),
                                              desc(DataType::kFLOAT, {4, 3}),
                                              desc(DataType::kFLOAT, {4, 24}),
                                              desc(DataType::kFLOAT, {4, 100})};
  std::vector<DynamicPluginTensorDesc> res = {desc(DataType::kFLOAT, {4, 100})};
  check(p.build->configurePlugin(cfg.data(), 4, res.data(), 1) != 0,
        "SectorMask refuses rays with 24 columns for a 5 x 5 grid");
  cfg[2] = desc(DataType::kFLOAT, {4, 25});
  check(p.build->configurePlugin(cfg.data(), 4, res.data(), 1) == 0, "SectorMask configures");
  cfg[1] = desc(DataType::kFLOAT, {2, 4, 3});
  check(p.build->configurePlugin(cfg.data(), 4, res.data(), 1) != 0,
        "a batch dimension on some inputs only is refused");

  std::vector<DynamicPluginTensorDesc> probs = {desc(DataType::kFLOAT, {2, 24, 4096}),
                                                desc(DataType::kFLOAT, {2, 16, 4096})};
  check(iou.build->getWorkspaceSize(probs.data(), 2, nullptr, 1) == 2 * (24 + 16) * sizeof(float),
        "SoftBoxIoU workspace holds the FP32 row sums");
  check(p.build->getWorkspaceSize(cfg.data(), 4, nullptr, 1) == 0, "SectorMask needs no workspace");
}

void empty_enqueue() {
  // Zero-sized tensors launch nothing, so enqueue succeeds without a GPU.
  Plugin p = make("PointInBoxProb", {});
  PluginTensorDesc in[2]{};
  in[0].type = in[1].type = DataType::kFLOAT;
  in[0].dims.nbDims = 2; in[0].dims.d[0] = 0; in[0].dims.d[1] = 3;
  in[1].dims.nbDims = 3; in[1].dims.d[0] = 5; in[1].dims.d[1] = 2; in[1].dims.d[2] = 3;
  void const* inputs[2] = {nullptr, nullptr};
  void* outputs[1] = {nullptr};
  check(p.runtime->enqueue(in, nullptr, inputs, outputs, nullptr, nullptr) == 0,
        "enqueue with N = 0 succeeds and launches nothing");
}

}  // namespace

void describe() {
  for (auto* c : all()) {
    std::printf("{\"name\": \"%s\", \"version\": \"%s\", \"namespace\": \"%s\", \"fields\": [",
                c->getPluginName(), c->getPluginVersion(), c->getPluginNamespace());
    PluginFieldCollection const* fc = c->getFieldNames();
    for (int32_t i = 0; i < fc->nbFields; ++i) {
      PluginField const& f = fc->fields[i];
      bool const is_int = f.type == PluginFieldType::kINT32;
      double const value = is_int ? *static_cast<int32_t const*>(f.data)
                                  : *static_cast<float const*>(f.data);
      std::printf("%s{\"name\": \"%s\", \"type\": \"%s\", \"default\": %.9g}", i ? ", " : "",
                  f.name, is_int ? "int32" : "float32", value);
    }
    std::printf("]}\n");
  }
}

int probe(char const* op, char const* field, char const* text) {
  IPluginCreatorV3One* c = creator(op);
  if (c == nullptr) {
    std::printf("no creator %s\n", op);
    return 2;
  }
  PluginFieldCollection const* names = c->getFieldNames();
  PluginFieldType type = PluginFieldType::kFLOAT64;
  for (int32_t i = 0; i < names->nbFields; ++i)
    if (!std::strcmp(names->fields[i].name, field)) type = names->fields[i].type;
  int64_t const as_int = std::strtoll(text, nullptr, 10);
  double const as_float = std::strtod(text, nullptr);
  // Ints go as INT64 (any value fits), floats as FLOAT64, as an ONNX parser may send them.
  PluginField f = type == PluginFieldType::kINT32
                      ? PluginField(field, &as_int, PluginFieldType::kINT64, 1)
                      : PluginField(field, &as_float, PluginFieldType::kFLOAT64, 1);
  g_finder.logger.errors.clear();
  Plugin p = make(op, {f});
  if (p.owner) std::printf("accepted\n");
  else std::printf("refused: %s\n", g_finder.logger.errors.empty() ? "" : g_finder.logger.errors[0].c_str());
  return 0;
}

int main(int argc, char** argv) {
  setLoggerFinder(&g_finder);
  if (argc == 2 && !std::strcmp(argv[1], "--describe")) {
    describe();
    return 0;
  }
  if (argc == 5 && !std::strcmp(argv[1], "--probe")) return probe(argv[2], argv[3], argv[4]);
  creators_and_names();
  errors_reach_the_logger();
  fields_roundtrip();
  invalid_fields();
  types_and_formats();
  shapes();
  empty_enqueue();
  std::printf("%s: %d failed checks\n", g_failures ? "FAILED" : "OK", g_failures);
  return g_failures == 0 ? 0 : 1;
}
