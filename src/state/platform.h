// Platform: the single-writer cluster state of the control plane. It owns the in-memory model
// (entities, users, tokens, nodes, jobs, allocations, the usage ledger), applies requests and
// agent reports, runs scheduling passes (sched/, a pure function over a snapshot), and persists
// every change through the Store before acknowledging it.
//
// Thread-safety: NOT thread-safe. Every method must run on the Executor given at construction
// (the server's event loop): that thread is the single writer. Callbacks (`done`) also run there.
// Durability: a mutation changes memory at once and calls `done` only after its batch is
// committed; placements are told to agents only once committed. A failed commit is fatal (the
// process exits and a restart reloads the last committed state): memory never runs ahead of
// disk silently (docs/adr/0002).
#pragma once

#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <tuple>
#include <vector>

#include "auth/principal.h"
#include "base/clock.h"
#include "base/executor.h"
#include "base/status.h"
#include "billing/invoice.h"
#include "billing/price_book.h"
#include "billing/usage.h"
#include "model/allocation.h"
#include "model/directory_group.h"
#include "model/entity.h"
#include "model/job.h"
#include "model/node.h"
#include "model/user.h"
#include "sched/fair_share_standing.h"
#include "sched/policy.h"
#include "sched/snapshot.h"
#include "sched/wait_fairness.h"
#include "state/config.h"
#include "state/requests.h"
#include "state/secret_store.h"
#include "state/start_trace.h"
#include "store/store.h"
#include "telemetry/network_rates.h"
#include "telemetry/telemetry_store.h"

namespace gpuaas {

class Platform {
 public:
  template <typename T>
  using Done = std::function<void(Result<T>)>;

  Platform(const Clock& clock, Executor& executor, Store& store, PlatformConfig config);
  ~Platform();

  // Loads the stored state; creates the platform admin on first start and returns its token
  // (empty on later starts). Reconciles: nodes get a fresh heartbeat deadline.
  Result<std::string> Start();
  // An in-memory token for the embedded agent (valid until the process exits).
  Result<std::string> IssueAgentToken();
  bool ready() const { return started_; }
  // Answers every held long poll now and every later one at once (the server is stopping).
  void Shutdown();
  Millis Now() const { return clock_.Now(); }

  // --- identity
  Result<Principal> Authenticate(std::string_view bearer_token) const;

