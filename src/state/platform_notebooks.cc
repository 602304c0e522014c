// Notebooks (kind=notebook): the Jupyter command and env of a workload, the port and token
// given per allocation (kept in MetaKV rows "notebook/JOB" so that a restart finds them), the
// lookup behind the /notebooks/{id}/ proxy, and the idle reclaim decision (the proxy reads the
// notebook's kernels, the telemetry gives GPU utilisation; this file decides). docs/notebooks.md.
// Runs on the Platform's executor like the rest of Platform.
#include <unistd.h>

#include <algorithm>
#include <cinttypes>
#include <cstdio>
#include <filesystem>

#include "auth/token.h"
#include "base/log.h"
#include "base/time.h"
#include "state/platform.h"

namespace gpuaas {
namespace {

bool IsOpenNotebook(const Job& j) {
  return j.kind == JobKind::kNotebook && j.command.empty() && !IsFinal(j.state) &&
         j.allocation != 0;
}

// How long before the stop the warning shows: the configured lead when it fits in the
// timeout, else a quarter of the timeout (at most 5 min).
int64_t WarningLead(const NotebookConfig& c) {
  if (c.warning_lead_ms > 0 && c.warning_lead_ms < c.idle_timeout_ms) return c.warning_lead_ms;
  return std::min<int64_t>(c.idle_timeout_ms / 4, 300'000);
}

}  // namespace

bool Platform::NotebookWorkload(const Job& j, const Allocation& a, Assignment& w) {
  int& port = notebook_ports_[a.id];
  std::string& token = notebook_tokens_[j.id];
  if (port == 0 || token.empty()) {
    if (port == 0) {
      std::set<int> used;
      for (const auto& [aid, p] : notebook_ports_) {
        auto it = allocations_.find(aid);
        if (aid != a.id && it != allocations_.end() && it->second.end == 0) used.insert(p);
      }
      for (int p = notebooks_.port_min; p <= notebooks_.port_max; ++p) {
        if (!used.count(p)) {
          port = p;
          break;
        }
      }
    }
    if (token.empty()) {
      auto t = NewApiToken();
      token = t.ok() ? t->substr(4) : std::to_string(j.id) + "-" + std::to_string(clock_.Now());
    }
    // Durable before Jupyter starts with them: after a restart the proxy still finds it.
    notebook_seq_[j.id] = next_seq_;
    const JobId id = j.id;
    const NodeId node = a.node;
    Persist({MetaKV{"notebook/" + std::to_string(id),
                    std::to_string(a.id) + " " + std::to_string(port) + " " + token}},
            [this, id, node] {
              notebook_seq_.erase(id);
              WakeNode(node);
            });
  }
  if (notebook_seq_.count(j.id)) return false;
  // Notebooks are saved in the entity workspace (the same directory RuntimeWorkload gives the
  // job), so the files stay after a reclaim: in a container it is mounted at /workspace (the
  // podman runtime creates it); on the host the server creates it (it measures it too, so it
  // sees it). Without a workspace (no root, or workspace "none"): the job's work dir.
  std::string dir = ".";
  const std::string ws = WorkspacePath(j.entity);
  if (!ws.empty() && j.workspace_mode != "none") {
    if (!j.environment.empty()) {
      dir = "/workspace";
    } else {
      std::error_code ec;
      std::filesystem::create_directories(ws, ec);
      if (ec) GLOG_WARN("notebook {}: cannot create workspace {}: {}", j.id, ws, ec.message());
      dir = ec ? "." : ws;
    }
  }
  const std::string base = "/notebooks/" + std::to_string(j.id) + "/";
  w.command = {notebooks_.jupyter};
  if (::geteuid() == 0) w.command.push_back("--allow-root");
  // On the host Jupyter listens on the loopback only. In a container it listens on the
  // container's own interfaces: the podman runtime publishes its port on the node's loopback
  // (nothing else reaches the container's loopback); the token still guards it.
  const std::string ip = j.environment.empty() ? "127.0.0.1" : "0.0.0.0";
  for (std::string arg : {std::string("--no-browser"), "--ip=" + ip,
                          "--port=" + std::to_string(port), std::string("--port-retries=0"),
                          "--NotebookApp.base_url=" + base, "--notebook-dir=" + dir}) {
    w.command.push_back(std::move(arg));
  }
  w.env["GPUAAS_NOTEBOOK_PORT"] = std::to_string(port);
  w.env["GPUAAS_NOTEBOOK_URL"] = base;
  // The token goes in the env, not argv: any local user can read a command line (ps), only the
  // owner reads /proc/PID/environ. Jupyter reads JUPYTER_TOKEN as --NotebookApp.token.
  w.env["JUPYTER_TOKEN"] = token;
  return true;
}

void Platform::LoadNotebooks(const StoredState& st) {
  const std::string prefix = "notebook/";
  for (const auto& [key, value] : st.meta) {
    if (key.rfind(prefix, 0) != 0) continue;
    JobId id = 0;
    AllocationId alloc = 0;
    int port = 0;
    char token[256] = {0};
    if (std::sscanf(key.c_str() + prefix.size(), "%" SCNd64, &id) != 1 ||
        std::sscanf(value.c_str(), "%" SCNd64 " %d %255s", &alloc, &port, token) != 3) {
      GLOG_WARN("unreadable notebook row {}: ignored", key);
      continue;
    }
    auto it = jobs_.find(id);
    if (it == jobs_.end() || IsFinal(it->second.state) || it->second.allocation != alloc) continue;
    notebook_ports_[alloc] = port;
    notebook_tokens_[id] = token;
  }
}

Millis Platform::LastGpuBusy(const Job& j) const {
  Millis last = 0;
  for (int d : j.gpu_ids) {
    const DeviceTelemetry* dev = telemetry_.Device(j.node, d);
    if (!dev) continue;
    for (auto it = dev->recent.rbegin(); it != dev->recent.rend() && it->t > last; ++it) {
      if (it->util_pct > notebooks_.idle_util_pct) {
        last = it->t;
        break;
      }
    }
  }
  return last;
}

Result<Platform::NotebookTarget> Platform::NotebookFor(const Principal& p, JobId id) const {
  auto it = jobs_.find(id);
  if (it == jobs_.end() || p.agent || !Visible(p, it->second.entity) ||
      it->second.kind != JobKind::kNotebook) {
    return NotFound("notebook " + std::to_string(id) + " does not exist");
  }
  const Job& j = it->second;
  auto port = notebook_ports_.find(j.allocation);
  auto token = notebook_tokens_.find(j.id);
  if (j.state != JobState::kRunning || port == notebook_ports_.end() ||
      token == notebook_tokens_.end()) {
    return Conflict("notebook " + std::to_string(id) + " is " + JobStateName(j.state) +
                    ", not running");
  }
  NotebookTarget t;
  t.job = j.id;
  t.port = port->second;
  t.token = token->second;
  return t;
}

std::vector<Platform::NotebookTarget> Platform::RunningNotebooks() const {
  std::vector<NotebookTarget> out;
  for (const auto& [id, j] : jobs_) {
    if (!IsOpenNotebook(j) || j.state != JobState::kRunning) continue;
    auto port = notebook_ports_.find(j.allocation);
    auto token = notebook_tokens_.find(j.id);
    if (port == notebook_ports_.end() || token == notebook_tokens_.end()) continue;
    out.push_back({j.id, "127.0.0.1", port->second, token->second});
  }
  return out;
}

void Platform::ReportNotebookActivity(JobId id, Millis last_activity, bool busy) {
  auto it = jobs_.find(id);
  if (it == jobs_.end() || !IsOpenNotebook(it->second) || it->second.state != JobState::kRunning) {
    return;
  }
  Job& j = it->second;
  const Millis now = clock_.Now();
  Millis& active = notebook_active_[id];
  active = std::max({active, j.started_at, busy ? now : last_activity, LastGpuBusy(j)});
  const int64_t idle_ms = now - active;
  const int64_t timeout = notebooks_.idle_timeout_ms;
  std::vector<Mutation> batch;
  if (idle_ms >= timeout) {
    GLOG_INFO("notebook {} idle for {} ms: stopping it", id, idle_ms);
    j.cancel_requested = true;
    j.state = JobState::kCancelled;
    j.reason = "idle: no activity for " + FormatDurationSeconds(timeout / 1000);
    notebook_active_.erase(id);
    batch.push_back(j);
  } else if (idle_ms >= timeout - WarningLead(notebooks_)) {
    std::string warn = "idle: no activity since " + FormatRfc3339(active) + "; stops at " +
                       FormatRfc3339(active + timeout) + " unless a kernel or its GPUs run";
    if (j.reason == warn) return;
    j.reason = std::move(warn);
    batch.push_back(j);
  } else if (j.reason.rfind("idle:", 0) == 0) {
    j.reason.clear();  // active again
    batch.push_back(j);
  } else {
    return;
  }
  NodeId node = j.node;
  Persist(std::move(batch), [this, node] {
    if (node != 0) WakeNode(node);
  });
}

void Platform::PostNotebookActivity(JobId id, Millis last_activity, bool busy) {
  std::weak_ptr<int> alive = notebooks_alive_;
  executor_.Post([this, alive, id, last_activity, busy] {
    if (alive.lock()) ReportNotebookActivity(id, last_activity, busy);
  });
}

void Platform::StartNotebookIdleCheck(std::function<void(std::vector<NotebookTarget>)> probe) {
  std::weak_ptr<int> alive = notebooks_alive_;
  auto tick = std::make_shared<std::function<void()>>();
  *tick = [this, alive, probe = std::move(probe), weak_tick = std::weak_ptr(tick)] {
    if (!alive.lock() || stopping_) return;
    auto next = weak_tick.lock();
    if (!next) return;
    probe(RunningNotebooks());
    executor_.RunAfter(notebooks_.idle_check_interval_ms, [next] { (*next)(); });
  };
  // The first run holds the only strong reference; each run hands it to the next.
  executor_.RunAfter(notebooks_.idle_check_interval_ms, [tick] { (*tick)(); });
}

}  // namespace gpuaas
