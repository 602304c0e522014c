// Logging: a thin front over spdlog so that only this file names it. Thread-safe.
#pragma once

#include <spdlog/spdlog.h>

namespace gpuaas {
// Sets the level from "debug", "info", "warn", "error"; unknown names keep "info".
void SetLogLevel(const char* name);
}  // namespace gpuaas

#define GLOG_DEBUG(...) ::spdlog::debug(__VA_ARGS__)  // shown with --log-level debug
#define GLOG_INFO(...) ::spdlog::info(__VA_ARGS__)
#define GLOG_WARN(...) ::spdlog::warn(__VA_ARGS__)
#define GLOG_ERROR(...) ::spdlog::error(__VA_ARGS__)
