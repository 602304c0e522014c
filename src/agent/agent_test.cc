// Agent end to end against a fake control plane (net::HttpServer on 127.0.0.1:0) with real
// workload processes.
#include "agent/agent.h"

#include <gtest/gtest.h>
#include <stdlib.h>

#include <boost/json.hpp>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <functional>
#include <mutex>
#include <thread>

#include "base/base64.h"
#include "net/event_loop.h"
#include "net/http_server.h"

namespace gpuaas {
namespace {

namespace fs = std::filesystem;
namespace json = boost::json;

bool WaitFor(const std::function<bool()>& cond, int timeout_ms = 20'000) {
  for (int waited = 0; waited < timeout_ms; waited += 10) {
    if (cond()) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  return cond();
}

// A control plane with the real server's long-poll behaviour: a heartbeat with wait_ms > 0 is
// held until the desired set changes, the same node sends another heartbeat, or wait_ms passed;
// a change while no poll is held answers the next poll at once.
// It keeps what agents report (logs appended by offset, like the real server).
class FakeServer {
 public:
  FakeServer()
      : server_(loop_, Options(), [this](net::HttpRequest&& req, net::Respond respond) {
          OnHeartbeat(req, std::move(respond));
        }) {
    EXPECT_TRUE(server_.Start().ok());
    thread_ = std::thread([this] { loop_.Run(); });
  }
  ~FakeServer() {
    loop_.Post([this] {
      AnswerHeld();
      server_.Stop();
      loop_.Stop();
    });
    thread_.join();
  }
  std::string url() const { return "http://127.0.0.1:" + std::to_string(server_.port()); }

  void SetDesired(std::string workloads_json) {
    {
      std::lock_guard lock(mu_);
      desired_ = std::move(workloads_json);
    }
    loop_.Post([this] {
      if (held_) {
        AnswerHeld();
      } else {
        dirty_ = true;  // changed while no poll was held: answer the next one at once
      }
    });
  }
  // The latest reported status of an allocation (null if never reported).
  json::value Status(int64_t alloc) {
    std::lock_guard lock(mu_);
    auto it = status_.find(alloc);
    return it == status_.end() ? json::value() : it->second;
  }
  std::string Log(int64_t job) {
    std::lock_guard lock(mu_);
    return logs_[job];
  }
  // The log as it was when the first final status of this allocation arrived.
  std::string LogAtFinal(int64_t alloc) {
    std::lock_guard lock(mu_);
    return log_at_final_[alloc];
  }
  std::string last_node() {
    std::lock_guard lock(mu_);
    return last_node_;
  }

 private:
  static net::HttpServerOptions Options() {
    net::HttpServerOptions o;
    o.listen = "127.0.0.1:0";
    return o;
  }

  // On the loop thread.
  void OnHeartbeat(const net::HttpRequest& req, net::Respond respond) {
    AnswerHeld();
    net::HttpResponse res = Handle(req);
    const auto wait = req.query.find("wait_ms");
    const int64_t wait_ms = wait == req.query.end() ? 0 : std::stoll(wait->second);
    if (res.status != 200 || wait_ms == 0 || dirty_) {
      dirty_ = false;
      return respond(std::move(res));
    }
    held_ = std::move(respond);
    const uint64_t generation = ++generation_;
    loop_.RunAfter(wait_ms, [this, generation] {
      if (generation == generation_) AnswerHeld();
    });
  }
  void AnswerHeld() {
    if (!held_) return;
    net::Respond r = std::move(held_);
    held_ = nullptr;
    net::HttpResponse res;
    std::lock_guard lock(mu_);
    res.body = Answer();
    r(std::move(res));
  }
  std::string Answer() const {
    return R"({"node_id": 1, "heartbeat_interval_ms": 1000, "workloads": )" + desired_ + "}";
  }

  net::HttpResponse Handle(const net::HttpRequest& req) {
    net::HttpResponse res;
    if (req.path != "/api/v1/agent/heartbeat" || req.Header("authorization") != "Bearer tok") {
      res.status = 401;
      return res;
    }
    std::lock_guard lock(mu_);
    const json::value body = json::parse(req.body);
    last_node_ = std::string(body.at("node").as_string());
    for (const auto& l : body.at("logs").as_array()) {
      std::string& log = logs_[l.at("job").as_int64()];
      const auto offset = static_cast<size_t>(l.at("offset").as_int64());
      const std::string data = *Base64Decode(std::string(l.at("data_b64").as_string()));
      if (offset + data.size() > log.size() && offset <= log.size()) {
        log += data.substr(log.size() - offset);
      }
    }
    for (const auto& w : body.at("workloads").as_array()) {
      const int64_t alloc = w.at("allocation").as_int64();
      if (w.at("state").as_string() != "running" && !log_at_final_.count(alloc)) {
        log_at_final_[alloc] = logs_[w.at("job").as_int64()];
      }
      // Like the real server: a final state sticks (a concurrent, older "running" is ignored).
      auto it = status_.find(alloc);
      if (it == status_.end() || it->second.at("state").as_string() == "running")
        status_[alloc] = w;
    }
    res.body = Answer();
    return res;
  }

  net::EventLoop loop_;
  net::HttpServer server_;
  std::thread thread_;
  net::Respond held_;        // the held long poll (loop thread only)
  uint64_t generation_ = 0;  // loop thread only
  bool dirty_ = false;       // loop thread only
  std::mutex mu_;
  std::string desired_ = "[]";
  std::map<int64_t, json::value> status_;
  std::map<int64_t, std::string> logs_;
  std::map<int64_t, std::string> log_at_final_;
  std::string last_node_;
};

class AgentTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/gpuaas-agent-test-XXXXXX";
    ASSERT_NE(mkdtemp(tmpl), nullptr);
    dir_ = tmpl;
  }
  void TearDown() override {
    if (agent_) {
      agent_->StopAllWorkloads();
      agent_->Stop();
    }
    agent_.reset();
    fs::remove_all(dir_);
  }
  Agent& StartAgent(const std::string& token = "tok") {
    AgentOptions o;
    o.server_url = server_.url();
    o.token = token;
    o.node_name = "demo-h200-0";
    o.simulated = true;
    o.state_dir = dir_;
    o.wait_ms = 10'000;  // long polls are answered by changes, never by this timeout
    agent_ = std::make_unique<Agent>(o);
    EXPECT_TRUE(agent_->Start().ok());
    return *agent_;
  }
  bool WaitState(int64_t alloc, const std::string& state) {
    return WaitFor([&] {
      const json::value s = server_.Status(alloc);
      return s.is_object() && s.at("state").as_string() == state;
    });
  }

