#include "sched/scenario.h"

#include <algorithm>
#include <charconv>
#include <set>
#include <stdexcept>

#include "base/money.h"
#include "base/time.h"
#include "sched/filters.h"
#include "sched/queue_order.h"

namespace gpuaas::sched {
namespace {

// Splits a line into words; a double-quoted part (e.g. reason~"over quota") stays one word,
// without its quotes. A '#' outside quotes starts a comment.
Result<std::vector<std::string>> Words(std::string_view line) {
  std::vector<std::string> out;
  std::string cur;
  bool in_quotes = false, has = false;
  for (char c : line) {
    if (in_quotes) {
      if (c == '"')
        in_quotes = false;
      else
        cur += c;
    } else if (c == '"') {
      in_quotes = has = true;
    } else if (c == '#') {
      break;
    } else if (c == ' ' || c == '\t' || c == '\r') {
      if (has) out.push_back(cur);
      cur.clear();
      has = false;
    } else {
      cur += c;
      has = true;
    }
  }
  if (in_quotes) return InvalidArgument("unterminated quote");
  if (has) out.push_back(cur);
  return out;
}

Result<int64_t> Int(std::string_view s) {
  int64_t v = 0;
  auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (ec != std::errc() || p != s.data() + s.size()) {
    return InvalidArgument("not an integer: \"" + std::string(s) + "\"");
  }
  return v;
}

Result<int64_t> Seconds(std::string_view s) {
  auto r = ParseDurationSeconds(s);
  if (!r.ok()) return InvalidArgument("not a time: \"" + std::string(s) + "\"");
  return r;
}

Result<bool> OnOff(std::string_view s) {
  if (s == "on" || s == "true") return true;
  if (s == "off" || s == "false") return false;
  return InvalidArgument("expected on or off, got \"" + std::string(s) + "\"");
}

std::vector<std::string> Split(std::string_view s, char sep) {
  std::vector<std::string> out;
  size_t start = 0;
  while (start <= s.size()) {
    size_t end = s.find(sep, start);
    if (end == std::string_view::npos) end = s.size();
    if (end > start) out.emplace_back(s.substr(start, end - start));
    start = end + 1;
  }
  return out;
}

// key=value or key~value arguments after the leading words.
struct Args {
  std::map<std::string, std::string> kv;
  std::vector<std::string> flags;  // words without '=' / '~'
};

Args ParseArgs(const std::vector<std::string>& words, size_t from) {
  Args a;
  for (size_t i = from; i < words.size(); ++i) {
    size_t eq = words[i].find_first_of("=~");
    if (eq == std::string::npos) {
      a.flags.push_back(words[i]);
    } else {
      std::string key = words[i].substr(0, eq) + (words[i][eq] == '~' ? "~" : "");
      a.kv[key] = words[i].substr(eq + 1);
    }
  }
  return a;
}

class Parser {
 public:
  explicit Parser(std::string_view file) { s_.file = std::string(file); }

  Status Line(int line, const std::vector<std::string>& w) {
    line_ = line;
    const std::string& verb = w[0];
    if (verb == "policy") return PolicyLine(w);
    if (verb == "class") return ClassLine(w);
    if (verb == "node") return NodeLine(w);
    if (verb == "quota") return QuotaLine(w);
    if (verb == "guarantee") {
      if (w.size() < 3) return InvalidArgument("guarantee needs an entity and CLASS=N");
      Entity(w[1]);
      return QuotaArgs(w, 2, &s_.guarantees[w[1]]);
    }
    if (verb == "share" || verb == "usage") return NumberLine(w);
    if (verb == "job") return JobLine(w);
    if (verb == "at") return EventLine(w);
    if (verb == "expect") return ExpectLine(w);
    return InvalidArgument("unknown directive \"" + verb + "\"");
  }

  Result<Scenario> Finish() {
    if (s_.classes.empty()) {
      std::set<std::string> seen;
      for (const ScenarioNode& n : s_.nodes) {
        for (const auto& [cls, count] : n.groups) {
          if (seen.insert(cls).second) s_.classes.push_back({cls, 1.0, 0});
        }
      }
    }
    return std::move(s_);
  }

