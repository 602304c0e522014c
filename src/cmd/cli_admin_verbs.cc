// The admin and reporting verbs: entity, user, token, whoami, nodes, usage, invoice.
#include <algorithm>
#include <cmath>
#include <cstdio>
#include <set>

#include <boost/json.hpp>

#include "base/time.h"
#include "cmd/cli_format.h"
#include "cmd/cli_input.h"
#include "cmd/cli_verbs.h"

namespace gpuaas::cli {

namespace json = boost::json;

namespace {

Status ValidateNameArg(const std::string& value, const std::string& what) {
  if (IsValidName(value)) return Status::Ok();
  return InvalidArgument(what + " '" + value +
                         "' is not a valid name (1-63 characters of a-z, 0-9, '.', '_', '-', "
                         "starting with a letter or digit)");
}

std::string MemoryLabel(const json::object& gpu) {
  const json::value* mb = gpu.if_contains("memory_mb");
  if (mb == nullptr || !mb->is_number()) return "-";
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.0f GiB", mb->to_number<double>() / 1024.0);
  return buf;
}

}  // namespace

int RunEntityCreate(const VerbContext& c) {
  const ClientArgs& a = c.args;
  if (Status s = ValidateNameArg(a.name, "entity name"); !s.ok()) return c.UsageError(s);
  json::object body{{"name", a.name}};
  if (!a.quota.empty()) {
    auto quota = ParseQuotaSpec(a.quota);
    if (!quota.ok()) return c.UsageError(quota.status());
    json::object q;
    for (const auto& [cls, n] : *quota) q[cls] = n;
    body["quota"] = std::move(q);
  }
  if (!a.guarantee.empty()) {
    auto g = ParseQuotaSpec(a.guarantee);
    if (!g.ok()) return c.UsageError(g.status());
    json::object q;
    for (const auto& [cls, n] : *g) q[cls] = n;
    body["guarantee"] = std::move(q);
  }
  if (!a.shares.empty()) {
    auto n = ParsePositiveInt(a.shares, "--shares");
    if (!n.ok()) return c.UsageError(n.status());
    body["shares"] = *n;
  }
  auto reply = c.api.Call("POST", "/api/v1/entities", body);
  if (!reply.ok()) return c.Fail(reply.status());
  if (a.json || !reply->json.is_object()) return c.PrintRaw(*reply);
  const json::object& e = reply->json.as_object();
  c.out << "entity " << Field(e, "name") << " created (id " << Field(e, "id") << ", quota "
        << Field(e, "quota") << ")\n";
  return 0;
}

int RunEntityList(const VerbContext& c) {
  auto reply = c.api.Call("GET", "/api/v1/entities");
  if (!reply.ok()) return c.Fail(reply.status());
  if (c.args.json) return c.PrintRaw(*reply);
  const json::array* list = ListOf(reply->json, "entities");
  if (list == nullptr) return c.BadShape("\"entities\" list");
  std::vector<Row> rows;
  for (const json::value& v : *list) {
    if (!v.is_object()) continue;
    const json::object& e = v.as_object();
    rows.push_back({Field(e, "id"), Field(e, "name"), Field(e, "quota"), Field(e, "created_at")});
  }
  c.out << FormatTable({"ID", "NAME", "QUOTA", "CREATED"}, rows);
  return 0;
}

int RunUserCreate(const VerbContext& c) {
  const ClientArgs& a = c.args;
  if (Status s = ValidateNameArg(a.name, "user name"); !s.ok()) return c.UsageError(s);
  if (Status s = ValidateNameArg(a.entity, "--entity"); !s.ok()) return c.UsageError(s);
  std::string role = a.role.empty() ? "member" : a.role;
  if (Status s = ValidateChoice(role, "--role", Roles()); !s.ok()) return c.UsageError(s);
  json::object body{{"name", a.name}, {"entity", a.entity}, {"role", role}};
  auto reply = c.api.Call("POST", "/api/v1/users", body);
  if (!reply.ok()) return c.Fail(reply.status());
  if (a.json || !reply->json.is_object()) return c.PrintRaw(*reply);
  const json::object& u = reply->json.as_object();
  c.out << "user " << Field(u, "name") << " created (" << Field(u, "role") << " of "
        << Field(u, "entity") << ")\n"
        << "token: " << Field(u, "token") << "\n"
        << "(the token is shown only once: keep it safe)\n";
  return 0;
}

int RunUserList(const VerbContext& c) {
  auto reply = c.api.Call("GET", "/api/v1/users");
  if (!reply.ok()) return c.Fail(reply.status());
  if (c.args.json) return c.PrintRaw(*reply);
  const json::array* list = ListOf(reply->json, "users");
  if (list == nullptr) return c.BadShape("\"users\" list");
  std::vector<Row> rows;
  for (const json::value& v : *list) {
    if (!v.is_object()) continue;
    const json::object& u = v.as_object();
    const std::string disabled = Field(u, "disabled_at");
    rows.push_back({Field(u, "id"), Field(u, "name"), Field(u, "entity"), Field(u, "role"),
                    Field(u, "from_directory") == "true" ? "directory" : "admin",
                    disabled == "-" ? "active" : "disabled", Field(u, "created_at")});
  }
  // MADE BY: an administrator, or a directory group at a single sign-on (gpuaas group).
  c.out << FormatTable({"ID", "NAME", "ENTITY", "ROLE", "MADE BY", "STATE", "CREATED"}, rows);
  return 0;
}

int RunUserUpdate(const VerbContext& c) {
  const ClientArgs& a = c.args;
  if (Status s = ValidateNameArg(a.name, "user name"); !s.ok()) return c.UsageError(s);
  json::object body;
  if (a.verb == "user role") {
    if (Status s = ValidateChoice(a.role, "ROLE", Roles()); !s.ok()) return c.UsageError(s);
    body["role"] = a.role;
  } else {
    body["disabled"] = a.verb == "user disable";
    if (a.cancel_jobs) body["cancel_jobs"] = true;
  }
  auto reply = c.api.Call("PATCH", "/api/v1/users/" + a.name, body);
  if (!reply.ok()) return c.Fail(reply.status());
  if (a.json || !reply->json.is_object()) return c.PrintRaw(*reply);
  const json::object& u = reply->json.as_object();
  const bool disabled = Field(u, "disabled_at") != "-";
  c.out << "user " << Field(u, "name") << ": " << Field(u, "role") << " of " << Field(u, "entity")
        << ", " << (disabled ? "disabled" : "active") << "\n";
  if (const json::array* cancelled = ListOf(reply->json, "cancelled_jobs");
      cancelled && !cancelled->empty()) {
    c.out << "cancelled " << cancelled->size() << " job(s):";
    for (const json::value& id : *cancelled) c.out << " " << json::serialize(id);
    c.out << "\n";
  }
  const std::string unfinished = Field(u, "unfinished_jobs");
  if (disabled && unfinished != "-" && unfinished != "0") {
    c.out << unfinished << " unfinished job(s) of " << a.name
          << " go on: stop them with gpuaas cancel JOB, or all at once with gpuaas user disable "
          << a.name << " --cancel-jobs\n";
  }
  return 0;
}

int RunTokenCreate(const VerbContext& c) {
  if (Status s = ValidateNameArg(c.args.name, "user name"); !s.ok()) return c.UsageError(s);
  json::value body = nullptr;
  if (!c.args.expires_in.empty()) {
    auto secs = ParseDurationSeconds(c.args.expires_in);
    if (!secs.ok())
      return c.UsageError(InvalidArgument("--expires-in: " + secs.status().message()));
    body = json::object{{"expires_in_s", *secs}};
  }
  auto reply = c.api.Call("POST", "/api/v1/users/" + c.args.name + "/tokens", body);
  if (!reply.ok()) return c.Fail(reply.status());
  if (c.args.json || !reply->json.is_object()) return c.PrintRaw(*reply);
  // Only the token on stdout, so that TOKEN=$(gpuaas token create alice) works.
  const json::object& o = reply->json.as_object();
  c.out << Field(o, "token") << "\n";
  const std::string expires = Field(o, "expires_at");
  c.err << "token " << Field(o, "token_id") << " of " << c.args.name << " (shown once; "
        << (expires.empty() || expires == "-" ? "never expires" : "expires " + expires)
        << "; revoke it with: gpuaas token revoke " << c.args.name << " " << Field(o, "token_id")
        << ")\n";
  return 0;
}

int RunTokenList(const VerbContext& c) {
  if (Status s = ValidateNameArg(c.args.name, "user name"); !s.ok()) return c.UsageError(s);
  auto reply = c.api.Call("GET", "/api/v1/users/" + c.args.name + "/tokens");
  if (!reply.ok()) return c.Fail(reply.status());
  if (c.args.json) return c.PrintRaw(*reply);
  const json::array* list = ListOf(reply->json, "tokens");
  if (list == nullptr) return c.BadShape("\"tokens\" list");
  std::vector<Row> rows;
  for (const json::value& v : *list) {
    if (!v.is_object()) continue;
    const json::object& t = v.as_object();
    const json::value* expired = t.if_contains("expired");
    rows.push_back({Field(t, "id"), Field(t, "created_at"),
                    Field(t, "expires_at") == "-" ? "never" : Field(t, "expires_at"),
                    expired && expired->is_bool() && expired->as_bool() ? "expired" : "valid"});
  }
  c.out << FormatTable({"ID", "CREATED", "EXPIRES", "STATE"}, rows);
  return 0;
}

int RunTokenRevoke(const VerbContext& c) {
  const ClientArgs& a = c.args;
  if (Status s = ValidateNameArg(a.name, "user name"); !s.ok()) return c.UsageError(s);
  if (a.all == !a.id.empty()) {
    return c.UsageError(InvalidArgument("give either a token ID or --all"));
  }
  if (!a.all) {
    Result<int64_t> id = ParsePositiveInt(a.id, "ID");
    if (!id.ok()) return c.UsageError(id.status());
    auto reply = c.api.Call("DELETE", "/api/v1/users/" + a.name + "/tokens/" + a.id);
    if (!reply.ok()) return c.Fail(reply.status());
    if (a.json) return c.PrintJson(json::object{{"user", a.name}, {"revoked", 1}});
    c.out << "token " << a.id << " of " << a.name << " revoked\n";
    return 0;
  }
  auto reply = c.api.Call("DELETE", "/api/v1/users/" + a.name + "/tokens");
  if (!reply.ok()) return c.Fail(reply.status());
  if (a.json) return c.PrintRaw(*reply);
  const json::object* o = reply->json.if_object();
  c.out << (o ? Field(*o, "revoked") : std::string("?")) << " token(s) of " << a.name
        << " revoked\n";
  return 0;
}

int RunWhoami(const VerbContext& c) {
  auto reply = c.api.Call("GET", "/api/v1/whoami");
  if (!reply.ok()) return c.Fail(reply.status());
  if (c.args.json || !reply->json.is_object()) return c.PrintRaw(*reply);
  const json::object& o = reply->json.as_object();
  const json::value* user = o.if_contains("user");
  const json::value* entity = o.if_contains("entity");
  json::object shown;
  if (user != nullptr && user->is_object()) {
    shown["user"] = user->as_object().contains("name") ? user->as_object().at("name") : *user;
    if (const json::value* role = user->as_object().if_contains("role")) shown["role"] = *role;
  } else if (user != nullptr) {
    shown["user"] = *user;
  }
  if (entity != nullptr && entity->is_object() && entity->as_object().contains("name")) {
    shown["entity"] = entity->as_object().at("name");
    if (const json::value* q = entity->as_object().if_contains("quota")) shown["quota"] = *q;
  } else {
    shown["entity"] = entity ? *entity : json::value(nullptr);
  }
  c.out << FormatKeyValues(shown, {"user", "role", "entity", "quota"});
  return 0;
}

int RunNodeAction(const VerbContext& c) {
  const std::string action = c.args.verb.substr(c.args.verb.find(' ') + 1);
  if (Status s = ValidateNameArg(c.args.name, "node name"); !s.ok()) return c.UsageError(s);
  auto reply = c.api.Call("POST", "/api/v1/nodes/" + c.args.name + "/" + action);
  if (!reply.ok()) return c.Fail(reply.status());
  if (c.args.json || !reply->json.is_object()) return c.PrintRaw(*reply);
  c.out << "node " << Field(reply->json.as_object(), "name") << " is "
        << Field(reply->json.as_object(), "state") << "\n";
  return 0;
}

int RunNodes(const VerbContext& c) {
  auto reply = c.api.Call("GET", "/api/v1/nodes");
  if (!reply.ok()) return c.Fail(reply.status());
  if (c.args.json) return c.PrintRaw(*reply);
  const json::array* list = ListOf(reply->json, "nodes");
  if (list == nullptr) return c.BadShape("\"nodes\" list");
  std::vector<Row> rows;
  for (const json::value& v : *list) {
    if (!v.is_object()) continue;
    const json::object& n = v.as_object();
    std::string state = Field(n, "state");
    if (const json::value* sim = n.if_contains("simulated");
        sim && sim->is_bool() && sim->get_bool()) {
      state += " (simulated)";
    }
    // A node kept for large jobs (label gpuaas.io/min-gpus, docs/scheduling.md) says so.
    if (const json::value* labels = n.if_contains("labels"); labels && labels->is_object()) {
      if (const json::value* min = labels->as_object().if_contains("gpuaas.io/min-gpus");
          min && min->is_string()) {
        state += ", jobs of " + std::string(min->as_string()) + "+ GPUs";
      }
    }
    const json::array* gpus = ListOf(v, "gpus");
    if (gpus == nullptr || gpus->empty()) {
      rows.push_back({Field(n, "name"), state, "-", "-", "-", "-", "-", "-"});
      continue;
    }
    for (const json::value& g : *gpus) {
      if (!g.is_object()) continue;
      const json::object& gpu = g.as_object();
      rows.push_back({Field(n, "name"), state, Field(gpu, "index"), Field(gpu, "gpu_class"),
                      Field(gpu, "model"), MemoryLabel(gpu), Field(gpu, "state"),
                      Field(gpu, "job")});
    }
  }
  c.out << FormatTable({"NODE", "STATE", "GPU", "CLASS", "MODEL", "MEMORY", "GPU STATE", "JOB"},
                       rows);
  return 0;
}

namespace {

// A number divided by `unit` with `digits` decimals; "-" when absent.
std::string Decimals(const json::value* v, double unit, int digits) {
  if (v == nullptr || !v->is_number()) return "-";
  char buf[48];
  std::snprintf(buf, sizeof buf, "%.*f", digits, v->to_number<double>() / unit);
  return buf;
}

// "12.3 / 300.0 GB" from {"used_bytes", "quota_bytes"} (-1 quota: unlimited); "pending" before
// Artifactory's first fetch; "error" when it never answered; "-" when not measured.
std::string StorageCell(const json::object& o) {
  if (const json::value* p = o.if_contains("pending"); p && p->is_bool() && p->as_bool()) {
    return "pending";
  }
  const json::value* used = o.if_contains("used_bytes");
  const json::value* quota = o.if_contains("quota_bytes");
  if (used == nullptr || !used->is_number()) {
    const json::value* err = o.if_contains("error");
    return err && err->is_string() ? "error" : "-";
  }
  auto gb = [](const json::value& v) {
    char buf[32];
    std::snprintf(buf, sizeof buf, "%.1f", v.to_number<double>() / 1e9);
    return std::string(buf);
  };
  std::string cell = gb(*used) + " / ";
  if (quota && quota->is_number() && quota->to_number<double>() >= 0)
    return cell + gb(*quota) + " GB";
  return cell + "unlimited GB";
}

}  // namespace

int RunUsage(const VerbContext& c) {
  const ClientArgs& a = c.args;
  if (!a.entity.empty()) {
    if (Status s = ValidateNameArg(a.entity, "--entity"); !s.ok()) return c.UsageError(s);
  }
  if (!a.from.empty()) {
    if (Status s = ValidateDate(a.from, "--from"); !s.ok()) return c.UsageError(s);
  }
  if (!a.to.empty()) {
    if (Status s = ValidateDate(a.to, "--to"); !s.ok()) return c.UsageError(s);
  }
  auto reply = c.api.Call(
      "GET", "/api/v1/usage" + QueryString({{"entity", a.entity}, {"from", a.from}, {"to", a.to}}));
  if (!reply.ok()) return c.Fail(reply.status());
  if (a.json) return c.PrintRaw(*reply);
  const json::array* list = ListOf(reply->json, "entities");
  if (list == nullptr) return c.BadShape("\"entities\" list");
  const json::object& o = reply->json.as_object();
  c.out << "usage from " << Field(o, "from") << " to " << Field(o, "to") << "\n";
  std::set<std::string> classes;
  for (const json::value& v : *list) {
    if (!v.is_object()) continue;
    if (const json::value* s = v.as_object().if_contains("gpu_seconds"); s && s->is_object()) {
      for (const auto& kv : s->as_object()) classes.emplace(kv.key());
    }
  }
  Row header = {"ENTITY"};
  for (const std::string& cls : classes) header.push_back(cls + " GPU-HOURS");
  header.push_back("COST");
  header.push_back("ENERGY KWH");
  header.push_back("NET IN / OUT GB");
  header.push_back("WORKSPACE");
  header.push_back("ARTIFACTORY");
  std::vector<Row> rows;
  for (const json::value& v : *list) {
    if (!v.is_object()) continue;
    const json::object& e = v.as_object();
    Row row = {Field(e, "entity")};
    const json::value* secs = e.if_contains("gpu_seconds");
    for (const std::string& cls : classes) {
      const json::value* s =
          secs && secs->is_object() ? secs->as_object().if_contains(cls) : nullptr;
      row.push_back(s && s->is_number() ? FormatHours(s->to_number<double>()) : "0.00");
    }
    row.push_back(FormatMoney(e.contains("cost") ? e.at("cost") : json::value(nullptr)));
    row.push_back(Decimals(e.if_contains("energy_kwh"), 1, 3));
    const json::value* net = e.if_contains("network");
    const json::object* no = net && net->is_object() ? &net->as_object() : nullptr;
    row.push_back(no ? Decimals(no->if_contains("rx_bytes"), 1e9, 3) + " / " +
                           Decimals(no->if_contains("tx_bytes"), 1e9, 3)
                     : "-");
    const json::value* st = e.if_contains("storage");
    const json::object* so = st && st->is_object() ? &st->as_object() : nullptr;
    row.push_back(so ? StorageCell(*so) : "-");
    const json::value* art = so ? so->if_contains("artifactory") : nullptr;
    row.push_back(art && art->is_object() ? StorageCell(art->as_object()) : "-");
    rows.push_back(std::move(row));
  }
  c.out << FormatTable(header, rows);
  return 0;
}

int RunFairShare(const VerbContext& c) {
  auto reply = c.api.Call("GET", "/api/v1/fairshare");
  if (!reply.ok()) return c.Fail(reply.status());
  if (c.args.json) return c.PrintRaw(*reply);
  const json::array* list = ListOf(reply->json, "entities");
  if (list == nullptr) return c.BadShape("\"entities\" list");
  const json::object& o = reply->json.as_object();
  auto number = [](const json::object& e, const char* key) {
    const json::value* v = e.if_contains(key);
    return v && v->is_number() ? v->to_number<double>() : 0.0;
  };
  const double delay_s = number(o, "usage_delay_s");
  c.out << "queue order " << Field(o, "queue_order") << "; usage delays jobs by up to "
        << (delay_s > 0 ? FormatDurationSeconds(static_cast<int64_t>(delay_s))
                        : std::string("- (strict order by usage per share)"))
        << ";\nentities waiting " << Field(o, "late_wait_ratio")
        << "x the average or more go first (each queued job counted "
        << FormatDurationSeconds(static_cast<int64_t>(number(o, "wait_horizon_s"))) << " ahead)\n";
  // The small-first order: a request counts as submitted later by its GPU-seconds / the rate.
  const double rate = number(o, "small_first_rate");
  if (rate > 0) {
    c.out << "smaller requests first: each GPU-hour asked places a job "
          << FormatDurationSeconds(std::llround(std::min(3600 / rate, 1e15)))
          << " later (each second waited is worth " << Field(o, "small_first_rate")
          << " GPU-seconds)\n";
  } else {
    c.out << "requests in arrival order within a tier (no small-first order)\n";
  }
  std::vector<Row> rows;
  for (const json::value& v : *list) {
    if (!v.is_object()) continue;
    const json::object& e = v.as_object();
    auto fixed = [](const char* format, double x) {
      char buf[32];
      std::snprintf(buf, sizeof buf, format, x);
      return std::string(buf);
    };
    Row row = {Field(e, "entity"),
               Field(e, "shares"),
               fixed("%.1f%%", 100 * number(e, "share")),
               fixed("%.1f", number(e, "usage_gpu_hours")),
               fixed("%.1f%%", 100 * number(e, "usage")),
               fixed("%.3f", number(e, "factor"))};
    const json::value* late = e.if_contains("late");
    const bool is_late = late && late->is_bool() && late->as_bool();
    row.push_back(is_late ? "first"
                          : FormatDurationSeconds(static_cast<int64_t>(number(e, "delay_s"))));
    const json::value* ratio = e.if_contains("wait_ratio");
    row.push_back(ratio && ratio->is_number() ? fixed("%.2fx", ratio->to_number<double>()) : "-");
    row.push_back(Field(e, "queued_jobs"));
    rows.push_back(std::move(row));
  }
  c.out << FormatTable(
      {"ENTITY", "SHARES", "SHARE", "USAGE GPU-H", "USAGE", "FACTOR", "DELAY", "WAIT", "QUEUED"},
      rows);
  return 0;
}

int RunInvoice(const VerbContext& c) {
  const ClientArgs& a = c.args;
  if (Status s = ValidateNameArg(a.entity, "--entity"); !s.ok()) return c.UsageError(s);
  if (Status s = ValidateMonth(a.month); !s.ok()) return c.UsageError(s);
  if (!a.format.empty()) {
    if (Status s = ValidateChoice(a.format, "--format", {"json", "csv"}); !s.ok()) {
      return c.UsageError(s);
    }
  }
  std::string format = a.format.empty() ? "json" : a.format;
  std::string target = "/api/v1/invoices" +
                       QueryString({{"entity", a.entity}, {"month", a.month}, {"format", format}});
  if (format == "csv") {
    Result<std::string> text = c.api.CallText("GET", target);
    if (!text.ok()) return c.Fail(text.status());
    c.out << *text;
    return 0;
  }
  auto reply = c.api.Call("GET", target);
  if (!reply.ok()) return c.Fail(reply.status());
  if (a.json || a.format == "json" || !reply->json.is_object()) return c.PrintRaw(*reply);
  const json::object& inv = reply->json.as_object();
  c.out << "invoice " << Field(inv, "entity") << " " << Field(inv, "month") << " ("
        << Field(inv, "status") << ")\n";
  std::vector<Row> rows;
  if (const json::array* lines = ListOf(reply->json, "lines")) {
    for (const json::value& v : *lines) {
      if (!v.is_object()) continue;
      const json::object& l = v.as_object();
      rows.push_back({Field(l, "job"), Field(l, "user"), Field(l, "gpu_type"), Field(l, "gpus"),
                      Field(l, "start"), Field(l, "end"), Field(l, "billed_seconds"),
                      Field(l, "rate"), Field(l, "amount"), Field(l, "energy_kwh")});
    }
  }
  c.out << FormatTable({"JOB", "USER", "TYPE", "GPUS", "START", "END", "BILLED S", "RATE/GPU-H",
                        "AMOUNT", "ENERGY KWH"},
                       rows);
  c.out << "total: " << Field(inv, "total") << "\n";
  return 0;
}

}  // namespace gpuaas::cli
