#include "agent/protocol.h"

// GCC 12 reports a false -Wdangling-pointer inside Boost.JSON's object::end() (empty table).
#pragma GCC diagnostic ignored "-Wdangling-pointer"
#include <boost/json.hpp>

#include "base/base64.h"

namespace gpuaas {

namespace json = boost::json;

json::array MigJson(const std::vector<MigDevice>& mig) {
  json::array a;
  for (const auto& m : mig) {
    a.push_back(json::object{{"index", m.index},
                             {"uuid", m.uuid},
                             {"memory_mb", m.memory_mb},
                             {"gpu_instance_id", m.gpu_instance_id}});
  }
  return a;
}

namespace {

json::object NetJson(const NetReading& n) {
  return {{"t", n.t}, {"rx_bytes", n.rx_bytes}, {"tx_bytes", n.tx_bytes}};
}

}  // namespace

std::string HeartbeatReportToJson(const HeartbeatReport& r) {
  json::object labels;
  for (const auto& [k, v] : r.labels) labels[k] = v;
  json::array gpus;
  for (const auto& g : r.gpus) {
    json::object go{{"index", g.index},
                    {"uuid", g.uuid},
                    {"model", g.model},
                    {"gpu_class", g.gpu_class},
                    {"memory_mb", g.memory_mb},
                    {"state", DeviceStateName(g.state)},
                    {"health_reason", g.health_reason}};
    if (!g.mig.empty()) go["mig"] = MigJson(g.mig);  // optional: older servers ignore it
    gpus.push_back(std::move(go));
  }
  json::array workloads;
  for (const auto& w : r.workloads) {
    auto& wo = workloads
                   .emplace_back(json::object{{"job", w.job},
                                              {"allocation", w.allocation},
                                              {"state", WorkloadStateName(w.state)},
                                              {"exit_code", w.exit_code},
                                              {"signal", w.signal},
                                              {"timed_out", w.timed_out},
                                              {"stopped", w.stopped},
                                              {"interrupted", w.interrupted},
                                              {"started_at", w.started_at},
                                              {"finished_at", w.finished_at},
                                              {"message", w.message}})
                   .as_object();
    if (w.net) wo["net"] = NetJson(*w.net);  // optional: older servers ignore it
  }
  json::array logs;
  for (const auto& c : r.logs) {
    logs.push_back(json::object{{"job", c.job},
                                {"allocation", c.allocation},
                                {"offset", c.offset},
                                {"data_b64", Base64Encode(c.data)}});
  }
  json::array samples;
  for (const auto& s : r.samples) {
    samples.push_back(json::object{{"index", s.index},
                                   {"t", s.t},
                                   {"util", s.util_pct},
                                   {"mem_used_mb", s.mem_used_mb},
                                   {"power_w", static_cast<double>(s.power_mw) / 1000.0},
                                   {"temp_c", s.temp_c}});
  }
  json::object o{{"node", r.node},          {"simulated", r.simulated}, {"labels", labels},
                 {"gpus", std::move(gpus)}, {"workloads", workloads},   {"logs", std::move(logs)}};
  o["samples"] = std::move(samples);
  if (r.net) o["net"] = NetJson(*r.net);  // optional: older servers ignore it
  return json::serialize(o);
}

namespace {

int64_t IntOr(const json::object& o, const char* key, int64_t fallback) {
  const json::value* v = o.if_contains(key);
  if (!v || v->is_null()) return fallback;
  return v->to_number<int64_t>();  // throws on a non-number: caught by the caller
}

}  // namespace

Result<HeartbeatAnswer> ParseHeartbeatAnswer(const std::string& body) {
  try {
    const json::value doc = json::parse(body);
    const json::object& o = doc.as_object();
    HeartbeatAnswer a;
    a.node_id = IntOr(o, "node_id", 0);
    a.epoch = IntOr(o, "epoch", 0);
    a.version = IntOr(o, "version", 0);
    a.heartbeat_interval_ms = IntOr(o, "heartbeat_interval_ms", 1000);
    if (const json::value* ws = o.if_contains("workloads"); ws && !ws->is_null()) {
      for (const auto& wv : ws->as_array()) {
        const json::object& w = wv.as_object();
        DesiredWorkload d;
        d.spec.job = IntOr(w, "job", 0);
        d.spec.allocation = w.at("allocation").to_number<int64_t>();
        if (const json::value* c = w.if_contains("command"); c && !c->is_null()) {
          for (const auto& arg : c->as_array()) d.spec.command.emplace_back(arg.as_string());
        }
        if (d.spec.command.empty()) d.spec.command = {"sleep", "infinity"};
        if (const json::value* e = w.if_contains("env"); e && !e->is_null()) {
          for (const auto& [k, v] : e->as_object()) d.spec.env[k] = std::string(v.as_string());
        }
        if (const json::value* g = w.if_contains("gpu_ids"); g && !g->is_null()) {
          for (const auto& id : g->as_array()) d.spec.gpu_ids.push_back(id.to_number<int>());
        }
        // Secrets travel apart from env so that the agent knows which values never to store.
        if (const json::value* e = w.if_contains("secret_env"); e && !e->is_null()) {
          for (const auto& [k, v] : e->as_object()) {
            d.spec.env[k] = std::string(v.as_string());
            d.spec.secret_names.emplace_back(k);
          }
        }
        if (const json::value* v = w.if_contains("image"); v && !v->is_null()) {
          d.spec.image = v->as_string();
        }
        if (const json::value* v = w.if_contains("workspace"); v && !v->is_null()) {
          d.spec.workspace = v->as_string();
        }
        if (const json::value* v = w.if_contains("workspace_mode"); v && !v->is_null()) {
          d.spec.workspace_mode = v->as_string();
        }
        d.spec.walltime_s = IntOr(w, "walltime_s", 0);
        d.spec.grace_ms = IntOr(w, "grace_ms", 10'000);
        d.spec.memory_bytes = IntOr(w, "memory_bytes", 0);
        d.spec.cpu_millis = IntOr(w, "cpu_millis", 0);
        if (const json::value* ao = w.if_contains("adopt_only"); ao && ao->is_bool()) {
          d.adopt_only = ao->as_bool();
        }
        a.workloads.push_back(std::move(d));
      }
    }
    if (const json::value* ss = o.if_contains("stopping"); ss && !ss->is_null()) {
      for (const auto& sv : ss->as_array()) {
        const json::object& s = sv.as_object();
        a.stopping[s.at("allocation").to_number<int64_t>()] = IntOr(s, "grace_ms", -1);
      }
    }
    return a;
  } catch (const std::exception& e) {
    return InvalidArgument(std::string("malformed heartbeat answer: ") + e.what());
  }
}

}  // namespace gpuaas