  // --- entities and users
  void CreateEntity(const Principal& p, const EntityRequest& req, Done<Entity> done);
  void UpdateEntity(const Principal& p, const std::string& name, const EntityUpdate& update,
                    Done<Entity> done);
  Result<Entity> GetEntity(const Principal& p, const std::string& name) const;
  std::vector<Entity> ListEntities(const Principal& p) const;
  const Entity* FindEntityById(EntityId id) const;
  void CreateUser(const Principal& p, const UserRequest& req, Done<UserWithToken> done);
  // A new token for the user, expiring `expires_in_s` from now (none: at the platform's
  // maximum lifetime, or never without one; above that maximum: 422).
  void CreateToken(const Principal& p, const std::string& user_name,
                   std::optional<int64_t> expires_in_s, Done<UserWithToken> done);
  // A token for a person whom the company's identity provider has just signed in (single
  // sign-on, api/routes_sso.cc; platform_directory.cc): no principal. A user made by an
  // administrator signs in as it is, whatever its groups; otherwise the directory group
  // mappings decide (docs/adr/0024): an unknown name whose groups map to one entity gets an
  // account there, with the highest role they give, and an account made so gets the role its
  // groups give now, or is refused when they no longer map to its entity. The token expires
  // after `lifetime_s`, or sooner under [auth] token_max_lifetime.
  void IssueSignInToken(const DirectoryIdentity& who, int64_t lifetime_s, Done<UserWithToken> done);
  // Directory group mappings (platform_directory.cc): a platform-admin maps a group to any
  // entity, an entity-admin to its own; members may neither see nor change them. A group maps
  // to one entity; at most kMaxGroupMappings in all (auth/directory_groups.h).
  void CreateGroupMapping(const Principal& p, const GroupMappingRequest& req,
                          Done<GroupMapping> done);
  Result<std::vector<GroupMapping>> ListGroupMappings(const Principal& p) const;
  // Removes one (NotFound when p cannot see it). Accounts it made stay; each is checked against
  // the mappings at its next sign-in.
  void DeleteGroupMapping(const Principal& p, GroupMappingId id, Done<GroupMapping> done);
  // A token for the CLI whose device login `p` approved in the portal (api/routes_device.cc):
  // a session token of p's user, with the same bound on its lifetime. Agents are refused.
  void IssueDeviceToken(const Principal& p, int64_t lifetime_s, Done<UserWithToken> done);
  // Sign-out: revokes `token` if it is a session (made by a single sign-on or a device login;
  // done(true) once durable); any other token is left alone (done(false)): it may serve scripts
  // too.
  void EndSession(const std::string& token, Done<bool> done);
  // Runs `fn` on the executor (from any thread).
  void Post(std::function<void()> fn) { executor_.Post(std::move(fn)); }
  // The user's tokens (ids and creation times; never a secret), oldest first. The user, its
  // entity-admin or a platform admin; another entity's user is not found.
  Result<std::vector<ApiToken>> ListTokens(const Principal& p, const std::string& user_name) const;
  // Revokes one token of the user (`token` set) or all of them; `done` gets how many were
  // revoked, once that is durable. A token revoked is refused from its next request on. The last
  // token of the platform's admins is refused (409): the platform would have no administrator.
  void RevokeTokens(const Principal& p, const std::string& user_name, std::optional<TokenId> token,
                    Done<int64_t> done);
  // Changes a user's role and/or disables or enables it (platform-admin, or an entity-admin for
  // its entity's members and entity-admins). A disabled user's tokens are refused and it cannot
  // sign in; its usage and invoices stay, and its jobs too unless cancel_jobs (then every
  // unfinished job of it is cancelled in the same commit, as by CancelJob). Refused: the role
  // of an account whose role follows directory groups (422), disabling oneself (422),
  // cancel_jobs without disabling (422), leaving the platform without an active platform-admin
  // (409). All or nothing.
  void UpdateUser(const Principal& p, const std::string& name, const UserUpdate& update,
                  Done<UserChanged> done);
  std::vector<User> ListUsers(const Principal& p) const;
  const User* FindUserById(UserId id) const;

  // --- jobs
  void SubmitJob(const Principal& p, const JobRequest& req, Done<Job> done);
  // Where, when and at what cost the job would run if submitted now (changes nothing).
  Result<JobEstimate> Estimate(const Principal& p, const JobRequest& req);
  // How many GPUs of each class a training run needs, for how long, at what cost, and when each
  // option could start and end (the Estimate of a job of that shape; changes nothing).
  Result<SizingResult> Size(const Principal& p, const SizingRequest& req);
  void CancelJob(const Principal& p, JobId id, Done<Job> done);
  Result<Job> GetJob(const Principal& p, JobId id) const;
  // Jobs visible to p, ids > after, ascending; at most `limit`; filters optional.
  std::vector<Job> ListJobs(const Principal& p, std::optional<JobState> state, EntityId entity,
                            JobId after, size_t limit, bool* more) const;
  // Queue facts of a queued job (position, estimate, reason) from the last pass.
  const QueueInfo* GetQueueInfo(JobId id) const;
  // Where each entity visible to p stands in the fair-share order, from the same snapshot the
  // next scheduling pass builds (Slurm's sshare), and the policy those figures follow.
  struct FairShareView {
    sched::Policy policy;  // small_first_rate: the passes' (sched::SmallFirstRate)
    std::vector<sched::FairShareStanding> standings;  // by entity id
  };
  FairShareView FairShare(const Principal& p);
  // Cost so far (final: total) of a job.
  MicroEur JobCost(const Job& job) const;
  bool IsReleasing(const Job& job) const;
  // The parts of a placed job, one allocation per node, in rank order: rank 0 is job.node,
  // job.gpu_ids and job.allocation; a multi-node gang has several (docs/scheduling.md). Empty
  // while queued. Pointers are valid until the next state change.
  std::vector<const Allocation*> PartsOf(const Job& job) const;
  // The job's log file, or "" if none is kept: its rank 0's output; a gang's other parts (rank
  // 1, 2, ...) each have their own file.
  std::string LogPath(JobId id, int rank = 0) const;

