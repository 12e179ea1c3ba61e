// Entry points of libedge3d_plugins_dynamic.so for IPluginRegistry::loadLibrary, trtexec
// --dynamicPlugins and --setPluginsToSerialize (version-compatible engines). No load-time
// registration here: loadLibrary fails if the creators are already registered. Errors go to the
// logger TensorRT hands over in setLoggerFinder.
#include <atomic>

#include "op_plugin.h"
#include "plugin_log.h"

namespace {

std::atomic<nvinfer1::ILoggerFinder*> g_logger_finder{nullptr};

nvinfer1::ILogger* found_logger() {
  nvinfer1::ILoggerFinder* finder = g_logger_finder.load();
  return finder != nullptr ? finder->findLogger() : nullptr;
}

}  // namespace

extern "C" void setLoggerFinder(nvinfer1::ILoggerFinder* finder) {
  g_logger_finder.store(finder);
  edge3d::set_logger_source(&found_logger);
}

extern "C" nvinfer1::IPluginCreatorInterface* const* getCreators(int32_t& nbCreators) {
  static std::vector<nvinfer1::IPluginCreatorInterface*> creators = [] {
    std::vector<nvinfer1::IPluginCreatorInterface*> out;
    for (auto* c : edge3d::all_creators()) out.push_back(c);
    return out;
  }();
  nbCreators = static_cast<int32_t>(creators.size());
  return creators.data();
}
