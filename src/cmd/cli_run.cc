// RunClientCommand: environment, parsing, and dispatch of the client verbs.
#include <cstdlib>
#include <functional>
#include <iostream>
#include <map>

#include <boost/json.hpp>

#include "cmd/cli_parse.h"
#include "cmd/cli_verbs.h"
#include "cmd/commands.h"

namespace gpuaas {
namespace cli {

int VerbContext::Fail(const Status& s) const {
  err << "error: " << s.message() << "\n";
  return 1;
}

int VerbContext::UsageError(const Status& s) const {
  err << "error: " << s.message() << "\n" << UsageHint(args.verb) << "\n";
  return 2;
}

int VerbContext::PrintJson(const boost::json::value& v) const {
  out << boost::json::serialize(v) << "\n";
  return 0;
}

int VerbContext::BadShape(const char* what) const {
  return Fail(Internal(std::string("unexpected answer from the server: no ") + what));
}

const boost::json::array* ListOf(const boost::json::value& v, const char* key) {
  const boost::json::object* o = v.if_object();
  const boost::json::value* list = o ? o->if_contains(key) : nullptr;
  return list != nullptr && list->is_array() ? &list->as_array() : nullptr;
}

int VerbContext::PrintRaw(const ApiClient::Reply& reply) const {
  size_t end = reply.raw.find_last_not_of(" \t\r\n");
  out << (end == std::string::npos ? std::string("null") : reply.raw.substr(0, end + 1)) << "\n";
  return 0;
}

namespace {

std::string EnvOr(const char* name) {
  const char* v = std::getenv(name);
  return v == nullptr ? "" : v;
}

bool HasHttpScheme(const std::string& url) {
  return url.rfind("http://", 0) == 0 || url.rfind("https://", 0) == 0;
}

}  // namespace
}  // namespace cli

int RunClientCommand(int argc, char** argv) {
  using namespace cli;
  ClientEnv env{EnvOr("GPUAAS_URL"), EnvOr("GPUAAS_TOKEN"), EnvOr("GPUAAS_CA_FILE"), {}};
  if (auto saved = LoadLogin(); !saved.ok()) {
    std::cerr << "warning: " << saved.status().message() << " (not used)\n";
  } else if (*saved) {
    env.saved = **saved;
  }
  ParseOutcome parsed = ParseClientArgs(argc, argv, env, std::cout, std::cerr);
  if (!parsed.run) return parsed.exit_code;
  const ClientArgs& args = parsed.args;

  for (const char* later : {"simulate", "plan", "trace"}) {
    if (args.verb == later) {
      std::cerr << "error: '" << later << "' is not available yet in this version\n";
      return 2;
    }
  }
  if (!HasHttpScheme(args.url)) {
    std::cerr << "error: --url '" << args.url << "' must start with http:// or https://\n"
              << UsageHint("") << "\n";
    return 2;
  }

  const std::map<std::string, std::function<int(const VerbContext&)>> verbs = {
      {"entity create", RunEntityCreate},
      {"entity list", RunEntityList},
      {"user create", RunUserCreate},
      {"user list", RunUserList},
      {"user role", RunUserUpdate},
      {"user disable", RunUserUpdate},
      {"user enable", RunUserUpdate},
      {"group add", RunGroupAdd},
      {"group list", RunGroupList},
      {"group remove", RunGroupRemove},
      {"token create", RunTokenCreate},
      {"token list", RunTokenList},
      {"token revoke", RunTokenRevoke},
      {"whoami", RunWhoami},
      {"login", RunLogin},
      {"logout", RunLogout},
      {"submit", RunSubmit},
      {"estimate", RunEstimate},
      {"size", RunSize},
      {"jobs", RunJobs},
      {"job", RunJob},
      {"logs", RunLogs},
      {"cancel", RunCancel},
      {"wait", RunWait},
      {"nodes", RunNodes},
      {"node cordon", RunNodeAction},
      {"node drain", RunNodeAction},
      {"node resume", RunNodeAction},
      {"usage", RunUsage},
      {"fairshare", RunFairShare},
      {"invoice", RunInvoice},
      {"environments", RunEnvironments},
      {"secret set", RunSecretSet},
      {"secret list", RunSecretList},
      {"secret delete", RunSecretDelete},
      {"audit", RunAudit},
  };
  auto it = verbs.find(args.verb);
  if (it == verbs.end()) {
    std::cerr << "error: unknown command '" << args.verb << "'\n" << UsageHint("") << "\n";
    return 2;
  }
  ApiClient api(args.url, args.token, args.ca_file);
  VerbContext ctx{args, api, std::cout, std::cerr};
  int code = it->second(ctx);
  std::cout.flush();
  return code;
}

}  // namespace gpuaas
