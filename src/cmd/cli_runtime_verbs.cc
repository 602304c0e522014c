// Verbs of the container runtime: `environments` (the catalogue) and `secret set|list|delete`
// (entity secrets; the value is read from stdin, never from the command line, which any local
// user can read with ps).
#include <iostream>
#include <iterator>

#include <boost/json.hpp>

#include "cmd/cli_format.h"
#include "cmd/cli_input.h"
#include "cmd/cli_verbs.h"

namespace gpuaas::cli {

namespace json = boost::json;

namespace {

std::string SecretsPath(const ClientArgs& a) {
  return "/api/v1/entities/" + UrlEncode(a.entity) + "/secrets";
}

}  // namespace

int RunEnvironments(const VerbContext& c) {
  auto reply = c.api.Call("GET", "/api/v1/environments");
  if (!reply.ok()) return c.Fail(reply.status());
  if (c.args.json) return c.PrintRaw(*reply);
  const json::array* list = ListOf(reply->json, "environments");
  if (list == nullptr) return c.Fail(Internal("unexpected answer: no \"environments\" list"));
  std::vector<Row> rows;
  for (const json::value& v : *list) {
    if (!v.is_object()) continue;
    const json::object& e = v.as_object();
    rows.push_back({Field(e, "name"), Field(e, "image"), Field(e, "description")});
  }
  c.out << FormatTable({"NAME", "IMAGE", "DESCRIPTION"}, rows);
  return 0;
}

int RunSecretSet(const VerbContext& c) {
  const ClientArgs& a = c.args;
  if (a.entity.empty()) return c.UsageError(InvalidArgument("--entity is required"));
  std::string value((std::istreambuf_iterator<char>(std::cin)), std::istreambuf_iterator<char>());
  while (!value.empty() && (value.back() == '\n' || value.back() == '\r')) value.pop_back();
  if (value.empty()) {
    return c.UsageError(InvalidArgument("the secret's value is read from stdin, which was empty"));
  }
  auto reply = c.api.Call("POST", SecretsPath(a), json::object{{"name", a.name}, {"value", value}});
  if (!reply.ok()) return c.Fail(reply.status());
  if (a.json) return c.PrintRaw(*reply);
  c.out << "secret " << a.name << " set for " << a.entity << "\n";
  return 0;
}

int RunSecretList(const VerbContext& c) {
  const ClientArgs& a = c.args;
  if (a.entity.empty()) return c.UsageError(InvalidArgument("--entity is required"));
  auto reply = c.api.Call("GET", SecretsPath(a));
  if (!reply.ok()) return c.Fail(reply.status());
  if (a.json) return c.PrintRaw(*reply);
  const json::array* list = ListOf(reply->json, "secrets");
  if (list == nullptr) return c.Fail(Internal("unexpected answer: no \"secrets\" list"));
  std::vector<Row> rows;
  for (const json::value& v : *list) {
    if (v.is_object()) {
      const json::object& s = v.as_object();
      rows.push_back({Field(s, "name"), Field(s, "size"), Field(s, "created_at")});
    }
  }
  c.out << FormatTable({"NAME", "BYTES", "CREATED"}, rows);
  return 0;
}

int RunSecretDelete(const VerbContext& c) {
  const ClientArgs& a = c.args;
  if (a.entity.empty()) return c.UsageError(InvalidArgument("--entity is required"));
  auto reply = c.api.Call("DELETE", SecretsPath(a) + "/" + UrlEncode(a.name));
  if (!reply.ok()) return c.Fail(reply.status());
  if (a.json) return c.PrintJson(json::object{{"deleted", a.name}});
  c.out << "secret " << a.name << " deleted from " << a.entity << "\n";
  return 0;
}

}  // namespace gpuaas::cli
