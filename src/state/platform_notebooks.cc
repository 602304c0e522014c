// Notebooks (kind=notebook): the Jupyter command and env of a workload, the port and token
// given per allocation, the lookup behind the /notebooks/{id}/ proxy, and the idle reclaim
// decision (the proxy reads the notebook's kernels; this file decides). docs/notebooks.md.
// Runs on the Platform's executor like the rest of Platform.
#include <unistd.h>

#include <algorithm>

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

}  // namespace

void Platform::NotebookWorkload(const Job& j, const Allocation& a, Assignment& w) {
  int& port = notebook_ports_[a.id];
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
  std::string& token = notebook_tokens_[j.id];
  if (token.empty()) {
    auto t = NewApiToken();
    token = t.ok() ? t->substr(4) : std::to_string(j.id) + "-" + std::to_string(clock_.Now());
  }
  const Entity* e = FindEntityById(j.entity);
  std::string dir = ".";  // the job's work dir
  if (!config_.billing.workspace_root.empty() && e) {
    dir = config_.billing.workspace_root + "/" + e->name;
  }
  const std::string base = "/notebooks/" + std::to_string(j.id) + "/";
  w.command = {notebooks_.jupyter};
  if (::geteuid() == 0) w.command.push_back("--allow-root");
  for (std::string arg : {std::string("--no-browser"), std::string("--ip=127.0.0.1"),
                          "--port=" + std::to_string(port), std::string("--port-retries=0"),
                          "--NotebookApp.base_url=" + base, "--notebook-dir=" + dir}) {
    w.command.push_back(std::move(arg));
  }
  w.env["GPUAAS_NOTEBOOK_PORT"] = std::to_string(port);
  w.env["GPUAAS_NOTEBOOK_URL"] = base;
  // The token goes in the env, not argv: any local user can read a command line (ps), only the
  // owner reads /proc/PID/environ. Jupyter reads JUPYTER_TOKEN as --NotebookApp.token.
  w.env["JUPYTER_TOKEN"] = token;
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
  active = std::max({active, j.started_at, busy ? now : last_activity});
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
  } else if (idle_ms >= timeout - std::min<int64_t>(timeout / 4, 300'000)) {
    std::string warn = "idle: no activity since " + FormatRfc3339(active) + "; stops at " +
                       FormatRfc3339(active + timeout) + " unless a kernel runs";
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
