// Workspace usage: the bytes held by an entity's workspace directory, measured like `du`
// (regular files' sizes, symlinks not followed, other file systems' contents included), with a
// bound on the entries visited so that a huge tree cannot stall the caller.
// Reads the file system (an I/O adapter, not logic). Thread-safe (no shared state).
#pragma once

#include <cstdint>
#include <string>

#include "base/status.h"

namespace gpuaas {

struct DirUsage {
  int64_t bytes = 0;
  int64_t files = 0;
  int64_t entries = 0;     // directory entries visited
  bool truncated = false;  // stopped at max_entries: `bytes` is a lower bound
};

// A missing directory is empty usage (the workspace is created lazily); unreadable
// subdirectories are skipped.
Result<DirUsage> MeasureDirectory(const std::string& path, int64_t max_entries = 1'000'000);

}  // namespace gpuaas
