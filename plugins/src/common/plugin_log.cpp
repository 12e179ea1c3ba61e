#include "plugin_log.h"

#include <atomic>
#include <cstdio>

namespace edge3d {

namespace {
std::atomic<LoggerSource> g_source{nullptr};
}

void set_logger_source(LoggerSource source) noexcept { g_source.store(source); }

void log_error(char const* op, std::string const& message) noexcept {
  try {
    std::string const line = std::string("[edge3d ") + op + "] " + message;
    LoggerSource source = g_source.load();
    nvinfer1::ILogger* logger = source != nullptr ? source() : nullptr;
    if (logger != nullptr) {
      logger->log(nvinfer1::ILogger::Severity::kERROR, line.c_str());
    } else {
      std::fprintf(stderr, "%s\n", line.c_str());
    }
  } catch (...) {
    std::fprintf(stderr, "[edge3d %s] (could not format an error message)\n", op);
  }
}

}  // namespace edge3d
