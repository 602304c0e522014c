// JSON text encodings of the list and map fields the SQLite store keeps in one column each
// (Entity.quota, Node.gpus/labels, Job.command/gpu_types/gpu_ids, Allocation.devices). The
// server only reads these whole, so a column of JSON is simpler than child tables.
// Decoders reject anything that is not exactly the expected shape (no exceptions escape).
// Pure functions; thread-safe.
#pragma once

#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "base/status.h"
#include "model/node.h"

namespace gpuaas {

std::string EncodeStringList(const std::vector<std::string>& v);  // ["a","b"]
std::string EncodeIntList(const std::vector<int>& v);             // [0,3]
std::string EncodeIntMap(const std::map<std::string, int>& m);    // {"h200":8}
std::string EncodeStringMap(const std::map<std::string, std::string>& m);
std::string EncodeGpuDevices(const std::vector<GpuDevice>& v);  // [{"index":0,...}]

Result<std::vector<std::string>> DecodeStringList(std::string_view json);
Result<std::vector<int>> DecodeIntList(std::string_view json);
Result<std::map<std::string, int>> DecodeIntMap(std::string_view json);
Result<std::map<std::string, std::string>> DecodeStringMap(std::string_view json);
Result<std::vector<GpuDevice>> DecodeGpuDevices(std::string_view json);

}  // namespace gpuaas
