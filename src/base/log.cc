#include "base/log.h"

#include <cstring>

namespace gpuaas {

void SetLogLevel(const char* name) {
  if (std::strcmp(name, "debug") == 0)
    spdlog::set_level(spdlog::level::debug);
  else if (std::strcmp(name, "warn") == 0)
    spdlog::set_level(spdlog::level::warn);
  else if (std::strcmp(name, "error") == 0)
    spdlog::set_level(spdlog::level::err);
  else
    spdlog::set_level(spdlog::level::info);
}

}  // namespace gpuaas
