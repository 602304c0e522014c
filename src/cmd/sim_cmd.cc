// `gpuaas simulate` and `gpuaas trace generate`: wire flags, files, stdout/stderr and the real
// clock (progress and timing on stderr only) to the simulator library (src/sim). The results on
// stdout depend only on the trace, the cluster and the flags.
#include "cmd/sim_cmd.h"

#include <CLI/CLI.hpp>
#include <cctype>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <iostream>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include <filesystem>
#include <map>
#include "base/time.h"
#include "cmd/cli_api.h"
#include "cmd/usage_exit.h"
#include "model/gpu_class.h"

#include "sim/class_mix.h"
#include "sim/cluster_spec.h"
#include "sim/forecast.h"
#include "sim/ledger_export.h"
#include "sim/plan.h"
#include "sim/planning_report.h"
#include "sim/report.h"
#include "sim/results_format.h"
#include "sim/sacct_import.h"
#include "sim/simulator.h"
#include "sim/trace.h"
#include "sim/trace_generator.h"
#include "sim/walltime_model.h"
#include "store/pg_db.h"
#include "store/sqlite_db.h"
#include "store/store_rows.h"

namespace gpuaas {
namespace {

using SteadyClock = std::chrono::steady_clock;

double SecondsSince(SteadyClock::time_point t0) {
  return std::chrono::duration<double>(SteadyClock::now() - t0).count();
}

std::vector<std::string> SplitComma(const std::string& s) {
  std::vector<std::string> out;
  size_t start = 0;
  while (start <= s.size()) {
    size_t comma = s.find(',', start);
    if (comma == std::string::npos) comma = s.size();
    if (comma > start) out.push_back(s.substr(start, comma - start));
    start = comma + 1;
  }
  return out;
}

int Fail(const std::string& message, int code = 1) {
  std::cerr << "error: " << message << "\n";
  return code;
}

std::string PolicyList() {
  std::string s;
  for (const std::string& p : sim::SimPolicyNames()) s += (s.empty() ? "" : ", ") + p;
  return s;
}

// The help of --set (simulate and plan).
constexpr const char* kSetHelp =
    "what-if on the scheduler's knobs (repeatable): "
    "queue_order=fifo|priority|fair-share|sjf-oracle|sjf-request, backfill=true|false, "
    "reservations=N, strict_order=true|false, fair_share_half_life_s=N, "
    "fair_share_usage_delay_s=N (0 = the strict order by usage), "
    "small_first_delay_factor=F (a request counts as submitted F x its GPU-seconds / the "
    "cluster's GPUs later; 0 = arrival order within a tier), small_first_rate=R (a fixed "
    "rate instead: GPU-seconds per second of waiting), small_first_cap_s=N, "
    "fair_share_wait_floor_s=N, fair_share_wait_ratio=R (0 = off), "
    "fair_share_wait_horizon_s=N (0 = the waits so far), fair_share_wait_rank_half_life_s=N "
    "(0 = the whole history), "
    "faster_class_wait_ratio=R, faster_class_patience_extra_s=N (0 = off) "
    "(docs/scheduling.md); results are "
    "named e.g. default[reservations=0]";

// --set KEY=VALUE items into `options` (checked by the replay: sim::SimOptions) and
// --default-walltime; answers the results' name suffix ("[k=v,...]", or empty).
Result<std::string> ApplySimSettings(const std::vector<std::string>& settings,
                                     const std::string& default_walltime,
                                     sim::SimOptions* options) {
  if (!default_walltime.empty()) {
    auto w = ParseDurationSeconds(default_walltime);
    if (!w.ok() || *w <= 0) {
      return InvalidArgument("--default-walltime: expected e.g. 90s, 30m, 2h, 1d");
    }
    options->default_walltime_s = *w;
  }
  std::string suffix;
  for (const std::string& kv : settings) {
    const size_t eq = kv.find('=');
    if (eq == std::string::npos || eq == 0) {
      return InvalidArgument("--set: expected KEY=VALUE, got " + kv);
    }
    options->policy_overrides.push_back({kv.substr(0, eq), kv.substr(eq + 1)});
    suffix += (suffix.empty() ? "[" : ",") + kv;
  }
  return suffix.empty() ? suffix : suffix + "]";
}

// Writes `jobs` as a trace to `out_path` (stdout when empty).
int WriteTrace(const std::vector<sim::TraceJob>& jobs, const std::string& out_path) {
  auto write = [&](std::ostream& out) {
    sim::WriteTraceHeader(out);
    for (const sim::TraceJob& j : jobs) sim::WriteTraceJob(out, j);
    out.flush();
    return static_cast<bool>(out);
  };
  if (out_path.empty()) return write(std::cout) ? 0 : Fail("cannot write to stdout");
  // Write beside, then rename: never a half-written trace under the asked name.
  const std::string tmp = out_path + ".tmp";
  {
    std::ofstream out(tmp, std::ios::out | std::ios::binary | std::ios::trunc);
    if (!out || !write(out)) return Fail("cannot write " + tmp);
  }
  std::error_code ec;
  std::filesystem::rename(tmp, out_path, ec);
  if (ec) return Fail("cannot rename " + tmp + " to " + out_path + ": " + ec.message());
  return 0;
}

int ImportTrace(const std::string& format, const std::string& in_path, const std::string& out_path,
                bool quiet) {
  std::ifstream in(in_path, std::ios::in | std::ios::binary);
  if (!in) return Fail("cannot open " + in_path);
  std::vector<sim::TraceJob> jobs;
  if (format == "sacct") {
    std::vector<std::string> known;
    for (const GpuClass& c : DefaultGpuClasses()) known.push_back(c.name);
    sim::ImportStats st;
    auto r = sim::ImportSacct(in, in_path, known, &st);
    if (!r.ok()) return Fail(r.status().message(), 2);
    jobs = std::move(r).value();
    if (!quiet) {
      std::fprintf(stderr,
                   "trace import: %lld rows, %lld jobs imported; skipped %lld job steps, %lld "
                   "that never ran or still run, %lld without GPUs\n",
                   static_cast<long long>(st.rows), static_cast<long long>(st.imported),
                   static_cast<long long>(st.steps), static_cast<long long>(st.not_run),
                   static_cast<long long>(st.no_gpu));
    }
  } else {  // csv: the project's format (the public traces of ../shared/traces use it)
    sim::TraceReader reader(in, in_path);
    sim::TraceJob job;
    while (true) {
      auto more = reader.Next(&job);
      if (!more.ok()) return Fail(more.status().message(), 2);
      if (!*more) break;
      jobs.push_back(job);
    }
    if (!quiet) std::fprintf(stderr, "trace import: %zu jobs checked\n", jobs.size());
  }
  return WriteTrace(jobs, out_path);
}

// The platform's state from its SQLite file, or from PostgreSQL when `database` is set.
Result<StoredState> LoadPlatformState(const std::string& db_path, const std::string& database) {
  if (!database.empty()) {
    GPUAAS_ASSIGN_OR_RETURN(PgDb db, PgDb::Open(database));
    return LoadState(db);
  }
  std::error_code ec;
  if (!std::filesystem::is_regular_file(db_path, ec)) {
    return InvalidArgument("no platform database at " + db_path +
                           " (give --data-dir DIR of a server, --db FILE, or --database URL)");
  }
  GPUAAS_ASSIGN_OR_RETURN(SqliteDb db, SqliteDb::Open(db_path));
  auto state = LoadState(db);
  if (!state.ok()) return Status(state.status().code(), db_path + ": " + state.status().message());
  return state;
}

int ExportTrace(const std::string& db_path, const std::string& database,
                const std::string& out_path, bool quiet) {
  auto state = LoadPlatformState(db_path, database);
  if (!state.ok()) {
    return Fail(state.status().message(), state.status().code() == Code::kInvalidArgument ? 2 : 1);
  }
  std::map<EntityId, std::string> names;
  for (const Entity& e : state->entities) names[e.id] = e.name;
  sim::ExportStats st;
  std::vector<sim::TraceJob> jobs =
      sim::TraceFromJobs(state->jobs, names, DefaultGpuClasses(), &st);
  if (!quiet) {
    std::fprintf(stderr,
                 "trace export: %lld jobs, %lld exported; skipped %lld not ended or never "
                 "started, %lld allocations\n",
                 static_cast<long long>(st.jobs), static_cast<long long>(st.exported),
                 static_cast<long long>(st.not_ended), static_cast<long long>(st.allocations));
  }
  return WriteTrace(jobs, out_path);
}

}  // namespace

int RunSimulateCommand(int argc, char** argv) {
  CLI::App app{
      "gpuaas simulate: replay a job trace through the platform's own scheduler and price book "
      "under a virtual clock, and compare policies (JCT, wait, makespan, utilization, cost, per "
      "entity). Trace format and metrics: CONTRACT.md, \"Simulator\"."};
  app.name("gpuaas simulate");
  std::string trace, cluster_text, policies = "default", default_walltime, report_dir;
  bool json = false, assign_types = false, no_check = false, quiet = false, verify = false;
  uint64_t seed = 1;
  std::string walltime_text, shares_text, jobs_csv;
  std::vector<std::string> settings;
  app.add_option("--trace", trace, "the trace CSV (rows in submit order)")
      ->type_name("FILE")
      ->required();
  app.add_option("--cluster", cluster_text,
                 "the cluster, e.g. h200:8x4,l40s:4x6; an item may end with :min-gpus=N "
                 "(nodes kept for jobs of at least N GPUs)")
      ->type_name("SPEC")
      ->required();
  app.add_option("--policy", policies, "comma-separated policies among: " + PolicyList())
      ->type_name("P[,P...]");
  app.add_flag("--json", json, "print the results as JSON");
  app.add_option("--seed", seed, "seed of any randomness (the class mix of --assign-types)")
      ->type_name("N");
  app.add_flag("--assign-types", assign_types,
               "give jobs without gpu_types a seeded mix of the cluster's fastest and slowest "
               "classes and speed ratios (the rule: src/sim/class_mix.h)");
  app.add_option("--default-walltime", default_walltime,
                 "walltime of jobs that state none, e.g. 30d (default: the platform's, 1d); "
                 "a job running longer is killed and counts as timed out")
      ->type_name("DURATION");
  app.add_option("--walltime-from-duration", walltime_text,
                 "give jobs that state no walltime the limit a user would ask: run time x "
                 "FACTOR (>= 1), or x a per-job factor log-uniform in [LO, HI] (seeded), rounded "
                 "up to 5 min / 30 min / 6 h / 1 d steps (the rule: src/sim/walltime_model.h); "
                 "public traces record no walltimes")
      ->type_name("FACTOR|LO:HI");
  app.add_option("--set", settings, std::string(kSetHelp) + "; applied to every policy")
      ->type_name("KEY=VALUE");
  app.add_option("--shares", shares_text,
                 "fair-share weights: NAME=W,... or \"demand\" (each entity's share of the "
                 "trace's GPU-time, a stand-in for quotas sized to demand; default: equal)")
      ->type_name("SPEC");
  app.add_option("--report", report_dir,
                 "also write DIR/index.html: one self-contained page with plots (queue length "
                 "and GPU utilisation over time per class, waits and cost per entity) for every "
                 "policy")
      ->type_name("DIR");
  app.add_option("--jobs-csv", jobs_csv,
                 "also write FILE: one CSV row per finished job and policy (policy, id, entity, "
                 "gpus, gpu_class, submit_s, start_s, end_s, wait_s, run_s, timed_out; seconds "
                 "from the trace's start), for analysis elsewhere")
      ->type_name("FILE");
  app.add_flag("--no-check", no_check,
               "skip the scheduler invariant check after each pass (faster; on by default)");
  app.add_flag("--verify-window", verify,
               "also run every pass on the whole queue and fail if it decides differently from "
               "the pass on the window of jobs that can start, block or reserve (slow)");
  app.add_flag("--quiet,-q", quiet, "no progress or timing on stderr");
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    return UsageExit(app, e);
  }

