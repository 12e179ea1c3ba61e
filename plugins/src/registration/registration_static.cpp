// Load-time registration for libedge3d_plugins.so: dlopen / ctypes.CDLL / trtexec
// --staticPlugins / Isaac ROS / Triton all see the creators without calling anything. Errors go
// to TensorRT's global logger (getLogger(), from libnvinfer).
#include "op_plugin.h"
#include "plugin_log.h"

namespace {

nvinfer1::ILogger* global_logger() { return getLogger(); }

struct RegisterOnLoad {
  RegisterOnLoad() {
    edge3d::set_logger_source(&global_logger);
    nvinfer1::IPluginRegistry* registry = getPluginRegistry();
    if (registry == nullptr) {
      edge3d::log_error("plugins", "no TensorRT plugin registry; nothing registered");
      return;
    }
    for (auto* creator : edge3d::all_creators()) {
      if (!registry->registerCreator(*creator, edge3d::kPluginNamespace)) {
        edge3d::log_error(creator->getPluginName(),
                          "could not register the creator (is the library loaded twice?)");
      }
    }
  }
};

RegisterOnLoad const g_register_on_load;

}  // namespace
