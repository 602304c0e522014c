// `gpuaas group add|list|remove`: the directory group mappings of single sign-on
// (docs/adr/0024; /api/v1/group-mappings).
#include <boost/json.hpp>

#include "cmd/cli_format.h"
#include "cmd/cli_input.h"
#include "cmd/cli_verbs.h"

namespace gpuaas::cli {

namespace json = boost::json;

int RunGroupAdd(const VerbContext& c) {
  const ClientArgs& a = c.args;
  if (a.name.empty() || a.name.size() > 256) {
    return c.UsageError(InvalidArgument("GROUP must have 1 to 256 characters"));
  }
  if (!IsValidName(a.entity)) {
    return c.UsageError(InvalidArgument("--entity '" + a.entity + "' is not a valid name"));
  }
  const std::string role = a.role.empty() ? "member" : a.role;
  if (Status s = ValidateChoice(role, "--role", {"member", "entity-admin"}); !s.ok()) {
    return c.UsageError(s);
  }
  json::object body{{"group", a.name}, {"entity", a.entity}, {"role", role}};
  auto reply = c.api.Call("POST", "/api/v1/group-mappings", body);
  if (!reply.ok()) return c.Fail(reply.status());
  if (a.json || !reply->json.is_object()) return c.PrintRaw(*reply);
  const json::object& m = reply->json.as_object();
  c.out << "group mapping " << Field(m, "id") << ": members of '" << Field(m, "group")
        << "' sign in as " << Field(m, "role") << " of " << Field(m, "entity") << "\n";
  return 0;
}

int RunGroupList(const VerbContext& c) {
  auto reply = c.api.Call("GET", "/api/v1/group-mappings");
  if (!reply.ok()) return c.Fail(reply.status());
  if (c.args.json) return c.PrintRaw(*reply);
  const json::array* list = ListOf(reply->json, "group_mappings");
  if (list == nullptr) return c.BadShape("\"group_mappings\" list");
  std::vector<Row> rows;
  for (const json::value& v : *list) {
    if (!v.is_object()) continue;
    const json::object& m = v.as_object();
    rows.push_back({Field(m, "id"), Field(m, "group"), Field(m, "entity"), Field(m, "role"),
                    Field(m, "created_by"), Field(m, "created_at")});
  }
  c.out << FormatTable({"ID", "GROUP", "ENTITY", "ROLE", "BY", "CREATED"}, rows);
  return 0;
}

int RunGroupRemove(const VerbContext& c) {
  Result<int64_t> id = ParsePositiveInt(c.args.id, "ID");
  if (!id.ok()) return c.UsageError(id.status());
  auto reply = c.api.Call("DELETE", "/api/v1/group-mappings/" + std::to_string(*id));
  if (!reply.ok()) return c.Fail(reply.status());
  if (c.args.json) return c.PrintJson(json::object{{"removed", *id}});
  c.out << "group mapping " << *id << " removed\n";
  return 0;
}

}  // namespace gpuaas::cli