  const std::vector<GpuClass> catalogue = DefaultGpuClasses();
  auto cluster = sim::ParseClusterSpec(cluster_text, catalogue);
  if (!cluster.ok()) return Fail(cluster.status().message(), 2);
  std::vector<std::string> names = SplitComma(policies);
  if (names.empty()) return Fail("--policy names no policy (known: " + PolicyList() + ")", 2);
  for (const std::string& n : names) {
    bool known = false;
    for (const std::string& k : sim::SimPolicyNames()) known = known || k == n;
    if (!known) return Fail("unknown policy \"" + n + "\" (known: " + PolicyList() + ")", 2);
  }
  sim::SimOptions options;
  options.check_invariants = !no_check;
  options.verify_window = verify;
  auto settings_suffix = ApplySimSettings(settings, default_walltime, &options);
  if (!settings_suffix.ok()) return Fail(settings_suffix.status().message(), 2);
  const std::string suffix = *settings_suffix;
  sim::WalltimeModel walltime;
  if (!walltime_text.empty()) {
    auto m = sim::ParseWalltimeModel(walltime_text, seed);
    if (!m.ok()) return Fail("--walltime-from-duration: " + m.status().message(), 2);
    walltime = *m;
  }
  if (shares_text == "demand") {
    std::ifstream file(trace, std::ios::in | std::ios::binary);
    if (!file) return Fail("cannot open trace " + trace);
    sim::TraceReader reader(file, trace);
    auto shares = sim::EntitySharesFromDemand(reader);
    if (!shares.ok()) return Fail(shares.status().message(), 2);
    options.entity_shares = std::move(shares).value();
  } else if (!shares_text.empty()) {
    for (const std::string& item : SplitComma(shares_text)) {
      const size_t eq = item.find('=');
      char* end = nullptr;
      const std::string w = eq == std::string::npos ? "" : item.substr(eq + 1);
      const double v = std::strtod(w.c_str(), &end);
      if (eq == std::string::npos || eq == 0 || w.empty() || *end != '\0' || !(v > 0)) {
        return Fail("--shares: expected NAME=WEIGHT,... (weights > 0) or demand, got " + item, 2);
      }
      options.entity_shares[item.substr(0, eq)] = v;
    }
  }
  const std::vector<sched::ClassInfo> classes = sim::ClusterClasses(*cluster, catalogue);

