// Importers and the walltime model: Slurm sacct output and the platform's own job history to
// traces; walltimes for traces that have none.
#include <gtest/gtest.h>

#include <cmath>
#include <fstream>
#include <set>
#include <sstream>

#include "model/gpu_class.h"
#include "sim/ledger_export.h"
#include "sim/sacct_import.h"
#include "sim/trace.h"
#include "sim/walltime_model.h"

namespace gpuaas::sim {
namespace {

const std::vector<std::string> kKnown = {"h200", "l40s"};

TEST(Sacct, ImportsTheFixture) {
  std::ifstream in(std::string(GPUAAS_SOURCE_DIR) + "/src/sim/testdata/sacct_small.txt");
  ASSERT_TRUE(in) << "fixture missing";
  ImportStats st;
  auto jobs = ImportSacct(in, "sacct_small.txt", kKnown, &st);
  ASSERT_TRUE(jobs.ok()) << jobs.status().message();
  EXPECT_EQ(st.rows, 9);
  EXPECT_EQ(st.steps, 2);
  EXPECT_EQ(st.not_run, 2);  // 1004 never started, 1006 still running
  EXPECT_EQ(st.no_gpu, 1);   // 1003 on the CPU partition
  ASSERT_EQ(st.imported, 4);
  ASSERT_EQ(jobs->size(), 4u);
  // Sorted by submit: 1000 (09:00) is the origin.
  const TraceJob& a = (*jobs)[0];
  EXPECT_EQ(a.id, "1000");
  EXPECT_EQ(a.submit_s, 0);
  EXPECT_EQ(a.duration_s, 86400);
  EXPECT_EQ(a.gpus, 8);
  EXPECT_EQ(a.entity, "nlp");
  EXPECT_EQ(a.gpu_types, std::vector<std::string>{"h200"});
  EXPECT_EQ(a.walltime_s, 36 * 3600);
  const TraceJob& b = (*jobs)[1];
  EXPECT_EQ(b.id, "1001");
  EXPECT_EQ(b.submit_s, 3600);
  EXPECT_EQ(b.duration_s, 7200);
  EXPECT_EQ(b.gpus, 2);
  EXPECT_TRUE(b.gpu_types.empty());
  EXPECT_EQ(b.walltime_s, 4 * 3600);
  const TraceJob& c = (*jobs)[2];
  EXPECT_EQ(c.entity, "carol");  // no account: the user
  EXPECT_EQ(c.gpu_types, std::vector<std::string>{"l40s"});
  EXPECT_EQ(c.walltime_s, 0);  // UNLIMITED: the platform default
  const TraceJob& d = (*jobs)[3];
  EXPECT_EQ(d.id, "1005_3");
  EXPECT_TRUE(d.gpu_types.empty());  // a100 is not a class of ours: any class
  EXPECT_EQ(d.gpus, 4);
  EXPECT_EQ(d.walltime_s, 45 * 60);
  EXPECT_EQ(d.submit_s, 2 * 3600 + 20 * 60);

  // The output is a trace the reader accepts, row for row.
  std::ostringstream out;
  WriteTraceHeader(out);
  for (const TraceJob& j : *jobs) WriteTraceJob(out, j);
  std::istringstream back(out.str());
  TraceReader reader(back, "out.csv");
  TraceJob j;
  int n = 0;
  while (true) {
    auto more = reader.Next(&j);
    ASSERT_TRUE(more.ok()) << more.status().message();
    if (!*more) break;
    EXPECT_EQ(j.id, (*jobs)[n].id);
    EXPECT_EQ(j.walltime_s, (*jobs)[n].walltime_s);
    ++n;
  }
  EXPECT_EQ(n, 4);
}

std::string SacctError(const std::string& text) {
  std::istringstream in(text);
  ImportStats st;
  auto r = ImportSacct(in, "s.txt", kKnown, &st);
  return r.ok() ? "(no error)" : r.status().message();
}

TEST(Sacct, ClearErrors) {
  EXPECT_EQ(SacctError(""), "s.txt: empty (no sacct header line)");
  EXPECT_NE(SacctError("JobID|User|AllocTRES|Start|End\n")
                .find("s.txt:1: the header has no "
                      "Submit column"),
            std::string::npos);
  EXPECT_NE(SacctError("JobID|User|Submit|Start|End\n").find("no AllocTRES"), std::string::npos);
  const std::string header = "JobID|User|AllocTRES|Submit|Start|End|Timelimit\n";
  EXPECT_NE(SacctError(header + "1|u|gres/gpu=1|2026-01-01T00:00:00|x|2026-01-01T01:00:00|1:00\n")
                .find("s.txt:2: Start:"),
            std::string::npos);
  EXPECT_NE(SacctError(header + "1|u|gres/gpu=1\n").find("s.txt:2: expected 7 fields"),
            std::string::npos);
  EXPECT_NE(SacctError(header + "1|u|gres/gpu=x|2026-01-01T00:00:00|2026-01-01T00:00:00|"
                                "2026-01-01T01:00:00|1:00\n")
                .find("bad GPU count"),
            std::string::npos);
  EXPECT_NE(SacctError(header + "1|u|gres/gpu=1|2026-01-01T00:00:00|2026-01-01T00:00:00|"
                                "2026-01-01T01:00:00|soon\n")
                .find("Timelimit: bad time limit"),
            std::string::npos);
}

TEST(Sacct, Durations) {
  EXPECT_EQ(*ParseSlurmDuration("1-12:00:00"), 129600);
  EXPECT_EQ(*ParseSlurmDuration("2-03"), 2 * 86400 + 3 * 3600);
  EXPECT_EQ(*ParseSlurmDuration("04:05:06"), 4 * 3600 + 5 * 60 + 6);
  EXPECT_EQ(*ParseSlurmDuration("05:06"), 306);
  EXPECT_EQ(*ParseSlurmDuration("45"), 2700);
  EXPECT_EQ(*ParseSlurmDuration("UNLIMITED"), 0);
  EXPECT_EQ(*ParseSlurmDuration("Partition_Limit"), 0);
  EXPECT_FALSE(ParseSlurmDuration("1:2:3:4").ok());
  EXPECT_FALSE(ParseSlurmDuration("-5").ok());
  int gpus = 0;
  std::string type;
  ASSERT_TRUE(ParseGpuTres("cpu=2,gres/gpu:l40s=2,gres/gpu:h200=1", &gpus, &type).ok());
  EXPECT_EQ(gpus, 3);  // only typed entries: their sum
  ASSERT_TRUE(ParseGpuTres("cpu=2,mem=4G", &gpus, &type).ok());
  EXPECT_EQ(gpus, 0);
}

TEST(WalltimeModel, RoundsUpLikeUsers) {
  EXPECT_EQ(RoundUpRequestS(0), 300);
  EXPECT_EQ(RoundUpRequestS(1), 300);
  EXPECT_EQ(RoundUpRequestS(300), 300);
  EXPECT_EQ(RoundUpRequestS(301), 600);
  EXPECT_EQ(RoundUpRequestS(3600), 3600);
  EXPECT_EQ(RoundUpRequestS(3601), 5400);
  EXPECT_EQ(RoundUpRequestS(86400), 86400);
  EXPECT_EQ(RoundUpRequestS(86401), 86400 + 6 * 3600);
  EXPECT_EQ(RoundUpRequestS(8 * 86400 - 5), 8 * 86400);
  TraceJob j;
  j.duration_s = 1000;
  AssignWalltime(&j, 2.0);
  EXPECT_EQ(j.walltime_s, 2100);  // 2000 s -> 35 min
  TraceJob stated;
  stated.duration_s = 1000;
  stated.walltime_s = 600;  // a stated walltime is kept, even if too short
  AssignWalltime(&stated, 2.0);
  EXPECT_EQ(stated.walltime_s, 600);
  EXPECT_FALSE(ValidateWalltimeFactor(0.5).ok());
  EXPECT_FALSE(ValidateWalltimeFactor(101).ok());
  EXPECT_TRUE(ValidateWalltimeFactor(1).ok());
}

TEST(WalltimeModel, SourceAppliesToEveryJob) {
  std::vector<TraceJob> jobs(3);
  for (int i = 0; i < 3; ++i) {
    jobs[i].id = "j" + std::to_string(i);
    jobs[i].duration_s = 4000 * (i + 1);
  }
  VectorJobSource inner(jobs);
  WalltimeModelSource src(inner, WalltimeModel{1.5, 1.5, 1});
  TraceJob j;
  std::vector<int64_t> got;
  while (*src.Next(&j)) got.push_back(j.walltime_s);
  // 6000 s -> 2 h, 12000 s -> 3 h 30, 18000 s -> 5 h.
  EXPECT_EQ(got, (std::vector<int64_t>{2 * 3600, 3 * 3600 + 1800, 5 * 3600}));
}

TEST(WalltimeModel, PerJobFactorsAreSeededAndInRange) {
  EXPECT_FALSE(ParseWalltimeModel("x", 1).ok());
  EXPECT_FALSE(ParseWalltimeModel("8:2", 1).ok());
  EXPECT_FALSE(ParseWalltimeModel("0.5:2", 1).ok());
  EXPECT_FALSE(ParseWalltimeModel("2:", 1).ok());
  auto fixed = ParseWalltimeModel("3", 1);
  ASSERT_TRUE(fixed.ok());
  EXPECT_EQ(fixed->lo, 3);
  EXPECT_EQ(fixed->hi, 3);
  auto m = ParseWalltimeModel("1:8", 7);
  ASSERT_TRUE(m.ok());
  std::set<int64_t> distinct;
  for (int i = 0; i < 200; ++i) {
    TraceJob j, again;
    j.id = again.id = "job-" + std::to_string(i);
    j.duration_s = again.duration_s = 10000;
    AssignWalltime(&j, *m);
    AssignWalltime(&again, *m);
    EXPECT_EQ(j.walltime_s, again.walltime_s);  // the same seed and id, the same walltime
    EXPECT_GE(j.walltime_s, 10000);
    EXPECT_LE(j.walltime_s, RoundUpRequestS(80000));
    distinct.insert(j.walltime_s);
  }
  EXPECT_GT(distinct.size(), 20u);  // users misjudge by different amounts
}

Job Ran(JobId id, EntityId entity, Millis submit, Millis start, Millis end,
        std::vector<std::string> types, std::string given, JobState state = JobState::kSucceeded) {
  Job j;
  j.id = id;
  j.entity = entity;
  j.gpus = 2;
  j.gpu_types = std::move(types);
  j.gpu_type = std::move(given);
  j.walltime_s = 7200;
  j.submitted_at = submit;
  j.started_at = start;
  j.finished_at = end;
  j.state = state;
  return j;
}

TEST(LedgerExport, JobsThatRanBecomeATrace) {
  const Millis t0 = 1767225600000;
  std::vector<Job> jobs;
  jobs.push_back(Ran(5, 1, t0 + 60'000, t0 + 120'000, t0 + 3'720'000, {"h200"}, "h200"));
  // Fell back to L40S (speed 0.4 of H200 in the catalogue): 1000 s there = 400 s on H200.
  jobs.push_back(
      Ran(3, 2, t0, t0 + 10'000, t0 + 1'010'000, {"h200", "l40s"}, "l40s", JobState::kTimedOut));
  Job queued = Ran(7, 1, t0 + 5'000, 0, 0, {}, "", JobState::kQueued);
  jobs.push_back(queued);
  Job alloc = Ran(8, 1, t0 + 5'000, t0 + 6'000, t0 + 9'000, {}, "h200");
  alloc.kind = JobKind::kAllocation;
  jobs.push_back(alloc);
  Job nb = Ran(9, 3, t0 + 60'000, t0 + 61'000, t0 + 62'500, {}, "l40s", JobState::kCancelled);
  nb.kind = JobKind::kNotebook;
  jobs.push_back(nb);
  ExportStats st;
  double l40s = 0, h200 = 0;
  for (const GpuClass& c : DefaultGpuClasses()) {
    if (c.name == "l40s") l40s = c.speed;
    if (c.name == "h200") h200 = c.speed;
  }
  ASSERT_GT(l40s, 0);
  auto trace = TraceFromJobs(jobs, {{1, "acme"}, {2, "beta"}}, DefaultGpuClasses(), &st);
  EXPECT_EQ(st.jobs, 5);
  EXPECT_EQ(st.not_ended, 1);
  EXPECT_EQ(st.allocations, 1);
  ASSERT_EQ(st.exported, 3);
  ASSERT_EQ(trace.size(), 3u);
  EXPECT_EQ(trace[0].id, "3");
  EXPECT_EQ(trace[0].submit_s, 0);
  EXPECT_EQ(trace[0].entity, "beta");
  EXPECT_EQ(trace[0].duration_s, static_cast<int64_t>(std::ceil(1000.0 * l40s / h200 - 1e-9)));
  EXPECT_EQ(trace[0].gpu_types, (std::vector<std::string>{"h200", "l40s"}));
  EXPECT_EQ(trace[0].walltime_s, 7200);
  EXPECT_EQ(trace[1].id, "5");  // same submit second as 9: by id
  EXPECT_EQ(trace[1].submit_s, 60);
  EXPECT_EQ(trace[1].duration_s, 3600);
  EXPECT_EQ(trace[1].entity, "acme");
  EXPECT_EQ(trace[2].id, "9");
  EXPECT_EQ(trace[2].entity, "e3");  // unnamed entity
  EXPECT_EQ(trace[2].kind, "notebook");
  EXPECT_EQ(trace[2].duration_s, 2);  // 1.5 s rounded up
}

}  // namespace
}  // namespace gpuaas::sim