  // --- nodes and agents
  std::vector<Node> ListNodes() const;
  // Operator actions on a node (platform-admin): "cordon" (no new jobs), "drain" (no new jobs;
  // running ones finish; the node shows `draining` until empty), "resume" (back to ready).
  void SetNodeMode(const Principal& p, const std::string& node, const std::string& action,
                   Done<Node> done);
  const Node* FindNodeById(NodeId id) const;
  // Which job holds a device now (0 = free).
  JobId DeviceHolder(NodeId node, int index) const;
  // Applies an agent's report; answers with the node's desired workloads once the report is
  // durable, at once (wait_ms == 0) or when the desired set changes, or after wait_ms.
  void Heartbeat(const Principal& p, const NodeReport& report, int64_t wait_ms,
                 Done<DesiredWorkloads> done);

  // --- telemetry (GPU samples from the heartbeats; aggregates per allocation)
  const TelemetryStore& telemetry() const { return telemetry_; }
  // Each node's network counters and rates, from its heartbeats (not kept over a restart).
  const NetworkRates& network() const { return network_; }
  // The job's GPU telemetry (average utilisation, peak memory, energy, idle time) and, for a
  // container job, its network traffic, while it holds devices and after (bounded memory);
  // nullopt when none was sampled. A multi-node gang's covers every part (sums; the peak memory
  // is the highest of any device).
  std::optional<JobTelemetry> JobTelemetryOf(const Job& job) const;
  // Bytes received and sent by each entity's container jobs: the usage ledger's (kept) plus the
  // open allocations' counters; a counter for /metrics (gpuaas_entity_network_*_bytes_total).
  std::map<EntityId, std::pair<int64_t, int64_t>> EntityNetwork() const;

  // --- usage
  Result<std::vector<EntityUsage>> Usage(const Principal& p, EntityId entity, Millis from,
                                         Millis to) const;
  const PriceBook& prices() const { return prices_; }
  const PlatformConfig& config() const { return config_; }