  std::vector<sim::PolicyMetrics> results;
  std::vector<sim::PolicyReport> reports;
  std::vector<std::string> class_names;
  std::vector<int> class_gpus;
  for (const sched::ClassInfo& c : classes) {
    class_names.push_back(c.name);
    int n = 0;
    for (const sim::NodeGroup& g : cluster->groups) {
      if (g.gpu_class == c.name) n += g.gpus_per_node * g.nodes;
    }
    class_gpus.push_back(n);
  }
  std::ofstream jobs_out;
  if (!jobs_csv.empty()) {
    jobs_out.open(jobs_csv, std::ios::out | std::ios::trunc | std::ios::binary);
    if (!jobs_out) return Fail("cannot write " + jobs_csv);
    jobs_out << sim::JobsCsvHeader();
  }
  for (const std::string& name : names) {
    std::ifstream file(trace, std::ios::in | std::ios::binary);
    if (!file) return Fail("cannot open trace " + trace);
    sim::TraceReader reader(file, trace);
    sim::ClassMixSource mixed(reader, classes, seed);
    sim::JobSource& typed = assign_types ? static_cast<sim::JobSource&>(mixed) : reader;
    sim::WalltimeModelSource walled(typed, walltime);
    sim::JobSource& source = walltime.lo > 0 ? static_cast<sim::JobSource&>(walled) : typed;

    options.policy = name;
    const auto t0 = SteadyClock::now();
    auto last_report = t0;
    if (!quiet) {
      options.progress_every = 4096;
      options.on_progress = [&](const sim::SimProgress& p) {
        if (SecondsSince(last_report) < 2.0) return;
        last_report = SteadyClock::now();
        std::fprintf(stderr,
                     "simulate %s: %lld jobs arrived, %lld finished, %zu queued, %zu running, "
                     "t=%s (%.0f s)\n",
                     name.c_str(), static_cast<long long>(p.arrived),
                     static_cast<long long>(p.finished), p.queued, p.running,
                     FormatDurationSeconds(p.now_s).c_str(), SecondsSince(t0));
      };
    }
    sim::ReportCollector collector(class_names, class_gpus);
    if (!report_dir.empty()) {
      options.on_sample = [&](const sim::SimSample& s) { collector.Sample(s); };
    }
    const std::string label = name + suffix;
    if (!report_dir.empty() || !jobs_csv.empty()) {
      options.on_finish = [&](const sim::JobOutcome& o) {
        if (!report_dir.empty()) collector.Finished(o);
        if (!jobs_csv.empty()) jobs_out << sim::JobCsvRow(label, o);
      };
    }
    auto r = sim::Simulate(source, *cluster, catalogue, options);
    if (!r.ok()) {
      return Fail(r.status().message(), r.status().code() == Code::kInvalidArgument ? 2 : 1);
    }
    r->metrics.policy += suffix;
    if (!quiet) {
      std::fprintf(
          stderr,
          "simulate %s: %lld jobs, %lld finished (%lld timed out), %lld never started "
          "(%lld too big for any node of their classes); %lld events, %lld passes%s; "
          "%.2f s\n",
          name.c_str(), static_cast<long long>(r->metrics.jobs),
          static_cast<long long>(r->metrics.finished), static_cast<long long>(r->metrics.timed_out),
          static_cast<long long>(r->never_started), static_cast<long long>(r->unplaceable),
          static_cast<long long>(r->events), static_cast<long long>(r->passes),
          options.check_invariants ? ", invariants checked after each" : "", SecondsSince(t0));
    }
    if (!report_dir.empty()) reports.push_back(collector.Finish(r->metrics, r->entity_names));
    results.push_back(std::move(r->metrics));
  }
  const std::string spec = cluster->ToString();
  if (!report_dir.empty()) {
    Status s = sim::WriteReport(report_dir, sim::ReportHtml(trace, spec, reports));
    if (!s.ok()) return Fail(s.message());
  }
  if (!jobs_csv.empty()) {
    jobs_out.close();
    if (!jobs_out) return Fail("cannot write " + jobs_csv);
  }
  std::cout << (json ? sim::ResultsJson(trace, spec, results)
                     : sim::ResultsTable(trace, spec, results));
  std::cout.flush();
  return std::cout ? 0 : 1;
}

