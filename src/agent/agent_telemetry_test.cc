// The agent's telemetry and GPU health end to end: NVML through the stand-in library
// (tests/nvml_stub), samples to a fake control plane, buffering while it is unreachable, and a
// GPU falling off the bus reported unhealthy with the reason.
#include <gtest/gtest.h>
#include <stdlib.h>
#include <unistd.h>

#include <boost/json.hpp>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <functional>
#include <mutex>
#include <thread>

#include "agent/agent.h"
#include "agent/nvml_gpu_source.h"
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

// Answers every heartbeat at once with an empty desired set (or 503 while `down`), and keeps
// the samples and the last inventory it accepted.
class TelemetrySink {
 public:
  TelemetrySink()
      : server_(loop_, Options(),
                [this](net::HttpRequest&& req, net::Respond respond) { respond(Handle(req)); }) {
    EXPECT_TRUE(server_.Start().ok());
    thread_ = std::thread([this] { loop_.Run(); });
  }
  ~TelemetrySink() {
    loop_.Post([this] {
      server_.Stop();
      loop_.Stop();
    });
    thread_.join();
  }
  std::string url() const { return "http://127.0.0.1:" + std::to_string(server_.port()); }
  void set_down(bool down) {
    std::lock_guard lock(mu_);
    down_ = down;
  }
  std::vector<json::object> samples() {
    std::lock_guard lock(mu_);
    return samples_;
  }
  json::array gpus() {
    std::lock_guard lock(mu_);
    return gpus_;
  }

 private:
  static net::HttpServerOptions Options() {
    net::HttpServerOptions o;
    o.listen = "127.0.0.1:0";
    return o;
  }
  net::HttpResponse Handle(const net::HttpRequest& req) {
    net::HttpResponse res;
    std::lock_guard lock(mu_);
    if (down_) {
      res.status = 503;
      return res;
    }
    const json::value body = json::parse(req.body);
    gpus_ = body.at("gpus").as_array();
    for (const auto& s : body.at("samples").as_array()) samples_.push_back(s.as_object());
    res.body = R"({"node_id": 1, "heartbeat_interval_ms": 1000, "workloads": []})";
    return res;
  }

  net::EventLoop loop_;
  net::HttpServer server_;
  std::thread thread_;
  std::mutex mu_;
  bool down_ = false;
  std::vector<json::object> samples_;
  json::array gpus_;
};

void WriteConfig(const std::string& path, const std::string& text) {
  {
    std::ofstream f(path + ".tmp");
    f << text;
  }
  fs::rename(path + ".tmp", path);
}

class AgentTelemetryTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/gpuaas-agent-tel-XXXXXX";
    ASSERT_NE(mkdtemp(tmpl), nullptr);
    dir_ = tmpl;
    config_ = dir_ + "/gpus.conf";
    ::setenv("NVML_STUB_CONFIG", config_.c_str(), 1);
  }
  void TearDown() override {
    if (agent_) agent_->Stop();
    agent_.reset();
    ::unsetenv("NVML_STUB_CONFIG");
    fs::remove_all(dir_);
  }
  Agent& StartAgent() {
    auto src = NvmlGpuSource::Open(GPUAAS_NVML_STUB, {}, nullptr);
    EXPECT_TRUE(src.ok()) << src.status().message();
    AgentOptions o;
    o.server_url = sink_.url();
    o.token = "tok";
    o.node_name = "gpu-node-01";
    o.state_dir = dir_ + "/state";
    o.wait_ms = 0;
    o.gpu_source = std::shared_ptr<GpuSource>(std::move(*src));
    o.sample_interval_ms = 0;  // the test samples (SampleOnce): no timing involved
    agent_ = std::make_unique<Agent>(o);
    EXPECT_TRUE(agent_->Start().ok());
    return *agent_;
  }

  TelemetrySink sink_;
  std::string dir_, config_;
  std::unique_ptr<Agent> agent_;
};

