#include <cmath>
#include <string>

#include "api/json_io.h"
#include "api/routes.h"
#include "telemetry/dcgm_exposition.h"

namespace gpuaas::api {
namespace {

void Gauge(std::string& out, const char* name, const char* help) {
  out += "# HELP ";
  out += name;
  out += ' ';
  out += help;
  out += "\n# TYPE ";
  out += name;
  out += " gauge\n";
}

// DCGM-exporter-compatible GPU series (telemetry/dcgm_exposition.h), one per registered device.
void AppendGpuTelemetry(const Platform& p, std::string& out) {
  const Principal system{0, "metrics", 0, Role::kPlatformAdmin, false};
  std::vector<DcgmDevice> devices;
  for (const Node& n : p.ListNodes()) {
    for (const GpuDevice& g : n.gpus) {
      DcgmDevice d;
      d.gpu = g.index;
      d.uuid = g.uuid;
      d.model_name = g.model;
      d.hostname = n.name;
      d.memory_mb = g.memory_mb;
      d.healthy = g.state == DeviceState::kHealthy;
      d.health_reason = g.health_reason;
      if (JobId holder = p.DeviceHolder(n.id, g.index); holder != 0) {
        d.job = std::to_string(holder);
        if (auto job = p.GetJob(system, holder); job.ok()) {
          if (const Entity* e = p.FindEntityById(job->entity)) d.entity = e->name;
        }
      }
      if (const DeviceTelemetry* t = p.telemetry().Device(n.id, g.index)) {
        d.energy_uj = t->energy_uj;
        if (!t->recent.empty()) {
          d.has_sample = true;
          d.last = t->recent.back();
        }
      }
      devices.push_back(std::move(d));
    }
  }
  AppendDcgmExposition(devices, out);
}

// Each node's network byte counters as its agent last sent them (telemetry/network_rates.h):
// rate() of their sum against the shared link's capacity shows how full it is
// (docs/agent.md, "Network").
void AppendNetwork(const Platform& p, std::string& out) {
  std::string rx, tx;
  for (const Node& n : p.ListNodes()) {
    const NetTraffic* net = p.network().Node(n.id);
    if (net == nullptr) continue;
    rx += "gpuaas_node_network_receive_bytes_total{node=\"" + n.name + "\"} " +
          std::to_string(net->last.rx_bytes) + "\n";
    tx += "gpuaas_node_network_transmit_bytes_total{node=\"" + n.name + "\"} " +
          std::to_string(net->last.tx_bytes) + "\n";
  }
  Gauge(out, "gpuaas_network_capacity_bytes_per_second",
        "The network the nodes share ([network] capacity_gbps), in bytes per second.");
  out += "gpuaas_network_capacity_bytes_per_second " +
         std::to_string(std::llround(p.config().network_capacity_gbps * 1e9 / 8)) + "\n";
  out +=
      "# HELP gpuaas_node_network_receive_bytes_total Bytes received by the node's interfaces.\n"
      "# TYPE gpuaas_node_network_receive_bytes_total counter\n" +
      rx +
      "# HELP gpuaas_node_network_transmit_bytes_total Bytes sent by the node's interfaces.\n"
      "# TYPE gpuaas_node_network_transmit_bytes_total counter\n" +
      tx;
  // Who fills it: each entity's container jobs, finished (the usage ledger) and running.
  std::string erx, etx;
  for (const auto& [id, bytes] : p.EntityNetwork()) {
    const Entity* e = p.FindEntityById(id);
    if (e == nullptr) continue;
    erx += "gpuaas_entity_network_receive_bytes_total{entity=\"" + e->name + "\"} " +
           std::to_string(bytes.first) + "\n";
    etx += "gpuaas_entity_network_transmit_bytes_total{entity=\"" + e->name + "\"} " +
           std::to_string(bytes.second) + "\n";
  }
  out +=
      "# HELP gpuaas_entity_network_receive_bytes_total Bytes received by the entity's container "
      "jobs.\n"
      "# TYPE gpuaas_entity_network_receive_bytes_total counter\n" +
      erx +
      "# HELP gpuaas_entity_network_transmit_bytes_total Bytes sent by the entity's container "
      "jobs.\n"
      "# TYPE gpuaas_entity_network_transmit_bytes_total counter\n" +
      etx;
}

std::string Metrics(const Platform& p) {
  Platform::Stats s = p.GetStats();
  std::string out;
  Gauge(out, "gpuaas_jobs", "Jobs known to the platform, by state.");
  for (const char* st : {"queued", "starting", "running", "succeeded", "failed", "cancelled",
                         "preempted", "timed_out", "lost"}) {
    auto it = s.jobs_by_state.find(st);
    out += "gpuaas_jobs{state=\"" + std::string(st) + "\"} " +
           std::to_string(it == s.jobs_by_state.end() ? 0 : it->second) + "\n";
  }
  Gauge(out, "gpuaas_gpus", "GPUs registered by the nodes, by class.");
  for (const auto& [cls, n] : s.gpus_total) {
    out += "gpuaas_gpus{gpu_class=\"" + cls + "\"} " + std::to_string(n) + "\n";
  }
  Gauge(out, "gpuaas_gpus_allocated", "GPUs held by jobs, by class.");
  for (const auto& [cls, n] : s.gpus_total) {
    auto it = s.gpus_allocated.find(cls);
    out += "gpuaas_gpus_allocated{gpu_class=\"" + cls + "\"} " +
           std::to_string(it == s.gpus_allocated.end() ? 0 : it->second) + "\n";
  }
  Gauge(out, "gpuaas_nodes", "Nodes by state.");
  out += "gpuaas_nodes{state=\"ready\"} " + std::to_string(s.nodes_ready) + "\n";
  out += "gpuaas_nodes{state=\"down\"} " + std::to_string(s.nodes_down) + "\n";
  out +=
      "# HELP gpuaas_schedule_passes_total Scheduling passes run.\n"
      "# TYPE gpuaas_schedule_passes_total counter\n";
  out += "gpuaas_schedule_passes_total " + std::to_string(s.schedule_passes) + "\n";
  out +=
      "# HELP gpuaas_placements_total Jobs placed on GPUs.\n"
      "# TYPE gpuaas_placements_total counter\n";
  out += "gpuaas_placements_total " + std::to_string(s.placements) + "\n";
  out += p.start_trace().MetricsText();
  AppendGpuTelemetry(p, out);
  AppendNetwork(p, out);
  out += p.BillingMetricsText();
  return out;
}

}  // namespace

void RegisterHealthRoutes(net::Router& r, Platform& p) {
  r.Add("GET", "/healthz", [](net::HttpRequest&&, net::Respond respond) {
    respond(JsonResponse(200, json::object{{"status", "ok"}}));
  });
  r.Add("GET", "/readyz", [&p](net::HttpRequest&&, net::Respond respond) {
    if (!p.ready()) return respond(ErrorOf(Unavailable("the server is starting")));
    respond(JsonResponse(200, json::object{{"status", "ready"}}));
  });
  r.Add("GET", "/metrics", [&p](net::HttpRequest&&, net::Respond respond) {
    net::HttpResponse res;
    res.content_type = "text/plain; version=0.0.4";
    res.body = Metrics(p);
    respond(std::move(res));
  });
}

}  // namespace gpuaas::api
