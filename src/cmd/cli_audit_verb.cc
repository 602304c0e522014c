// `gpuaas audit`: the audit trail from GET /api/v1/audit as a table, newest first; or, with
// --verify FILE, the hash chain of a local copy of the audit file checked (no server needed).
#include <boost/json.hpp>
#include <tuple>

#include "auth/audit_log.h"
#include "cmd/cli_format.h"
#include "cmd/cli_input.h"
#include "cmd/cli_verbs.h"

namespace gpuaas::cli {

namespace json = boost::json;

namespace {

int Verify(const VerbContext& c, const std::string& file) {
  auto check = VerifyAuditFile(file);
  if (!check.ok()) return c.Fail(check.status());
  if (c.args.json) {
    json::value bad = nullptr;
    if (check->first_bad_line != 0) bad = check->first_bad_line;
    c.PrintJson(json::object{{"file", file},
                             {"lines", check->lines},
                             {"intact", check->first_bad_line == 0},
                             {"first_bad_line", bad},
                             {"problem", check->problem},
                             {"last_hash", check->last_hash}});
    return check->first_bad_line == 0 ? 0 : 1;
  }
  if (check->first_bad_line != 0) {
    c.err << "error: " << file << ": line " << check->first_bad_line << ": " << check->problem
          << " (lines before it are intact)\n";
    return 1;
  }
  c.out << file << ": " << check->lines << " lines, the chain is intact; last hash "
        << (check->last_hash.empty() ? "(none)" : check->last_hash)
        << "\n(compare it with a copy kept elsewhere: a chain cannot show that its newest lines "
           "were cut off)\n";
  return 0;
}

}  // namespace

int RunAudit(const VerbContext& c) {
  const ClientArgs& a = c.args;
  if (!a.verify.empty()) return Verify(c, a.verify);
  std::string query;
  auto add = [&](const char* key, const std::string& value) {
    query += (query.empty() ? "?" : "&") + std::string(key) + "=" + UrlEncode(value);
  };
  for (const auto& [flag, value, key] :
       {std::tuple{"--limit", a.limit, "limit"}, std::tuple{"--before", a.before, "before"}}) {
    if (value.empty()) continue;
    Result<int64_t> n = ParsePositiveInt(value, flag);
    if (!n.ok()) return c.UsageError(n.status());
    add(key, value);
  }
  if (!a.entity.empty()) add("entity", a.entity);
  if (!a.actor.empty()) add("actor", a.actor);
  auto reply = c.api.Call("GET", "/api/v1/audit" + query);
  if (!reply.ok()) return c.Fail(reply.status());
  if (a.json) return c.PrintRaw(*reply);
  const json::object* o = reply->json.if_object();
  const json::value* list = o ? o->if_contains("entries") : nullptr;
  if (list == nullptr || !list->is_array()) {
    return c.Fail(Internal("unexpected answer: no \"entries\" list"));
  }
  std::vector<Row> rows;
  for (const json::value& v : list->as_array()) {
    if (!v.is_object()) continue;
    const json::object& e = v.as_object();
    std::string actor = Field(e, "actor");
    rows.push_back({Field(e, "seq"), Field(e, "time"), actor == "-" ? "(no valid token)" : actor,
                    Field(e, "entity"), Field(e, "method") + " " + Field(e, "path"),
                    Field(e, "status"), Field(e, "remote")});
  }
  c.out << FormatTable({"SEQ", "TIME", "ACTOR", "ENTITY", "REQUEST", "STATUS", "FROM"}, rows);
  const json::value* next = o->if_contains("next_before");
  if (next != nullptr && next->is_int64()) {
    c.out << "older lines: gpuaas audit --before " << next->as_int64() << "\n";
  }
  return 0;
}

}  // namespace gpuaas::cli
