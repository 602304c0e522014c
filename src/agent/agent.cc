#include "agent/agent.h"

#include <algorithm>
#include <chrono>

#include "agent/demo_gpu_source.h"
#include "agent/net_counters.h"
#include "base/log.h"
#include "model/gpu_class.h"
#include "net/http_client.h"

namespace gpuaas {
namespace {

constexpr int kMaxBackoffMs = 5000;
constexpr int kAuthRetryMs = 10'000;
constexpr int kMinPollSpacingMs = 100;  // quick answers without news: a server ignoring wait_ms
constexpr int kLogTickMs = 1000;        // how often pending log bytes are shipped
constexpr size_t kMaxTombstones = 4096;
constexpr int kRequestMarginMs = 5000;  // beyond the long-poll wait, before a request times out
constexpr int kKickTimeoutMs = 2000;

int NextBackoff(int backoff) { return std::min(kMaxBackoffMs, std::max(250, backoff * 2)); }

int64_t MicrosSince(std::chrono::steady_clock::time_point t) {
  return std::chrono::duration_cast<std::chrono::microseconds>(std::chrono::steady_clock::now() - t)
      .count();
}

}  // namespace

Agent::Agent(AgentOptions options, const Clock* clock)
    : options_(std::move(options)),
      clock_(clock ? *clock : system_clock_),
      source_(options_.gpu_source),
      inventory_(options_.gpus),
      samples_(options_.max_buffered_samples) {
  if (!source_ && options_.simulated) {
    source_ = std::make_shared<DemoGpuSource>(options_.gpus, DefaultGpuClasses());
  }
  if (options_.gpu_source) inventory_ = options_.gpu_source->Inventory();
}

Agent::~Agent() { Stop(); }

Status Agent::Start() {
  if (options_.server_url.empty()) return InvalidArgument("agent: no server URL");
  if (options_.node_name.empty()) return InvalidArgument("agent: no node name");
  if (options_.state_dir.empty()) return InvalidArgument("agent: no state dir");
  if (sup_) return FailedPrecondition("agent: already started");
  if (!options_.net_interfaces.empty() && !options_.net_dev_path.empty()) {
    auto net = ReadNetCounters(options_.net_dev_path, options_.net_interfaces);
    if (!net.ok()) return InvalidArgument("agent: --net-interfaces: " + net.status().message());
  }
  SupervisorOptions so;
  so.state_dir = options_.state_dir;
  so.log_cap_bytes = options_.log_cap_bytes;
  so.cgroups = options_.cgroups;
  so.on_final = [this] { RequestReport(); };
  so.podman = options_.podman;
  so.run_as_user = options_.run_as_user;
  sup_ = std::make_unique<Supervisor>(so, clock_);
  GPUAAS_RETURN_IF_ERROR(sup_->Open());
  poll_client_ = MakeClient();
  report_client_ = MakeClient();
  {
    std::lock_guard lock(wake_mu_);
    stopping_ = false;
    poll_done_ = false;
    report_requested_ = true;  // the first report goes at once, with the logs
  }
  poll_thread_ = std::thread([this] { PollLoop(); });
  report_thread_ = std::thread([this] { ReportLoop(); });
  if (source_ && options_.sample_interval_ms > 0) {
    sample_thread_ = std::thread([this] { SampleLoop(); });
  }
  GLOG_INFO("agent {}: {} GPU(s){}, reporting to {}", options_.node_name, inventory_.size(),
            Simulated() ? " (simulated)" : "", options_.server_url);
  return Status::Ok();
}

std::unique_ptr<net::HttpClient> Agent::MakeClient() const {
  auto client = std::make_unique<net::HttpClient>(options_.server_url);
  if (!options_.ca_file.empty()) client->set_ca_file(options_.ca_file);
  if (!options_.pinned_cert_file.empty()) client->set_pinned_cert_file(options_.pinned_cert_file);
  return client;
}

void Agent::Stop() {
  {
    std::lock_guard lock(wake_mu_);
    stopping_ = true;
  }
  wake_cv_.notify_all();
  if (poll_thread_.joinable()) {
    // The server answers a held long poll as soon as the same node sends another heartbeat:
    // quick reports free the poll thread instead of waiting out wait_ms. Repeated, because a
    // long poll sent just before stopping_ was seen may reach the server after a kick.
    std::unique_ptr<net::HttpClient> kick = MakeClient();
    std::unique_lock lock(wake_mu_);
    while (!poll_done_) {
      lock.unlock();
      (void)Post(*kick, BuildReport(/*with_logs=*/false), 0, kKickTimeoutMs);
      lock.lock();
      wake_cv_.wait_for(lock, std::chrono::milliseconds(200), [this] { return poll_done_; });
    }
  }
  if (poll_thread_.joinable()) poll_thread_.join();
  if (report_thread_.joinable()) report_thread_.join();
  if (sample_thread_.joinable()) sample_thread_.join();
  if (sup_) sup_->Close();
}

void Agent::StopAllWorkloads() {
  if (!sup_) return;
  sup_->StopAll();
  // Bounded: every stop ends in SIGKILL after its grace; the poll loop (or we) enforce it.
  const auto give_up = std::chrono::steady_clock::now() + std::chrono::minutes(5);
  while (std::chrono::steady_clock::now() < give_up) {
    sup_->PollOnce();
    const auto list = sup_->List();
    if (std::all_of(list.begin(), list.end(), [](const auto& w) { return w.final(); })) return;
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  GLOG_WARN("agent {}: some workloads did not stop", options_.node_name);
}

std::vector<WorkloadStatus> Agent::Workloads() const {
  return sup_ ? sup_->List() : std::vector<WorkloadStatus>{};
}

std::vector<GpuDevice> Agent::Inventory() const {
  std::lock_guard lock(mu_);
  return inventory_;
}

size_t Agent::BufferedSamples() const {
  std::lock_guard lock(mu_);
  return samples_.size();
}

void Agent::SampleOnce() {
  if (!source_) return;
  std::set<int> busy;
  const auto list = sup_ ? sup_->List() : std::vector<WorkloadStatus>{};
  {
    std::lock_guard lock(mu_);
    for (const auto& w : list) {
      if (w.final()) continue;
      if (auto it = gpu_ids_.find(w.allocation); it != gpu_ids_.end()) {
        busy.insert(it->second.begin(), it->second.end());
      }
    }
  }
  const std::vector<GpuReading> readings = source_->Sample(clock_.Now(), busy);
  bool health_changed = false;
  {
    std::lock_guard lock(mu_);
    for (const GpuReading& r : readings) {
      if (r.valid) samples_.Add(r.sample);
      if (r.problem.empty()) continue;
      for (GpuDevice& d : inventory_) {
        if (d.index != r.sample.index || d.state == DeviceState::kUnhealthy) continue;
        d.state = DeviceState::kUnhealthy;
        d.health_reason = r.problem;
        health_changed = true;
        GLOG_ERROR("agent {}: GPU {} ({}) is unhealthy: {}", options_.node_name, d.index, d.uuid,
                   r.problem);
      }
    }
  }
  (void)health_changed;  // either way the report thread sends the new samples now
  RequestReport();
}

void Agent::SampleLoop() {
  for (;;) {
    SampleOnce();
    if (!SleepFor(options_.sample_interval_ms)) return;
  }
}

LogShipper::ReadFn Agent::Reader() const {
  return
      [this](AllocationId a, int64_t offset, int64_t max) { return sup_->ReadLog(a, offset, max); };
}

void Agent::RequestReport() {
  {
    std::lock_guard lock(wake_mu_);
    report_requested_ = true;
  }
  wake_cv_.notify_all();
}

bool Agent::SleepFor(int ms) {
  std::unique_lock lock(wake_mu_);
  wake_cv_.wait_for(lock, std::chrono::milliseconds(std::max(0, ms)), [this] { return stopping_; });
  return !stopping_;
}

bool Agent::PendingLogs(bool final_only) {
  const auto list = sup_->List();
  std::lock_guard lock(mu_);
  for (const auto& w : list) {
    if (final_only && !w.final()) continue;
    if (!shipper_.Drained(w.allocation, Reader())) return true;
  }
  return false;
}

HeartbeatReport Agent::BuildReport(bool with_logs, uint64_t* samples_end) {
  HeartbeatReport report;
  report.node = options_.node_name;
  report.simulated = Simulated();
  report.labels = options_.labels;
  report.workloads = sup_->List();
  // A running container's own counters are real even on a node with simulated GPUs.
  const auto nets = sup_->ContainerNetwork();
  for (WorkloadStatus& w : report.workloads) {
    if (auto it = nets.find(w.allocation); it != nets.end() && !w.final()) w.net = it->second;
  }
  if (!report.simulated && !options_.net_dev_path.empty()) {
    if (auto net = ReadNetCounters(options_.net_dev_path, options_.net_interfaces); net.ok()) {
      report.net = NetReading{clock_.Now(), net->rx_bytes, net->tx_bytes};
    } else if (!net_warned_.exchange(true)) {
      GLOG_WARN("agent: no network counters: {}", net.status().message());
    }
  }
  std::lock_guard lock(mu_);
  report.gpus = inventory_;
  if (with_logs) {
    report.logs = shipper_.Collect(report.workloads, Reader());
    uint64_t end = 0;
    report.samples = samples_.Peek(options_.max_samples_per_report, &end);
    if (samples_end) *samples_end = end;
  }
  // A final state goes to the server only together with the end of its log (so that the job's
  // log is complete once the server sees it finish): until then it is reported as running.
  for (WorkloadStatus& w : report.workloads) {
    if (!w.final() || reported_final_.count(w.allocation)) continue;
    bool log_complete = false;
    if (with_logs) {
      int64_t end = shipper_.Offset(w.allocation);
      for (const auto& c : report.logs) {
        if (c.allocation == w.allocation) end = c.offset + static_cast<int64_t>(c.data.size());
      }
      auto more = sup_->ReadLog(w.allocation, end, 1);
      log_complete = !more.ok() || more->empty();
    }
    if (!log_complete) {
      WorkloadStatus running;
      running.job = w.job;
      running.allocation = w.allocation;
      running.started_at = w.started_at;
      w = running;
    }
  }
  return report;
}

Result<net::HttpResponse> Agent::Post(net::HttpClient& client, const HeartbeatReport& report,
                                      int wait_ms, int timeout_ms) {
  return client.Request("POST", "/api/v1/agent/heartbeat?wait_ms=" + std::to_string(wait_ms),
                        HeartbeatReportToJson(report),
                        {{"Authorization", "Bearer " + options_.token}}, timeout_ms);
}

Agent::Outcome Agent::Exchange(net::HttpClient& client, int wait_ms, bool with_logs,
                               std::vector<int64_t>* answer_key) {
  uint64_t samples_end = 0;
  const auto sent = std::chrono::steady_clock::now();
  const HeartbeatReport report = BuildReport(with_logs, &samples_end);
  auto res = Post(client, report, wait_ms, wait_ms + kRequestMarginMs);
  GLOG_DEBUG("agent {}: heartbeat (wait_ms={}, {} workload(s)) answered after {} us",
             options_.node_name, wait_ms, report.workloads.size(), MicrosSince(sent));
  if (!res.ok()) {
    if (!outage_.exchange(true)) {
      GLOG_WARN("agent {}: server {} unreachable ({}); workloads keep running, retrying",
                options_.node_name, options_.server_url, res.status().message());
    }
    return Outcome::kUnreachable;
  }
  if (res->status == 401 || res->status == 403) {
    if (!auth_failed_.exchange(true)) {
      GLOG_ERROR(
          "agent {}: the server refused the agent's token (HTTP {}): check --token; "
          "retrying every {} s",
          options_.node_name, res->status, kAuthRetryMs / 1000);
    }
    return Outcome::kAuth;
  }
  if (res->status != 200) {
    if (!outage_.exchange(true)) {
      GLOG_WARN("agent {}: heartbeat answered HTTP {}: {}", options_.node_name, res->status,
                res->body.substr(0, 300));
    }
    return res->status >= 500 ? Outcome::kUnreachable : Outcome::kRejected;
  }
  auto answer = ParseHeartbeatAnswer(res->body);
  if (!answer.ok()) {
    GLOG_WARN("agent {}: {}", options_.node_name, answer.status().message());
    return Outcome::kRejected;
  }
  if (outage_.exchange(false) || auth_failed_.exchange(false)) {
    GLOG_INFO("agent {}: server {} reachable again", options_.node_name, options_.server_url);
  }
  {
    std::lock_guard lock(mu_);
    shipper_.Acknowledge(report.logs);
    if (with_logs) samples_.Acknowledge(samples_end);
    for (const auto& w : report.workloads) {
      if (w.final()) reported_final_.insert(w.allocation);
    }
    interval_ms_ = answer->heartbeat_interval_ms;
  }
  if (answer_key) {
    answer_key->clear();
    for (const auto& d : answer->workloads) answer_key->push_back(d.spec.allocation);
    answer_key->push_back(0);  // then the stopping ones
    for (const auto& [id, grace] : answer->stopping) answer_key->push_back(id);
  }
  Converge(*answer);
  return Outcome::kOk;
}

void Agent::Converge(const HeartbeatAnswer& answer) {
  std::lock_guard converge(converge_mu_);
  if (answer.epoch != 0) {
    // A stale answer (computed before one we applied) would stop a job the server just placed.
    if (answer.epoch == applied_epoch_ && answer.version <= applied_version_) return;
    if (answer.epoch < applied_epoch_) return;
    applied_epoch_ = answer.epoch;
    applied_version_ = answer.version;
  }
  std::set<AllocationId> desired;
  bool changed = false;
  for (const auto& d : answer.workloads) {
    const AllocationId id = d.spec.allocation;
    desired.insert(id);
    {
      std::lock_guard lock(mu_);
      gpu_ids_[id] = d.spec.gpu_ids;
    }
    if (sup_->Get(id)) continue;
    {
      std::lock_guard lock(mu_);
      // An answer computed before our last report may still list a workload we already
      // finished and forgot: never run an allocation twice.
      if (tombstones_.count(id)) continue;
    }
    if (d.adopt_only) {
      // The server saw it running, but this node has no trace of it: report it lost.
      if (Status st = sup_->RecordLost(d.spec, "supervisor lost the process"); !st.ok()) {
        std::lock_guard lock(mu_);
        if (warned_lost_.insert(id).second) {
          GLOG_WARN("agent {}: allocation {}: {}", options_.node_name, id, st.message());
        }
      }
      changed = true;
      continue;
    }
    const auto launch = std::chrono::steady_clock::now();
    if (Status st = sup_->Start(d.spec); !st.ok()) {
      GLOG_WARN("agent {}: cannot start allocation {}: {}", options_.node_name, id, st.message());
      continue;
    }
    GLOG_DEBUG("agent {}: allocation {} (job {}) launched in {} us", options_.node_name, id,
               d.spec.job, MicrosSince(launch));
    changed = true;
  }
  for (const auto& w : sup_->List()) {
    if (desired.count(w.allocation)) continue;
    if (!w.final()) {
      // Idempotent; SIGKILL follows after this stop's grace (the spec's unless the answer
      // gives one, e.g. the scheduler's preemption grace).
      auto g = answer.stopping.find(w.allocation);
      sup_->Stop(w.allocation,
                 g == answer.stopping.end() ? std::nullopt : std::optional<int64_t>(g->second));
      continue;
    }
    std::lock_guard lock(mu_);
    if (!reported_final_.count(w.allocation) || !shipper_.Drained(w.allocation, Reader())) {
      continue;
    }
    if (Status st = sup_->Forget(w.allocation); !st.ok()) {
      GLOG_WARN("agent {}: {}", options_.node_name, st.message());
    }
    shipper_.Forget(w.allocation);
    gpu_ids_.erase(w.allocation);
    reported_final_.erase(w.allocation);
    tombstones_.insert(w.allocation);
    tombstone_order_.push_back(w.allocation);
    if (tombstone_order_.size() > kMaxTombstones) {
      tombstones_.erase(tombstone_order_.front());
      tombstone_order_.pop_front();
    }
  }
  if (changed) RequestReport();
}

void Agent::PollLoop() {
  PollUntilStopped();
  {
    std::lock_guard lock(wake_mu_);
    poll_done_ = true;
  }
  wake_cv_.notify_all();
}

void Agent::PollUntilStopped() {
  int backoff = 0;
  std::vector<int64_t> last_key, key;
  for (;;) {
    {
      std::lock_guard lock(wake_mu_);
      if (stopping_) return;
    }
    const auto start = std::chrono::steady_clock::now();
    const Outcome out = Exchange(*poll_client_, options_.wait_ms, /*with_logs=*/false, &key);
    int pause = 0;
    if (out == Outcome::kOk) {
      backoff = 0;
      const auto elapsed = std::chrono::duration_cast<std::chrono::milliseconds>(
                               std::chrono::steady_clock::now() - start)
                               .count();
      // An early answer that changed the desired set is the server's wake-up: ask again at once
      // (the next change may follow). One that changed nothing is spaced out.
      const bool news = key != last_key;
      last_key.swap(key);
      if (!news) pause = static_cast<int>(std::max<int64_t>(0, kMinPollSpacingMs - elapsed));
    } else if (out == Outcome::kAuth) {
      pause = kAuthRetryMs;
    } else {
      backoff = NextBackoff(backoff);
      pause = backoff;
    }
    if (pause > 0 && !SleepFor(pause)) return;
  }
}

void Agent::ReportLoop() {
  int backoff = 0;
  std::unique_lock lock(wake_mu_);
  for (;;) {
    wake_cv_.wait_for(lock, std::chrono::milliseconds(kLogTickMs),
                      [this] { return stopping_ || report_requested_; });
    if (stopping_) return;
    const bool requested = report_requested_;
    report_requested_ = false;
    lock.unlock();
    int pause = 0;
    bool again = false;
    if (requested || PendingLogs(/*final_only=*/false)) {
      const Outcome out = Exchange(*report_client_, 0, /*with_logs=*/true);
      if (out == Outcome::kOk) {
        backoff = 0;
        again = PendingLogs(/*final_only=*/true);  // a finished job's log goes out at once
        // A backlog from an outage goes out report after report.
        again = again || BufferedSamples() >= options_.max_samples_per_report;
      } else {
        backoff = out == Outcome::kAuth ? kAuthRetryMs : NextBackoff(backoff);
        pause = backoff;
        again = true;
      }
    }
    if (pause > 0 && !SleepFor(pause)) return;
    lock.lock();
    if (again) report_requested_ = true;
  }
}

}  // namespace gpuaas
