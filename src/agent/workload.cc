#include "agent/workload.h"

#include <algorithm>

// GCC 12 reports a false -Wdangling-pointer inside Boost.JSON's object::end() (empty table).
#pragma GCC diagnostic ignored "-Wdangling-pointer"
#include <boost/json.hpp>

namespace gpuaas {

namespace json = boost::json;

const char* WorkloadStateName(WorkloadState s) {
  switch (s) {
    case WorkloadState::kRunning:
      return "running";
    case WorkloadState::kExited:
      return "exited";
    case WorkloadState::kFailedToStart:
      return "failed_to_start";
  }
  return "running";
}

std::string SpecToJson(const WorkloadSpec& spec, Millis started_at) {
  json::object o;
  o["job"] = spec.job;
  o["allocation"] = spec.allocation;
  json::array cmd;
  for (const auto& a : spec.command) cmd.emplace_back(a);
  o["command"] = std::move(cmd);
  json::object env;
  for (const auto& [k, v] : spec.env) {
    if (std::find(spec.secret_names.begin(), spec.secret_names.end(), k) ==
        spec.secret_names.end()) {
      env[k] = v;  // secrets stay in memory only: a restarted agent adopts, never re-starts
    }
  }
  o["env"] = std::move(env);
  json::array gpus;
  for (int g : spec.gpu_ids) gpus.emplace_back(g);
  o["gpu_ids"] = std::move(gpus);
  o["walltime_s"] = spec.walltime_s;
  o["grace_ms"] = spec.grace_ms;
  o["memory_bytes"] = spec.memory_bytes;
  o["cpu_millis"] = spec.cpu_millis;
  o["started_at"] = started_at;
  o["image"] = spec.image;
  o["workspace"] = spec.workspace;
  o["workspace_mode"] = spec.workspace_mode;
  json::array secrets;
  for (const auto& n : spec.secret_names) secrets.emplace_back(n);
  o["secret_names"] = std::move(secrets);
  return json::serialize(o);
}

Status SpecFromJson(const std::string& text, WorkloadSpec* spec, Millis* started_at) {
  try {
    const json::value doc = json::parse(text);
    const json::object& o = doc.as_object();
    WorkloadSpec s;
    s.job = o.at("job").to_number<int64_t>();
    s.allocation = o.at("allocation").to_number<int64_t>();
    for (const auto& a : o.at("command").as_array()) s.command.emplace_back(a.as_string());
    for (const auto& [k, v] : o.at("env").as_object()) s.env[k] = std::string(v.as_string());
    for (const auto& g : o.at("gpu_ids").as_array()) s.gpu_ids.push_back(g.to_number<int>());
    s.walltime_s = o.at("walltime_s").to_number<int64_t>();
    s.grace_ms = o.at("grace_ms").to_number<int64_t>();
    if (auto* v = o.if_contains("memory_bytes")) s.memory_bytes = v->to_number<int64_t>();
    if (auto* v = o.if_contains("cpu_millis")) s.cpu_millis = v->to_number<int64_t>();
    *started_at = o.at("started_at").to_number<int64_t>();
    if (auto* v = o.if_contains("image")) s.image = v->as_string();
    if (auto* v = o.if_contains("workspace")) s.workspace = v->as_string();
    if (auto* v = o.if_contains("workspace_mode")) s.workspace_mode = v->as_string();
    if (auto* v = o.if_contains("secret_names")) {
      for (const auto& n : v->as_array()) s.secret_names.emplace_back(n.as_string());
    }
    *spec = std::move(s);
    return Status::Ok();
  } catch (const std::exception& e) {
    return InvalidArgument(std::string("bad spec.json: ") + e.what());
  }
}

}  // namespace gpuaas
