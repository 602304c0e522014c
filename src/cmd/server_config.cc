#include "cmd/server_config.h"

#include <toml++/toml.h>
#include <cstdio>
#include <fstream>
#include <limits>
#include <optional>
#include <set>

#include "agent/podman_runtime.h"
#include "base/money.h"
#include "base/time.h"
#include "billing/price_book.h"
#include "model/entity.h"

namespace gpuaas {
namespace {

// Reads a duration given as "30s"/"2h" or as an integer number of seconds.
// `zero_means`: what 0 stands for where 0 is allowed (e.g. "off"); null where it is not.
Status ReadDuration(const toml::table& t, const char* key, int64_t scale_to_ms, int64_t& out,
                    const char* zero_means = nullptr) {
  const toml::node* n = t.get(key);
  if (!n) return Status::Ok();
  int64_t secs = 0;
  if (auto s = n->value<std::string>()) {
    auto d = ParseDurationSeconds(*s);
    if (!d.ok()) return InvalidArgument(std::string(key) + ": " + d.status().message());
    secs = *d;
  } else if (auto i = n->value<int64_t>()) {
    secs = *i;
  } else {
    return InvalidArgument(std::string(key) + " must be a duration like \"30s\"");
  }
  if (secs < 0 || (secs == 0 && zero_means == nullptr)) {
    return InvalidArgument(std::string(key) +
                           (zero_means != nullptr
                                ? std::string(" must be 0 (") + zero_means + ") or positive"
                                : std::string(" must be positive")));
  }
  out = secs * scale_to_ms;
  return Status::Ok();
}

// Reads a number (an integer converts too) in [lo, hi] (NaN refused); else `message`.
Status ReadNumber(const toml::table& t, const char* key, double lo, double hi, const char* message,
                  double& out) {
  const toml::node* n = t.get(key);
  if (!n) return Status::Ok();
  std::optional<double> v = n->value<double>();
  if (!v || !(*v >= lo && *v <= hi)) return InvalidArgument(message);
  out = *v;
  return Status::Ok();
}

Status CheckKeys(const toml::table& t, const std::string& where, std::set<std::string> allowed) {
  for (const auto& [k, v] : t) {
    if (!allowed.count(std::string(k.str()))) {
      return InvalidArgument("unknown setting '" + where + std::string(k.str()) + "'");
    }
  }
  return Status::Ok();
}

// [environments] (name -> image, description; `replace_defaults = true` drops the shipped
// catalogue), [runtime] (podman, gpu_mode, device_dir, podman_args of the embedded agents),
// [secrets] (key_file, previous_key_file: absolute paths), [tls] (cert_file, key_file: absolute
// paths, both or neither) and [audit] (file: an absolute path).
Status ApplyRuntimeConfig(const toml::table& root, PlatformConfig& c) {
  if (auto* envs = root["environments"].as_table()) {
    if (auto r = (*envs)["replace_defaults"].value<bool>(); r && *r) c.environments.clear();
    for (const auto& [k, v] : *envs) {
      const std::string name(k.str());
      if (name == "replace_defaults") continue;
      const toml::table* t = v.as_table();
      if (!t) return InvalidArgument("environments." + name + " must be a table {image, ...}");
      GPUAAS_RETURN_IF_ERROR(CheckKeys(*t, "environments." + name + ".", {"image", "description"}));
      if (name.size() > 64 || !IsValidName(name)) {
        return InvalidArgument("environments." + name + ": not a valid environment name");
      }
      auto image = (*t)["image"].value<std::string>();
      if (!image || !IsValidImageReference(*image)) {
        return InvalidArgument("environments." + name + ".image must be an image reference");
      }
      c.environments[name] = Environment{name, *image, (*t)["description"].value_or(std::string())};
    }
  }
  if (auto* rt = root["runtime"].as_table()) {
    GPUAAS_RETURN_IF_ERROR(
        CheckKeys(*rt, "runtime.", {"podman", "gpu_mode", "device_dir", "podman_args"}));
    if (const toml::node* v = rt->get("podman_args")) {
      const toml::array* arr = v->as_array();
      if (arr == nullptr) return InvalidArgument("runtime.podman_args must be a list of strings");
      std::vector<std::string> args;
      for (const toml::node& e : *arr) {
        auto s = e.value<std::string>();
        if (!s) return InvalidArgument("runtime.podman_args must be a list of strings");
        args.push_back(*s);
      }
      if (Status st = CheckPodmanArgs(args); !st.ok()) {
        return InvalidArgument("runtime.podman_args: " + std::string(st.message()));
      }
      c.runtime.podman_args = std::move(args);
    }
    if (auto v = (*rt)["podman"].value<std::string>()) c.runtime.podman = *v;
    if (auto v = (*rt)["gpu_mode"].value<std::string>()) {
      if (*v != "cdi" && *v != "devices") {
        return InvalidArgument("runtime.gpu_mode must be \"cdi\" or \"devices\"");
      }
      c.runtime.gpu_mode = *v;
    }
    if (auto v = (*rt)["device_dir"].value<std::string>()) c.runtime.device_dir = *v;
  }
  if (auto* sec = root["secrets"].as_table()) {
    GPUAAS_RETURN_IF_ERROR(CheckKeys(*sec, "secrets.", {"key_file", "previous_key_file"}));
    for (const auto& [key, field] :
         {std::pair{"key_file", &c.secrets_key_file},
          std::pair{"previous_key_file", &c.secrets_previous_key_file}}) {
      if (const toml::node* v = sec->get(key)) {
        auto path = v->value<std::string>();
        if (!path || path->empty() || path->front() != '/') {
          return InvalidArgument(std::string("secrets.") + key + " must be an absolute path");
        }
        *field = *path;
      }
    }
  }
  if (auto* tls = root["tls"].as_table()) {
    GPUAAS_RETURN_IF_ERROR(CheckKeys(*tls, "tls.", {"cert_file", "key_file"}));
    for (const auto& [key, field] :
         {std::pair{"cert_file", &c.tls_cert_file}, std::pair{"key_file", &c.tls_key_file}}) {
      if (const toml::node* v = tls->get(key)) {
        auto path = v->value<std::string>();
        if (!path || path->empty() || path->front() != '/') {
          return InvalidArgument(std::string("tls.") + key + " must be an absolute path");
        }
        *field = *path;
      }
    }
    if (c.tls_cert_file.empty() != c.tls_key_file.empty()) {
      return InvalidArgument("tls needs both cert_file and key_file");
    }
  }
  if (auto* audit = root["audit"].as_table()) {
    GPUAAS_RETURN_IF_ERROR(CheckKeys(*audit, "audit.", {"file"}));
    if (const toml::node* v = audit->get("file")) {
      auto path = v->value<std::string>();
      if (!path || path->empty() || path->front() != '/') {
        return InvalidArgument("audit.file must be an absolute path");
      }
      c.audit_file = *path;
    }
  }
  return Status::Ok();
}

// [notebooks] (docs/notebooks.md): idle_timeout, idle_check, warning_lead, idle_util_pct,
// jupyter, ports = "18000-18999".
Status ApplyNotebookConfig(const toml::table& root, NotebookConfig& n) {
  auto* t = root["notebooks"].as_table();
  if (!t) return Status::Ok();
  GPUAAS_RETURN_IF_ERROR(CheckKeys(
      *t, "notebooks.",
      {"idle_timeout", "idle_check", "warning_lead", "idle_util_pct", "jupyter", "ports"}));
  GPUAAS_RETURN_IF_ERROR(ReadDuration(*t, "idle_timeout", 1000, n.idle_timeout_ms));
  GPUAAS_RETURN_IF_ERROR(ReadDuration(*t, "idle_check", 1000, n.idle_check_interval_ms));
  GPUAAS_RETURN_IF_ERROR(ReadDuration(*t, "warning_lead", 1000, n.warning_lead_ms));
  if (n.warning_lead_ms >= n.idle_timeout_ms && t->get("warning_lead")) {
    return InvalidArgument("notebooks.warning_lead must be shorter than notebooks.idle_timeout");
  }
  if (const toml::node* v = t->get("idle_util_pct")) {
    auto pct = v->value<int64_t>();
    if (!pct || *pct < 0 || *pct > 100) {
      return InvalidArgument("notebooks.idle_util_pct must be an integer from 0 to 100");
    }
    n.idle_util_pct = static_cast<int>(*pct);
  }
  if (const toml::node* v = t->get("jupyter")) {
    auto prog = v->value<std::string>();
    if (!prog || prog->empty()) return InvalidArgument("notebooks.jupyter must be a program");
    n.jupyter = *prog;
  }
  if (const toml::node* v = t->get("ports")) {
    auto s = v->value<std::string>();
    int lo = 0, hi = 0;
    char extra = 0;
    if (!s || std::sscanf(s->c_str(), "%d-%d%c", &lo, &hi, &extra) != 2 || lo < 1 || lo > hi ||
        hi > 65535) {
      return InvalidArgument("notebooks.ports must be a range like \"18000-18999\"");
    }
    n.port_min = lo;
    n.port_max = hi;
  }
  return Status::Ok();
}

// [auth.oidc] (docs/operations.md "Single sign-on"): issuer, client_id, client_secret_file,
// redirect_uri are required; scopes, username_claim, groups_claim, display_name, ca_file,
// session_lifetime, post_logout_redirect_uri.
Status ApplyOidcConfig(const toml::table& t, PlatformConfig::Oidc& o) {
  GPUAAS_RETURN_IF_ERROR(CheckKeys(
      t, "auth.oidc.",
      {"issuer", "client_id", "client_secret_file", "redirect_uri", "scopes", "username_claim",
       "groups_claim", "display_name", "ca_file", "session_lifetime", "post_logout_redirect_uri"}));
  auto text = [&t](const char* key, std::string& out, size_t max) -> Status {
    const toml::node* n = t.get(key);
    if (!n) return Status::Ok();
    auto v = n->value<std::string>();
    if (!v || v->empty() || v->size() > max || v->find_first_of("\r\n") != std::string::npos) {
      return InvalidArgument("auth.oidc." + std::string(key) +
                             " must be a one-line string of at "
                             "most " +
                             std::to_string(max) + " characters");
    }
    out = *v;
    return Status::Ok();
  };
  auto url = [](const std::string& u) {
    return u.rfind("https://", 0) == 0 || u.rfind("http://", 0) == 0;
  };
  std::string secret_file;
  GPUAAS_RETURN_IF_ERROR(text("issuer", o.issuer, 512));
  GPUAAS_RETURN_IF_ERROR(text("client_id", o.client_id, 256));
  GPUAAS_RETURN_IF_ERROR(text("client_secret_file", secret_file, 1024));
  GPUAAS_RETURN_IF_ERROR(text("redirect_uri", o.redirect_uri, 1024));
  GPUAAS_RETURN_IF_ERROR(text("scopes", o.scopes, 512));
  GPUAAS_RETURN_IF_ERROR(text("username_claim", o.username_claim, 64));
  if (const toml::node* g = t.get("groups_claim"); g && g->value<std::string>() == "") {
    o.groups_claim.clear();  // "" turns the groups off
  } else {
    GPUAAS_RETURN_IF_ERROR(text("groups_claim", o.groups_claim, 64));
  }
  GPUAAS_RETURN_IF_ERROR(text("display_name", o.display_name, 64));
  GPUAAS_RETURN_IF_ERROR(text("ca_file", o.ca_file, 1024));
  GPUAAS_RETURN_IF_ERROR(text("post_logout_redirect_uri", o.post_logout_redirect_uri, 1024));
  if (!o.post_logout_redirect_uri.empty() && !url(o.post_logout_redirect_uri)) {
    return InvalidArgument("auth.oidc.post_logout_redirect_uri must be an http(s) URL");
  }
  int64_t lifetime_ms = o.session_lifetime_s * 1000;
  GPUAAS_RETURN_IF_ERROR(ReadDuration(t, "session_lifetime", 1000, lifetime_ms));
  o.session_lifetime_s = lifetime_ms / 1000;
  if (o.issuer.empty() || o.client_id.empty() || secret_file.empty() || o.redirect_uri.empty()) {
    return InvalidArgument(
        "auth.oidc needs issuer, client_id, client_secret_file and redirect_uri");
  }
  if (!url(o.issuer) || !url(o.redirect_uri)) {
    return InvalidArgument("auth.oidc.issuer and auth.oidc.redirect_uri must be http(s) URLs");
  }
  if (o.redirect_uri.find("/api/v1/auth/oidc/callback") == std::string::npos) {
    return InvalidArgument(
        "auth.oidc.redirect_uri must be this server's "
        "/api/v1/auth/oidc/callback URL, as users' browsers reach it");
  }
  if ((" " + o.scopes + " ").find(" openid ") == std::string::npos) {
    return InvalidArgument("auth.oidc.scopes must include openid");
  }
  for (const std::string* path : {&secret_file, &o.ca_file}) {
    if (!path->empty() && path->front() != '/') {
      return InvalidArgument("auth.oidc.client_secret_file and ca_file must be absolute paths");
    }
  }
  if (o.session_lifetime_s > 31 * 86400) {
    return InvalidArgument("auth.oidc.session_lifetime must be at most 31 days");
  }
  std::ifstream f(secret_file);
  std::string secret;
  if (!f || !std::getline(f, secret) || secret.empty() || secret.size() > 1024) {
    return InvalidArgument("auth.oidc.client_secret_file: cannot read a secret (one line) from " +
                           secret_file);
  }
  o.client_secret = secret;
  return Status::Ok();
}

}  // namespace

Status ApplyConfigFile(const std::string& path, PlatformConfig& config) {
  toml::table root;
  try {
    root = toml::parse_file(path);
  } catch (const toml::parse_error& e) {
    return InvalidArgument("config " + path + ": " + std::string(e.description()) + " (line " +
                           std::to_string(e.source().begin.line) + ")");
  }
  PlatformConfig c = config;  // all or nothing
  GPUAAS_RETURN_IF_ERROR(CheckKeys(
      root, "",
      {"scheduler", "agents", "prices", "limits", "billing", "storage", "environments", "runtime",
       "notebooks", "secrets", "tls", "audit", "auth", "database", "network"}));
  if (auto* network = root["network"].as_table()) {
    GPUAAS_RETURN_IF_ERROR(CheckKeys(*network, "network.", {"capacity_gbps"}));
    GPUAAS_RETURN_IF_ERROR(ReadNumber(*network, "capacity_gbps", 0.001, 1e6,
                                      "network.capacity_gbps must be a number from 0.001 to "
                                      "1000000 (gigabits per second)",
                                      c.network_capacity_gbps));
  }
  GPUAAS_RETURN_IF_ERROR(ApplyRuntimeConfig(root, c));
  if (auto* database = root["database"].as_table()) {
    GPUAAS_RETURN_IF_ERROR(CheckKeys(*database, "database.", {"url"}));
    if (const toml::node* v = database->get("url")) {
      auto url = v->value<std::string>();
      if (!url || url->empty()) {
        return InvalidArgument("database.url must be a PostgreSQL connection string");
      }
      c.database_url = *url;
    }
  }
  if (auto* auth = root["auth"].as_table()) {
    GPUAAS_RETURN_IF_ERROR(
        CheckKeys(*auth, "auth.", {"token_max_lifetime", "cli_login_lifetime", "oidc"}));
    GPUAAS_RETURN_IF_ERROR(
        ReadDuration(*auth, "token_max_lifetime", 1000, c.token_max_lifetime_ms, "no limit"));
    GPUAAS_RETURN_IF_ERROR(
        ReadDuration(*auth, "cli_login_lifetime", 1000, c.cli_login_lifetime_ms));
    if (c.cli_login_lifetime_ms > 366LL * 86400 * 1000) {
      return InvalidArgument("auth.cli_login_lifetime must be at most 366 days");
    }
    if (const toml::node* o = auth->get("oidc")) {
      if (!o->as_table()) return InvalidArgument("auth.oidc must be a table");
      GPUAAS_RETURN_IF_ERROR(ApplyOidcConfig(*o->as_table(), c.oidc));
    }
  }
  if (auto* b = root["billing"].as_table()) {
    GPUAAS_RETURN_IF_ERROR(
        CheckKeys(*b, "billing.", {"granularity", "eur_per_kwh", "co2_g_per_kwh"}));
    if (auto g = (*b)["granularity"].value<std::string>()) {
      if (!ParseBillingGranularity(*g, &c.billing.granularity)) {
        return InvalidArgument(
            "billing.granularity must be \"per-second\" or \"per-started-hour\"");
      }
    }
    if (auto e = (*b)["eur_per_kwh"].value<std::string>()) {
      auto eur = ParseEur(*e);
      if (!eur.ok()) return InvalidArgument("billing.eur_per_kwh: " + eur.status().message());
      c.billing.energy.eur_per_kwh = *eur;
    }
    if (auto co2 = (*b)["co2_g_per_kwh"].value<int64_t>()) {
      if (*co2 < 0) return InvalidArgument("billing.co2_g_per_kwh must not be negative");
      c.billing.energy.co2_g_per_kwh = *co2;
    }
  }
  if (auto* st = root["storage"].as_table()) {
    GPUAAS_RETURN_IF_ERROR(CheckKeys(*st, "storage.",
                                     {"workspace_root", "quota_gb", "artifactory_url",
                                      "artifactory_token", "artifactory_ca_file"}));
    if (auto v = (*st)["workspace_root"].value<std::string>()) c.billing.workspace_root = *v;
    if (auto v = (*st)["quota_gb"].value<int64_t>()) {
      if (*v < 1) return InvalidArgument("storage.quota_gb must be positive");
      c.billing.workspace_quota_bytes = *v * 1'000'000'000;
    }
    if (auto v = (*st)["artifactory_url"].value<std::string>()) c.billing.artifactory_url = *v;
    if (auto v = (*st)["artifactory_token"].value<std::string>()) c.billing.artifactory_token = *v;
    if (const toml::node* v = st->get("artifactory_ca_file")) {
      auto path = v->value<std::string>();
      if (!path || path->empty() || path->front() != '/') {
        return InvalidArgument("storage.artifactory_ca_file must be an absolute path");
      }
      c.billing.artifactory_ca_file = *path;
    }
  }
  GPUAAS_RETURN_IF_ERROR(ApplyNotebookConfig(root, c.notebooks));
  if (auto* s = root["scheduler"].as_table()) {
    GPUAAS_RETURN_IF_ERROR(
        CheckKeys(*s, "scheduler.",
                  {"default_walltime", "max_walltime", "preemption_grace", "small_first_rate",
                   "small_first_delay_factor", "small_first_cap", "fair_share_wait_floor",
                   "faster_class_wait_ratio", "fair_share_wait_ratio", "fair_share_usage_delay",
                   "fair_share_wait_horizon", "faster_class_patience_extra",
                   "fair_share_wait_rank_half_life"}));
    GPUAAS_RETURN_IF_ERROR(ReadDuration(*s, "default_walltime", 1, c.default_walltime_s));
    GPUAAS_RETURN_IF_ERROR(ReadDuration(*s, "max_walltime", 1, c.max_walltime_s));
    GPUAAS_RETURN_IF_ERROR(ReadDuration(*s, "preemption_grace", 1, c.preemption_grace_s));
    GPUAAS_RETURN_IF_ERROR(ReadDuration(*s, "small_first_cap", 1, c.small_first_cap_s));
    GPUAAS_RETURN_IF_ERROR(ReadDuration(*s, "fair_share_wait_floor", 1, c.fair_share_wait_floor_s));
    GPUAAS_RETURN_IF_ERROR(
        ReadDuration(*s, "faster_class_patience_extra", 1, c.faster_class_patience_extra_s, "off"));
    if (c.faster_class_patience_extra_s > 1'000'000'000) {
      return InvalidArgument("scheduler.faster_class_patience_extra must be at most 1e9 seconds");
    }
    GPUAAS_RETURN_IF_ERROR(ReadDuration(*s, "fair_share_wait_rank_half_life", 1,
                                        c.fair_share_wait_rank_half_life_s, "the whole history"));
    if (c.fair_share_wait_rank_half_life_s > 1'000'000'000) {
      return InvalidArgument(
          "scheduler.fair_share_wait_rank_half_life must be at most 1e9 seconds");
    }
    GPUAAS_RETURN_IF_ERROR(ReadDuration(*s, "fair_share_usage_delay", 1, c.fair_share_usage_delay_s,
                                        "the strict order by usage"));
    if (c.fair_share_usage_delay_s > 1'000'000'000) {
      return InvalidArgument("scheduler.fair_share_usage_delay must be at most 1e9 seconds");
    }
    GPUAAS_RETURN_IF_ERROR(ReadDuration(*s, "fair_share_wait_horizon", 1,
                                        c.fair_share_wait_horizon_s, "the waits so far"));
    if (c.fair_share_wait_horizon_s > 1'000'000'000) {
      return InvalidArgument("scheduler.fair_share_wait_horizon must be at most 1e9 seconds");
    }
    GPUAAS_RETURN_IF_ERROR(
        ReadNumber(*s, "faster_class_wait_ratio", -std::numeric_limits<double>::infinity(), 1e6,
                   "scheduler.faster_class_wait_ratio must be a number up to 1e6 (negative: no "
                   "bound)",
                   c.faster_class_wait_ratio));
    GPUAAS_RETURN_IF_ERROR(
        ReadNumber(*s, "fair_share_wait_ratio", 0, 1e6,
                   "scheduler.fair_share_wait_ratio must be a number between 0 (off) and 1e6",
                   c.fair_share_wait_ratio));
    GPUAAS_RETURN_IF_ERROR(ReadNumber(
        *s, "small_first_rate", 0, 1e9,
        "scheduler.small_first_rate must be a number of GPU-seconds per second in [0, 1e9]",
        c.small_first_rate));
    GPUAAS_RETURN_IF_ERROR(ReadNumber(
        *s, "small_first_delay_factor", 0, 1e9,
        "scheduler.small_first_delay_factor must be a number in [0, 1e9] (0 = arrival order)",
        c.small_first_delay_factor));
  }
  if (auto* a = root["agents"].as_table()) {
    GPUAAS_RETURN_IF_ERROR(CheckKeys(
        *a, "agents.", {"heartbeat_interval", "heartbeat_timeout", "grace", "on_gpu_failure"}));
    if (const toml::node* n = a->get("on_gpu_failure")) {
      auto v = n->value<std::string>();
      if (!v || (*v != "fail" && *v != "requeue")) {
        return InvalidArgument("agents.on_gpu_failure must be \"fail\" or \"requeue\"");
      }
      c.requeue_on_gpu_failure = *v == "requeue";
    }
    GPUAAS_RETURN_IF_ERROR(ReadDuration(*a, "heartbeat_interval", 1000, c.heartbeat_interval_ms));
    GPUAAS_RETURN_IF_ERROR(ReadDuration(*a, "heartbeat_timeout", 1000, c.heartbeat_timeout_ms));
    GPUAAS_RETURN_IF_ERROR(ReadDuration(*a, "grace", 1000, c.grace_ms));
  }
  if (auto* l = root["limits"].as_table()) {
    GPUAAS_RETURN_IF_ERROR(CheckKeys(
        *l, "limits.",
        {"max_queued_jobs", "max_log_bytes", "default_cpus_per_gpu", "default_memory_gb_per_gpu"}));
    if (auto v = (*l)["default_cpus_per_gpu"].value<int64_t>()) {
      if (*v < 1 || *v > 1024) return InvalidArgument("limits.default_cpus_per_gpu: 1 to 1024");
      c.default_cpus_per_gpu = static_cast<int>(*v);
    }
    if (auto v = (*l)["default_memory_gb_per_gpu"].value<int64_t>()) {
      if (*v < 1 || *v > 16384) {
        return InvalidArgument("limits.default_memory_gb_per_gpu: 1 to 16384");
      }
      c.default_memory_gb_per_gpu = static_cast<int>(*v);
    }
    if (auto v = (*l)["max_queued_jobs"].value<int64_t>()) {
      if (*v < 1) return InvalidArgument("limits.max_queued_jobs must be positive");
      c.max_active_jobs = static_cast<size_t>(*v);
    }
    if (auto v = (*l)["max_log_bytes"].value<int64_t>()) {
      if (*v < 1024) return InvalidArgument("limits.max_log_bytes must be at least 1024");
      c.max_log_bytes = static_cast<size_t>(*v);
    }
  }
  if (auto* p = root["prices"].as_table()) {
    for (const auto& [k, v] : *p) {
      std::string cls(k.str());
      GpuClass* target = nullptr;
      for (auto& gc : c.classes) {
        if (gc.name == cls) target = &gc;
      }
      if (!target) return InvalidArgument("prices: unknown GPU class '" + cls + "'");
      auto s = v.value<std::string>();
      if (!s) return InvalidArgument("prices." + cls + " must be a string like \"3.50\"");
      auto eur = ParseEur(*s);
      if (!eur.ok()) return InvalidArgument("prices." + cls + ": " + eur.status().message());
      target->hourly_rate = *eur;
    }
  }
  config = std::move(c);
  return Status::Ok();
}

}  // namespace gpuaas