int RunTraceCommand(int argc, char** argv) {
  CLI::App app{"gpuaas trace: tools for simulator traces."};
  app.name("gpuaas trace");
  app.require_subcommand(1);
  CLI::App* gen = app.add_subcommand(
      "generate",
      "write a synthetic, seeded trace (mixed sizes, durations, entities, kinds and classes; "
      "the model: src/sim/trace_generator.h)");
  sim::GenerateOptions o;
  std::string cluster_text = "h200:8x4,l40s:4x6", out_path;
  gen->add_option("--jobs", o.jobs, "number of jobs")->type_name("N")->required();
  gen->add_option("--seed", o.seed, "seed (same seed, same bytes)")->type_name("S");
  gen->add_option("--entities", o.entities, "number of entities (default 8)")->type_name("K");
  gen->add_option("--load", o.load,
                  "offered load as a fraction of the cluster's GPUs (default 0.9)")
      ->type_name("L");
  gen->add_option("--cluster", cluster_text,
                  "reference cluster: its size sets the arrival rate, its classes the mix "
                  "(default h200:8x4,l40s:4x6)")
      ->type_name("SPEC");
  gen->add_option("--out", out_path, "output file (default: stdout)")->type_name("FILE");

  CLI::App* imp = app.add_subcommand(
      "import",
      "convert a job history into a trace: Slurm accounting (sacct --allocations --parsable2 "
      "--format=JobID,User,Account,Partition,AllocTRES,Submit,Start,End,Timelimit,State) or a "
      "trace in the project's CSV (checked and rewritten; the public traces of "
      "../shared/traces use it). The rules: docs/simulator.md");
  std::string format = "sacct", in_path, imp_out;
  bool quiet = false;
  imp->add_option("--format", format, "input format: sacct or csv (default sacct)")
      ->type_name("F")
      ->check(CLI::IsMember({"sacct", "csv"}));
  imp->add_option("input", in_path, "the input file")->type_name("FILE")->required();
  imp->add_option("--out", imp_out, "output trace (default: stdout)")->type_name("FILE");
  imp->add_flag("--quiet,-q", quiet, "no summary on stderr");

  CLI::App* exp = app.add_subcommand(
      "export",
      "write the platform's own job history (jobs that ran and ended, from the server's SQLite "
      "or PostgreSQL database) as a trace; run times on a fallback class are converted to the "
      "first class");
  std::string data_dir, db_path, exp_out, database;
  exp->add_option("--data-dir", data_dir, "the server's data directory (reads DIR/gpuaas.db)")
      ->type_name("DIR");
  exp->add_option("--db", db_path, "the database file itself")->type_name("FILE");
  exp->add_option("--database", database,
                  "the server's PostgreSQL database (its --database connection string)")
      ->type_name("URL");
  exp->add_option("--out", exp_out, "output trace (default: stdout)")->type_name("FILE");
  exp->add_flag("--quiet,-q", quiet, "no summary on stderr");
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    return UsageExit(app, e);
  }
  if (imp->parsed()) return ImportTrace(format, in_path, imp_out, quiet);
  if (exp->parsed()) {
    if ((data_dir.empty() ? 0 : 1) + (db_path.empty() ? 0 : 1) + (database.empty() ? 0 : 1) != 1) {
      return Fail("give one of --data-dir, --db or --database", 2);
    }
    return ExportTrace(db_path.empty() ? data_dir + "/gpuaas.db" : db_path, database, exp_out,
                       quiet);
  }
  const std::vector<GpuClass> catalogue = DefaultGpuClasses();
  auto cluster = sim::ParseClusterSpec(cluster_text, catalogue);
  if (!cluster.ok()) return Fail(cluster.status().message(), 2);
  o.cluster_gpus = cluster->TotalGpus();
  o.classes = sim::ClusterClasses(*cluster, catalogue);
  if (Status s = sim::ValidateGenerateOptions(o); !s.ok()) return Fail(s.message(), 2);
  if (out_path.empty()) {
    Status s = sim::WriteGeneratedTrace(o, std::cout);
    return s.ok() ? 0 : Fail(s.message());
  }
  std::ofstream out(out_path, std::ios::out | std::ios::binary | std::ios::trunc);
  if (!out) return Fail("cannot write " + out_path);
  Status s = sim::WriteGeneratedTrace(o, out);
  if (!s.ok()) return Fail(out_path + ": " + s.message());
  return 0;
}

}  // namespace gpuaas