 private:
  Status Unused(const Args& a, std::set<std::string> known) {
    for (const auto& [k, v] : a.kv) {
      if (!known.contains(k)) return InvalidArgument("unknown argument \"" + k + "\"");
    }
    return Status::Ok();
  }

  void Entity(const std::string& name) {
    if (std::find(s_.entities.begin(), s_.entities.end(), name) == s_.entities.end()) {
      s_.entities.push_back(name);
    }
  }

  Status PolicyLine(const std::vector<std::string>& w) {
    Args a = ParseArgs(w, 1);
    if (a.flags.size() > 1) return InvalidArgument("policy takes at most one name");
    if (a.flags.size() == 1) {
      auto p = PolicyByName(a.flags[0]);
      if (!p.ok()) return p.status();
      s_.policy = *p;
    }
    GPUAAS_RETURN_IF_ERROR(Unused(
        a, {"order", "backfill", "reservations", "strict", "default_walltime", "max_estimates",
            "preempt", "reclaim", "grace", "half_life", "small_first", "usage_delay"}));
    if (a.kv.contains("preempt")) {
      GPUAAS_ASSIGN_OR_RETURN(s_.policy.preempt_lower_priority, OnOff(a.kv["preempt"]));
    }
    if (a.kv.contains("reclaim")) {
      GPUAAS_ASSIGN_OR_RETURN(s_.policy.reclaim, OnOff(a.kv["reclaim"]));
    }
    if (a.kv.contains("grace")) {
      GPUAAS_ASSIGN_OR_RETURN(s_.policy.preemption_grace_s, Seconds(a.kv["grace"]));
    }
    if (a.kv.contains("half_life")) {
      GPUAAS_ASSIGN_OR_RETURN(s_.policy.fair_share_half_life_s, Seconds(a.kv["half_life"]));
    }
    if (a.kv.contains("usage_delay")) {  // 0 = the strict order by usage
      if (a.kv["usage_delay"] == "0") {
        s_.policy.fair_share_usage_delay_s = 0;
      } else {
        GPUAAS_ASSIGN_OR_RETURN(s_.policy.fair_share_usage_delay_s, Seconds(a.kv["usage_delay"]));
      }
    }
    if (a.kv.contains("backfill")) {
      GPUAAS_ASSIGN_OR_RETURN(s_.policy.backfill, OnOff(a.kv["backfill"]));
    }
    if (a.kv.contains("reservations")) {
      GPUAAS_ASSIGN_OR_RETURN(int64_t n, Int(a.kv["reservations"]));
      s_.policy.reservations = static_cast<int>(n);
    }
    if (a.kv.contains("order")) {
      if (!MakeQueueOrder(a.kv["order"]).ok()) {
        return InvalidArgument("unknown queue order \"" + a.kv["order"] + "\"");
      }
      s_.policy.queue_order = a.kv["order"];
    }
    if (a.kv.contains("strict")) {
      GPUAAS_ASSIGN_OR_RETURN(s_.policy.strict_order, OnOff(a.kv["strict"]));
    }
    if (a.kv.contains("default_walltime")) {
      GPUAAS_ASSIGN_OR_RETURN(s_.policy.default_walltime_s, Seconds(a.kv["default_walltime"]));
    }
    if (a.kv.contains("small_first")) {  // GPU-seconds per second of waiting; 0 = arrival
      const std::string& v = a.kv["small_first"];
      double rate = -1;
      auto [ptr, ec] = std::from_chars(v.data(), v.data() + v.size(), rate);
      if (ec != std::errc() || ptr != v.data() + v.size() || !(rate >= 0)) {
        return InvalidArgument("small_first: expected a rate >= 0, got \"" + v + "\"");
      }
      s_.policy.small_first_rate = rate;
    }
    if (a.kv.contains("max_estimates")) {
      GPUAAS_ASSIGN_OR_RETURN(int64_t n, Int(a.kv["max_estimates"]));
      s_.policy.max_estimates = static_cast<int>(n);
    }
    return Status::Ok();
  }