  // --- billing (platform_billing.cc; docs/billing.md)
  // Adds a price to the book (platform-admin). effective_from 0 = now; never in the past, so
  // that no billed unit changes price. 422 for an unknown class or priority class.
  void AddPrice(const Principal& p, PriceChange change, Done<PriceChange> done);
  // The book: every entry (the configured rates first, as entries of id 0).
  std::vector<PriceChange> ListPrices() const;
  // An entity's invoice for "YYYY-MM": the frozen one if closed, else computed live.
  Result<Invoice> GetInvoice(const Principal& p, const std::string& entity,
                             const std::string& month) const;
  // Freezes a month that is over (platform-admin). Idempotent: closing a closed month answers
  // the invoice as closed the first time. One committed batch (crash-safe).
  void CloseInvoice(const Principal& p, const std::string& entity, const std::string& month,
                    Done<Invoice> done);
  // A correction of a closed month (platform-admin): credits `amount` (> 0) to the entity.
  void CreateCreditNote(const Principal& p, const std::string& entity, const std::string& month,
                        MicroEur amount, const std::string& reason, Done<CreditNote> done);
  std::vector<CreditNote> CreditNotesOf(EntityId entity, const std::string& month) const;
  // Budgets (platform-admin sets; the entity reads its own). monthly 0 removes the budget.
  void SetBudget(const Principal& p, const std::string& entity, MicroEur monthly,
                 BudgetPolicy policy, Done<Budget> done);
  struct BudgetView {
    Budget budget;  // monthly 0 = none
    std::string month;
    MicroEur spent = 0;  // month to date, open allocations up to now
  };
  Result<BudgetView> GetBudget(const Principal& p, const std::string& entity) const;
  // Billing events (budget alerts, closes, credit notes) visible to p; entity "" = all visible.
  Result<std::vector<BillingEvent>> ListBillingEvents(const Principal& p,
                                                      const std::string& entity) const;
  // Whether a job may be submitted for `entity` now: the budget policy once the month's budget
  // is spent, and the workspace quota for jobs that write. OK or FailedPrecondition (422).
  Status CheckBillingAdmission(const JobRequest& req, EntityId entity) const;
  // Walltime x the rates in force (placed: its class from its start; queued: the dearest
  // acceptable class from now).
  MicroEur EstimatedJobCost(const Job& job) const;
  // Month-to-date bill of an entity (compute + energy charge).
  MicroEur MonthToDate(EntityId entity) const;
  // Appends the budget alerts newly reached this month (persisted). Runs on a timer too.
  void CheckBudgets();
  // Prometheus lines: budget, spending and storage gauges per entity.
  std::string BillingMetricsText() const;
  // Storage: quota (default from config) and the last measured usage of an entity workspace.
  struct StorageView {
    std::string entity;
    int64_t quota_bytes = 0;
    int64_t used_bytes = 0;
    bool measured = false;
    bool truncated = false;
    Millis measured_at = 0;
    std::string path;  // the workspace directory ("" = none configured)
  };
  Result<StorageView> GetStorage(const Principal& p, const std::string& entity) const;
  void SetStorageQuota(const Principal& p, const std::string& entity, int64_t quota_bytes,
                       Done<StorageView> done);
  // Measures an entity's workspace now (bounded du) and remembers it.
  Result<StorageView> MeasureStorage(const Principal& p, const std::string& entity);

  // --- environments, workspaces, secrets (platform_runtime.cc; docs/agent.md)
  std::vector<Environment> ListEnvironments() const;  // by name
  // An entity's workspace directory (workspace_root/<entity name>; "" when no root is set).
  std::string WorkspacePath(EntityId entity) const;
  // Entity secrets (platform-admin, or an entity-admin of the entity). Values are write-only:
  // listings give names, sizes and times. Kept at config.secrets_path (mode 0600).
  Result<SecretInfo> PutSecret(const Principal& p, const std::string& entity,
                               const std::string& name, const std::string& value);
  Result<std::vector<SecretInfo>> ListSecrets(const Principal& p, const std::string& entity) const;
  Status DeleteSecret(const Principal& p, const std::string& entity, const std::string& name);

  // --- notebooks (platform_notebooks.cc; docs/notebooks.md)
  using NotebookConfig = gpuaas::NotebookConfig;  // state/config.h; starts as config().notebooks
  void ConfigureNotebooks(const NotebookConfig& c) { notebooks_ = c; }
  const NotebookConfig& notebook_config() const { return notebooks_; }
  // Where a running notebook listens, and the token it wants.
  struct NotebookTarget {
    JobId job = 0;
    std::string host = "127.0.0.1";  // embedded agents only for now
    int port = 0;
    std::string token;
  };
  // The notebook behind /notebooks/{id}/ for p: NotFound like GetJob (another entity, not a
  // notebook), Conflict (409) while it is not running.
  Result<NotebookTarget> NotebookFor(const Principal& p, JobId id) const;
  // Every running notebook (for the idle check).
  std::vector<NotebookTarget> RunningNotebooks() const;
  // The idle check's reading of a notebook: the last kernel activity (0 = none seen) and
  // whether a kernel is busy. Activity is the newest of those and of the last GPU sample of
  // the job above idle_util_pct. Warns in the job's reason, then stops it (state cancelled,
  // reason "idle: no activity for ..."); its GPUs are released as for a cancel.
  void ReportNotebookActivity(JobId id, Millis last_activity, bool busy);
  // Same, from any thread (posted to the executor).
  void PostNotebookActivity(JobId id, Millis last_activity, bool busy);
  // Every idle_check_interval_ms, calls probe(RunningNotebooks()) on the executor; the probe
  // answers through PostNotebookActivity. The timer stops when the Platform dies.
  void StartNotebookIdleCheck(std::function<void(std::vector<NotebookTarget>)> probe);