namespace gpuaas {

int RunPlanCommand(int argc, char** argv) {
  CLI::App app{
      "gpuaas plan: replay one history on several fleets side by side (optionally with more "
      "load), and search for the cheapest fleet whose 95th-percentile wait meets a target. "
      "The model: docs/simulator.md (\"Capacity planning\")."};
  app.name("gpuaas plan");
  std::string trace, cluster_text, policy = "default", scale_text = "1", target_text, costs_text;
  std::vector<std::string> tries;
  bool json = false, assign_types = false;
  uint64_t seed = 1;
  std::string walltime_text, default_walltime;
  std::vector<std::string> settings;
  int max_runs = 30;
  std::string report_dir;
  app.add_option("--trace", trace, "the trace CSV")->type_name("FILE")->required();
  app.add_option("--cluster", cluster_text, "today's fleet, e.g. h200:8x4,l40s:4x6")
      ->type_name("SPEC")
      ->required();
  app.add_option("--try", tries, "another fleet to compare (repeatable)")->type_name("SPEC");
  app.add_option("--scale-load", scale_text,
                 "demand growth: jobs arrive this many times as fast (1.3 = +30%)")
      ->type_name("X");
  app.add_option("--policy", policy, "the policy (default: default)")->type_name("P");
  app.add_option("--target-p95-wait", target_text,
                 "search for the cheapest fleet (node shapes of --cluster) whose p95 wait is at "
                 "most this, e.g. 1h; needs --node-cost")
      ->type_name("DURATION");
  app.add_option("--node-cost", costs_text,
                 "monthly cost of one node of each class in EUR, e.g. h200=32000,l40s=9000")
      ->type_name("CLASS=EUR,...");
  app.add_option("--max-runs", max_runs, "at most this many replays in the search (default 30)")
      ->type_name("N");
  app.add_flag("--json", json, "print the results as JSON");
  app.add_option("--report", report_dir,
                 "also write DIR/index.html: the fleets side by side (table, p95 wait and cost "
                 "bars)")
      ->type_name("DIR");
  app.add_flag("--assign-types", assign_types, "as for simulate");
  app.add_option("--seed", seed, "as for simulate")->type_name("N");
  app.add_option("--walltime-from-duration", walltime_text, "as for simulate")
      ->type_name("FACTOR|LO:HI");
  app.add_option("--default-walltime", default_walltime, "as for simulate")->type_name("DURATION");
  app.add_option("--set", settings, std::string(kSetHelp) + "; applied to every fleet")
      ->type_name("KEY=VALUE");
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    return UsageExit(app, e);
  }
  const std::vector<GpuClass> catalogue = DefaultGpuClasses();
  std::vector<sim::ClusterSpec> fleets;
  for (const std::string& text : [&] {
         std::vector<std::string> all = {cluster_text};
         all.insert(all.end(), tries.begin(), tries.end());
         return all;
       }()) {
    auto c = sim::ParseClusterSpec(text, catalogue);
    if (!c.ok()) return Fail(c.status().message(), 2);
    fleets.push_back(*c);
  }
  char* end = nullptr;
  const double scale = std::strtod(scale_text.c_str(), &end);
  if (end == scale_text.c_str() || *end != '\0' || !(scale > 0 && scale <= 100)) {
    return Fail("--scale-load: expected a number in (0, 100], e.g. 1.3", 2);
  }
  bool known = false;
  for (const std::string& k : sim::SimPolicyNames()) known = known || k == policy;
  if (!known) return Fail("unknown policy \"" + policy + "\" (known: " + PolicyList() + ")", 2);
  sim::WalltimeModel walltime;
  if (!walltime_text.empty()) {
    auto m = sim::ParseWalltimeModel(walltime_text, seed);
    if (!m.ok()) return Fail("--walltime-from-duration: " + m.status().message(), 2);
    walltime = *m;
  }
  int64_t target_s = 0;
  std::map<std::string, MicroEur> costs;
  if (!costs_text.empty()) {
    auto c = sim::ParseNodeCosts(costs_text);
    if (!c.ok()) return Fail("--node-cost: " + c.status().message(), 2);
    costs = *c;
  }
  if (!target_text.empty()) {
    auto t = ParseDurationSeconds(target_text);
    if (!t.ok() || *t <= 0) return Fail("--target-p95-wait: expected e.g. 30m, 1h, 1d", 2);
    target_s = *t;
    if (costs.empty()) return Fail("--target-p95-wait needs --node-cost", 2);
  }
  if (max_runs < 1 || max_runs > 1000) return Fail("--max-runs: between 1 and 1000", 2);
  sim::SimOptions base_options;
  base_options.policy = policy;
  auto settings_suffix = ApplySimSettings(settings, default_walltime, &base_options);
  if (!settings_suffix.ok()) return Fail(settings_suffix.status().message(), 2);
  const std::string label = policy + *settings_suffix;

