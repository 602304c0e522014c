#include "sched/class_choice.h"

#include <algorithm>
#include <cctype>
#include <cstdio>
#include <tuple>

#include "sched/walltime.h"

namespace gpuaas::sched {
namespace {

std::string Upper(std::string s) {
  for (char& c : s) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  return s;
}

std::string Ratio(double r) {
  char buf[32];
  if (r > 1.0 + 1e-9) {
    std::snprintf(buf, sizeof buf, "about %.1f\u00d7 longer", r);
  } else if (r < 1.0 - 1e-9) {
    std::snprintf(buf, sizeof buf, "about %.1f\u00d7 faster", 1.0 / r);
  } else {
    return "as fast";
  }
  return buf;
}

}  // namespace

std::string FormatClock(Millis t) {
  int64_t minutes = (t + 30'000) / 60'000;
  const int of_day = static_cast<int>(((minutes % 1440) + 1440) % 1440);
  const int hour = of_day / 60, minute = of_day % 60;
  std::string out = "00:00 UTC";  // (digits written in place: a pass writes thousands of these)
  out[0] = static_cast<char>('0' + hour / 10);
  out[1] = static_cast<char>('0' + hour % 10);
  out[3] = static_cast<char>('0' + minute / 10);
  out[4] = static_cast<char>('0' + minute % 10);
  return out;
}

MicroEur ClassCost(const Snapshot& snapshot, const std::string& gpu_class, int gpus,
                   int64_t seconds) {
  for (const ClassInfo& c : snapshot.classes) {
    if (c.name == gpu_class) return CostOf(int64_t{gpus} * seconds * 1000, c.hourly_rate);
  }
  return 0;
}

ClassChoice ChooseClass(const Placer& placer, const JobView& job, Evaluation& ev,
                        const Timeline& timeline, const Policy& policy, bool future,
                        double wait_ratio) {
  ClassChoice out;
  const size_t n = ev.classes.size();
  if (n <= 1) {
    out.option = ev.now ? ev.now : ev.earliest;
    return out;
  }
  const Snapshot& snapshot = timeline.snapshot();
  const Millis now = timeline.now();
  const int64_t stated = job.walltime_s > 0 ? job.walltime_s : policy.default_walltime_s;
  std::vector<int64_t> run(n);
  std::vector<Millis> done(n, kNever);
  for (size_t c = 0; c < n; ++c) run[c] = ExpectedOnClassS(stated, job, ev.classes[c], snapshot);
  std::optional<size_t> best;
  std::vector<bool> gang(n, false);
  // The earliest completion; at a tie, one node before a multi-node gang (NVLink, and no share
  // of the network), then the preferred class.
  auto consider = [&](size_t c, const std::optional<Option>& o) {
    if (!o) return;
    done[c] = AddSeconds(o->start, run[c]);
    gang[c] = !o->gang.empty();
    if (!best || std::tuple(done[c], gang[c], c) < std::tuple(done[*best], gang[*best], *best)) {
      best = c;
    }
  };
  for (size_t c = 0; c < n; ++c) consider(c, ev.now_by_class[c]);
  for (size_t c = 0; c < n; ++c) {
    if (ev.now_by_class[c]) continue;
    if (!ev.earliest_by_class[c]) {
      // Only worth a search if it could finish first even when starting now.
      if (!future && best && AddSeconds(now, run[c]) >= done[*best]) continue;
      Evaluation one = placer.Evaluate(job, timeline, policy, now, true, static_cast<int>(c));
      ev.earliest_by_class[c] = one.earliest_by_class[c];
    }
    consider(c, ev.earliest_by_class[c]);
  }
  if (!best) return out;
  // Rent or buy: waiting without a reservation has no bound (the estimate ignores the jobs
  // ahead), so the job waits at most `wait_ratio` times what the slower class adds to its run;
  // its wait is counted up to the estimated start, a lower bound, so that it does not wait at
  // all when even the estimate goes past the bound.
  bool waited_enough = false;
  if (wait_ratio >= 0 && !ev.now_by_class[*best]) {
    std::optional<size_t> now_best;
    for (size_t c = 0; c < n; ++c) {
      if (ev.now_by_class[c] && (!now_best || done[c] < done[*now_best])) now_best = c;
    }
    const Millis faster_start = ev.earliest_by_class[*best]->start;
    // Long jobs are patient: ski rental when the slowdown is long (Policy).
    double ratio = wait_ratio;
    if (now_best && policy.faster_class_patience_extra_s > 0 &&
        run[*now_best] - run[*best] >= policy.faster_class_patience_extra_s) {
      ratio = std::max(ratio, 1.0);
    }
    if (now_best && static_cast<double>(faster_start - job.submitted_at) / 1000.0 >=
                        ratio * static_cast<double>(run[*now_best] - run[*best])) {
      best = now_best;
      waited_enough = true;
    }
  }
  out.option = ev.now_by_class[*best] ? ev.now_by_class[*best] : ev.earliest_by_class[*best];
  const size_t b = *best;
  const bool starts_now = out.option->start == now;
  const std::string first = Upper(ev.classes[0]);
  const std::string chosen = Upper(ev.classes[b]);
  if (starts_now && b != 0) {
    std::string why = ev.now_by_class[0]        ? first + " free now too, but slower"
                      : ev.earliest_by_class[0] ? first + " busy until about " +
                                                      FormatClock(ev.earliest_by_class[0]->start)
                                                : first + " not available";
    if (waited_enough) {
      why += ", too long a wait compared with what " + chosen + " adds to its run";
    }
    why += "; " + chosen +
           " free now: " + Ratio(static_cast<double>(run[b]) / static_cast<double>(run[0]));
    MicroEur cost_b = ClassCost(snapshot, ev.classes[b], job.gpus, run[b]);
    MicroEur cost_0 = ClassCost(snapshot, ev.classes[0], job.gpus, run[0]);
    if (cost_b > 0 || cost_0 > 0) {
      why += ", " + FormatEurCents(cost_b) + " EUR instead of " + FormatEurCents(cost_0) + " EUR";
    }
    out.reason = why;
  } else if (!starts_now) {
    for (size_t c = 0; c < n; ++c) {
      if (!ev.now_by_class[c]) continue;
      out.waits = true;
      out.reason = "waiting for " + chosen + ": free about " + FormatClock(out.option->start) +
                   ", done about " + FormatClock(done[b]) + ", sooner than on " +
                   Upper(ev.classes[c]) + " now (done about " + FormatClock(done[c]) + ")";
      break;
    }
  }
  return out;
}

}  // namespace gpuaas::sched