  // --- metrics
  struct Stats {
    std::map<std::string, int64_t> jobs_by_state;
    std::map<std::string, int64_t> gpus_total, gpus_allocated;  // by class
    int64_t nodes_ready = 0, nodes_down = 0;
    int64_t schedule_passes = 0, placements = 0;
  };
  Stats GetStats() const;
  // Submission-to-running times by stage (histograms for /metrics; state/start_trace.h).
  const StartTrace& start_trace() const { return start_trace_; }

 private:
  struct Waiter;

  // Persist `batch` (in order with earlier ones), then run `then` on the executor.
  void Persist(std::vector<Mutation> batch, std::function<void()> then);
  void RequestSchedulePass();
  // The scheduler's view of the state now, and the policy the server runs.
  sched::Snapshot BuildSnapshot(Millis now);
  sched::Policy ServerPolicy() const;
  void ScheduleTick();
  void RunSchedulePass();
  void CheckNodeTimeouts();
  void FinishAllocation(Allocation& alloc, Millis end, std::vector<Mutation>& batch);
  // Stops a running job for another (reason in words); resubmits it if it asked to.
  void PreemptJob(Job& job, const std::string& reason, std::vector<Mutation>& batch);
  // Queues a copy of `job` (resubmitted_from = job.id) with this reason; returns its id.
  JobId ResubmitJob(const Job& job, const std::string& reason, std::vector<Mutation>& batch);
  void FinalizeJob(Job& job, JobState state, Millis when, const std::string& reason,
                   std::optional<int> exit_code, std::vector<Mutation>& batch);
  // Cancels an unfinished job into `batch`: a queued one is final at once; a started one's
  // processes are stopped (SIGTERM, then SIGKILL) and its GPUs stay held until its agent
  // confirms. Adds the nodes to wake (every part of a gang) to `nodes`.
  void CancelInto(Job& job, const std::string& reason, std::vector<Mutation>& batch,
                  std::set<NodeId>& nodes);
  // Returns true when the report ended an allocation (GPUs freed).
  bool ApplyWorkloadReport(Node& node, const WorkloadReport& w, std::vector<Mutation>& batch,
                           std::set<AllocationId>& reported);
  void AppendLogs(NodeId node, const NodeReport& report);
  // Telemetry of a report, then its health verdicts: a job holding a device the agent reports
  // unhealthy is failed (its agent then stops it). Returns true if a job was failed.
  bool ApplyTelemetry(Node& node, const NodeReport& report, std::vector<Mutation>& batch);
  Status CheckReport(const NodeReport& report) const;
  DesiredWorkloads DesiredFor(NodeId node);
  void WakeNode(NodeId node);
  void AnswerWaiter(NodeId node);
  Status CheckJobRequest(const JobRequest& req, EntityId entity) const;
  Result<UserWithToken> NewTokenFor(const User& user, std::vector<Mutation>& batch,
                                    Millis expires_at, bool session = false);
  // A session token of `u` for `lifetime_s` (bounded by [auth] token_max_lifetime), added to
  // `batch`; then persisted, `how` being what the log line says the user did.
  Result<UserWithToken> SessionTokenFor(const User& u, int64_t lifetime_s,
                                        std::vector<Mutation>& batch);
  void IssueSessionToken(const User& u, int64_t lifetime_s, const char* how,
                         Done<UserWithToken> done);
  // When a token asked now with `expires_in_s` (none: the platform's maximum) expires; 0 = never.
  Result<Millis> TokenExpiry(std::optional<int64_t> expires_in_s) const;
  bool Visible(const Principal& p, EntityId entity) const { return CanSeeEntity(p, entity); }
  Status MayManageTokens(const Principal& p, const User& u) const;
  // Appends to the reasons of waiting jobs with others ahead of them what fair share does to
  // their entity (delayed for its recent use, or first for its waits), from the pass's snapshot.
  void ExplainFairShare(const sched::Snapshot& snap, const sched::Plan& plan);
  // The entity an estimate is for: the named one if p may see it, else p's own.
  Result<EntityId> EstimateEntity(const Principal& p, const std::string& name) const;