  auto run = [&](const sim::ClusterSpec& c) -> Result<sim::PolicyMetrics> {
    std::ifstream file(trace, std::ios::in | std::ios::binary);
    if (!file) return InvalidArgument("cannot open trace " + trace);
    sim::TraceReader reader(file, trace);
    sim::ClassMixSource mixed(reader, sim::ClusterClasses(c, catalogue), seed);
    sim::JobSource& typed = assign_types ? static_cast<sim::JobSource&>(mixed) : reader;
    sim::WalltimeModelSource walled(typed, walltime);
    sim::JobSource& src = walltime.lo > 0 ? static_cast<sim::JobSource&>(walled) : typed;
    sim::ScaledLoadSource scaled(src, scale);
    auto r = sim::Simulate(scaled, c, catalogue, base_options);
    if (!r.ok()) return r.status();
    std::fprintf(stderr, "plan: %s: p95 wait %s\n", c.ToString().c_str(),
                 FormatDurationSeconds(static_cast<int64_t>(r->metrics.p95_wait_s)).c_str());
    return std::move(r->metrics);
  };
  std::vector<sim::FleetResult> results;
  for (const sim::ClusterSpec& c : fleets) {
    auto m = run(c);
    if (!m.ok()) {
      return Fail(m.status().message(), m.status().code() == Code::kInvalidArgument ? 2 : 1);
    }
    sim::FleetResult f;
    f.cluster = c;
    f.gpus = c.TotalGpus();
    f.monthly_cost = sim::FleetMonthlyCost(c, costs);
    f.metrics = std::move(m).value();
    f.meets_target = target_s > 0 && f.metrics.finished == f.metrics.jobs &&
                     f.metrics.p95_wait_s <= static_cast<double>(target_s);
    results.push_back(std::move(f));
  }
  std::optional<sim::SearchResult> search;
  if (target_s > 0) {
    sim::SearchOptions so;
    so.target_p95_wait_s = target_s;
    so.node_cost = costs;
    so.max_runs = max_runs;
    auto r = sim::SearchCheapestFleet(fleets.front(), so, run);
    if (!r.ok())
      return Fail(r.status().message(), r.status().code() == Code::kInvalidArgument ? 2 : 1);
    search = std::move(r).value();
  }
  const sim::SearchResult* sp = search ? &*search : nullptr;
  if (!report_dir.empty()) {
    Status s = sim::WriteReport(report_dir,
                                sim::PlanReportHtml(trace, label, scale, results, sp, target_s));
    if (!s.ok()) return Fail(s.message());
    std::fprintf(stderr, "plan: report written to %s/index.html\n", report_dir.c_str());
  }
  std::cout << (json ? sim::PlanJson(trace, label, scale, results, sp, target_s)
                     : sim::PlanTable(trace, label, scale, results, sp, target_s));
  std::cout.flush();
  return std::cout ? 0 : 1;
}

}  // namespace gpuaas

