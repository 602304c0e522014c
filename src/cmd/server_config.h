// The server's configuration file (`--config FILE`, TOML) applied over PlatformConfig defaults.
// Example (docs/operations.md):
//   [scheduler]
//   default_walltime = "24h"
//   [agents]
//   heartbeat_timeout = "30s"
//   grace = "10s"
//   [prices]          # EUR per GPU-hour
//   h200 = "3.50"
//   l40s = "1.10"
// Unknown keys are errors, so that a typo never silently keeps a default.
#pragma once

#include <string>

#include "base/status.h"
#include "state/config.h"

namespace gpuaas {

Status ApplyConfigFile(const std::string& path, PlatformConfig& config);

}  // namespace gpuaas
