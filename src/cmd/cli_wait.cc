// `gpuaas wait ID [--timeout SECONDS]`: polls the job with a backoff from 50 ms to 500 ms until
// it is in a final state. The CLI is a cmd/ program, so it uses the real steady clock here.
#include <algorithm>
#include <chrono>
#include <optional>
#include <thread>

#include <boost/json.hpp>

#include "base/time.h"
#include "cmd/cli_format.h"
#include "cmd/cli_input.h"
#include "cmd/cli_verbs.h"

namespace gpuaas::cli {

namespace json = boost::json;

int RunWait(const VerbContext& c) {
  using Clock = std::chrono::steady_clock;
  using std::chrono::milliseconds;
  constexpr milliseconds kFirstDelay{50};
  constexpr milliseconds kMaxDelay{500};

  Result<int64_t> id = ParseJobId(c.args.id);
  if (!id.ok()) return c.UsageError(id.status());
  std::optional<Clock::time_point> deadline;
  if (!c.args.timeout.empty()) {
    Result<int64_t> secs = ParseDurationSeconds(c.args.timeout);
    if (!secs.ok()) return c.UsageError(InvalidArgument("--timeout: " + secs.status().message()));
    deadline = Clock::now() + std::chrono::seconds(*secs);
  }
  const std::string target = "/api/v1/jobs/" + std::to_string(*id);
  milliseconds delay = kFirstDelay;
  while (true) {
    auto reply = c.api.Call("GET", target);
    if (!reply.ok()) return c.Fail(reply.status());
    const json::object* job = reply->json.if_object();
    if (job == nullptr) return c.Fail(Internal("the server's job is not a JSON object"));
    std::string state = Field(*job, "state");
    if (IsFinalState(state)) {
      if (c.args.json) return c.PrintRaw(*reply);
      std::string kind = Field(*job, "kind");
      c.out << (kind == "-" ? "job" : kind) << " " << *id << " " << state << " (exit code "
            << Field(*job, "exit_code") << ", cost " << Field(*job, "cost") << ")\n";
      return 0;
    }
    Clock::time_point now = Clock::now();
    if (deadline && now >= *deadline) {
      return c.Fail(Unavailable("timed out waiting for job " + std::to_string(*id) + " (state " +
                                state + ")"));
    }
    milliseconds sleep = delay;
    if (deadline) {
      sleep = std::min(sleep, std::chrono::ceil<milliseconds>(*deadline - now));
    }
    std::this_thread::sleep_for(sleep);
    delay = std::min(delay * 2, kMaxDelay);
  }
}

}  // namespace gpuaas::cli