constexpr char kTwoH200[] =
    "name=NVIDIA H200;uuid=GPU-a;mem_mb=143771;used_mb=80000;util=93;power_mw=655500;temp=61\n"
    "name=NVIDIA H200;uuid=GPU-b;mem_mb=143771;used_mb=0;util=0;power_mw=75000;temp=35\n";

TEST_F(AgentTelemetryTest, SamplesReachTheServerWithTheReadValues) {
  WriteConfig(config_, kTwoH200);
  Agent& a = StartAgent();
  ASSERT_EQ(a.Inventory().size(), 2u);
  a.SampleOnce();
  ASSERT_TRUE(WaitFor([&] { return sink_.samples().size() == 2; }));
  const auto s = sink_.samples();
  EXPECT_EQ(s[0].at("index").as_int64(), 0);
  EXPECT_EQ(s[0].at("util").as_int64(), 93);
  EXPECT_EQ(s[0].at("mem_used_mb").as_int64(), 80000);
  EXPECT_DOUBLE_EQ(s[0].at("power_w").to_number<double>(), 655.5);
  EXPECT_EQ(s[0].at("temp_c").as_int64(), 61);
  EXPECT_GT(s[0].at("t").as_int64(), 0);
  EXPECT_EQ(s[1].at("util").as_int64(), 0);
  ASSERT_TRUE(WaitFor([&] { return a.BufferedSamples() == 0; }));
}

TEST_F(AgentTelemetryTest, SamplesAreBufferedWhileTheServerIsUnreachable) {
  WriteConfig(config_, kTwoH200);
  sink_.set_down(true);
  Agent& a = StartAgent();
  for (int i = 0; i < 5; ++i) a.SampleOnce();
  EXPECT_EQ(a.BufferedSamples(), 10u);
  EXPECT_TRUE(sink_.samples().empty());
  sink_.set_down(false);
  ASSERT_TRUE(WaitFor([&] { return sink_.samples().size() >= 10 && a.BufferedSamples() == 0; }));
  // Nothing lost, nothing twice, in order per device.
  const auto s = sink_.samples();
  EXPECT_EQ(s.size(), 10u);
  int64_t last_t[2] = {0, 0};
  for (const auto& x : s) {
    const int64_t i = x.at("index").as_int64();
    EXPECT_GE(x.at("t").as_int64(), last_t[i]);
    last_t[i] = x.at("t").as_int64();
  }
}

TEST_F(AgentTelemetryTest, AGpuFallingOffTheBusIsReportedUnhealthyWithTheReason) {
  WriteConfig(config_, kTwoH200);
  Agent& a = StartAgent();
  a.SampleOnce();
  ASSERT_TRUE(WaitFor([&] { return sink_.samples().size() == 2; }));
  WriteConfig(config_,
              "name=NVIDIA H200;uuid=GPU-a;mem_mb=143771;lost=1\n"
              "name=NVIDIA H200;uuid=GPU-b;mem_mb=143771;util=0;power_mw=75000;temp=35\n");
  a.SampleOnce();
  ASSERT_TRUE(WaitFor([&] {
    const auto g = sink_.gpus();
    return g.size() == 2 && g[0].at("state").as_string() == "unhealthy";
  }));
  const auto g = sink_.gpus();
  EXPECT_NE(std::string(g[0].at("health_reason").as_string()).find("fell off the bus"),
            std::string::npos);
  EXPECT_EQ(g[1].at("state").as_string(), "healthy");
  // The lost GPU sends no samples; the other one still does.
  ASSERT_TRUE(WaitFor([&] { return sink_.samples().size() == 3; }));
  EXPECT_EQ(sink_.samples()[2].at("index").as_int64(), 1);
  // Latched: the GPU stays unhealthy even if it answers again.
  WriteConfig(config_, kTwoH200);
  a.SampleOnce();
  ASSERT_TRUE(WaitFor([&] { return sink_.samples().size() == 5; }));
  EXPECT_EQ(a.Inventory()[0].state, DeviceState::kUnhealthy);
}

}  // namespace
}  // namespace gpuaas
