#include "sim/walltime_model.h"

#include <cmath>

namespace gpuaas::sim {

Status ValidateWalltimeFactor(double factor) {
  if (!(factor >= 1.0 && factor <= 100.0)) {
    return InvalidArgument(
        "walltime factor must be between 1 and 100 (users ask at least the "
        "run time they need)");
  }
  return Status::Ok();
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

Result<bool> WalltimeModelSource::Next(TraceJob* job) {
  auto more = inner_.Next(job);
  if (more.ok() && *more) AssignWalltime(job, factor_);
  return more;
}

}  // namespace gpuaas::sim
