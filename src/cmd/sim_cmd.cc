// `gpuaas simulate` and `gpuaas trace generate`: wire flags, files, stdout/stderr and the real
// clock (progress and timing on stderr only) to the simulator library (src/sim). The results on
// stdout depend only on the trace, the cluster and the flags.
#include "cmd/sim_cmd.h"

#include <CLI/CLI.hpp>
#include <chrono>
#include <cstdio>
#include <fstream>
#include <iostream>
#include <memory>
#include <string>
#include <vector>

#include "base/time.h"
#include "model/gpu_class.h"
#include "sim/class_mix.h"
#include "sim/cluster_spec.h"
#include "sim/results_format.h"
#include "sim/simulator.h"
#include "sim/trace.h"
#include "sim/trace_generator.h"

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

}  // namespace

int RunSimulateCommand(int argc, char** argv) {
  CLI::App app{
      "gpuaas simulate: replay a job trace through the platform's own scheduler and price book "
      "under a virtual clock, and compare policies (JCT, wait, makespan, utilization, cost, per "
      "entity). Trace format and metrics: CONTRACT.md, \"Simulator\"."};
  app.name("gpuaas simulate");
  std::string trace, cluster_text, policies = "default", default_walltime;
  bool json = false, assign_types = false, no_check = false, quiet = false, verify = false;
  uint64_t seed = 1;
  app.add_option("--trace", trace, "the trace CSV (rows in submit order)")
      ->type_name("FILE")
      ->required();
  app.add_option("--cluster", cluster_text, "the cluster, e.g. h200:8x4,l40s:4x6")
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
  app.add_flag("--no-check", no_check,
               "skip the scheduler invariant check after each pass (faster; on by default)");
  app.add_flag("--verify-window", verify,
               "also run every pass on the whole queue and fail if it decides differently from "
               "the pass on the window of jobs that can start, block or reserve (slow)");
  app.add_flag("--quiet,-q", quiet, "no progress or timing on stderr");
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    return app.exit(e);
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
  if (!default_walltime.empty()) {
    auto w = ParseDurationSeconds(default_walltime);
    if (!w.ok() || *w <= 0) return Fail("--default-walltime: expected e.g. 90s, 30m, 2h, 1d", 2);
    options.default_walltime_s = *w;
  }
  const std::vector<sched::ClassInfo> classes = sim::ClusterClasses(*cluster, catalogue);

  std::vector<sim::PolicyMetrics> results;
  for (const std::string& name : names) {
    std::ifstream file(trace, std::ios::in | std::ios::binary);
    if (!file) return Fail("cannot open trace " + trace);
    sim::TraceReader reader(file, trace);
    sim::ClassMixSource mixed(reader, classes, seed);
    sim::JobSource& source = assign_types ? static_cast<sim::JobSource&>(mixed) : reader;

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
    auto r = sim::Simulate(source, *cluster, catalogue, options);
    if (!r.ok()) return Fail(r.status().message());
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
    results.push_back(std::move(r->metrics));
  }
  const std::string spec = cluster->ToString();
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
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    return app.exit(e);
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