  FakeServer server_;
  std::string dir_;
  std::unique_ptr<Agent> agent_;
};

TEST_F(AgentTest, RunsWhatTheServerWantsAndReportsTheExitWithTheWholeLog) {
  server_.SetDesired(R"([{"job": 12, "allocation": 5, "command": ["sh", "-c",
      "echo hello; echo cvd=$CUDA_VISIBLE_DEVICES; head -c 300000 /dev/zero | tr '\\0' y; exit 3"],
      "env": {"GPUAAS_ENTITY": "acme"}, "gpu_ids": [0, 1], "walltime_s": 60, "grace_ms": 300}])");
  StartAgent();
  ASSERT_TRUE(WaitState(5, "exited"));
  const json::value s = server_.Status(5);
  EXPECT_EQ(s.at("exit_code").as_int64(), 3);
  EXPECT_EQ(s.at("job").as_int64(), 12);
  EXPECT_FALSE(s.at("stopped").as_bool());
  const std::string expected = "hello\ncvd=0,1\n" + std::string(300000, 'y');
  // The report that carried the exit also carried the rest of the log (past the per-workload
  // chunk limit of a running job).
  EXPECT_EQ(server_.LogAtFinal(5), expected);
  EXPECT_EQ(server_.last_node(), "demo-h200-0");
  // Once the server no longer lists it, the agent forgets it and its directory.
  server_.SetDesired("[]");
  EXPECT_TRUE(WaitFor([&] { return agent_->Workloads().empty(); }));
  EXPECT_FALSE(fs::exists(dir_ + "/workloads/5"));
}

TEST_F(AgentTest, StopsWhatTheServerNoLongerWants) {
  server_.SetDesired(R"([{"job": 1, "allocation": 2, "command": ["sleep", "100"],
      "grace_ms": 300}])");
  StartAgent();
  ASSERT_TRUE(WaitState(2, "running"));
  server_.SetDesired("[]");
  ASSERT_TRUE(WaitState(2, "exited"));
  EXPECT_TRUE(server_.Status(2).at("stopped").as_bool());
  EXPECT_TRUE(WaitFor([&] { return agent_->Workloads().empty(); }));
}

TEST_F(AgentTest, ReportsAnAdoptOnlyWorkloadItDoesNotHaveAsLost) {
  server_.SetDesired(R"([{"job": 1, "allocation": 9, "command": ["sleep", "100"],
      "adopt_only": true}])");
  StartAgent();
  ASSERT_TRUE(WaitState(9, "exited"));
  EXPECT_EQ(server_.Status(9).at("message").as_string(), "supervisor lost the process");
  EXPECT_EQ(server_.Status(9).at("exit_code").as_int64(), -1);
}

TEST_F(AgentTest, WorkloadsOutliveTheAgentAndAreAdoptedByTheNextOne) {
  server_.SetDesired(R"([{"job": 1, "allocation": 3, "command": ["sh", "-c",
      "while [ ! -f go ]; do sleep 0.02; done; echo done; exit 6"], "adopt_only": false}])");
  StartAgent();
  ASSERT_TRUE(WaitState(3, "running"));
  agent_->Stop();
  agent_.reset();
  // The server now knows it runs: a new agent must adopt it, never start it again.
  server_.SetDesired(R"([{"job": 1, "allocation": 3, "command": ["sh", "-c", "exit 99"],
      "adopt_only": true}])");
  StartAgent();
  std::ofstream(dir_ + "/workloads/3/work/go").put('\n');
  ASSERT_TRUE(WaitState(3, "exited"));
  EXPECT_EQ(server_.Status(3).at("exit_code").as_int64(), 6);
  EXPECT_EQ(server_.Log(1), "done\n");
}

TEST_F(AgentTest, KeepsRetryingWhenTheTokenIsRefused) {
  Agent& agent = StartAgent("wrong");
  std::this_thread::sleep_for(std::chrono::milliseconds(200));
  EXPECT_TRUE(agent.Workloads().empty());
  EXPECT_TRUE(server_.Status(1).is_null());
  agent.Stop();  // returns although the server keeps refusing
}

}  // namespace
}  // namespace gpuaas