  Status ClassLine(const std::vector<std::string>& w) {
    if (w.size() < 2) return InvalidArgument("class needs a name");
    Args a = ParseArgs(w, 2);
    GPUAAS_RETURN_IF_ERROR(Unused(a, {"speed", "rate"}));
    if (!a.flags.empty()) return InvalidArgument("unexpected \"" + a.flags[0] + "\"");
    ClassInfo c{w[1], 1.0, 0};
    if (a.kv.contains("speed")) {
      try {
        c.speed = std::stod(a.kv["speed"]);
      } catch (...) {
        return InvalidArgument("bad speed \"" + a.kv["speed"] + "\"");
      }
      if (!(c.speed > 0)) return InvalidArgument("speed must be > 0");
    }
    if (a.kv.contains("rate")) {
      auto r = ParseEur(a.kv["rate"]);
      if (!r.ok()) return r.status();
      c.hourly_rate = *r;
    }
    s_.classes.push_back(c);
    return Status::Ok();
  }

  Status NodeLine(const std::vector<std::string>& w) {
    if (w.size() < 3) return InvalidArgument("node needs a name and devices, e.g. h200x8");
    ScenarioNode n{w[1], {}, true, {}};
    for (const ScenarioNode& other : s_.nodes) {
      if (other.name == n.name) return InvalidArgument("node " + n.name + " defined twice");
    }
    Args a = ParseArgs(w, 2);
    GPUAAS_RETURN_IF_ERROR(Unused(a, {"unhealthy", "labels"}));
    if (a.kv.contains("labels")) {
      GPUAAS_ASSIGN_OR_RETURN(n.labels, Pairs(a.kv["labels"]));
      if (Result<int> min = MinJobGpusOf(n.labels); !min.ok()) return min.status();
    }
    for (const std::string& f : a.flags) {
      if (f == "cordoned") {
        n.schedulable = false;
        continue;
      }
      size_t x = f.rfind('x');
      if (x == std::string::npos || x == 0)
        return InvalidArgument("bad device group \"" + f + "\"");
      GPUAAS_ASSIGN_OR_RETURN(int64_t count, Int(f.substr(x + 1)));
      if (count < 1 || count > 1024) return InvalidArgument("bad device count in \"" + f + "\"");
      n.groups.push_back({f.substr(0, x), static_cast<int>(count)});
    }
    if (a.kv.contains("unhealthy")) {
      for (const std::string& d : Split(a.kv["unhealthy"], ',')) {
        GPUAAS_ASSIGN_OR_RETURN(int64_t i, Int(d));
        n.unhealthy.push_back(static_cast<int>(i));
      }
    }
    s_.nodes.push_back(n);
    return Status::Ok();
  }

  Status QuotaArgs(const std::vector<std::string>& w, size_t from,
                   std::map<std::string, int>* out) {
    Args a = ParseArgs(w, from);
    if (!a.flags.empty()) return InvalidArgument("expected CLASS=N, got \"" + a.flags[0] + "\"");
    for (const auto& [cls, v] : a.kv) {
      GPUAAS_ASSIGN_OR_RETURN(int64_t n, Int(v));
      if (n < 0) return InvalidArgument("negative quota");
      (*out)[cls] = static_cast<int>(n);
    }
    return Status::Ok();
  }

  Status NumberLine(const std::vector<std::string>& w) {
    if (w.size() != 3) return InvalidArgument(w[0] + " needs an entity and a number");
    double v = 0;
    GPUAAS_RETURN_IF_ERROR(Number(w[2], &v));
    if (v < 0) return InvalidArgument(w[0] + " must be >= 0");
    Entity(w[1]);
    (w[0] == "share" ? s_.shares : s_.usage)[w[1]] = v;
    return Status::Ok();
  }

  static Status Number(const std::string& text, double* out) {
    try {
      size_t used = 0;
      *out = std::stod(text, &used);
      if (used != text.size()) throw std::invalid_argument(text);
    } catch (...) {
      return InvalidArgument("not a number: \"" + text + "\"");
    }
    return Status::Ok();
  }

  // "k:v,k2:v2"
  static Result<std::map<std::string, std::string>> Pairs(const std::string& text) {
    std::map<std::string, std::string> out;
    for (const std::string& kv : Split(text, ',')) {
      size_t colon = kv.find(':');
      if (colon == std::string::npos || colon == 0) {
        return InvalidArgument("expected KEY:VALUE, got \"" + kv + "\"");
      }
      out[kv.substr(0, colon)] = kv.substr(colon + 1);
    }
    return out;
  }

