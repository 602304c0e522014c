#include "sim/walltime_model.h"

#include <charconv>
#include <cmath>
#include <string>

#include "sim/rng.h"

namespace gpuaas::sim {

Status ValidateWalltimeFactor(double factor) {
  if (!(factor >= 1.0 && factor <= 100.0)) {
    return InvalidArgument(
        "walltime factor must be between 1 and 100 (users ask at least the "
        "run time they need)");
  }
  return Status::Ok();
}

Result<WalltimeModel> ParseWalltimeModel(std::string_view text, uint64_t seed) {
  auto number = [](std::string_view s, double* v) {
    std::string t(s);
    char* end = nullptr;
    *v = std::strtod(t.c_str(), &end);
    return !t.empty() && end == t.c_str() + t.size();
  };
  WalltimeModel m;
  m.seed = seed;
  const size_t colon = text.find(':');
  const bool ok = colon == std::string_view::npos ? number(text, &m.lo)
                                                  : number(text.substr(0, colon), &m.lo) &&
                                                        number(text.substr(colon + 1), &m.hi);
  if (colon == std::string_view::npos) m.hi = m.lo;
  if (!ok) return InvalidArgument("expected FACTOR or LO:HI, e.g. 2 or 1:8");
  if (Status s = ValidateWalltimeFactor(m.lo); !s.ok()) return s;
  if (Status s = ValidateWalltimeFactor(m.hi); !s.ok()) return s;
  if (m.hi < m.lo) return InvalidArgument("LO must not exceed HI");
  return m;
}

int64_t RoundUpRequestS(int64_t seconds) {
  int64_t step = 300;
  if (seconds > 7 * 86400) {
    step = 86400;
  } else if (seconds > 86400) {
    step = 6 * 3600;
  } else if (seconds > 3600) {
    step = 1800;
  }
  if (seconds <= 0) return step;
  return (seconds + step - 1) / step * step;
}

void AssignWalltime(TraceJob* job, double factor) {
  if (job->walltime_s > 0) return;
  const double asked = std::ceil(static_cast<double>(job->duration_s) * factor);
  job->walltime_s = RoundUpRequestS(static_cast<int64_t>(asked));
}

void AssignWalltime(TraceJob* job, const WalltimeModel& model) {
  if (job->walltime_s > 0) return;
  double factor = model.lo;
  if (model.hi > model.lo) {
    Rng rng(SeedFor(model.seed ^ 0x77a11ULL, job->id));
    factor = model.lo * std::pow(model.hi / model.lo, rng.Uniform());
  }
  AssignWalltime(job, factor);
}

Result<bool> WalltimeModelSource::Next(TraceJob* job) {
  auto more = inner_.Next(job);
  if (more.ok() && *more) AssignWalltime(job, model_);
  return more;
}

}  // namespace gpuaas::sim
