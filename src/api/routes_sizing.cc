// POST /api/v1/sizing (docs/api.md, docs/sizing.md): how many GPUs of each class a training or
// fine-tuning run (or an inference service) needs, for how many hours, at what cost and energy,
// and when each option could start and end on the platform as it is now.
#include <cmath>
#include <set>

#include "api/handler_support.h"
#include "api/routes.h"
#include "sizing/service_size.h"
#include "sizing/training_size.h"

namespace gpuaas::api {
namespace {

// A count given as a number (7e9) or as text ("7B", "500M").
Result<std::optional<double>> GetCount(const json::object& o, const char* key) {
  auto it = o.find(key);
  if (it == o.end() || it->value().is_null()) return std::optional<double>();
  const json::value& v = it->value();
  if (v.is_number()) return std::optional<double>(v.to_number<double>());
  if (v.is_string()) {
    GPUAAS_ASSIGN_OR_RETURN(double n, sizing::ParseCount(std::string(v.as_string()), key));
    return std::optional<double>(n);
  }
  return InvalidArgument(std::string("'") + key + "' must be a number or a count such as \"7B\"");
}

Result<std::optional<double>> GetNumber(const json::object& o, const char* key) {
  auto it = o.find(key);
  if (it == o.end() || it->value().is_null()) return std::optional<double>();
  if (!it->value().is_number())
    return InvalidArgument(std::string("'") + key + "' must be a number");
  return std::optional<double>(it->value().to_number<double>());
}

Result<SizingRequest> SizingRequestOf(const json::object& o) {
  static const std::set<std::string> kKnown = {
      "method", "params",    "tokens",      "epochs", "seq_len",   "micro_batch",
      "mfu",    "precision", "concurrency", "hours",  "gpu_types", "entity"};
  static const std::set<std::string> kTrainingOnly = {"tokens", "epochs", "micro_batch", "mfu"};
  static const std::set<std::string> kServiceOnly = {"precision", "concurrency", "hours"};
  for (const auto& kv : o) {
    if (!kKnown.contains(std::string(kv.key()))) {
      return InvalidArgument("unknown field '" + std::string(kv.key()) +
                             "' (method, params, tokens, epochs, seq_len, micro_batch, mfu, "
                             "precision, concurrency, hours, gpu_types, entity)");
    }
  }
  SizingRequest r;
  GPUAAS_ASSIGN_OR_RETURN(auto method, GetString(o, "method"));
  const bool service = method && *method == "inference";
  if (method && !service) {
    auto m = sizing::ParseMethod(*method);
    if (!m) {
      return FailedPrecondition("unknown method '" + *method + "' (full, lora, qlora, inference)");
    }
    r.workload.method = *m;
  }
  for (const auto& kv : o) {
    const std::string key(kv.key());
    if (service && kTrainingOnly.contains(key)) {
      return FailedPrecondition(key +
                                " is for training; an inference service is sized by "
                                "concurrency, seq_len and hours");
    }
    if (!service && kServiceOnly.contains(key)) {
      return FailedPrecondition(key + " is for an inference service (\"method\": \"inference\")");
    }
  }
  GPUAAS_ASSIGN_OR_RETURN(auto params, GetCount(o, "params"));
  if (!params) return FailedPrecondition("params is required (the model's size, e.g. \"7B\")");
  auto small_int = [&](const char* key, int* field) -> Status {
    GPUAAS_ASSIGN_OR_RETURN(auto n, GetInt(o, key));
    if (!n) return Status::Ok();
    if (*n < 1 || *n > 100'000'000) {
      return FailedPrecondition(std::string(key) + " must be a positive integer");
    }
    *field = static_cast<int>(*n);
    return Status::Ok();
  };
  if (service) {
    sizing::Service& sv = r.service.emplace();
    sv.params = *params;
    GPUAAS_ASSIGN_OR_RETURN(auto precision, GetString(o, "precision"));
    if (precision) {
      auto p = sizing::ParsePrecision(*precision);
      if (!p) return FailedPrecondition("unknown precision '" + *precision + "' (bf16, fp8, int4)");
      sv.precision = *p;
    }
    GPUAAS_RETURN_IF_ERROR(small_int("seq_len", &sv.context));
    GPUAAS_RETURN_IF_ERROR(small_int("concurrency", &sv.concurrency));
    GPUAAS_ASSIGN_OR_RETURN(auto hours, GetNumber(o, "hours"));
    if (hours) sv.hours = *hours;
  } else {
    sizing::Workload& w = r.workload;
    w.params = *params;
    GPUAAS_ASSIGN_OR_RETURN(auto tokens, GetCount(o, "tokens"));
    if (!tokens) return FailedPrecondition("tokens is required (tokens per epoch, e.g. \"500M\")");
    w.tokens = *tokens;
    GPUAAS_RETURN_IF_ERROR(small_int("epochs", &w.epochs));
    GPUAAS_RETURN_IF_ERROR(small_int("seq_len", &w.seq_len));
    GPUAAS_RETURN_IF_ERROR(small_int("micro_batch", &w.micro_batch));
    GPUAAS_ASSIGN_OR_RETURN(auto mfu, GetNumber(o, "mfu"));
    if (mfu) w.mfu = *mfu;
  }
  GPUAAS_ASSIGN_OR_RETURN(auto types, GetStringArray(o, "gpu_types"));
  if (types) r.gpu_types = *types;
  GPUAAS_ASSIGN_OR_RETURN(auto entity, GetString(o, "entity"));
  if (entity) r.entity = *entity;
  return r;
}

// To 2 decimals (hours, GB, kWh: what a person reads).
double Two(double x) { return std::round(x * 100) / 100; }
double Gb(double bytes) { return Two(bytes / 1e9); }

json::object SizingJson(const SizingResult& s, const SizingRequest& req, const Platform& p) {
  const sizing::Workload& w = req.workload;
  json::array options;
  for (const SizedOption& so : s.options) {
    const sizing::Option& o = so.option;
    const ClassEstimate& e = so.estimate;
    const bool estimated = so.error.empty();
    int64_t gpu_mb = 0;
    for (const GpuClass& c : p.config().classes) {
      if (c.name == so.gpu_class) gpu_mb = c.memory_mb;
    }
    options.push_back(json::object{
        {"gpu_type", so.gpu_class},
        {"gpus", o.gpus},
        {"nodes", o.nodes},
        {"memory", json::object{{"states_gb", Gb(o.memory.states)},
                                {"activations_gb", Gb(o.memory.activations)},
                                {"overhead_gb", Gb(o.memory.overhead)},
                                {"total_gb", Gb(o.memory.total())},
                                {"gpu_gb", Gb(static_cast<double>(gpu_mb) * 1024 * 1024)}}},
        {"efficiency", o.efficiency},
        {"hours", Two(o.hours)},
        {"gpu_hours", Two(o.gpu_hours)},
        {"walltime_s", o.walltime_s},
        {"energy_kwh_max", Two(o.energy_kwh_max)},
        {"max_concurrency", o.max_concurrency},
        {"rate", Money(so.hourly_rate)},
        {"cost", Money(so.expected_cost)},
        {"cost_at_walltime",
         Money(CostOf(static_cast<int64_t>(o.gpus) * o.walltime_s * 1000, so.hourly_rate))},
        {"estimated_start", estimated ? TimeOrNull(e.start) : json::value(nullptr)},
        {"estimated_end", estimated ? TimeOrNull(e.end) : json::value(nullptr)},
        {"queue_position", estimated ? e.queue_position : 0},
        {"reason", estimated ? e.reason : so.error},
    });
  }
  json::array impossible;
  for (const sizing::ClassSizing& c : s.not_possible) {
    impossible.push_back(json::object{{"gpu_type", c.gpu_class}, {"reason", c.not_possible}});
  }
  json::array assumptions;
  for (const std::string& a :
       req.service ? sizing::ServiceAssumptions() : sizing::Assumptions(w.method)) {
    assumptions.push_back(json::string(a));
  }
  const Entity* ent = p.FindEntityById(s.entity);
  auto index = [](const std::optional<size_t>& i) {
    return i ? json::value(static_cast<int64_t>(*i)) : json::value(nullptr);
  };
  json::object workload;
  if (req.service) {
    const sizing::Service& sv = *req.service;
    workload = {{"method", "inference"},
                {"params", sv.params},
                {"precision", sizing::PrecisionName(sv.precision)},
                {"seq_len", sv.context},
                {"concurrency", sv.concurrency},
                {"hours", sv.hours}};
  } else {
    workload = {{"method", sizing::MethodName(w.method)},
                {"params", w.params},
                {"tokens", w.tokens},
                {"epochs", w.epochs},
                {"seq_len", w.seq_len},
                {"micro_batch", w.micro_batch},
                {"mfu", w.mfu},
                {"flops", s.flops}};
  }
  workload["layers"] = s.shape.layers;
  workload["hidden"] = s.shape.hidden;
  workload["vocab"] = s.shape.vocab;
  return json::object{
      {"entity", ent ? ent->name : ""},        {"workload", std::move(workload)},
      {"options", std::move(options)},         {"fastest", index(s.fastest)},
      {"cheapest", index(s.cheapest)},         {"not_possible", std::move(impossible)},
      {"assumptions", std::move(assumptions)},
  };
}

}  // namespace

void RegisterSizingRoutes(net::Router& r, Platform& p) {
  r.Add("POST", "/api/v1/sizing",
        Authed(p, [&p](const Principal& who, net::HttpRequest&& req, net::Respond respond) {
          auto body = ParseObject(req.body);
          if (!body.ok()) return respond(ErrorOf(body.status()));
          auto sr = SizingRequestOf(*body);
          if (!sr.ok()) return respond(ErrorOf(sr.status()));
          auto sized = p.Size(who, *sr);
          if (!sized.ok()) return respond(ErrorOf(sized.status()));
          respond(JsonResponse(200, SizingJson(*sized, *sr, p)));
        }));
}

}  // namespace gpuaas::api