  Status QuotaLine(const std::vector<std::string>& w) {
    if (w.size() < 3) return InvalidArgument("quota needs an entity and CLASS=N");
    Entity(w[1]);
    return QuotaArgs(w, 2, &s_.quotas[w[1]]);
  }

  Status JobLine(const std::vector<std::string>& w) {
    if (w.size() < 2) return InvalidArgument("job needs an id");
    ScenarioJob j;
    j.line = line_;
    GPUAAS_ASSIGN_OR_RETURN(j.id, Int(w[1]));
    if (j.id <= 0) return InvalidArgument("job id must be positive");
    for (const ScenarioJob& other : s_.jobs) {
      if (other.id == j.id) return InvalidArgument("job " + w[1] + " defined twice");
    }
    Args a = ParseArgs(w, 2);
    if (!a.flags.empty()) return InvalidArgument("unexpected \"" + a.flags[0] + "\"");
    GPUAAS_RETURN_IF_ERROR(
        Unused(a, {"at", "entity", "gpus", "types", "walltime", "runs", "priority", "class",
                   "preemptible", "fallback", "speeds", "select", "one_node"}));
    if (a.kv.contains("class")) j.priority_class = a.kv["class"];
    if (a.kv.contains("preemptible")) {
      GPUAAS_ASSIGN_OR_RETURN(j.preemptible, OnOff(a.kv["preemptible"]));
    }
    if (a.kv.contains("fallback")) {
      GPUAAS_ASSIGN_OR_RETURN(j.allow_fallback, OnOff(a.kv["fallback"]));
    }
    if (a.kv.contains("one_node")) {
      GPUAAS_ASSIGN_OR_RETURN(j.single_node, OnOff(a.kv["one_node"]));
    }
    if (a.kv.contains("select")) {
      GPUAAS_ASSIGN_OR_RETURN(j.selector, Pairs(a.kv["select"]));
    }
    if (a.kv.contains("speeds")) {
      GPUAAS_ASSIGN_OR_RETURN(auto speeds, Pairs(a.kv["speeds"]));
      for (const auto& [cls, v] : speeds) {
        double speed = 0;
        GPUAAS_RETURN_IF_ERROR(Number(v, &speed));
        if (!(speed > 0)) return InvalidArgument("speed must be > 0");
        j.speeds[cls] = speed;
      }
    }
    for (const char* required : {"at", "entity", "runs"}) {
      if (!a.kv.contains(required)) return InvalidArgument(std::string("job needs ") + required);
    }
    GPUAAS_ASSIGN_OR_RETURN(j.at_s, Seconds(a.kv["at"]));
    GPUAAS_ASSIGN_OR_RETURN(j.runs_s, Seconds(a.kv["runs"]));
    j.entity = a.kv["entity"];
    Entity(j.entity);
    if (a.kv.contains("gpus")) {
      GPUAAS_ASSIGN_OR_RETURN(int64_t g, Int(a.kv["gpus"]));
      j.gpus = static_cast<int>(g);
    }
    if (a.kv.contains("types")) j.types = Split(a.kv["types"], ',');
    if (a.kv.contains("walltime")) {
      GPUAAS_ASSIGN_OR_RETURN(j.walltime_s, Seconds(a.kv["walltime"]));
    }
    if (a.kv.contains("priority")) {
      GPUAAS_ASSIGN_OR_RETURN(int64_t p, Int(a.kv["priority"]));
      j.priority = static_cast<int>(p);
    }
    s_.jobs.push_back(j);
    return Status::Ok();
  }

  Status EventLine(const std::vector<std::string>& w) {
    if (w.size() < 4) return InvalidArgument("expected: at TIME VERB TARGET ...");
    ScenarioEvent e;
    e.line = line_;
    GPUAAS_ASSIGN_OR_RETURN(e.at_s, Seconds(w[1]));
    e.verb = w[2];
    e.node = w[3];
    if (e.verb == "quota") {
      Entity(e.node);
      GPUAAS_RETURN_IF_ERROR(QuotaArgs(w, 4, &e.quota));
      s_.events.push_back(e);
      return Status::Ok();
    }
    if (e.verb != "cordon" && e.verb != "uncordon" && e.verb != "fail" && e.verb != "heal") {
      return InvalidArgument("unknown event \"" + e.verb + "\"");
    }
    bool device_verb = e.verb == "fail" || e.verb == "heal";
    if (w.size() != (device_verb ? 5u : 4u))
      return InvalidArgument("wrong arguments for " + e.verb);
    if (device_verb) {
      GPUAAS_ASSIGN_OR_RETURN(int64_t d, Int(w[4]));
      e.device = static_cast<int>(d);
    }
    s_.events.push_back(e);
    return Status::Ok();
  }