namespace gpuaas {

namespace {

// GET /api/v1/forecast with the command's options; the answer as ClassForecasts (the same model
// as the offline mode, computed by the server from its own history and inventory).
struct ServerForecast {
  std::vector<sim::ClassForecast> classes;
  Millis origin = 0, now = 0;
  std::string raw;
};

std::string QueryEscape(const std::string& s) {
  static const char* hex = "0123456789ABCDEF";
  std::string out;
  for (unsigned char c : s) {
    if (std::isalnum(c) || c == '-' || c == '_' || c == '.' || c == '~') {
      out += static_cast<char>(c);
    } else {
      out += '%';
      out += hex[c >> 4];
      out += hex[c & 15];
    }
  }
  return out;
}

Result<ServerForecast> AskServer(const std::string& url, const std::string& token,
                                 const std::string& ca_file, const sim::ForecastOptions& o,
                                 const std::string& only_class) {
  std::string target = "/api/v1/forecast?weeks=" + std::to_string(o.horizon_weeks) +
                       "&lead_time=" + std::to_string(o.lead_time_s) +
                       "&growth=" + sim::Fixed(o.growth, 6) +
                       "&max_utilization=" + sim::Fixed(o.max_utilization, 6);
  if (!only_class.empty()) target += "&class=" + QueryEscape(only_class);
  cli::ApiClient api(url, token, ca_file);
  auto reply = api.Call("GET", target);
  if (!reply.ok()) return reply.status();
  ServerForecast out;
  out.raw = reply->raw;
  try {
    const boost::json::object& doc = reply->json.as_object();
    auto time_of = [](const boost::json::value& v) -> Result<Millis> {
      return ParseRfc3339(std::string(v.as_string()));
    };
    auto now = time_of(doc.at("generated_at"));
    if (!now.ok()) return now.status();
    out.now = *now;
    if (!doc.at("history_start").is_null()) {
      auto origin = time_of(doc.at("history_start"));
      if (!origin.ok()) return origin.status();
      out.origin = *origin;
    }
    for (const boost::json::value& cv : doc.at("classes").as_array()) {
      const boost::json::object& c = cv.as_object();
      sim::ClassForecast f;
      f.gpu_class = std::string(c.at("class").as_string());
      for (const auto& v : c.at("history_gpu_hours").as_array())
        f.history.push_back(v.to_number<double>());
      for (const auto& v : c.at("forecast_gpu_hours").as_array())
        f.projection.push_back(v.to_number<double>());
      f.trend_per_week = c.at("trend_gpu_hours_per_week").to_number<double>();
      f.season_weeks = static_cast<int>(c.at("season_weeks").to_number<int64_t>());
      f.capacity = c.at("capacity_gpu_hours_per_week").to_number<double>();
      if (!c.at("exceed_week").is_null()) {
        f.exceed_week = static_cast<int>(c.at("exceed_week").to_number<int64_t>());
        auto order_by = time_of(c.at("order_by"));
        if (!order_by.ok()) return order_by.status();
        f.order_by_s = (*order_by - out.origin) / 1000;
      }
      out.classes.push_back(std::move(f));
    }
  } catch (const std::exception& e) {
    return Internal(std::string("unexpected forecast answer from the server: ") + e.what());
  }
  return out;
}

}  // namespace

int RunForecastCommand(int argc, char** argv) {
  CLI::App app{
      "gpuaas forecast: weekly GPU-hour demand per class from a job history, with trend and "
      "seasonality; the first week it exceeds what the fleet can serve and the date to order by. "
      "Offline from a trace (--trace and --cluster: `gpuaas trace export` or `import`), or from "
      "the server's own history and inventory (--server, or GPUAAS_URL set and no --trace; "
      "platform admins). The model: src/sim/forecast.h, docs/simulator.md."};
  app.name("gpuaas forecast");
  std::string trace, cluster_text, lead_text = "0", start_text = "2026-01-01", report_dir;
  std::string url, token, ca_file, only_class;
  bool server = false;
  sim::ForecastOptions o;
  bool json = false;
  app.add_option("--trace", trace, "offline: the history as a trace CSV")->type_name("FILE");
  app.add_option("--cluster", cluster_text, "offline: today's fleet, e.g. h200:8x4,l40s:4x6")
      ->type_name("SPEC");
  app.add_flag("--server", server,
               "ask the server (GET /api/v1/forecast): its job history, its inventory");
  app.add_option("--url", url, "server URL (env GPUAAS_URL, default http://127.0.0.1:8080)")
      ->type_name("URL");
  app.add_option("--token", token, "API token of a platform admin (env GPUAAS_TOKEN)")
      ->type_name("T");
  app.add_option("--ca-file", ca_file,
                 "https: the CA(s) of the server's certificate, PEM (env GPUAAS_CA_FILE)")
      ->type_name("FILE");
  app.add_option("--class", only_class, "only this GPU class (\"any\": untyped jobs)")
      ->type_name("CLASS");
  app.add_option("--lead-time", lead_text, "suppliers' delivery time, e.g. 120d or 12w")
      ->type_name("DURATION");
  app.add_option("--horizon-weeks", o.horizon_weeks, "weeks to project (default 52)")
      ->type_name("N");
  app.add_option("--max-utilization", o.max_utilization,
                 "share of the fleet's GPU-hours demand may use before it counts as exceeded "
                 "(default 0.8)")
      ->type_name("U");
  app.add_option("--growth", o.growth,
                 "extra demand expected beyond the trend, applied to the projection (1.3 = "
                 "+30%; default 1)")
      ->type_name("X");
  app.add_option("--start", start_text,
                 "offline: the date of the trace's second 0 (default 2026-01-01; `trace export` "
                 "starts at the first submission)")
      ->type_name("DATE");
  app.add_option("--report", report_dir,
                 "also write DIR/index.html: per class, demand so far and projected against "
                 "capacity, the week it is exceeded and the order-by date, for managers")
      ->type_name("DIR");
  app.add_flag("--json", json, "print JSON");
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    return UsageExit(app, e);
  }
  const char* env_url = std::getenv("GPUAAS_URL");
  if (!server && trace.empty() && (!url.empty() || (env_url && *env_url))) server = true;
  if (server && !trace.empty()) return Fail("give either --trace (offline) or --server", 2);
  if (!server && (trace.empty() || cluster_text.empty())) {
    return Fail(
        "give --trace FILE and --cluster SPEC (offline), or --server / GPUAAS_URL to ask the "
        "server",
        2);
  }
  auto lead = ParseDurationSeconds(lead_text);
  if (!lead.ok()) return Fail("--lead-time: expected e.g. 90d or 12w", 2);
  o.lead_time_s = *lead;
  std::vector<sim::ClassForecast> classes;
  sim::ForecastPage page;
  std::string out_text;
  if (server) {
    if (url.empty()) url = env_url && *env_url ? env_url : "http://127.0.0.1:8080";
    if (token.empty()) {
      const char* t = std::getenv("GPUAAS_TOKEN");
      token = t ? t : "";
    }
    if (ca_file.empty()) {
      const char* c = std::getenv("GPUAAS_CA_FILE");
      ca_file = c ? c : "";
    }
    auto f = AskServer(url, token, ca_file, o, only_class);
    if (!f.ok()) {
      return Fail(f.status().message(), f.status().code() == Code::kInvalidArgument ? 2 : 1);
    }
    classes = std::move(f->classes);
    page.source = "the platform's job history at " + url;
    page.origin = f->origin;
    page.today = f->now;
    if (classes.empty()) std::cerr << "forecast: no ended job in the history yet\n";
    out_text = json ? f->raw + "\n" : sim::ForecastTable(classes, f->origin);
  } else {
    auto cluster = sim::ParseClusterSpec(cluster_text, DefaultGpuClasses());
    if (!cluster.ok()) return Fail(cluster.status().message(), 2);
    auto start = ParseRfc3339(start_text);
    if (!start.ok()) return Fail("--start: expected YYYY-MM-DD", 2);
    std::ifstream file(trace, std::ios::in | std::ios::binary);
    if (!file) return Fail("cannot open trace " + trace);
    sim::TraceReader reader(file, trace);
    auto f = sim::Forecast(reader, *cluster, o);
    if (!f.ok()) return Fail(f.status().message(), 2);
    if (!only_class.empty()) {
      for (sim::ClassForecast& c : *f) {
        if (c.gpu_class == only_class) classes.push_back(std::move(c));
      }
    } else {
      classes = std::move(f).value();
    }
    page.source = trace;
    page.origin = *start;
    out_text = json ? sim::ForecastJson(classes, *start) : sim::ForecastTable(classes, *start);
  }
  if (!report_dir.empty()) {
    page.options = o;
    Status s = sim::WriteReport(report_dir, sim::ForecastReportHtml(page, classes));
    if (!s.ok()) return Fail(s.message());
    std::fprintf(stderr, "forecast: report written to %s/index.html\n", report_dir.c_str());
  }
  std::cout << out_text;
  std::cout.flush();
  return std::cout ? 0 : 1;
}

}  // namespace gpuaas
