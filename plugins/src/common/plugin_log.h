// Plugin errors go to TensorRT's logger, where the application's log sees them: the logger
// TensorRT hands the dynamic library (setLoggerFinder) or its global one (getLogger()).
#pragma once

#include <NvInferRuntime.h>

#include <string>

namespace edge3d {

using LoggerSource = nvinfer1::ILogger* (*)();

// Where log_error finds the logger; each registration variant sets its own.
void set_logger_source(LoggerSource source) noexcept;

// "[edge3d SectorBin] message" as a kERROR on TensorRT's logger (stderr without one).
void log_error(char const* op, std::string const& message) noexcept;

}  // namespace edge3d
