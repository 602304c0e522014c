// PlatformConfig: the knobs of the control plane, with the defaults a single machine needs.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "billing/billing_config.h"
#include "model/environment.h"
#include "model/gpu_class.h"

namespace gpuaas {

// Notebooks (kind=notebook, docs/notebooks.md; [notebooks] in the config file).
struct NotebookConfig {
  int port_min = 18'000, port_max = 18'999;  // Jupyter ports given per allocation
  int64_t idle_timeout_ms = 3'600'000;      // no kernel activity and GPUs near idle this long: stop
  int64_t idle_check_interval_ms = 60'000;  // how often the proxy reads /api/kernels
  int64_t warning_lead_ms = 0;  // warn this long before the stop (0: a quarter, at most 5 min)
  int idle_util_pct = 5;        // a GPU at or below this utilisation counts as idle
  std::string jupyter = "jupyter-notebook";  // the program started for kind=notebook
};

struct PlatformConfig {
  std::vector<GpuClass> classes = DefaultGpuClasses();
  int64_t heartbeat_interval_ms = 1'000;   // what agents are told
  int64_t heartbeat_timeout_ms = 30'000;   // a node silent this long is down, its jobs lost
  int64_t default_walltime_s = 24 * 3600;  // when a job names none
  int64_t max_walltime_s = 30 * 24 * 3600;
  // The network the nodes share ([network] capacity_gbps), in gigabits per second: /metrics
  // says it (gpuaas_network_capacity_bytes_per_second) beside each node's traffic.
  double network_capacity_gbps = 30;
  NotebookConfig notebooks;
  int64_t grace_ms = 10'000;  // SIGTERM -> SIGKILL (cancel; walltime on the agent)
  // SIGTERM -> SIGKILL of a preempted job (reclaim or priority): sched::Policy's grace, which
  // is also the time within which guarantees are promised ([scheduler] preemption_grace).
  int64_t preemption_grace_s = 300;
  // sched::Policy::small_first_delay_factor and small_first_rate ([scheduler]
  // small_first_delay_factor, small_first_rate): within a tier, smaller requests first, a
  // request counting as submitted factor x its GPU-seconds / the platform's GPUs later, or,
  // with a rate >= 0, each second of waiting worth this many GPU-seconds; 0 = arrival order.
  double small_first_delay_factor = 320;  // as sched::Policy's defaults
  double small_first_rate = -1;
  // The fairness knobs of sched::Policy (docs/scheduling.md), off by default: [scheduler]
  // small_first_cap, fair_share_wait_floor (durations); and faster_class_wait_ratio, as
  // sched::Policy's default (negative = no bound).
  int64_t small_first_cap_s = 0;
  int64_t fair_share_wait_floor_s = 0;
  double faster_class_wait_ratio = 0.01;
  int64_t faster_class_patience_extra_s = 30 * 86400;  // [scheduler] faster_class_patience_extra
  // [scheduler] fair_share_wait_rank_half_life (0 = the whole history)
  int64_t fair_share_wait_rank_half_life_s = 0;
  // sched::Policy::fair_share_wait_ratio ([scheduler] fair_share_wait_ratio; 0 = off): an
  // entity whose average wait is at least this many times the platform's goes first.
  double fair_share_wait_ratio = 1.3;  // as sched::Policy's default
  // sched::Policy::fair_share_wait_horizon_s ([scheduler] fair_share_wait_horizon, a duration;
  // 0 = off): the wait ratio counts each queued job as waiting this much longer.
  int64_t fair_share_wait_horizon_s = 24 * 3600;  // as sched::Policy's default
  // sched::Policy::fair_share_usage_delay_s ([scheduler] fair_share_usage_delay, a duration;
  // 0 = off, the strict order by usage): the most an entity's past usage delays its jobs.
  int64_t fair_share_usage_delay_s = 4 * 3600;  // as sched::Policy's default
  // A job on a GPU that goes bad (lost, ECC, too hot) is failed; with requeue_on_gpu_failure
  // (`[agents] on_gpu_failure = "requeue"`), or when the job asked requeue_on_preempt, a copy
  // of it is queued again (it never lands on the bad GPU: only healthy devices are placed).
  bool requeue_on_gpu_failure = false;
  // A job's host resources when it names none: per GPU it asks for ([limits] in the config).
  int default_cpus_per_gpu = 8;
  int default_memory_gb_per_gpu = 64;
  int64_t schedule_min_interval_ms = 5;  // passes are coalesced at least this far apart
  size_t max_active_jobs = 200'000;      // queued + starting + running: past it submit gets 429
  size_t max_log_bytes = 8 << 20;        // per job, kept by the server
  std::string log_dir;                   // where job logs are kept ("" = none kept)
  BillingConfig billing;                 // prices' granularity, energy, budgets, storage
  // Containers, workspaces, secrets (docs/agent.md): the environment catalogue; where entity
  // secrets are kept ("" = in memory only; the server uses DATA/secrets.json, mode 0600); and
  // the podman runtime of the embedded agents ([runtime] in the config file).
  std::map<std::string, Environment> environments = DefaultEnvironments();
  std::string secrets_path;
  // The key that seals the secrets at rest ("" = secrets_path + ".key"; the server uses
  // DATA/secrets.key, or [secrets] key_file), and the key being rotated out ([secrets]
  // previous_key_file; docs/operations.md).
  std::string secrets_key_file, secrets_previous_key_file;
  // HTTPS ([tls] in the config file, or `gpuaas server --tls-cert/--tls-key`): the certificate
  // chain and key the server listens with, PEM files ("" = plain HTTP). With them the portal's
  // session cookie is `Secure`.
  std::string tls_cert_file, tls_key_file;
  // The audit trail's file ([audit] file; "" = DATA/audit.log): api/audit.h, auth/audit_log.h.
  std::string audit_file;
  // [auth] token_max_lifetime: every token made through the API expires after at most this
  // (a token asked without an expiry gets it); 0 = tokens may live until revoked. The first
  // admin token, made at the first start, never expires.
  int64_t token_max_lifetime_ms = 0;
  // [auth] cli_login_lifetime: how long the token of a device login (`gpuaas login`, approved
  // in the portal) lives, within token_max_lifetime. auth/device_login.h.
  int64_t cli_login_lifetime_ms = 30LL * 86400 * 1000;
  // [auth.oidc]: single sign-on through the company's OpenID Connect provider (docs/adr/0021,
  // docs/operations.md "Single sign-on"). Off while issuer is "".
  struct Oidc {
    std::string issuer;  // "https://login.bank.example/realms/group": exactly as it says
    std::string client_id;
    std::string client_secret;  // read from client_secret_file at startup
    std::string redirect_uri;   // "https://gpuaas.bank.example/api/v1/auth/oidc/callback"
    std::string scopes = "openid profile email";
    std::string username_claim = "preferred_username";  // its value is the GPUaaS user name
    // The claim listing the person's directory groups, for the group mappings (ADR 0024);
    // "" = groups are not read.
    std::string groups_claim = "groups";
    std::string display_name = "your company account";  // "Sign in with ..."
    std::string ca_file;  // https: the provider's CA(s) instead of the system's
    int64_t session_lifetime_s = 12 * 3600;
    // Where the provider sends the browser after a sign-out there (RP-Initiated Logout); ""
    // = signing out of the portal does not sign out of the provider.
    std::string post_logout_redirect_uri;
  } oidc;
  // [database] url: a PostgreSQL connection string (libpq: "postgresql://gpuaas@db/gpuaas" or
  // "host=... dbname=..."; a password is best kept in ~/.pgpass); "" = the embedded SQLite
  // database DATA/gpuaas.db. store/pg_store.h.
  std::string database_url;
  struct Runtime {
    std::string podman = "podman";
    std::string gpu_mode = "cdi";  // "cdi" or "devices"
    std::string device_dir = "/dev";
    // The operator's own `podman run` options, checked (agent/podman_runtime.h CheckPodmanArgs).
    std::vector<std::string> podman_args;
  } runtime;
};

}  // namespace gpuaas
