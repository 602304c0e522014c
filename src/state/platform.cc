#include "state/platform.h"

#include <algorithm>
#include <cstdlib>

#include "auth/token.h"
#include "base/log.h"
#include "state/waiter.h"

namespace gpuaas {

Platform::Platform(const Clock& clock, Executor& executor, Store& store, PlatformConfig config)
    : clock_(clock),
      executor_(executor),
      store_(store),
      config_(std::move(config)),
      prices_(config_.classes) {}

Platform::~Platform() {
  if (tick_timer_ != 0) executor_.Cancel(tick_timer_);
  for (auto& [node, w] : waiters_) executor_.Cancel(w->timer);
}

Result<std::string> Platform::Start() {
  GPUAAS_ASSIGN_OR_RETURN(StoredState st, store_.Load());
  GPUAAS_RETURN_IF_ERROR(secrets_.Load());
  const Millis now = clock_.Now();
  epoch_ = now;
  for (auto& e : st.entities) {
    next_entity_ = std::max(next_entity_, e.id + 1);
    entity_by_name_[e.name] = e.id;
    entities_[e.id] = std::move(e);
  }
  for (auto& u : st.users) {
    next_user_ = std::max(next_user_, u.id + 1);
    user_by_name_[u.name] = u.id;
    users_[u.id] = std::move(u);
  }
  for (auto& g : st.group_mappings) {
    next_group_mapping_ = std::max(next_group_mapping_, g.id + 1);
    group_mappings_[g.id] = std::move(g);
  }
  for (auto& t : st.tokens) {
    next_token_ = std::max(next_token_, t.id + 1);
    token_by_hash_[t.hash_hex] = t;
  }
  for (auto& n : st.nodes) {
    next_node_ = std::max(next_node_, n.id + 1);
    // Every node gets a full heartbeat timeout from now to come back after our restart.
    n.last_heartbeat = now;
    node_by_name_[n.name] = n.id;
    nodes_[n.id] = std::move(n);
  }
  for (auto& j : st.jobs) {
    next_job_ = std::max(next_job_, j.id + 1);
    if (j.state == JobState::kQueued) queued_.insert(j.id);
    jobs_[j.id] = std::move(j);
  }
  for (auto& a : st.allocations) {
    next_alloc_ = std::max(next_alloc_, a.id + 1);
    parts_[a.job].push_back(a.id);  // ids ascend in rank order (a gang's parts are made so)
    allocations_[a.id] = std::move(a);
  }
  ledger_ = std::move(st.usage);
  for (const UsageRecord& r : ledger_) {
    auto& [rx, tx] = net_closed_by_entity_[r.entity];
    rx += r.net_rx_bytes;
    tx += r.net_tx_bytes;
  }
  LoadBilling(st);    // prices, invoices, budgets, events (platform_billing.cc)
  LoadNotebooks(st);  // ports and tokens of open notebooks (platform_notebooks.cc)
  started_ = true;

  std::string admin_token;
  if (users_.empty()) {
    std::vector<Mutation> batch;
    User admin{next_user_++, "admin", 0, Role::kPlatformAdmin, now, false, 0};
    users_[admin.id] = admin;
    user_by_name_[admin.name] = admin.id;
    batch.push_back(admin);
    GPUAAS_ASSIGN_OR_RETURN(UserWithToken ut, NewTokenFor(admin, batch, 0));  // never expires
    admin_token = ut.token;
    Persist(std::move(batch), [] {});
    GPUAAS_RETURN_IF_ERROR(store_.Flush());
  }
  // Periodic work: node liveness and a safety-net scheduling pass.
  ScheduleTick();
  RequestSchedulePass();
  return admin_token;
}

void Platform::ScheduleTick() {
  tick_timer_ = executor_.RunAfter(1000, [this] {
    tick_timer_ = 0;
    CheckNodeTimeouts();
    RequestSchedulePass();
    ScheduleTick();
  });
}

Result<std::string> Platform::IssueAgentToken() {
  GPUAAS_ASSIGN_OR_RETURN(std::string t, NewApiToken());
  agent_token_hash_ = HashToken(t);
  return t;
}

Result<Principal> Platform::Authenticate(std::string_view token) const {
  if (token.empty()) return Unauthenticated("missing bearer token (Authorization: Bearer TOKEN)");
  if (!LooksLikeToken(token)) return Unauthenticated("invalid token");
  std::string h = HashToken(token);
  if (!agent_token_hash_.empty() && h == agent_token_hash_) {
    Principal p;
    p.name = "embedded-agent";
    p.agent = true;
    return p;
  }
  auto it = token_by_hash_.find(h);
  if (it == token_by_hash_.end()) return Unauthenticated("invalid token");
  if (it->second.expires_at != 0 && clock_.Now() >= it->second.expires_at) {
    return Unauthenticated("token expired at " + FormatRfc3339(it->second.expires_at) +
                           ": ask for a new one");
  }
  auto u = users_.find(it->second.user);
  if (u == users_.end()) return Unauthenticated("invalid token");
  if (u->second.disabled_at != 0) {
    return Unauthenticated("user '" + u->second.name + "' is disabled since " +
                           FormatRfc3339(u->second.disabled_at) +
                           ": ask an administrator of your entity");
  }
  return Principal{u->second.id, u->second.name, u->second.entity, u->second.role, false};
}

Result<UserWithToken> Platform::NewTokenFor(const User& user, std::vector<Mutation>& batch,
                                            Millis expires_at, bool session) {
  GPUAAS_ASSIGN_OR_RETURN(std::string secret, NewApiToken());
  ApiToken t{next_token_++, user.id, HashToken(secret), clock_.Now(), expires_at, session};
  token_by_hash_[t.hash_hex] = t;
  batch.push_back(t);
  return UserWithToken{user, secret, t.id, expires_at};
}

Result<Millis> Platform::TokenExpiry(std::optional<int64_t> expires_in_s) const {
  const int64_t max_ms = config_.token_max_lifetime_ms;
  if (!expires_in_s) return max_ms > 0 ? clock_.Now() + max_ms : 0;
  constexpr int64_t kTenYears = 10LL * 366 * 86400;
  if (*expires_in_s <= 0 || *expires_in_s > kTenYears) {
    return InvalidArgument("expires_in_s must be between 1 and " + std::to_string(kTenYears) +
                           " seconds");
  }
  if (max_ms > 0 && *expires_in_s * 1000 > max_ms) {
    return FailedPrecondition("a token may live at most " + std::to_string(max_ms / 1000) +
                              " s on this platform ([auth] token_max_lifetime)");
  }
  return clock_.Now() + *expires_in_s * 1000;
}

void Platform::Persist(std::vector<Mutation> batch, std::function<void()> then) {
  const int64_t seq = next_seq_++;
  store_.Commit(std::move(batch), [this, seq, then = std::move(then)](Status s) mutable {
    if (!s.ok()) {
      // Memory is ahead of disk: stop rather than serve state that a restart would forget.
      GLOG_ERROR("store commit failed, exiting so that a restart reloads committed state: {}",
                 s.ToString());
      std::_Exit(70);
    }
    executor_.Post([this, seq, then = std::move(then)] {
      committed_seq_ = std::max(committed_seq_, seq);
      start_trace_.Committed(committed_seq_);
      then();
    });
  });
}

Platform::Stats Platform::GetStats() const {
  Stats s;
  for (const auto& [id, j] : jobs_) ++s.jobs_by_state[JobStateName(j.state)];
  for (const auto& [id, n] : nodes_) {
    if (n.state == NodeState::kDown)
      ++s.nodes_down;
    else
      ++s.nodes_ready;
    for (const auto& g : n.gpus) ++s.gpus_total[g.gpu_class];
  }
  for (const auto& [id, a] : allocations_) {
    if (a.end == 0) s.gpus_allocated[a.gpu_class] += static_cast<int64_t>(a.devices.size());
  }
  s.schedule_passes = passes_;
  s.placements = placements_;
  return s;
}

}  // namespace gpuaas
