// The `size` verb: sizes a training or fine-tuning run through POST /api/v1/sizing and prints
// the options per class (GPUs, memory, hours, walltime, cost, energy, estimated start and end),
// the fastest and cheapest, and the submit line of the fastest.
#include <cstdio>
#include <vector>

#include <boost/json.hpp>

#include "base/time.h"
#include "cmd/cli_format.h"
#include "cmd/cli_input.h"
#include "cmd/cli_verbs.h"
#include "sizing/service_size.h"
#include "sizing/training_size.h"

namespace gpuaas::cli {
namespace json = boost::json;
namespace {

double Number(const json::object& o, const char* key) {
  const json::value* v = o.if_contains(key);
  return v && v->is_number() ? v->to_number<double>() : 0.0;
}

std::string Fixed(const char* format, double x) {
  char buf[64];
  std::snprintf(buf, sizeof buf, format, x);
  return buf;
}

// The request body from the flags; every value checked before the request is sent.
Result<json::object> SizingBody(const ClientArgs& a) {
  json::object body;
  const bool service = a.method == "inference";
  if (!a.method.empty()) {
    if (!service && !sizing::ParseMethod(a.method)) {
      return InvalidArgument("--method must be full, lora, qlora or inference, not '" + a.method +
                             "'");
    }
    body["method"] = a.method;
  }
  // The flags of the other kind of sizing.
  using Flag = std::pair<const std::string*, const char*>;
  const std::vector<Flag> training_only = {{&a.tokens, "--tokens"},
                                           {&a.epochs, "--epochs"},
                                           {&a.micro_batch, "--micro-batch"},
                                           {&a.mfu, "--mfu"}};
  const std::vector<Flag> service_only = {
      {&a.precision, "--precision"}, {&a.concurrency, "--concurrency"}, {&a.hours, "--hours"}};
  for (const auto& [value, flag] : service ? training_only : service_only) {
    if (!value->empty()) {
      return InvalidArgument(std::string(flag) + (service
                                                      ? " is for training, not --method inference"
                                                      : " is for --method inference"));
    }
  }
  GPUAAS_ASSIGN_OR_RETURN(double params, sizing::ParseCount(a.params, "--params"));
  body["params"] = params;
  if (service) {
    if (!a.precision.empty()) {
      if (!sizing::ParsePrecision(a.precision)) {
        return InvalidArgument("--precision must be bf16, fp8 or int4, not '" + a.precision + "'");
      }
      body["precision"] = a.precision;
    }
    if (!a.hours.empty()) {
      char* end = nullptr;
      const double hours = std::strtod(a.hours.c_str(), &end);
      if (end != a.hours.c_str() + a.hours.size() || !(hours >= 0.25 && hours <= 100'000)) {
        return InvalidArgument("--hours must be a number from 0.25 to 100000, not '" + a.hours +
                               "'");
      }
      body["hours"] = hours;
    }
  } else {
    if (a.tokens.empty()) return InvalidArgument("--tokens is required to size a training run");
    GPUAAS_ASSIGN_OR_RETURN(double tokens, sizing::ParseCount(a.tokens, "--tokens"));
    body["tokens"] = tokens;
  }
  const std::pair<const std::string*, const char*> ints[] = {{&a.epochs, "epochs"},
                                                             {&a.seq_len, "seq_len"},
                                                             {&a.micro_batch, "micro_batch"},
                                                             {&a.concurrency, "concurrency"}};
  for (const auto& [value, key] : ints) {
    if (value->empty()) continue;
    std::string flag = std::string("--") + key;
    for (char& ch : flag) ch = ch == '_' ? '-' : ch;
    GPUAAS_ASSIGN_OR_RETURN(int64_t n, ParsePositiveInt(*value, flag));
    body[key] = n;
  }
  if (!a.mfu.empty()) {
    char* end = nullptr;
    const double mfu = std::strtod(a.mfu.c_str(), &end);
    if (end != a.mfu.c_str() + a.mfu.size() || !(mfu >= 0.01 && mfu <= 1)) {
      return InvalidArgument("--mfu must be a number between 0.01 and 1, not '" + a.mfu + "'");
    }
    body["mfu"] = mfu;
  }
  if (!a.gpu_type.empty()) {
    GPUAAS_ASSIGN_OR_RETURN(auto types, ParseGpuTypes(a.gpu_type));
    json::array t;
    for (const std::string& s : types) t.emplace_back(s);
    body["gpu_types"] = std::move(t);
  }
  if (!a.entity.empty()) {
    if (!IsValidName(a.entity)) {
      return InvalidArgument("--entity '" + a.entity + "' is not a valid name");
    }
    body["entity"] = a.entity;
  }
  return body;
}

// A --walltime value submit accepts (one unit): "44h", "105m".
std::string WalltimeFlag(int64_t s) {
  return s % 3600 == 0 ? std::to_string(s / 3600) + "h" : std::to_string((s + 59) / 60) + "m";
}

// 2e8 -> "200M", 7e9 -> "7B", 1.5e12 -> "1.5T".
std::string Count(double x) {
  const std::pair<double, const char*> units[] = {{1e12, "T"}, {1e9, "B"}, {1e6, "M"}, {1e3, "k"}};
  for (const auto& [scale, suffix] : units) {
    if (x >= scale) return Fixed("%.4g", x / scale) + suffix;
  }
  return Fixed("%.4g", x);
}

std::string OptionLabel(const json::object& o) {
  return Field(o, "gpus") + " x " + Field(o, "gpu_type");
}

}  // namespace

int RunSize(const VerbContext& c) {
  auto body = SizingBody(c.args);
  if (!body.ok()) return c.UsageError(body.status());
  auto reply = c.api.Call("POST", "/api/v1/sizing", *body);
  if (!reply.ok()) return c.Fail(reply.status());
  if (c.args.json) return c.PrintRaw(*reply);
  const json::object* root = reply->json.if_object();
  const json::value* w = root ? root->if_contains("workload") : nullptr;
  const json::value* opts = root ? root->if_contains("options") : nullptr;
  if (!w || !w->is_object() || !opts || !opts->is_array()) {
    return c.Fail(Internal("unexpected answer from the server: no workload or options"));
  }
  const json::object& wl = w->as_object();
  const bool service = Field(wl, "method") == "inference";
  if (service) {
    c.out << "inference service of a model of " << Count(Number(wl, "params")) << " parameters in "
          << Field(wl, "precision") << ", " << Field(wl, "concurrency")
          << " concurrent requests of " << Field(wl, "seq_len") << " tokens, for "
          << Field(wl, "hours") << " hours\n\n";
  } else {
    c.out << Field(wl, "method") << " training of a model of " << Count(Number(wl, "params"))
          << " parameters on " << Count(Number(wl, "tokens")) << " tokens x " << Field(wl, "epochs")
          << " epoch(s), sequences of " << Field(wl, "seq_len") << ", micro-batch "
          << Field(wl, "micro_batch") << ", MFU " << Field(wl, "mfu") << ": "
          << Fixed("%.2e", Number(wl, "flops")) << " FLOPs\n\n";
  }
  const json::array& options = opts->as_array();
  std::vector<Row> rows;
  for (const json::value& v : options) {
    if (!v.is_object()) continue;
    const json::object& o = v.as_object();
    std::string memory = "-";
    if (const json::value* m = o.if_contains("memory"); m && m->is_object()) {
      memory = Fixed("%.1f", Number(m->as_object(), "total_gb")) + " / " +
               Fixed("%.1f GB", Number(m->as_object(), "gpu_gb"));
    }
    rows.push_back({Field(o, "gpu_type"), Field(o, "gpus"), Field(o, "nodes"), memory,
                    service ? Field(o, "max_concurrency") : std::string(),
                    Fixed("%.2f", Number(o, "hours")),
                    FormatDurationSeconds(static_cast<int64_t>(Number(o, "walltime_s"))),
                    Fixed("%.1f", Number(o, "gpu_hours")), Field(o, "cost"),
                    Fixed("%.1f", Number(o, "energy_kwh_max")), Field(o, "estimated_start"),
                    Field(o, "estimated_end")});
  }
  if (!rows.empty()) {
    Row header = {"CLASS",    "GPUS",  "NODES", "MEMORY/GPU", "MAX REQUESTS", "HOURS",
                  "WALLTIME", "GPU-H", "COST",  "KWH(MAX)",   "START",        "END"};
    if (!service) {  // (the requests a service's memory holds: no column for training)
      header.erase(header.begin() + 4);
      for (Row& r : rows) r.erase(r.begin() + 4);
    }
    c.out << FormatTable(header, rows);
  }
  auto pick = [&](const char* key) -> const json::object* {
    const json::value* i = root->if_contains(key);
    if (!i || !i->is_int64() || i->as_int64() < 0 ||
        static_cast<size_t>(i->as_int64()) >= options.size()) {
      return nullptr;
    }
    return options[static_cast<size_t>(i->as_int64())].if_object();
  };
  const json::object* fastest = pick("fastest");
  const json::object* cheapest = pick("cheapest");
  if (fastest) {
    // (A service runs its hours on any option: the earliest end is the earliest start.)
    c.out << (service ? "\nsoonest: " : "\nfastest: ") << OptionLabel(*fastest) << ", ends about "
          << Field(*fastest, "estimated_end") << ", " << Field(*fastest, "cost") << "\n";
  }
  if (cheapest) {
    c.out << "cheapest: " << OptionLabel(*cheapest) << ", " << Field(*cheapest, "cost")
          << ", ends about " << Field(*cheapest, "estimated_end") << "\n";
  }
  for (const json::value& v : options) {
    const json::object* o = v.if_object();
    if (o && Field(*o, "estimated_start") == "-") {
      c.out << OptionLabel(*o) << ": " << Field(*o, "reason") << "\n";
    }
  }
  if (const json::value* np = root->if_contains("not_possible"); np && np->is_array()) {
    for (const json::value& v : np->as_array()) {
      if (const json::object* o = v.if_object()) {
        c.out << "not on " << Field(*o, "gpu_type") << ": " << Field(*o, "reason") << "\n";
      }
    }
  }
  if (fastest) {
    c.out << (service ? "\nsubmit the soonest: gpuaas submit --kind service --gpus "
                      : "\nsubmit the fastest: gpuaas submit --gpus ")
          << Field(*fastest, "gpus") << " --gpu-type " << Field(*fastest, "gpu_type")
          << " --walltime " << WalltimeFlag(static_cast<int64_t>(Number(*fastest, "walltime_s")))
          << " -- CMD\n";
  }
  if (const json::value* as = root->if_contains("assumptions"); as && as->is_array()) {
    c.out << "\nassumptions (docs/sizing.md):\n";
    for (const json::value& v : as->as_array()) {
      if (v.is_string()) c.out << "  - " << v.as_string().c_str() << "\n";
    }
  }
  return 0;
}

}  // namespace gpuaas::cli
