// The job verbs: submit, estimate, jobs, job, logs, cancel.
#include <algorithm>
#include <cctype>

#include <boost/json.hpp>

#include "cmd/cli_format.h"
#include "cmd/cli_input.h"
#include "cmd/cli_verbs.h"

namespace gpuaas::cli {

namespace json = boost::json;

namespace {

constexpr int64_t kDefaultJobsLimit = 1000;
constexpr int64_t kMaxPageSize = 1000;  // the API's maximum ?limit
constexpr size_t kMaxJobNameChars = 128;

// The request fields shared by submit and estimate, validated.
struct GpuRequest {
  int64_t gpus = 1;
  json::array gpu_types;
  int64_t walltime_s = 0;  // 0: not given
};

Status ParseGpuRequest(const ClientArgs& a, GpuRequest* r) {
  if (!a.gpus.empty()) {
    Result<int64_t> n = ParsePositiveInt(a.gpus, "--gpus");
    if (!n.ok()) return n.status();
    r->gpus = *n;
  }
  if (!a.gpu_type.empty()) {
    auto types = ParseGpuTypes(a.gpu_type);
    if (!types.ok()) return types.status();
    for (const std::string& t : *types) r->gpu_types.emplace_back(t);
  }
  if (!a.walltime.empty()) {
    Result<int64_t> w = ParsePositiveDuration(a.walltime, "--walltime");
    if (!w.ok()) return w.status();
    r->walltime_s = *w;
  }
  if (!a.entity.empty() && !IsValidName(a.entity)) {
    return InvalidArgument("--entity '" + a.entity + "' is not a valid name");
  }
  return Status::Ok();
}

Result<int64_t> JobIdArg(const ClientArgs& a) { return ParseJobId(a.id); }

std::string JobTarget(int64_t id) { return "/api/v1/jobs/" + std::to_string(id); }

std::string JobWord(const json::object& job) {
  const json::value* kind = job.if_contains("kind");
  return kind != nullptr && kind->is_string() ? std::string(kind->as_string()) : "job";
}

}  // namespace

std::string FormatJob(const json::object& job_in) {
  // The devices of every node, e.g. "n1:0,1,2,3 n2:0,1" (a multi-node gang has several).
  json::object job = job_in;
  if (const json::value* sl = job_in.if_contains("slices"); sl && sl->is_array()) {
    std::string parts;
    for (const json::value& s : sl->get_array()) {
      if (!s.is_object()) continue;
      const json::object& o = s.get_object();
      parts += (parts.empty() ? "" : " ") + Field(o, "node") + ":" + Field(o, "gpu_ids");
    }
    job["slices"] = parts;
  }
  return FormatKeyValues(job, {"id",
                               "name",
                               "kind",
                               "state",
                               "entity",
                               "user",
                               "gpus",
                               "gpu_types",
                               "gpu_type",
                               "node",
                               "gpu_ids",
                               "nodes",
                               "slices",
                               "walltime_s",
                               "submitted_at",
                               "started_at",
                               "finished_at",
                               "exit_code",
                               "cost",
                               "queue_position",
                               "estimated_start",
                               "reason",
                               "url"});
}

int RunSubmit(const VerbContext& c) {
  const ClientArgs& a = c.args;
  std::string kind = a.kind.empty() ? "job" : a.kind;
  if (Status s = ValidateChoice(kind, "--kind", Kinds()); !s.ok()) return c.UsageError(s);
  GpuRequest req;
  if (Status s = ParseGpuRequest(a, &req); !s.ok()) return c.UsageError(s);
  if (!a.name.empty() && a.name.size() > kMaxJobNameChars) {
    return c.UsageError(InvalidArgument("--name is longer than 128 characters"));
  }
  if (a.command.empty() && (kind == "job" || kind == "service")) {
    return c.UsageError(
        InvalidArgument("a " + kind + " needs a command: gpuaas submit [FLAGS] -- CMD [ARGS...]"));
  }
  json::object body;
  body["kind"] = kind;
  if (!a.name.empty()) body["name"] = a.name;
  body["gpus"] = req.gpus;
  if (!req.gpu_types.empty()) body["gpu_types"] = req.gpu_types;
  if (req.walltime_s > 0) body["walltime_s"] = req.walltime_s;
  // Host resources (cgroup limits on the node); the server checks the bounds.
  struct Resource {
    const std::string* value;
    const char* flag;
    const char* key;
  };
  for (const Resource& r :
       {Resource{&a.cpus, "--cpus", "cpus"}, Resource{&a.memory_gb, "--memory-gb", "memory_gb"}}) {
    if (r.value->empty()) continue;
    Result<int64_t> n = ParsePositiveInt(*r.value, r.flag);
    if (!n.ok()) return c.UsageError(n.status());
    body[r.key] = *n;
  }
  if (!a.command.empty()) {
    json::array cmd;
    for (const std::string& w : a.command) cmd.emplace_back(w);
    body["command"] = std::move(cmd);
  }
  if (!a.env.empty()) body["environment"] = a.env;
  if (!a.workspace.empty()) {
    if (Status s = ValidateChoice(a.workspace, "--workspace", {"rw", "ro", "none"}); !s.ok()) {
      return c.UsageError(s);
    }
    body["workspace"] = a.workspace;
  }
  if (!a.secrets.empty()) {
    json::array names;
    for (const auto& n : a.secrets) names.emplace_back(n);
    body["secrets"] = std::move(names);
  }
  if (!a.entity.empty()) body["entity"] = a.entity;
  if (!a.priority.empty()) {
    if (Status s =
            ValidateChoice(a.priority, "--priority", {"production", "standard", "best-effort"});
        !s.ok())
      return c.UsageError(s);
    body["priority_class"] = a.priority;
  }
  if (!a.project.empty()) body["project"] = a.project;
  if (a.requeue) body["requeue_on_preempt"] = true;
  if (a.no_fallback) body["allow_fallback"] = false;

  auto reply = c.api.Call("POST", "/api/v1/jobs", body);
  if (!reply.ok()) return c.Fail(reply.status());
  if (c.args.json) return c.PrintRaw(*reply);
  if (!reply->json.is_object()) return c.PrintRaw(*reply);
  const json::object& job = reply->json.as_object();
  c.out << JobWord(job) << " " << Field(job, "id") << " " << Field(job, "state") << " ("
        << GpuLabel(job) << ")\n";
  if (const json::value* url = job.if_contains("url"); url && url->is_string()) {
    c.out << "url: " << url->as_string().c_str() << "\n";
  }
  if (const json::value* est = job.if_contains("estimated_start"); est && est->is_string()) {
    c.out << "estimated start: " << est->as_string().c_str() << "\n";
  }
  return 0;
}

int RunEstimate(const VerbContext& c) {
  GpuRequest req;
  if (Status s = ParseGpuRequest(c.args, &req); !s.ok()) return c.UsageError(s);
  json::object body;
  body["gpus"] = req.gpus;
  body["gpu_types"] = req.gpu_types;
  if (req.walltime_s > 0) body["walltime_s"] = req.walltime_s;
  if (!c.args.entity.empty()) body["entity"] = c.args.entity;
  auto reply = c.api.Call("POST", "/api/v1/estimate", body);
  if (!reply.ok()) return c.Fail(reply.status());
  if (c.args.json || !reply->json.is_object()) return c.PrintRaw(*reply);
  c.out << FormatKeyValues(reply->json.as_object(),
                           {"node", "gpu_type", "gpus", "estimated_start", "queue_position",
                            "reason", "walltime_s", "rate", "price", "cost"});
  return 0;
}

int RunJobs(const VerbContext& c) {
  const ClientArgs& a = c.args;
  int64_t limit = kDefaultJobsLimit;
  if (!a.limit.empty()) {
    Result<int64_t> n = ParsePositiveInt(a.limit, "--limit");
    if (!n.ok()) return c.UsageError(n.status());
    limit = *n;
  }
  if (!a.state.empty()) {
    if (Status s = ValidateChoice(a.state, "--state", JobStates()); !s.ok()) {
      return c.UsageError(s);
    }
  }
  if (!a.entity.empty() && !IsValidName(a.entity)) {
    return c.UsageError(InvalidArgument("--entity '" + a.entity + "' is not a valid name"));
  }
  json::array jobs;
  std::string after;
  while (static_cast<int64_t>(jobs.size()) < limit) {
    int64_t page = std::min(kMaxPageSize, limit - static_cast<int64_t>(jobs.size()));
    std::string target = "/api/v1/jobs" + QueryString({{"state", a.state},
                                                       {"entity", a.entity},
                                                       {"limit", std::to_string(page)},
                                                       {"after", after}});
    auto reply = c.api.Call("GET", target);
    if (!reply.ok()) return c.Fail(reply.status());
    const json::object* o = reply->json.if_object();
    const json::value* list = o ? o->if_contains("jobs") : nullptr;
    if (list == nullptr || !list->is_array()) {
      return c.Fail(Internal("the server's job list has no \"jobs\" array"));
    }
    for (const json::value& j : list->as_array()) {
      if (static_cast<int64_t>(jobs.size()) >= limit) break;
      jobs.push_back(j);
    }
    const json::value* next = o->if_contains("next_after");
    if (next == nullptr || next->is_null() || list->as_array().empty()) break;
    std::string next_after = FormatScalar(*next);
    if (next_after == after) break;  // no progress: do not loop forever
    after = next_after;
  }
  if (a.json) return c.PrintJson(json::object{{"jobs", std::move(jobs)}});
  std::vector<Row> rows;
  for (const json::value& v : jobs) {
    if (!v.is_object()) continue;
    const json::object& j = v.as_object();
    std::string type = Field(j, "gpu_type");
    if (type == "-" || type.empty()) {
      type = Field(j, "gpu_types");
      if (type == "-") type = "any";
    }
    rows.push_back({Field(j, "id"), Field(j, "name"), Field(j, "state"), Field(j, "entity"),
                    Field(j, "gpus"), type, Field(j, "node"), Field(j, "submitted_at")});
  }
  c.out << FormatTable({"ID", "NAME", "STATE", "ENTITY", "GPUS", "TYPE", "NODE", "SUBMITTED"},
                       rows);
  return 0;
}

int RunJob(const VerbContext& c) {
  Result<int64_t> id = JobIdArg(c.args);
  if (!id.ok()) return c.UsageError(id.status());
  auto reply = c.api.Call("GET", JobTarget(*id));
  if (!reply.ok()) return c.Fail(reply.status());
  if (c.args.json || !reply->json.is_object()) return c.PrintRaw(*reply);
  c.out << FormatJob(reply->json.as_object());
  return 0;
}

int RunLogs(const VerbContext& c) {
  Result<int64_t> id = JobIdArg(c.args);
  if (!id.ok()) return c.UsageError(id.status());
  std::string target = JobTarget(*id) + "/logs";
  if (!c.args.rank.empty()) {
    const std::string& r = c.args.rank;
    if (r.size() > 4 ||
        !std::all_of(r.begin(), r.end(), [](unsigned char ch) { return std::isdigit(ch); })) {
      return c.UsageError(InvalidArgument("--rank must be a node rank: 0, 1, 2, ..."));
    }
    target += "?rank=" + r;
  }
  Result<std::string> text = c.api.CallText("GET", target);
  if (!text.ok()) return c.Fail(text.status());
  c.out << *text;  // plain text even with --json: the contract says so
  return 0;
}

int RunCancel(const VerbContext& c) {
  Result<int64_t> id = JobIdArg(c.args);
  if (!id.ok()) return c.UsageError(id.status());
  auto reply = c.api.Call("POST", JobTarget(*id) + "/cancel");
  if (!reply.ok()) return c.Fail(reply.status());
  if (c.args.json || !reply->json.is_object()) return c.PrintRaw(*reply);
  const json::object& job = reply->json.as_object();
  c.out << JobWord(job) << " " << Field(job, "id") << " " << Field(job, "state");
  if (const json::value* r = job.if_contains("releasing"); r && r->is_bool() && r->get_bool()) {
    c.out << " (releasing its GPUs)";
  }
  c.out << "\n";
  return 0;
}

}  // namespace gpuaas::cli