  Status ExpectLine(const std::vector<std::string>& w) {
    Expectation x;
    x.line = line_;
    Args a = ParseArgs(w, 1);
    GPUAAS_RETURN_IF_ERROR(
        Unused(a, {"at", "job", "node", "devices", "class", "state", "started", "reason~", "reason",
                   "position", "estimate", "nodes", "preemptions"}));
    if (a.kv.contains("nodes")) x.nodes = a.kv["nodes"];
    if (a.kv.contains("preemptions")) {
      GPUAAS_ASSIGN_OR_RETURN(int64_t p, Int(a.kv["preemptions"]));
      x.preemptions = static_cast<int>(p);
    }
    for (const std::string& f : a.flags) {
      if (f != "waiting") return InvalidArgument("unexpected \"" + f + "\"");
      x.waiting = true;
    }
    if (!a.kv.contains("at") || !a.kv.contains("job")) {
      return InvalidArgument("expect needs at= and job=");
    }
    GPUAAS_ASSIGN_OR_RETURN(x.at_s, Seconds(a.kv["at"]));
    GPUAAS_ASSIGN_OR_RETURN(x.job, Int(a.kv["job"]));
    if (a.kv.contains("node")) x.node = a.kv["node"];
    if (a.kv.contains("devices")) x.devices = a.kv["devices"];
    if (a.kv.contains("class")) x.gpu_class = a.kv["class"];
    if (a.kv.contains("state")) x.state = a.kv["state"];
    if (a.kv.contains("started")) {
      GPUAAS_ASSIGN_OR_RETURN(x.started_s, Seconds(a.kv["started"]));
    }
    if (a.kv.contains("reason~")) x.reason_contains = a.kv["reason~"];
    if (a.kv.contains("reason")) x.reason_equals = a.kv["reason"];
    if (a.kv.contains("position")) {
      GPUAAS_ASSIGN_OR_RETURN(int64_t p, Int(a.kv["position"]));
      x.position = static_cast<int>(p);
    }
    if (a.kv.contains("estimate")) {
      if (a.kv["estimate"] == "unknown") {
        x.estimate_s = -1;
      } else {
        GPUAAS_ASSIGN_OR_RETURN(x.estimate_s, Seconds(a.kv["estimate"]));
      }
    }
    bool placed = x.node || x.devices || x.gpu_class || x.started_s || x.nodes;
    if (x.waiting && (placed || x.state)) {
      return InvalidArgument("a waiting job has no node, devices, class, start or state");
    }
    if (!x.waiting && (x.position || x.estimate_s)) {
      return InvalidArgument("position and estimate need \"waiting\"");
    }
    bool other = x.state || x.preemptions || x.reason_contains || x.reason_equals;
    if (!x.waiting && !placed && !other) return InvalidArgument("expect checks nothing");
    s_.expectations.push_back(x);
    return Status::Ok();
  }

  Scenario s_;
  int line_ = 0;
};

}  // namespace

Result<Scenario> ParseScenario(std::string_view text, std::string_view file) {
  Parser parser(file);
  int line_no = 0;
  size_t start = 0;
  while (start <= text.size()) {
    size_t end = text.find('\n', start);
    if (end == std::string_view::npos) end = text.size();
    std::string_view line = text.substr(start, end - start);
    start = end + 1;
    ++line_no;
    auto words = Words(line);
    Status st = words.ok() ? (words->empty() ? Status::Ok() : parser.Line(line_no, *words))
                           : words.status();
    if (!st.ok()) {
      return InvalidArgument(std::string(file) + ":" + std::to_string(line_no) + ": " +
                             st.message());
    }
  }
  return parser.Finish();
}

}  // namespace gpuaas::sched
