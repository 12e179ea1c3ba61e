// Load-time registration for libedge3d_plugins.so: dlopen / ctypes.CDLL / trtexec
// --staticPlugins / Isaac ROS / Triton all see the creators without calling anything.
#include <cstdio>

#include "edge3d_plugin.h"

namespace {

struct RegisterOnLoad {
  RegisterOnLoad() {
    nvinfer1::IPluginRegistry* registry = getPluginRegistry();
    if (registry == nullptr) {
      std::fprintf(stderr, "[edge3d plugins] no TensorRT plugin registry; nothing registered\n");
      return;
    }
    for (auto* creator : edge3d::all_creators()) {
      if (!registry->registerCreator(*creator, edge3d::kPluginNamespace)) {
        std::fprintf(stderr, "[edge3d plugins] could not register %s::%s (already loaded?)\n",
                     edge3d::kPluginNamespace, creator->getPluginName());
      }
    }
  }
};

RegisterOnLoad const g_register_on_load;

}  // namespace
