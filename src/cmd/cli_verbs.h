// The client verbs: each validates its inputs (exit 2 on a bad one, before any request), calls
// the API through ApiClient, and prints either friendly text or, with --json, exactly one JSON
// document on stdout. Errors go to stderr as "error: ..." with exit 1.
// Thread-safety: run on one thread (the CLI's main thread).
#pragma once

#include <ostream>
#include <string>

#include <boost/json/value.hpp>

#include "base/status.h"
#include "cmd/cli_api.h"
#include "cmd/cli_parse.h"

namespace gpuaas::cli {

struct VerbContext {
  const ClientArgs& args;
  ApiClient& api;
  std::ostream& out;
  std::ostream& err;

  // "error: MESSAGE" on stderr; returns 1.
  int Fail(const Status& s) const;
  // "error: MESSAGE" and the verb's usage hint on stderr; returns 2.
  int UsageError(const Status& s) const;
  // One JSON document (compact) and a newline on stdout; returns 0.
  int PrintJson(const boost::json::value& v) const;
  // The server's JSON as it sent it (trailing whitespace trimmed) and a newline; returns 0.
  int PrintRaw(const ApiClient::Reply& reply) const;
  // "error: unexpected answer from the server: no WHAT"; returns 1.
  int BadShape(const char* what) const;
};

// The array `key` of a list answer ({"entities": [...]}), or null when the shape is wrong.
const boost::json::array* ListOf(const boost::json::value& v, const char* key);

// Admin and reporting verbs (cli_admin_verbs.cc).
int RunEntityCreate(const VerbContext& c);
int RunEntityList(const VerbContext& c);
int RunUserCreate(const VerbContext& c);
int RunUserList(const VerbContext& c);
// `user role USER ROLE`, `user disable USER`, `user enable USER`.
int RunUserUpdate(const VerbContext& c);
// `group add|list|remove`: directory group mappings (cli_group_verbs.cc).
int RunGroupAdd(const VerbContext& c);
int RunGroupList(const VerbContext& c);
int RunGroupRemove(const VerbContext& c);
int RunTokenCreate(const VerbContext& c);
int RunTokenList(const VerbContext& c);
int RunTokenRevoke(const VerbContext& c);
int RunWhoami(const VerbContext& c);
// `login`, `logout`: the device login and the saved token (cli_login.cc).
int RunLogin(const VerbContext& c);
int RunLogout(const VerbContext& c);
int RunNodes(const VerbContext& c);
// `node cordon|drain|resume NAME`.
int RunNodeAction(const VerbContext& c);
int RunUsage(const VerbContext& c);
int RunFairShare(const VerbContext& c);
int RunInvoice(const VerbContext& c);

// Job verbs (cli_job_verbs.cc, cli_wait.cc).
int RunSubmit(const VerbContext& c);
int RunEstimate(const VerbContext& c);
// `size` (cli_size_verb.cc).
int RunSize(const VerbContext& c);
int RunJobs(const VerbContext& c);
int RunJob(const VerbContext& c);
int RunLogs(const VerbContext& c);
int RunCancel(const VerbContext& c);
int RunWait(const VerbContext& c);

// Container runtime verbs (cli_runtime_verbs.cc): environments, secret set|list|delete.
int RunEnvironments(const VerbContext& c);
int RunSecretSet(const VerbContext& c);
int RunAudit(const VerbContext& c);  // cli_audit_verb.cc
int RunSecretList(const VerbContext& c);
int RunSecretDelete(const VerbContext& c);

// The human form of one job ("key: value" lines in the contract's order).
std::string FormatJob(const boost::json::object& job);

}  // namespace gpuaas::cli
