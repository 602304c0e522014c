// Command-line parsing of the client CLI (`gpuaas [GLOBAL FLAGS] VERB ...`) into ClientArgs.
// The only file that includes CLI11 (slow to compile) is cli_parse.cc. Parsing only checks the
// shape of the line (known verbs and flags, required positionals); the values are validated by
// the verbs (cli_input.h) so that every check gives the same kind of message.
// Thread-safety: plain functions; ParseClientArgs writes help and errors to the given streams.
#pragma once

#include <ostream>
#include <string>
#include <vector>

#include "cmd/cli_credentials.h"

namespace gpuaas::cli {

// Values from the environment (GPUAAS_URL, GPUAAS_TOKEN, GPUAAS_CA_FILE) and the saved login;
// flags override the environment, which overrides the saved login.
struct ClientEnv {
  std::string url;
  std::string token;
  std::string ca_file;
  SavedLogin saved;  // `gpuaas login`'s, if any (cli_credentials.h)
};

// A parsed client command line. Option values are kept as given; "" means "not given".
struct ClientArgs {
  // Global flags (before the verb).
  std::string url;
  std::string token;
  std::string ca_file;  // https: the CA(s) of the server's certificate ("" = the system's)
  bool json = false;
  // The verb, with its group for two-word verbs: "entity create", "submit", "jobs", ...
  std::string verb;
  // Positionals.
  std::string name;                  // entity create NAME, user create NAME, token create USER
  std::string id;                    // job/logs/cancel/wait ID, token revoke USER ID
  bool all = false;                  // token revoke USER --all
  bool cancel_jobs = false;          // user disable USER --cancel-jobs
  bool print_token = false;          // login --print-token
  std::string expires_in;            // token create USER --expires-in 90d
  std::vector<std::string> command;  // submit -- CMD [ARGS...]
  // Options.
  std::string quota, entity, role, kind, gpus, gpu_type, walltime, env, state, limit, from, to,
      month, format, timeout, guarantee, shares, priority, project;
  std::string rank;                   // logs --rank N (a multi-node job's part)
  std::string actor, before, verify;  // audit --actor U --before SEQ --verify FILE
  bool requeue = false, no_fallback = false;
  std::string cpus, memory_gb;       // submit --cpus N --memory-gb N
  std::string workspace;             // submit --workspace rw|ro|none
  std::vector<std::string> secrets;  // submit --secret NAME (repeatable)
  // size --method M --params N --tokens N --epochs N --seq-len N --micro-batch N --mfu X
  std::string method, params, tokens, epochs, seq_len, micro_batch, mfu;
  std::string precision, concurrency, hours;  // size --method inference
};

struct ParseOutcome {
  bool run = false;   // true: `args` holds a verb to run
  int exit_code = 0;  // when !run: 0 after help was printed, 2 after a usage error
  ClientArgs args;
};

inline constexpr const char* kDefaultUrl = "http://127.0.0.1:8080";

// Parses argv (argv[0] is the program name). Prints help to `out`, usage errors to `err`.
ParseOutcome ParseClientArgs(int argc, char** argv, const ClientEnv& env, std::ostream& out,
                             std::ostream& err);

// `gpuaas --help`: every command (server, agent and each client verb) with one line each.
std::string OverviewText();

// "Run 'gpuaas submit --help' for usage." ("gpuaas --help" when verb is empty).
std::string UsageHint(const std::string& verb);

}  // namespace gpuaas::cli
