// The CLI11 definition of every client verb, its flags, help lines and examples.
#include "cmd/cli_parse.h"

#include <CLI/CLI.hpp>

namespace gpuaas::cli {
namespace {

// Adds a verb with its description and an example in the help's footer.
CLI::App* Verb(CLI::App* parent, const char* name, const char* description, const char* example) {
  CLI::App* sub = parent->add_subcommand(name, description);
  sub->footer(std::string("Example:\n  ") + example);
  return sub;
}

void AddJobId(CLI::App* sub, ClientArgs* a) {
  sub->add_option("ID", a->id, "the job's id")->required();
}

// The verbs of later versions: accepted so that they say so, with any arguments.
void AddNotYet(CLI::App* app, const char* name, const char* description) {
  CLI::App* sub = app->add_subcommand(name, description);
  sub->allow_extras();
  sub->set_help_flag();
}

// Builds the whole command tree; each parsed verb sets args->verb through its callback.
void Define(CLI::App* app, ClientArgs* a) {
  app->add_option("--url", a->url, "server URL (env GPUAAS_URL, default http://127.0.0.1:8080)")
      ->type_name("URL");
  app->add_option("--token", a->token, "API token (env GPUAAS_TOKEN)")->type_name("T");
  app->add_option("--ca-file", a->ca_file,
                  "https: PEM file of the CA(s) of the server's certificate (env GPUAAS_CA_FILE; "
                  "default: the system's CAs)")
      ->type_name("FILE");
  app->add_flag("--json", a->json, "print exactly one JSON document on stdout");
  // Global flags belong before the verb (the contract), but a --json or --url typed after it is
  // accepted too rather than rejected; subcommands inherit this setting when created.
  app->fallthrough();
  auto set_verb = [a](CLI::App* sub, std::string verb) {
    sub->final_callback([a, verb] { a->verb = verb; });
  };

  CLI::App* entity = app->add_subcommand("entity", "manage entities (tenants)");
  entity->require_subcommand(1);
  CLI::App* s = Verb(entity, "create", "create an entity (platform-admin)",
                     "gpuaas entity create acme --quota h200=8,l40s=4");
  s->add_option("NAME", a->name, "the entity's name ([a-z0-9][a-z0-9._-]*)")->required();
  s->add_option("--quota", a->quota, "GPUs per class it may use at once, e.g. h200=8,l40s=4")
      ->type_name("SPEC");
  s->add_option("--guarantee", a->guarantee,
                "GPUs per class always obtainable (borrowers are preempted), e.g. h200=4")
      ->type_name("SPEC");
  s->add_option("--shares", a->shares, "fair-share weight (default 1)")->type_name("N");
  set_verb(s, "entity create");
  s = Verb(entity, "list", "list the entities you can see", "gpuaas entity list");
  set_verb(s, "entity list");

  CLI::App* user = app->add_subcommand("user", "manage users");
  user->require_subcommand(1);
  s = Verb(user, "create", "create a user and print its first token (shown once)",
           "gpuaas user create alice --entity acme --role member");
  s->add_option("NAME", a->name, "the user's name")->type_name("E")->required();
  s->add_option("--entity", a->entity, "the user's entity")->type_name("E")->required();
  s->add_option("--role", a->role, "member (default), entity-admin or platform-admin")
      ->type_name("ROLE");
  set_verb(s, "user create");
  s = Verb(user, "list", "list the users you can see", "gpuaas user list");
  set_verb(s, "user list");
  s = Verb(user, "role",
           "change USER's role (not for accounts whose role follows directory groups)",
           "gpuaas user role alice entity-admin");
  s->add_option("USER", a->name, "the user's name")->required();
  s->add_option("ROLE", a->role, "member, entity-admin or platform-admin")->required();
  set_verb(s, "user role");
  s = Verb(user, "disable",
           "disable USER (someone leaves): its tokens are refused at once (open notebook sockets "
           "too) and it cannot sign in; its usage and invoices stay, and its jobs go on unless "
           "--cancel-jobs",
           "gpuaas user disable alice --cancel-jobs");
  s->add_option("USER", a->name, "the user's name")->required();
  s->add_flag("--cancel-jobs", a->cancel_jobs,
              "also cancel its unfinished jobs (queued, starting, running), in the same step");
  set_verb(s, "user disable");
  s = Verb(user, "enable", "enable USER again (its tokens work again)", "gpuaas user enable alice");
  s->add_option("USER", a->name, "the user's name")->required();
  set_verb(s, "user enable");

  CLI::App* group = app->add_subcommand(
      "group", "map the company directory's groups to entities (single sign-on)");
  group->require_subcommand(1);
  s = Verb(group, "add",
           "give a directory group access: its people get an account in the entity at their "
           "first sign-in, as ROLE (their role then follows their groups)",
           "gpuaas group add /bank/risk-ml --entity risk --role member");
  s->add_option("GROUP", a->name, "the group, exactly as the provider's groups claim says it")
      ->required();
  s->add_option("--entity", a->entity, "the entity it gives access to")->type_name("E")->required();
  s->add_option("--role", a->role, "member (default) or entity-admin")->type_name("ROLE");
  set_verb(s, "group add");
  s = Verb(group, "list", "list the group mappings you administer", "gpuaas group list");
  set_verb(s, "group list");
  s = Verb(group, "remove",
           "remove a group mapping (accounts it made are refused at their next sign-in unless "
           "another of their groups gives access)",
           "gpuaas group remove 3");
  s->add_option("ID", a->id, "the mapping's id (gpuaas group list)")->required();
  set_verb(s, "group remove");

  CLI::App* token = app->add_subcommand("token", "manage API tokens");
  token->require_subcommand(1);
  s = Verb(token, "create", "create a new token for USER (old tokens stay valid until revoked)",
           "gpuaas token create alice --expires-in 90d");
  s->add_option("USER", a->name, "the user's name")->required();
  s->add_option("--expires-in", a->expires_in,
                "the token expires after this long: 12h, 90d (default: the platform's maximum "
                "lifetime, or never)")
      ->type_name("DURATION");
  set_verb(s, "token create");
  s = Verb(token, "list", "list USER's tokens: ids and creation times (never the secrets)",
           "gpuaas token list alice");
  s->add_option("USER", a->name, "the user's name")->required();
  set_verb(s, "token list");
  s = Verb(token, "revoke",
           "revoke one of USER's tokens, or all of them (someone leaves, a token leaked); "
           "refused from the next request on",
           "gpuaas token revoke alice 12    |    gpuaas token revoke alice --all");
  s->add_option("USER", a->name, "the user's name")->required();
  s->add_option("ID", a->id, "the token's id (gpuaas token list USER)");
  s->add_flag("--all", a->all, "every token of USER");
  set_verb(s, "token revoke");

  s = Verb(app, "whoami", "show the user and entity of the token", "gpuaas whoami");
  set_verb(s, "whoami");

  s = Verb(app, "login",
           "sign the CLI in through the portal: shows a code, you approve it on the portal's "
           "/device page (signed in as usual, e.g. single sign-on), and the session token is "
           "saved for this --url (~/.config/gpuaas/login.json, 0600)",
           "gpuaas --url https://gpuaas.bank.example login\n"
           "  export GPUAAS_TOKEN=$(gpuaas login --print-token)   # for one shell, not saved");
  s->add_flag("--print-token", a->print_token, "print the token on stdout instead of saving it");
  set_verb(s, "login");
  s = Verb(app, "logout", "end the saved login: its token is revoked and forgotten",
           "gpuaas logout");
  set_verb(s, "logout");

  s = Verb(app, "submit", "submit a job, notebook, service or allocation",
           "gpuaas submit --name train --gpus 2 --gpu-type h200 --walltime 2h -- python "
           "train.py\n  gpuaas submit --kind notebook --gpus 1 --gpu-type l40s");
  s->add_option("--kind", a->kind, "job (default), notebook, service or allocation")
      ->type_name("KIND");
  s->add_option("--name", a->name, "the job's name (default: the command's first word)")
      ->type_name("NAME");
  s->add_option("--gpus", a->gpus, "number of GPUs (default 1)")->type_name("N");
  s->add_option("--gpu-type", a->gpu_type,
                "acceptable GPU classes in order of preference: h200, l40s or h200,l40s")
      ->type_name("CLASSES");
  s->add_option("--walltime", a->walltime, "time limit: 90s, 30m, 2h, 1d (default: 24h)")
      ->type_name("DURATION");
  s->add_option("--cpus", a->cpus, "host CPU cores (default: 8 per GPU, per the platform)")
      ->type_name("N");
  s->add_option("--memory-gb", a->memory_gb,
                "host memory in GiB; over it the job is killed (default: 64 per GPU)")
      ->type_name("N");
  s->add_option("--env", a->env, "the software environment, e.g. pytorch (gpuaas environments)")
      ->type_name("NAME");
  s->add_option("--workspace", a->workspace,
                "the entity workspace in the job: rw (default), ro or none")
      ->type_name("MODE");
  s->add_option("--secret", a->secrets, "put this entity secret in the job's environment")
      ->type_name("NAME");
  s->add_option("--entity", a->entity, "the entity to bill (platform-admin only)")->type_name("E");
  s->add_option("--priority", a->priority,
                "priority class: production, standard (default), best-effort")
      ->type_name("CLASS");
  s->add_option("--project", a->project, "a project label shown on the invoice")->type_name("P");
  s->add_flag("--requeue", a->requeue, "resubmit automatically if the job is preempted");
  s->add_flag("--no-fallback", a->no_fallback, "run only on the first class of --gpu-type");
  s->add_option("CMD", a->command, "the command and its arguments, after --");
  set_verb(s, "submit");

  s = Verb(app, "estimate", "where and when a request would start, and its price",
           "gpuaas estimate --gpus 4 --gpu-type h200 --walltime 8h");
  s->add_option("--entity", a->entity, "the entity (platform-admin only)")->type_name("E");
  s->add_option("--gpus", a->gpus, "number of GPUs (default 1)")->type_name("N");
  s->add_option("--gpu-type", a->gpu_type, "acceptable GPU classes, e.g. h200,l40s")
      ->type_name("CLASSES");
  s->add_option("--walltime", a->walltime, "time limit: 90s, 30m, 2h, 1d")->type_name("DURATION");
  set_verb(s, "estimate");

  s = Verb(app, "jobs", "list jobs (all pages, up to --limit)",
           "gpuaas jobs --state running --entity acme");
  s->add_option("--state", a->state, "only jobs in this state (queued, running, ...)")
      ->type_name("STATE");
  s->add_option("--entity", a->entity, "only jobs of this entity")->type_name("E");
  s->add_option("--limit", a->limit, "at most this many jobs (default 1000)")->type_name("N");
  set_verb(s, "jobs");

  s = Verb(app, "job", "show one job", "gpuaas job 12");
  AddJobId(s, a);
  set_verb(s, "job");
  s = Verb(
      app, "logs", "print a job's stdout and stderr (plain text)",
      "gpuaas logs 12\n  gpuaas logs 12 --rank 1   # a multi-node job: the part on its 2nd node");
  AddJobId(s, a);
  s->add_option("--rank", a->rank,
                "a multi-node job's part: 0 (the default) is the first node's, 1 the next...")
      ->type_name("N");
  set_verb(s, "logs");
  s = Verb(app, "cancel", "cancel a job", "gpuaas cancel 12");
  AddJobId(s, a);
  set_verb(s, "cancel");
  s = Verb(app, "wait", "wait until a job is in a final state", "gpuaas wait 12 --timeout 600");
  AddJobId(s, a);
  s->add_option("--timeout", a->timeout, "give up after this many seconds (exit 1)")
      ->type_name("SECONDS");
  set_verb(s, "wait");

  s = Verb(app, "nodes", "list the nodes and their GPUs", "gpuaas nodes");
  set_verb(s, "nodes");

  CLI::App* node = app->add_subcommand("node", "operator actions on a node (platform-admin)");
  node->require_subcommand(1);
  for (const auto& [verb, what] : std::vector<std::pair<std::string, std::string>>{
           {"cordon", "no new jobs on the node"},
           {"drain", "no new jobs; running ones finish"},
           {"resume", "the node takes jobs again"}}) {
    const std::string example = "gpuaas node " + verb + " demo-h200-0";
    s = Verb(node, verb.c_str(), what.c_str(), example.c_str());
    s->add_option("NAME", a->name, "the node's name")->required();
    set_verb(s, "node " + verb);
  }

  s = Verb(app, "environments", "the environment catalogue (images a job may run in)",
           "gpuaas environments");
  set_verb(s, "environments");
  CLI::App* secret = app->add_subcommand("secret", "entity secrets (entity-admin)");
  secret->require_subcommand(1);
  s = Verb(secret, "set", "create or replace a secret; its value is read from stdin",
           "printf %s \"$TOKEN\" | gpuaas secret set --entity acme REGISTRY_TOKEN");
  s->add_option("--entity", a->entity, "the entity")->type_name("E")->required();
  s->add_option("NAME", a->name, "the secret's name (an environment variable name)")->required();
  set_verb(s, "secret set");
  s = Verb(secret, "list", "the names of an entity's secrets", "gpuaas secret list --entity acme");
  s->add_option("--entity", a->entity, "the entity")->type_name("E")->required();
  set_verb(s, "secret list");
  s = Verb(secret, "delete", "delete a secret",
           "gpuaas secret delete --entity acme REGISTRY_TOKEN");
  s->add_option("--entity", a->entity, "the entity")->type_name("E")->required();
  s->add_option("NAME", a->name, "the secret's name")->required();
  set_verb(s, "secret delete");

  s = Verb(app, "audit",
           "the audit trail: who changed what, and who was refused (admins); or check a copy of "
           "its file",
           "gpuaas audit --entity acme --limit 20    |    gpuaas audit --verify audit.log");
  s->add_option("--entity", a->entity, "only the lines of this entity's users")->type_name("E");
  s->add_option("--actor", a->actor, "only the lines of this user")->type_name("USER");
  s->add_option("--limit", a->limit, "at most this many lines, newest first (default 100)")
      ->type_name("N");
  s->add_option("--before", a->before, "only lines numbered below SEQ (the next page)")
      ->type_name("SEQ");
  s->add_option("--verify", a->verify,
                "check the hash chain of an audit file (a local copy; no server needed)")
      ->type_name("FILE");
  set_verb(s, "audit");

  s = Verb(app, "usage", "GPU time and cost per entity",
           "gpuaas usage --entity acme --from 2026-11-01 --to 2026-12-01");
  s->add_option("--entity", a->entity, "only this entity")->type_name("E");
  s->add_option("--from", a->from, "start: YYYY-MM-DD or RFC 3339 (default: start of month)")
      ->type_name("DATE");
  s->add_option("--to", a->to, "end: YYYY-MM-DD or RFC 3339 (default: now)")->type_name("DATE");
  set_verb(s, "usage");

  s = Verb(app, "fairshare",
           "where each entity stands in the fair-share order: usage, the delay its jobs carry",
           "gpuaas fairshare");
  set_verb(s, "fairshare");

  s = Verb(app, "invoice", "an entity's invoice for a month",
           "gpuaas invoice --entity acme --month 2026-11 --format csv");
  s->add_option("--entity", a->entity, "the entity")->type_name("E")->required();
  s->add_option("--month", a->month, "the month, YYYY-MM")->type_name("YYYY-MM")->required();
  s->add_option("--format", a->format, "json or csv (default: a table, or JSON with --json)")
      ->type_name("FORMAT");
  set_verb(s, "invoice");

  s = Verb(app, "size",
           "how many GPUs, hours and euros a training or fine-tuning run (or an inference "
           "service) takes, per class, and when it could start",
           "gpuaas size --method lora --params 8B --tokens 200M --epochs 3\n"
           "  gpuaas size --method full --params 7B --tokens 2B --gpu-type h200\n"
           "  gpuaas size --method inference --params 70B --precision fp8 --concurrency 32 "
           "--hours 720");
  s->add_option("--method", a->method,
                "full (every weight, AdamW), lora, qlora (4-bit frozen weights) or inference (a "
                "service); default full")
      ->type_name("M");
  s->add_option("--params", a->params, "the model's parameters: 7B, 350M, 70e9")
      ->type_name("N")
      ->required();
  s->add_option("--tokens", a->tokens, "training tokens per epoch: 500M, 2B (training)")
      ->type_name("N");
  s->add_option("--epochs", a->epochs, "passes over the data (default 1)")->type_name("N");
  s->add_option("--seq-len", a->seq_len, "tokens per sequence (default 4096)")->type_name("N");
  s->add_option("--micro-batch", a->micro_batch, "sequences per GPU per step (default 1)")
      ->type_name("N");
  s->add_option("--mfu", a->mfu, "model FLOPs utilisation, 0.01 to 1 (default 0.35)")
      ->type_name("X");
  s->add_option("--precision", a->precision, "inference: bf16 (default), fp8 or int4 weights")
      ->type_name("P");
  s->add_option("--concurrency", a->concurrency, "inference: requests served at once (default 16)")
      ->type_name("N");
  s->add_option("--hours", a->hours, "inference: how long it runs, in hours (default 720)")
      ->type_name("H");
  s->add_option("--gpu-type", a->gpu_type, "only these classes, e.g. h200 or h200,l40s")
      ->type_name("CLASSES");
  s->add_option("--entity", a->entity, "the entity (platform-admin only)")->type_name("E");
  set_verb(s, "size");

  AddNotYet(app, "simulate", "replay a job trace through the scheduler (not available yet)");
  AddNotYet(app, "plan", "capacity planning (not available yet)");
  AddNotYet(app, "trace", "trace tools (not available yet)");
  for (const char* name : {"simulate", "plan", "trace"}) {
    CLI::App* sub = app->get_subcommand(name);
    sub->final_callback([a, name] { a->verb = name; });
  }
}

// "entity create": the chain of subcommands the parser entered.
std::string ParsedVerb(CLI::App& app) {
  std::string verb;
  for (CLI::App* sub = app.get_subcommands().empty() ? nullptr : app.get_subcommands()[0];
       sub != nullptr; sub = sub->get_subcommands().empty() ? nullptr : sub->get_subcommands()[0]) {
    verb += (verb.empty() ? "" : " ") + sub->get_name();
  }
  return verb;
}

}  // namespace

std::string UsageHint(const std::string& verb) {
  return "Run 'gpuaas " + (verb.empty() ? std::string() : verb + " ") + "--help' for usage.";
}

std::string OverviewText() {
  return R"(gpuaas: GPU as a Service — server, node agent and command-line client.

Usage: gpuaas [--url URL] [--token T] [--ca-file FILE] [--json] COMMAND [ARGS...]
       gpuaas server [--listen HOST:PORT] [--data-dir DIR] [--demo-gpus SPEC] [--config FILE]
       gpuaas agent ...

Processes:
  server             run the control plane (REST API, scheduler, portal)
  agent              run a node agent on a GPU server
  db copy --from A --to B   move the database offline, e.g. SQLite to PostgreSQL (--help)

Client commands:
  entity create NAME [--quota h200=N,l40s=M]   create an entity (platform-admin)
  entity list                                  list entities
  user create NAME --entity E [--role R]       create a user; prints its token once
  user list                                    list users
  user role USER ROLE | disable|enable USER    change a role; someone leaves (or comes back)
  group add GROUP --entity E [--role R]        a directory group gives access to E (SSO)
  group list | remove ID                       the group mappings; remove one
  token create USER                            create a new token for a user
  token list|revoke USER [ID|--all]            a user's tokens; revoke one or all
  whoami                                       show the token's user and entity
  login [--print-token] | logout               sign the CLI in through the portal (saved token)
  submit [FLAGS] -- CMD [ARGS...]              submit a job, notebook, service or allocation
  estimate [--gpus N] [--gpu-type T] [...]     where and when a request would start, its price
  jobs [--state S] [--entity E] [--limit N]    list jobs
  job ID                                       show a job
  logs ID                                      print a job's output
  cancel ID                                    cancel a job
  wait ID [--timeout SECONDS]                  wait for a job to finish
  nodes                                        list nodes and their GPUs
  node cordon|drain|resume NAME                operator actions on a node (platform-admin)
  usage [--entity E] [--from D] [--to D]       GPU time and cost per entity
  fairshare                                    each entity's fair-share usage, delay, wait ratio
  invoice --entity E --month YYYY-MM           an entity's monthly invoice (--format json|csv)
  environments                                 the environments a job may run in (--env NAME)
  secret set|list|delete --entity E [NAME]     entity secrets (set reads the value from stdin)
  audit [--entity E] [--actor U] [--verify F]  the audit trail (admins); check a copy of its file
  simulate --trace F --cluster S --policy P    replay a trace through the scheduler (--help)
  trace generate|import|export                 make traces: synthetic, from sacct, from the platform
  plan --trace F --cluster S --try S2          compare fleets; cheapest meeting a p95 wait (--help)
  size --params N --tokens N [--method M]      GPUs, hours, euros and start of a training run
                                               (or --method inference: of a service)

Global flags (before the command):
  --url URL          server URL (env GPUAAS_URL, default http://127.0.0.1:8080)
  --token T          API token (env GPUAAS_TOKEN)
  --ca-file FILE     https: the CA(s) of the server's certificate, PEM (env GPUAAS_CA_FILE;
                     default: the system's CAs)
  --json             print exactly one JSON document on stdout
  --help             this overview; 'gpuaas COMMAND --help' for a command's flags
  --version          print the version

Durations: 90s, 30m, 2h, 1d (a bare number is seconds). Exit codes: 0 ok, 1 error, 2 usage.

Example:
  export GPUAAS_TOKEN=$(cat gpuaas-data/admin.token)
  gpuaas submit --gpus 2 --gpu-type h200 --walltime 2h -- python train.py
)";
}

ParseOutcome ParseClientArgs(int argc, char** argv, const ClientEnv& env, std::ostream& out,
                             std::ostream& err) {
  ParseOutcome outcome;
  ClientArgs& a = outcome.args;
  CLI::App app("gpuaas client", "gpuaas");
  Define(&app, &a);
  app.require_subcommand(0, 1);
  try {
    app.parse(argc, argv);
  } catch (const CLI::CallForHelp& e) {
    if (app.get_subcommands().empty()) {
      out << OverviewText();
    } else {
      app.exit(e, out, err);
    }
    outcome.exit_code = 0;
    return outcome;
  } catch (const CLI::CallForAllHelp& e) {
    out << OverviewText();
    return outcome;
  } catch (const CLI::ExtrasError& e) {
    if (app.get_subcommands().empty()) {
      const std::vector<std::string> extras = app.remaining();
      err << "error: unknown command '" << (extras.empty() ? std::string("?") : extras[0]) << "'\n"
          << UsageHint("") << "\n";
      outcome.exit_code = 2;
      return outcome;
    }
    err << "error: " << e.what() << "\n" << UsageHint(ParsedVerb(app)) << "\n";
    outcome.exit_code = 2;
    return outcome;
  } catch (const CLI::ParseError& e) {
    std::string verb = ParsedVerb(app);
    err << "error: " << e.what() << "\n" << UsageHint(verb) << "\n";
    outcome.exit_code = 2;
    return outcome;
  }
  if (a.verb.empty()) {
    err << "error: no command given\n" << UsageHint("") << "\n";
    outcome.exit_code = 2;
    return outcome;
  }
  // Flags first, then the environment, then the saved login (for its own server only).
  if (a.url.empty()) {
    a.url = !env.url.empty() ? env.url : !env.saved.url.empty() ? env.saved.url : kDefaultUrl;
  }
  const bool saved = !env.saved.url.empty() && SameServer(a.url, env.saved.url);
  if (a.token.empty()) a.token = !env.token.empty() ? env.token : saved ? env.saved.token : "";
  if (a.ca_file.empty()) {
    a.ca_file = !env.ca_file.empty() ? env.ca_file : saved ? env.saved.ca_file : "";
  }
  outcome.run = true;
  return outcome;
}

}  // namespace gpuaas::cli
