#include "api/dto.h"

#include <cmath>

#include "base/base64.h"

namespace gpuaas::api {
namespace {

json::array IntArray(const std::vector<int>& v) {
  json::array a;
  for (int x : v) a.push_back(x);
  return a;
}

json::array StringArray(const std::vector<std::string>& v) {
  json::array a;
  for (const auto& s : v) a.push_back(json::string(s));
  return a;
}

json::object StringMap(const std::map<std::string, std::string>& m) {
  json::object o;
  for (const auto& [k, v] : m) o[k] = v;
  return o;
}

Result<bool> GetBool(const json::object& o, const char* key, bool dflt) {
  auto it = o.find(key);
  if (it == o.end() || it->value().is_null()) return dflt;
  if (!it->value().is_bool())
    return InvalidArgument(std::string("'") + key + "' must be true or false");
  return it->value().as_bool();
}

// The optional "role": a role name, or absent; another word breaks a rule (422, docs/api.md).
Result<std::optional<Role>> OptionalRole(const json::object& o) {
  GPUAAS_ASSIGN_OR_RETURN(auto role, GetString(o, "role"));
  if (!role) return std::optional<Role>();
  std::optional<Role> parsed = ParseRole(*role);
  if (!parsed) {
    return FailedPrecondition("unknown role '" + *role +
                              "' (member, entity-admin or platform-admin)");
  }
  return parsed;
}

std::string EntityName(const Platform& p, EntityId id) {
  const Entity* e = p.FindEntityById(id);
  return e ? e->name : "";
}

}  // namespace

json::value ExpiryJson(Millis expires_at) {
  return expires_at == 0 ? json::value(nullptr) : json::value(FormatRfc3339(expires_at));
}

json::object EntityJson(const Entity& e) {
  json::object q, g;
  for (const auto& [cls, n] : e.quota) q[cls] = n;
  for (const auto& [cls, n] : e.guarantee) g[cls] = n;
  return {{"id", e.id},     {"name", e.name},     {"quota", q},
          {"guarantee", g}, {"shares", e.shares}, {"created_at", TimeOrNull(e.created_at)}};
}

json::object UserJson(const User& u, const Platform& p) {
  json::value entity = nullptr;
  if (u.entity != 0) entity = json::string(EntityName(p, u.entity));
  return {{"id", u.id},
          {"name", u.name},
          {"entity", entity},
          {"role", RoleName(u.role)},
          {"created_at", TimeOrNull(u.created_at)},
          {"from_directory", u.from_directory},
          {"disabled_at", TimeOrNull(u.disabled_at)}};
}

Result<UserUpdate> UserUpdateOf(const json::object& o) {
  UserUpdate u;
  GPUAAS_ASSIGN_OR_RETURN(u.role, OptionalRole(o));
  if (const json::value* d = o.if_contains("disabled"); d && !d->is_null()) {
    GPUAAS_ASSIGN_OR_RETURN(bool disabled, GetBool(o, "disabled", false));
    u.disabled = disabled;
  }
  GPUAAS_ASSIGN_OR_RETURN(u.cancel_jobs, GetBool(o, "cancel_jobs", false));
  return u;
}

json::object GroupMappingJson(const GroupMapping& m, const Platform& p) {
  const User* by = p.FindUserById(m.created_by);
  return {{"id", m.id},
          {"group", m.group},
          {"entity", EntityName(p, m.entity)},
          {"role", RoleName(m.role)},
          {"created_by", by ? json::value(by->name) : json::value(nullptr)},
          {"created_at", TimeOrNull(m.created_at)}};
}

Result<GroupMappingRequest> GroupMappingRequestOf(const json::object& o) {
  GroupMappingRequest r;
  GPUAAS_ASSIGN_OR_RETURN(auto group, GetString(o, "group"));
  if (!group) return InvalidArgument("'group' is required");
  r.group = *group;
  GPUAAS_ASSIGN_OR_RETURN(auto entity, GetString(o, "entity"));
  if (!entity) return InvalidArgument("'entity' is required");
  r.entity = *entity;
  GPUAAS_ASSIGN_OR_RETURN(std::optional<Role> role, OptionalRole(o));
  r.role = role.value_or(Role::kMember);
  return r;
}

json::object TrafficJson(int64_t rx_bytes, int64_t tx_bytes) {
  return {{"rx_bytes", rx_bytes}, {"tx_bytes", tx_bytes}};
}

// A node's or a container job's traffic (telemetry/network_rates.h): null until its agent sent
// counters; the rates null until two readings.
json::value NetworkJson(const NetTraffic* n) {
  if (n == nullptr) return nullptr;
  auto rate = [](const std::optional<double>& r) {
    return r ? json::value(std::llround(*r)) : json::value(nullptr);
  };
  return json::object{{"at", TimeOrNull(n->last.t)},
                      {"rx_bytes", n->last.rx_bytes},
                      {"tx_bytes", n->last.tx_bytes},
                      {"rx_bytes_per_s", rate(n->rx_bytes_per_s)},
                      {"tx_bytes_per_s", rate(n->tx_bytes_per_s)}};
}

json::object NodeJson(const Node& n, const Platform& p) {
  json::array gpus;
  for (const auto& g : n.gpus) {
    JobId holder = p.DeviceHolder(n.id, g.index);
    json::object go{{"index", g.index},
                    {"uuid", g.uuid},
                    {"model", g.model},
                    {"gpu_class", g.gpu_class},
                    {"memory_mb", g.memory_mb},
                    {"state", DeviceStateName(g.state)},
                    {"health_reason", g.health_reason},
                    {"job", holder ? json::value(holder) : json::value(nullptr)}};
    if (!g.mig.empty()) {
      json::array mig;
      for (const auto& m : g.mig) {
        mig.push_back(json::object{{"index", m.index},
                                   {"uuid", m.uuid},
                                   {"memory_mb", m.memory_mb},
                                   {"gpu_instance_id", m.gpu_instance_id}});
      }
      go["mig"] = std::move(mig);
    }
    gpus.push_back(std::move(go));
  }
  json::object labels;
  for (const auto& [k, v] : n.labels) labels[k] = v;
  return {{"id", n.id},
          {"name", n.name},
          {"state", NodeStateName(n.state)},
          {"simulated", n.simulated},
          {"labels", labels},
          {"last_heartbeat", TimeOrNull(n.last_heartbeat)},
          {"network", NetworkJson(p.network().Node(n.id))},
          {"gpus", gpus}};
}

json::object JobJson(const Job& j, const Platform& p) {
  const User* u = p.FindUserById(j.user);
  std::string node;
  if (const Node* n = p.FindNodeById(j.node)) node = n->name;
  json::object o{
      {"id", j.id},
      {"name", j.name},
      {"kind", JobKindName(j.kind)},
      // Jupyter behind the server's proxy (kind=notebook without a command): docs/notebooks.md
      {"url", j.kind == JobKind::kNotebook && j.command.empty()
                  ? json::value(json::string("/notebooks/" + std::to_string(j.id) + "/"))
                  : json::value(nullptr)},
      {"state", JobStateName(j.state)},
      {"entity", EntityName(p, j.entity)},
      {"user", u ? json::value(json::string(u->name)) : json::value(nullptr)},
      {"gpus", j.gpus},
      {"gpu_types", StringArray(j.gpu_types)},
      {"gpu_type",
       j.gpu_type.empty() ? json::value(nullptr) : json::value(json::string(j.gpu_type))},
      {"node", node.empty() ? json::value(nullptr) : json::value(json::string(node))},
      {"gpu_ids", IntArray(j.gpu_ids)},
      {"walltime_s", j.walltime_s},
      {"command", StringArray(j.command)},
      {"environment", j.environment},
      {"workspace", j.workspace_mode},
      {"secrets", StringArray(j.secrets)},  // names only, never values
      {"cpus", j.cpus},
      {"memory_gb", j.memory_gb},
      {"submitted_at", TimeOrNull(j.submitted_at)},
      {"started_at", TimeOrNull(j.started_at)},
      {"finished_at", TimeOrNull(j.finished_at)},
      {"exit_code", j.exit_code ? json::value(*j.exit_code) : json::value(nullptr)},
      {"reason", j.reason},
      {"releasing", p.IsReleasing(j)},
      {"project", j.project},
      {"priority_class", j.priority_class.empty() ? "standard" : j.priority_class},
      {"requeue_on_preempt", j.requeue_on_preempt},
      {"allow_fallback", j.allow_fallback},
      {"node_selector", StringMap(j.node_selector)},
      {"resubmitted_from",
       j.resubmitted_from ? json::value(j.resubmitted_from) : json::value(nullptr)},
      {"cost", Money(p.JobCost(j))},
      {"estimated_cost", Money(p.EstimatedJobCost(j))},
  };
  // Every node of the job, in rank order (one for a single-node job; several for a multi-node
  // gang); node and gpu_ids above are rank 0's. Empty while queued.
  json::array nodes, slices;
  int rank = 0;
  for (const Allocation* a : p.PartsOf(j)) {
    const Node* n = p.FindNodeById(a->node);
    json::string name = n ? json::string(n->name) : json::string(std::to_string(a->node));
    nodes.emplace_back(name);
    slices.emplace_back(json::object{{"rank", rank++},
                                     {"node", name},
                                     {"gpu_ids", IntArray(a->devices)},
                                     {"released", a->end != 0}});
  }
  o["nodes"] = std::move(nodes);
  o["slices"] = std::move(slices);
  const std::optional<JobTelemetry> t = p.JobTelemetryOf(j);
  // A container job's own traffic (docs/agent.md, "Network"); null for the process runtime.
  o["network"] = t && t->net ? NetworkJson(&*t->net) : json::value(nullptr);
  if (t && t->samples > 0) {
    o["telemetry"] = json::object{{"avg_util_pct", std::round(t->avg_util_pct() * 10) / 10},
                                  {"peak_mem_mb", t->peak_mem_mb},
                                  {"energy_wh", static_cast<double>(t->energy_mwh()) / 1000.0},
                                  {"idle_gpu_s", static_cast<double>(t->idle_ms) / 1000.0},
                                  {"gpu_s_sampled", static_cast<double>(t->covered_ms) / 1000.0},
                                  {"samples", t->samples}};
  } else {
    o["telemetry"] = nullptr;
  }
  if (j.state == JobState::kQueued) {
    const QueueInfo* q = p.GetQueueInfo(j.id);
    o["queue_position"] = q ? json::value(q->position) : json::value(nullptr);
    o["estimated_start"] = q ? TimeOrNull(q->estimated_start) : json::value(nullptr);
    if (q && !q->reason.empty()) o["reason"] = q->reason;
  }
  return o;
}

Result<EntityRequest> EntityRequestOf(const json::object& o) {
  EntityRequest r;
  GPUAAS_ASSIGN_OR_RETURN(auto name, GetString(o, "name"));
  if (!name) return InvalidArgument("'name' is required");
  r.name = *name;
  GPUAAS_ASSIGN_OR_RETURN(auto quota, GetIntMap(o, "quota"));
  if (quota) r.quota = *quota;
  GPUAAS_ASSIGN_OR_RETURN(auto guarantee, GetIntMap(o, "guarantee"));
  if (guarantee) r.guarantee = *guarantee;
  GPUAAS_ASSIGN_OR_RETURN(auto shares, GetInt(o, "shares"));
  if (shares) {
    if (*shares < 1 || *shares > 10'000)
      return FailedPrecondition("shares must be between 1 and 10000");
    r.shares = static_cast<int>(*shares);
  }
  return r;
}

Result<EntityUpdate> EntityUpdateOf(const json::object& o) {
  EntityUpdate u;
  GPUAAS_ASSIGN_OR_RETURN(u.quota, GetIntMap(o, "quota"));
  GPUAAS_ASSIGN_OR_RETURN(u.guarantee, GetIntMap(o, "guarantee"));
  GPUAAS_ASSIGN_OR_RETURN(auto shares, GetInt(o, "shares"));
  if (shares) {
    if (*shares < 1 || *shares > 10'000)
      return FailedPrecondition("shares must be between 1 and 10000");
    u.shares = static_cast<int>(*shares);
  }
  if (!u.quota && !u.guarantee && !u.shares) {
    return InvalidArgument("nothing to change: give 'quota', 'guarantee' or 'shares'");
  }
  return u;
}

Result<UserRequest> UserRequestOf(const json::object& o) {
  UserRequest r;
  GPUAAS_ASSIGN_OR_RETURN(auto name, GetString(o, "name"));
  if (!name) return InvalidArgument("'name' is required");
  r.name = *name;
  GPUAAS_ASSIGN_OR_RETURN(auto entity, GetString(o, "entity"));
  if (entity) r.entity = *entity;
  GPUAAS_ASSIGN_OR_RETURN(std::optional<Role> role, OptionalRole(o));
  r.role = role.value_or(Role::kMember);
  return r;
}

Result<JobRequest> JobRequestOf(const json::object& o) {
  JobRequest r;
  GPUAAS_ASSIGN_OR_RETURN(auto name, GetString(o, "name"));
  if (name) r.name = *name;
  GPUAAS_ASSIGN_OR_RETURN(auto kind, GetString(o, "kind"));
  if (kind) {
    auto k = ParseJobKind(*kind);
    if (!k)
      return FailedPrecondition("unknown kind '" + *kind +
                                "' (job, notebook, service, allocation)");
    r.kind = *k;
  }
  GPUAAS_ASSIGN_OR_RETURN(auto gpus, GetInt(o, "gpus"));
  if (gpus) {
    if (*gpus < 1 || *gpus > 1'000'000) return FailedPrecondition("gpus must be at least 1");
    r.gpus = static_cast<int>(*gpus);
  }
  GPUAAS_ASSIGN_OR_RETURN(auto types, GetStringArray(o, "gpu_types"));
  if (types) r.gpu_types = *types;
  GPUAAS_ASSIGN_OR_RETURN(auto wall, GetInt(o, "walltime_s"));
  if (wall) {
    if (*wall <= 0) return FailedPrecondition("walltime_s must be positive");
    r.walltime_s = *wall;
  }
  GPUAAS_ASSIGN_OR_RETURN(auto cmd, GetStringArray(o, "command"));
  if (cmd) r.command = *cmd;
  GPUAAS_ASSIGN_OR_RETURN(auto env, GetString(o, "environment"));
  if (env) r.environment = *env;
  GPUAAS_ASSIGN_OR_RETURN(auto ws, GetString(o, "workspace"));
  if (ws) r.workspace_mode = *ws;
  GPUAAS_ASSIGN_OR_RETURN(auto secrets, GetStringArray(o, "secrets"));
  if (secrets) r.secrets = *secrets;
  GPUAAS_ASSIGN_OR_RETURN(auto cpus, GetInt(o, "cpus"));
  if (cpus) {
    if (*cpus < 1 || *cpus > 1'000'000) return FailedPrecondition("cpus must be at least 1");
    r.cpus = static_cast<int>(*cpus);
  }
  GPUAAS_ASSIGN_OR_RETURN(auto mem, GetInt(o, "memory_gb"));
  if (mem) {
    if (*mem < 1 || *mem > 1'000'000) return FailedPrecondition("memory_gb must be at least 1");
    r.memory_gb = static_cast<int>(*mem);
  }
  GPUAAS_ASSIGN_OR_RETURN(auto entity, GetString(o, "entity"));
  if (entity) r.entity = *entity;
  GPUAAS_ASSIGN_OR_RETURN(auto project, GetString(o, "project"));
  if (project) r.project = *project;
  GPUAAS_ASSIGN_OR_RETURN(auto pclass, GetString(o, "priority_class"));
  if (pclass) r.priority_class = *pclass;
  GPUAAS_ASSIGN_OR_RETURN(r.requeue_on_preempt, GetBool(o, "requeue_on_preempt", false));
  GPUAAS_ASSIGN_OR_RETURN(r.allow_fallback, GetBool(o, "allow_fallback", true));
  if (auto it = o.find("node_selector"); it != o.end() && !it->value().is_null()) {
    if (!it->value().is_object())
      return InvalidArgument("'node_selector' must be an object of strings");
    for (const auto& kv : it->value().as_object()) {
      if (!kv.value().is_string())
        return InvalidArgument("'node_selector' must be an object of strings");
      r.node_selector[std::string(kv.key())] = std::string(kv.value().as_string());
    }
  }
  return r;
}

// The optional `mig` list of a reported GPU (absent from older agents).
static Status MigDevicesOf(const json::object& g, std::vector<MigDevice>* out) {
  constexpr size_t kMaxMigPerGpu = 16;
  const json::value* v = g.if_contains("mig");
  if (!v || v->is_null()) return Status();
  if (!v->is_array() || v->as_array().size() > kMaxMigPerGpu) {
    return InvalidArgument("'mig' must be an array of at most 16 MIG devices");
  }
  for (const auto& mv : v->as_array()) {
    if (!mv.is_object()) return InvalidArgument("'mig' must hold objects");
    const auto& mo = mv.as_object();
    MigDevice m;
    GPUAAS_ASSIGN_OR_RETURN(auto index, GetInt(mo, "index"));
    GPUAAS_ASSIGN_OR_RETURN(auto uuid, GetString(mo, "uuid"));
    GPUAAS_ASSIGN_OR_RETURN(auto mem, GetInt(mo, "memory_mb"));
    GPUAAS_ASSIGN_OR_RETURN(auto gi, GetInt(mo, "gpu_instance_id"));
    if (!index || !uuid) return InvalidArgument("each MIG device needs 'index' and 'uuid'");
    m.index = static_cast<int>(*index);
    m.uuid = *uuid;
    m.memory_mb = mem.value_or(0);
    m.gpu_instance_id = static_cast<int>(gi.value_or(-1));
    out->push_back(std::move(m));
  }
  return Status();
}

// The optional "net" counters of a report or of one of its workloads; `what` names it in errors.
Result<std::optional<NetReading>> NetReadingOf(const json::object& o, const char* what) {
  const json::value* v = o.if_contains("net");
  if (v == nullptr || v->is_null()) return std::optional<NetReading>();
  if (!v->is_object()) return InvalidArgument(std::string(what) + " must be an object");
  const json::object& n = v->as_object();
  GPUAAS_ASSIGN_OR_RETURN(auto t, GetInt(n, "t"));
  GPUAAS_ASSIGN_OR_RETURN(auto rx, GetInt(n, "rx_bytes"));
  GPUAAS_ASSIGN_OR_RETURN(auto tx, GetInt(n, "tx_bytes"));
  if (!t || !rx || !tx || *t < 0 || *rx < 0 || *tx < 0) {
    return InvalidArgument(std::string(what) +
                           " needs non-negative integers t, rx_bytes, tx_bytes");
  }
  return std::optional<NetReading>(NetReading{*t, *rx, *tx});
}

Result<NodeReport> NodeReportOf(const json::object& o) {
  NodeReport r;
  GPUAAS_ASSIGN_OR_RETURN(auto node, GetString(o, "node"));
  if (!node) return InvalidArgument("'node' is required");
  r.node = *node;
  if (auto it = o.find("simulated"); it != o.end() && it->value().is_bool()) {
    r.simulated = it->value().as_bool();
  }
  if (auto it = o.find("labels"); it != o.end() && it->value().is_object()) {
    for (const auto& kv : it->value().as_object()) {
      if (!kv.value().is_string()) return InvalidArgument("labels must be strings");
      r.labels[std::string(kv.key())] = std::string(kv.value().as_string());
    }
  }
  if (auto it = o.find("gpus"); it != o.end()) {
    if (!it->value().is_array()) return InvalidArgument("'gpus' must be an array");
    for (const auto& gv : it->value().as_array()) {
      if (!gv.is_object()) return InvalidArgument("'gpus' must hold objects");
      const auto& g = gv.as_object();
      GpuDevice d;
      GPUAAS_ASSIGN_OR_RETURN(auto index, GetInt(g, "index"));
      GPUAAS_ASSIGN_OR_RETURN(auto uuid, GetString(g, "uuid"));
      GPUAAS_ASSIGN_OR_RETURN(auto model, GetString(g, "model"));
      GPUAAS_ASSIGN_OR_RETURN(auto cls, GetString(g, "gpu_class"));
      GPUAAS_ASSIGN_OR_RETURN(auto mem, GetInt(g, "memory_mb"));
      GPUAAS_ASSIGN_OR_RETURN(auto state, GetString(g, "state"));
      GPUAAS_ASSIGN_OR_RETURN(auto health, GetString(g, "health_reason"));
      d.health_reason = health.value_or("");
      GPUAAS_RETURN_IF_ERROR(MigDevicesOf(g, &d.mig));
      if (!index || !cls) return InvalidArgument("each GPU needs 'index' and 'gpu_class'");
      d.index = static_cast<int>(*index);
      d.uuid = uuid.value_or("");
      d.model = model.value_or("");
      d.gpu_class = *cls;
      d.memory_mb = mem.value_or(0);
      d.state =
          state.value_or("healthy") == "healthy" ? DeviceState::kHealthy : DeviceState::kUnhealthy;
      r.gpus.push_back(std::move(d));
    }
  }
  if (auto it = o.find("workloads"); it != o.end()) {
    if (!it->value().is_array()) return InvalidArgument("'workloads' must be an array");
    for (const auto& wv : it->value().as_array()) {
      if (!wv.is_object()) return InvalidArgument("'workloads' must hold objects");
      const auto& w = wv.as_object();
      WorkloadReport rep;
      GPUAAS_ASSIGN_OR_RETURN(auto job, GetInt(w, "job"));
      GPUAAS_ASSIGN_OR_RETURN(auto alloc, GetInt(w, "allocation"));
      GPUAAS_ASSIGN_OR_RETURN(auto state, GetString(w, "state"));
      GPUAAS_ASSIGN_OR_RETURN(auto code, GetInt(w, "exit_code"));
      GPUAAS_ASSIGN_OR_RETURN(auto sig, GetInt(w, "signal"));
      GPUAAS_ASSIGN_OR_RETURN(auto started, GetInt(w, "started_at"));
      GPUAAS_ASSIGN_OR_RETURN(auto finished, GetInt(w, "finished_at"));
      GPUAAS_ASSIGN_OR_RETURN(auto msg, GetString(w, "message"));
      if (!alloc || !state) return InvalidArgument("each workload needs 'allocation' and 'state'");
      rep.job = job.value_or(0);
      rep.allocation = *alloc;
      rep.state = *state;
      if (code) rep.exit_code = static_cast<int>(*code);
      rep.signal = static_cast<int>(sig.value_or(0));
      rep.started_at = started.value_or(0);
      rep.finished_at = finished.value_or(0);
      rep.message = msg.value_or("");
      if (auto t = w.find("timed_out"); t != w.end() && t->value().is_bool()) {
        rep.timed_out = t->value().as_bool();
      }
      if (auto t = w.find("stopped"); t != w.end() && t->value().is_bool()) {
        rep.stopped = t->value().as_bool();
      }
      if (auto t = w.find("interrupted"); t != w.end() && t->value().is_bool()) {
        rep.interrupted = t->value().as_bool();
      }
      GPUAAS_ASSIGN_OR_RETURN(rep.net, NetReadingOf(w, "a workload's 'net'"));
      r.workloads.push_back(std::move(rep));
    }
  }
  if (auto it = o.find("logs"); it != o.end()) {
    if (!it->value().is_array()) return InvalidArgument("'logs' must be an array");
    for (const auto& lv : it->value().as_array()) {
      if (!lv.is_object()) return InvalidArgument("'logs' must hold objects");
      const auto& l = lv.as_object();
      GPUAAS_ASSIGN_OR_RETURN(auto job, GetInt(l, "job"));
      GPUAAS_ASSIGN_OR_RETURN(auto offset, GetInt(l, "offset"));
      GPUAAS_ASSIGN_OR_RETURN(auto data, GetString(l, "data_b64"));
      GPUAAS_ASSIGN_OR_RETURN(auto allocation, GetInt(l, "allocation"));  // optional
      if (!job || !offset || !data)
        return InvalidArgument("each log chunk needs job, offset, data_b64");
      GPUAAS_ASSIGN_OR_RETURN(std::string bytes, Base64Decode(*data));
      r.logs.push_back({*job, *offset, std::move(bytes), allocation.value_or(0)});
    }
  }
  if (auto it = o.find("samples"); it != o.end()) {
    if (!it->value().is_array()) return InvalidArgument("'samples' must be an array");
    const json::array& a = it->value().as_array();
    r.samples.reserve(a.size());
    // Hot path (every agent, every few seconds): direct access, numbers checked once.
    auto num = [](const json::object& s, const char* key, double* out) {
      const json::value* v = s.if_contains(key);
      if (!v) return false;
      if (v->is_int64()) {
        *out = static_cast<double>(v->get_int64());
      } else if (v->is_uint64()) {
        *out = static_cast<double>(v->get_uint64());
      } else if (v->is_double()) {
        *out = v->get_double();
      } else {
        return false;
      }
      return true;
    };
    for (const auto& sv : a) {
      if (!sv.is_object()) return InvalidArgument("'samples' must hold objects");
      const auto& s = sv.as_object();
      double index = 0, t = 0, util = 0, mem = 0, power = 0, temp = 0;
      if (!num(s, "index", &index) || !num(s, "t", &t) || !num(s, "util", &util) ||
          !num(s, "mem_used_mb", &mem) || !num(s, "power_w", &power) || !num(s, "temp_c", &temp)) {
        return InvalidArgument(
            "each sample needs numbers index, t, util, mem_used_mb, power_w, temp_c");
      }
      if (index < 0 || index > 1023 || t < 0 || util < 0 || util > 100 || mem < 0 || power < 0 ||
          power > 100'000 || temp < -100 || temp > 500) {
        return InvalidArgument("sample out of range");
      }
      GpuSample g;
      g.index = static_cast<int>(index);
      g.t = static_cast<Millis>(t);
      g.util_pct = static_cast<int>(util);
      g.mem_used_mb = static_cast<int64_t>(mem);
      g.power_mw = static_cast<int64_t>(std::llround(power * 1000.0));
      g.temp_c = static_cast<int>(temp);
      r.samples.push_back(g);
    }
  }
  GPUAAS_ASSIGN_OR_RETURN(r.net, NetReadingOf(o, "'net'"));
  return r;
}

json::object DesiredJson(const DesiredWorkloads& d) {
  json::array ws;
  for (const auto& w : d.workloads) {
    json::object env;
    for (const auto& [k, v] : w.env) env[k] = v;
    ws.push_back(json::object{{"job", w.job},
                              {"allocation", w.allocation},
                              {"command", StringArray(w.command)},
                              {"env", env},
                              {"gpu_ids", IntArray(w.gpu_ids)},
                              {"walltime_s", w.walltime_s},
                              {"grace_ms", w.grace_ms},
                              {"memory_bytes", w.memory_bytes},
                              {"cpu_millis", w.cpu_millis},
                              {"adopt_only", w.adopt_only}});
    json::object& o = ws.back().as_object();
    if (!w.image.empty()) o["image"] = w.image;
    if (!w.workspace.empty()) {
      o["workspace"] = w.workspace;
      o["workspace_mode"] = w.workspace_mode;
    }
    if (!w.secret_env.empty()) {  // to the node only; agents keep them in memory
      json::object secret_env;
      for (const auto& [k, v] : w.secret_env) secret_env[k] = v;
      o["secret_env"] = std::move(secret_env);
    }
  }
  json::array stopping;
  for (const auto& [allocation, grace_ms] : d.stopping) {
    stopping.push_back(json::object{{"allocation", allocation}, {"grace_ms", grace_ms}});
  }
  return {{"node_id", d.node_id}, {"epoch", d.epoch},
          {"version", d.version}, {"heartbeat_interval_ms", d.heartbeat_interval_ms},
          {"workloads", ws},      {"stopping", stopping}};
}

json::object EstimateJson(const JobEstimate& e, const Platform& p) {
  auto option = [&](const ClassEstimate& c) {
    return json::object{
        {"gpu_type", c.gpu_class},
        {"node", c.node.empty() ? json::value(nullptr) : json::value(json::string(c.node))},
        {"estimated_start", TimeOrNull(c.start)},
        {"estimated_end", TimeOrNull(c.end)},
        {"walltime_s", c.runtime_s},
        {"queue_position", c.queue_position},
        {"rate", Money(c.hourly_rate)},
        {"price", Money(c.hourly_rate * e.gpus)},
        {"cost", Money(c.cost)},
        {"reason", c.reason}};
  };
  json::object o = option(e.options.at(e.best));
  const Entity* ent = p.FindEntityById(e.entity);
  o["entity"] = ent ? ent->name : "";
  o["gpus"] = e.gpus;
  json::array all;
  for (const auto& c : e.options) all.push_back(option(c));
  o["options"] = std::move(all);
  return o;
}

}  // namespace gpuaas::api