  const Clock& clock_;
  Executor& executor_;
  Store& store_;
  PlatformConfig config_;
  PriceBook prices_;
  bool started_ = false;
  bool stopping_ = false;

  std::map<EntityId, Entity> entities_;
  std::map<std::string, EntityId> entity_by_name_;
  std::map<UserId, User> users_;
  std::map<std::string, UserId> user_by_name_;
  std::map<std::string, ApiToken> token_by_hash_;
  std::string agent_token_hash_;
  std::map<NodeId, Node> nodes_;
  std::map<std::string, NodeId> node_by_name_;
  std::map<JobId, Job> jobs_;
  std::set<JobId> queued_;
  std::map<AllocationId, Allocation> allocations_;  // open ones, and closed ones not yet pruned
  std::vector<UsageRecord> ledger_;
  TelemetryStore telemetry_;
  NetworkRates network_;
  // The ledger's network bytes (rx, tx) by entity, kept as records are appended.
  std::map<EntityId, std::pair<int64_t, int64_t>> net_closed_by_entity_;
  std::map<JobId, QueueInfo> queue_info_;
  std::map<std::pair<JobId, int>, size_t> log_sizes_;  // by (job, rank)

  int64_t next_entity_ = 1, next_user_ = 1, next_token_ = 1, next_node_ = 1, next_job_ = 1,
          next_alloc_ = 1;
  std::map<GroupMappingId, GroupMapping> group_mappings_;  // platform_directory.cc
  int64_t next_group_mapping_ = 1;

  // Commit sequencing: a batch gets a sequence number; placements become visible to agents
  // once committed_seq_ reaches theirs.
  int64_t next_seq_ = 1;
  int64_t committed_seq_ = 0;
  std::map<AllocationId, int64_t> alloc_seq_;

  std::map<NodeId, std::unique_ptr<Waiter>> waiters_;
  std::set<NodeId> node_dirty_;  // desired set changed while no long poll was held
  StartTrace start_trace_;       // submission-to-running steps of the jobs not running yet
  // Allocations an agent has reported at least once (so their absence later means "lost").
  std::set<AllocationId> agent_known_;
  // Multi-node gangs: every job's allocations in rank order (one per node; a single-node job
  // has one), and the parts an agent has reported running (the job runs once all have).
  std::map<JobId, std::vector<AllocationId>> parts_;
  std::set<AllocationId> part_running_;
  // Open parts of a job other than `except`; a part's rank (its position in parts_, 0 if none).
  bool OtherPartsOpen(const Job& job, AllocationId except) const;
  int RankOf(const Job& job, AllocationId part) const;
  // Nodes holding open parts of the gangs a batch ends (final jobs with several parts), except
  // `except`: they must be told at once to stop their parts.
  std::set<NodeId> GangNodesToStop(const std::vector<Mutation>& batch, NodeId except) const;
  // Devices an agent reports busy with workloads we no longer hold (being stopped): never
  // given to anyone until the agent stops reporting them.
  std::map<NodeId, std::set<int>> foreign_busy_;
  bool pass_pending_ = false;
  Millis last_pass_ = 0;
  int64_t last_pass_ms_ = 0;                   // how long the last pass took
  Millis decayed_at_ = 0;                      // when decayed_closed_ was computed
  std::map<EntityId, double> decayed_closed_;  // fair-share usage of the closed ledger
  // The started jobs' waits per entity, weighted by age as of decayed_at_ (refreshed with
  // decayed_closed_; sched::Policy::fair_share_wait_ratio).
  std::map<EntityId, sched::WaitTally> started_waits_;
  // The same with sched::Policy::fair_share_wait_rank_half_life_s (the rank of the late).
  std::map<EntityId, sched::WaitTally> rank_waits_;
  uint64_t tick_timer_ = 0;
  int64_t passes_ = 0, placements_ = 0;
  Millis epoch_ = 0;            // this run's start time
  int64_t answer_version_ = 0;  // increases with every desired-set answer

