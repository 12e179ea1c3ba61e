// Entry points of libedge3d_plugins_dynamic.so for IPluginRegistry::loadLibrary, trtexec
// --dynamicPlugins and --setPluginsToSerialize (version-compatible engines). No load-time
// registration here: loadLibrary fails if the creators are already registered.
#include "edge3d_plugin.h"

namespace {
nvinfer1::ILoggerFinder* g_logger_finder = nullptr;
}

extern "C" void setLoggerFinder(nvinfer1::ILoggerFinder* finder) { g_logger_finder = finder; }

extern "C" nvinfer1::IPluginCreatorInterface* const* getCreators(int32_t& nbCreators) {
  static std::vector<nvinfer1::IPluginCreatorInterface*> creators = [] {
    std::vector<nvinfer1::IPluginCreatorInterface*> out;
    for (auto* c : edge3d::all_creators()) out.push_back(c);
    return out;
  }();
  nbCreators = static_cast<int32_t>(creators.size());
  return creators.data();
}