  // --- billing (platform_billing.cc)
  void LoadBilling(const StoredState& st);  // from Start(); starts the billing timers
  void BillingTick();
  void MeasureAllStorage();
  JobBillingFacts FactsOf(JobId job) const;
  Invoice LiveInvoice(EntityId entity, const std::string& month, Millis from, Millis to) const;
  // What an allocation's devices measured (its telemetry) as billing counts it.
  static Measured MeasuredOf(const JobTelemetry& t);
  // The measurements so far of the open allocations among `open`.
  MeasuredSoFar OpenMeasured(const std::vector<Allocation>& open) const;
  void AddBillingEvent(EntityId entity, const std::string& month, const std::string& kind,
                       const std::string& message, std::vector<Mutation>& batch);
  std::map<std::pair<EntityId, std::string>, ClosedInvoice> closed_invoices_;
  std::vector<CreditNote> credit_notes_;
  std::map<EntityId, Budget> budgets_;
  std::vector<BillingEvent> billing_events_;
  std::set<std::tuple<EntityId, std::string, std::string>> alerted_;  // (entity, month, kind)
  std::map<EntityId, int64_t> storage_quota_;
  std::map<EntityId, StorageView> storage_used_;
  int64_t next_price_ = 1, next_billing_event_ = 1, next_credit_note_ = 1;
  Millis last_storage_check_ = 0;
  // Timers of the billing section hold a weak reference: they stop when the Platform dies.
  std::shared_ptr<int> billing_alive_ = std::make_shared<int>(0);

  // --- environments, workspaces, secrets (platform_runtime.cc)
  // Submit checks: a known environment, a workspace mode, secrets that exist. 422 otherwise.
  Status CheckJobRuntime(const JobRequest& req, EntityId entity) const;
  // Fills the image, workspace and secrets of a job's workload.
  void RuntimeWorkload(const Job& j, Assignment& w) const;
  Result<EntityId> SecretEntity(const Principal& p, const std::string& entity) const;
  SecretStore secrets_{config_.secrets_path, config_.secrets_key_file,
                       config_.secrets_previous_key_file};

  // --- notebooks (platform_notebooks.cc)
  // Fills the command and env of a kind=notebook workload without a command. False while its
  // port and token are not durable yet (the workload waits: a restart must find them).
  bool NotebookWorkload(const Job& j, const Allocation& a, Assignment& w);
  NotebookConfig notebooks_ = config_.notebooks;
  std::map<AllocationId, int> notebook_ports_;
  std::map<JobId, std::string> notebook_tokens_;
  std::map<JobId, Millis> notebook_active_;  // last activity seen by the idle check
  std::map<JobId, int64_t> notebook_seq_;    // port/token batches not committed yet
  // Restores the ports and tokens of open notebooks (MetaKV "notebook/JOB") at Start.
  void LoadNotebooks(const StoredState& st);
  // The newest sample time at which one of the job's GPUs was above idle_util_pct (0: none).
  Millis LastGpuBusy(const Job& j) const;
  std::shared_ptr<int> notebooks_alive_ = std::make_shared<int>(0);
};

}  // namespace gpuaas
