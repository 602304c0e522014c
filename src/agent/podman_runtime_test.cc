// The podman runtime: the `podman run` command line (unit), then real containers through the
// Supervisor, from an image made here with `podman import` of a busybox-static root file system
// (no registry needed). There is no GPU on the test machine: stand-in GPU device nodes are made
// with mknod (character devices, major 195 as NVIDIA's, minor = index; nvidiactl 195:255) in a
// test directory and handed to the devices mode, which is what runs on a server without CDI.
// The container tests are skipped, with the reason printed, only when podman cannot run here.
#include "agent/podman_runtime.h"

#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <functional>
#include <map>
#include <thread>

#include "agent/supervisor.h"

namespace gpuaas {
namespace {

namespace fs = std::filesystem;

constexpr char kSecret[] = "s3cr3t-value-9f8e7d";
constexpr char kImage[] = "localhost/gpuaas-test-busybox:latest";

bool Contains(const std::vector<std::string>& v, const std::string& s) {
  return std::find(v.begin(), v.end(), s) != v.end();
}

std::string ReadAll(const std::string& path) {
  std::ifstream in(path);
  return std::string((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
}

bool WaitFor(const std::function<bool()>& cond, int timeout_ms = 60'000) {
  for (int waited = 0; waited < timeout_ms; waited += 20) {
    if (cond()) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  return cond();
}

TEST(PodmanRun, CdiModeNamesTheJobGpusAndKeepsValuesOffTheCommandLine) {
  PodmanOptions o;
  WorkloadSpec s;
  s.job = 7;
  s.allocation = 42;
  s.image = "registry.example/ml/pytorch:2.4";
  s.command = {"python", "train.py"};
  s.gpu_ids = {2, 5};
  s.env = {{"REGISTRY_TOKEN", kSecret}, {"GPUAAS_JOB_ID", "7"}};
  s.secret_names = {"REGISTRY_TOKEN"};
  s.workspace = "/srv/ws/acme";
  s.workspace_mode = "ro";
  s.memory_bytes = int64_t{64} << 30;
  s.cpu_millis = 1500;
  auto c = BuildPodmanRun(o, s, "/var/lib/gpuaas/workloads/42/container.pid");
  ASSERT_TRUE(c.ok()) << c.status().message();
  const auto& a = c->argv;
  EXPECT_EQ(a[0], "podman");
  auto pidfile = std::find(a.begin(), a.end(), "--pidfile");  // network counters (agent.md)
  ASSERT_NE(pidfile, a.end());
  EXPECT_EQ(*(pidfile + 1), "/var/lib/gpuaas/workloads/42/container.pid");
  EXPECT_FALSE(Contains(BuildPodmanRun(o, s)->argv, "--pidfile"));
  EXPECT_EQ(a[1], "run");
  EXPECT_TRUE(Contains(a, "--rm"));
  EXPECT_TRUE(Contains(a, ContainerName(42)));
  EXPECT_TRUE(Contains(a, "nvidia.com/gpu=2"));
  EXPECT_TRUE(Contains(a, "nvidia.com/gpu=5"));
  EXPECT_TRUE(Contains(a, "runc"));
  EXPECT_TRUE(Contains(a, "nofile=1024:1024"));
  EXPECT_TRUE(Contains(a, "nproc=1000:1000"));
  EXPECT_TRUE(Contains(a, "/srv/ws/acme:/workspace:ro"));
  EXPECT_TRUE(Contains(a, "--memory"));  // the job's limits, as for processes
  EXPECT_TRUE(Contains(a, "68719476736"));
  EXPECT_TRUE(Contains(a, "1.500"));
  EXPECT_TRUE(Contains(a, "REGISTRY_TOKEN"));  // `--env NAME`: the value comes from podman's env
  for (const auto& arg : a) EXPECT_EQ(arg.find(kSecret), std::string::npos) << arg;
  // The image, then the command, end the line.
  ASSERT_GE(a.size(), 3u);
  EXPECT_EQ(a[a.size() - 3], s.image);
  EXPECT_EQ(a.back(), "train.py");
  EXPECT_EQ(c->env.at("REGISTRY_TOKEN"), kSecret);
  EXPECT_EQ(c->env.at("NVIDIA_VISIBLE_DEVICES"), "2,5");
  EXPECT_EQ(c->env.at("CUDA_VISIBLE_DEVICES"), "0,1");  // the container's own ordinals
  EXPECT_EQ(c->env.at("GPUAAS_GPU_IDS"), "2,5");
  EXPECT_EQ(c->env.at("GPUAAS_WORKSPACE"), "/workspace");
}

TEST(PodmanRun, ANotebooksPortIsPublishedOnTheNodesLoopback) {
  PodmanOptions o;
  WorkloadSpec s;
  s.allocation = 9;
  s.image = "registry.example/ml/pytorch:2.4";
  s.command = {"jupyter-notebook", "--ip=0.0.0.0", "--port=18042"};
  auto plain = BuildPodmanRun(o, s);
  ASSERT_TRUE(plain.ok());
  EXPECT_FALSE(Contains(plain->argv, "--publish"));  // a batch job publishes nothing
  s.env["GPUAAS_NOTEBOOK_PORT"] = "18042";
  auto nb = BuildPodmanRun(o, s);
  ASSERT_TRUE(nb.ok()) << nb.status().message();
  auto p = std::find(nb->argv.begin(), nb->argv.end(), "--publish");
  ASSERT_NE(p, nb->argv.end());
  EXPECT_EQ(*(p + 1), "127.0.0.1:18042:18042/tcp");  // never on the node's other interfaces
  for (const char* bad : {"", "0", "65536", "80:80", "18042x", "-1"}) {
    s.env["GPUAAS_NOTEBOOK_PORT"] = bad;
    auto r = BuildPodmanRun(o, s);
    EXPECT_EQ(r.status().code(), Code::kInvalidArgument) << bad;
  }
}

TEST(PodmanArgs, TheOperatorsOwnOptionsAreCheckedForIsolationAndControl) {
  EXPECT_TRUE(CheckPodmanArgs({}).ok());
  EXPECT_TRUE(CheckPodmanArgs({"--shm-size", "16g", "--volume", "/srv/models:/models:ro",
                               "-v/srv/data:/data:ro", "--network", "gpuaas-jobs", "--pid=private",
                               "--init"})
                  .ok());
  const std::vector<std::vector<std::string>> refused = {{"--privileged"},
                                                         {"--cap-add", "SYS_ADMIN"},
                                                         {"--cap-add=ALL"},
                                                         {"--security-opt", "seccomp=unconfined"},
                                                         {"--device", "/dev/nvidia7"},
                                                         {"--gpus", "all"},
                                                         {"--network=host"},
                                                         {"--net", "host"},
                                                         {"--pid", "host"},
                                                         {"--ipc=host"},
                                                         {"--userns=host"},
                                                         {"--network", "container:gpuaas-alloc-3"},
                                                         {"--rm"},
                                                         {"--name", "x"},
                                                         {"-d"},
                                                         {"-dit"},
                                                         {"-p8080:80"},
                                                         {"--publish", "80:80"},
                                                         {"-P"},
                                                         {"--memory", "1g"},
                                                         {"--pidfile=/tmp/x"},
                                                         {""},
                                                         {std::string(4097, 'a')}};
  for (const auto& args : refused) {
    const Status st = CheckPodmanArgs(args);
    EXPECT_EQ(st.code(), Code::kInvalidArgument) << args[0];
    if (!args[0].empty() && args[0].size() < 100) {
      EXPECT_NE(st.message().find(args[0].substr(0, args[0].find('='))), std::string::npos)
          << st.message();  // says which
    }
  }
  EXPECT_NE(CheckPodmanArgs({"--privileged"}).message().find("isolation"), std::string::npos);
  EXPECT_FALSE(CheckPodmanArgs(std::vector<std::string>(65, "--init")).ok());
}

TEST(PodmanRun, RefusesWhatCannotWork) {
  PodmanOptions o;
  o.gpu_mode = PodmanGpuMode::kDevices;
  o.device_dir = "/nonexistent-gpuaas-dev";
  WorkloadSpec s;
  s.allocation = 1;
  s.command = {"true"};
  EXPECT_FALSE(BuildPodmanRun(o, s).ok());  // no image
  s.image = "busybox";
  s.gpu_ids = {0};
  auto r = BuildPodmanRun(o, s);
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.status().message().find("no device node /nonexistent-gpuaas-dev/nvidia0"),
            std::string::npos);
  s.gpu_ids = {};
  s.workspace_mode = "rwx";
  EXPECT_FALSE(BuildPodmanRun(o, s).ok());
  s.workspace_mode = "rw";
  s.workspace = "relative/dir";
  EXPECT_FALSE(BuildPodmanRun(o, s).ok());
  s.workspace = "";
  s.image = "--privileged";
  EXPECT_FALSE(BuildPodmanRun(o, s).ok());
  PodmanGpuMode m;
  EXPECT_TRUE(ParsePodmanGpuMode("devices", &m));
  EXPECT_EQ(m, PodmanGpuMode::kDevices);
  EXPECT_FALSE(ParsePodmanGpuMode("nvml", &m));
}

// Real containers. One image and one device directory for the whole suite.
class PodmanContainerTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    char tmpl[] = "/tmp/gpuaas-podman-test-XXXXXX";
    if (!mkdtemp(tmpl)) {
      skip_ = "cannot make a temporary directory";
      return;
    }
    root_ = tmpl;
    std::string why;
    if (!PodmanUsable("podman", &why)) {
      skip_ = "podman cannot run on this machine: " + why;
      return;
    }
    // The image: a root file system holding busybox-static, imported without any registry.
    const std::string busybox = fs::exists("/bin/busybox") ? "/bin/busybox" : "/usr/bin/busybox";
    const std::string rootfs = root_ + "/rootfs";
    for (const char* d : {"/bin", "/dev", "/proc", "/sys", "/tmp", "/workspace"}) {
      fs::create_directories(rootfs + d);
    }
    std::error_code ec;
    fs::copy_file(busybox, rootfs + "/bin/busybox", ec);
    if (ec) {
      skip_ = "no busybox-static to build the test image from (" + ec.message() + ")";
      return;
    }
    const std::string cmd = "cd " + rootfs +
                            " && for a in sh ls cat echo env sleep grep sort tr nc dd; do ln -s "
                            "busybox bin/$a; done && tar -cf ../rootfs.tar . && podman import " +
                            root_ + "/rootfs.tar " + kImage + " >/dev/null 2>&1";
    if (std::system(cmd.c_str()) != 0) {
      skip_ = "podman import of the busybox root file system failed";
      return;
    }
    imported_ = true;
    // Stand-in GPUs: character devices as the NVIDIA driver makes them (major 195).
    dev_dir_ = root_ + "/dev";
    fs::create_directories(dev_dir_);
    for (int i = 0; i < 4; ++i) {
      const std::string p = dev_dir_ + "/nvidia" + std::to_string(i);
      if (mknod(p.c_str(), S_IFCHR | 0666, makedev(195, i)) != 0) {
        skip_ = "cannot mknod stand-in GPU device nodes (needs root): " + p;
        return;
      }
    }
    mknod((dev_dir_ + "/nvidiactl").c_str(), S_IFCHR | 0666, makedev(195, 255));
  }
  static void TearDownTestSuite() {
    if (!root_.empty()) fs::remove_all(root_);
    // The imported image goes too (each run imports it again; without this every run left an
    // untagged image). No --force: an image still in use by another run stays.
    if (imported_) {
      const std::string cmd = std::string("podman rmi ") + kImage + " >/dev/null 2>&1";
      if (std::system(cmd.c_str()) != 0) {
        std::fprintf(stderr, "note: podman rmi %s failed (still in use?)\n", kImage);
      }
    }
  }

  void SetUp() override {
    if (!skip_.empty()) {
      std::printf("SKIPPED: %s\n", skip_.c_str());
      GTEST_SKIP() << skip_;
    }
    state_ = root_ + "/state-" + ::testing::UnitTest::GetInstance()->current_test_info()->name();
    workspace_ = root_ + "/ws-" + ::testing::UnitTest::GetInstance()->current_test_info()->name();
  }
  void TearDown() override {
    if (sup_) {
      sup_->StopAll();
      WaitFor([&] {
        for (const auto& w : sup_->List()) {
          if (!w.final()) return false;
        }
        return true;
      });
    }
    sup_.reset();
  }

  Supervisor& Open() {
    SupervisorOptions o;
    o.state_dir = state_;
    o.podman.gpu_mode = PodmanGpuMode::kDevices;
    o.podman.device_dir = dev_dir_;
    sup_ = std::make_unique<Supervisor>(o, clock_);
    EXPECT_TRUE(sup_->Open().ok());
    return *sup_;
  }
  WorkloadSpec Spec(AllocationId alloc, const std::string& script) {
    WorkloadSpec s;
    s.job = 500 + alloc;
    s.allocation = alloc;
    s.image = kImage;
    s.command = {"sh", "-c", script};
    s.grace_ms = 2'000;
    s.workspace = workspace_;
    return s;
  }
  WorkloadStatus WaitFinal(AllocationId alloc) {
    WorkloadStatus st;
    EXPECT_TRUE(WaitFor([&] {
      auto w = sup_->Get(alloc);
      if (w) st = *w;
      return w && w->final();
    })) << "allocation "
        << alloc << " did not finish";
    return st;
  }
  std::string Log(AllocationId alloc) {
    auto l = sup_->ReadLog(alloc, 0, 1 << 20);
    return l.ok() ? *l : "";
  }

  static std::string skip_, root_, dev_dir_;
  static bool imported_;
  std::string state_, workspace_;
  SystemClock clock_;
  std::unique_ptr<Supervisor> sup_;
};
std::string PodmanContainerTest::skip_;
bool PodmanContainerTest::imported_ = false;
std::string PodmanContainerTest::root_;
std::string PodmanContainerTest::dev_dir_;

TEST_F(PodmanContainerTest, SeesOnlyItsGpusItsWorkspaceAndItsSecret) {
  Supervisor& sup = Open();
  WorkloadSpec s = Spec(1,
                        "ls /dev | grep nvidia | sort | tr '\\n' ' '; echo; "
                        "echo NVIDIA_VISIBLE_DEVICES=$NVIDIA_VISIBLE_DEVICES; "
                        "echo CUDA_VISIBLE_DEVICES=$CUDA_VISIBLE_DEVICES; "
                        "echo WS=$GPUAAS_WORKSPACE; echo hello > /workspace/out.txt; "
                        "[ \"$MY_TOKEN\" = \"$HALF1$HALF2\" ] && echo secret-ok; exit 3");
  s.gpu_ids = {1, 3};
  s.env["MY_TOKEN"] = kSecret;
  // The script compares against two halves, so that no file holds the whole value on purpose.
  s.env["HALF1"] = std::string(kSecret).substr(0, 6);
  s.env["HALF2"] = std::string(kSecret).substr(6);
  s.secret_names = {"MY_TOKEN"};
  ASSERT_TRUE(sup.Start(s).ok());
  const WorkloadStatus st = WaitFinal(1);
  const std::string log = Log(1);
  std::printf("container output:\n%s", log.c_str());
  EXPECT_EQ(st.state, WorkloadState::kExited) << st.message;
  EXPECT_EQ(st.exit_code, 3) << log;  // the container's own exit code
  EXPECT_NE(log.find("nvidia1 nvidia3 nvidiactl \n"), std::string::npos) << log;
  EXPECT_EQ(log.find("nvidia0"), std::string::npos);
  EXPECT_EQ(log.find("nvidia2"), std::string::npos);
  EXPECT_NE(log.find("NVIDIA_VISIBLE_DEVICES=1,3\n"), std::string::npos);
  EXPECT_NE(log.find("CUDA_VISIBLE_DEVICES=0,1\n"), std::string::npos);
  EXPECT_NE(log.find("WS=/workspace\n"), std::string::npos);
  EXPECT_NE(log.find("secret-ok"), std::string::npos);
  EXPECT_EQ(ReadAll(workspace_ + "/out.txt"), "hello\n");  // the bind mount, on the host
  // The secret's value is nowhere in the workload's directory (spec.json keeps its name only).
  for (const auto& f : fs::recursive_directory_iterator(state_)) {
    if (f.is_regular_file()) {
      EXPECT_EQ(ReadAll(f.path()).find(kSecret), std::string::npos) << f.path();
    }
  }
  EXPECT_NE(ReadAll(state_ + "/workloads/1/spec.json").find("MY_TOKEN"), std::string::npos);
}

TEST_F(PodmanContainerTest, TheJobsMemoryAndCpuLimitsApplyInsideTheContainer) {
  Supervisor& sup = Open();
  // The container's own cgroup files: v1 (this machine) or v2 (production servers).
  WorkloadSpec s = Spec(7,
                        "cat /sys/fs/cgroup/memory/memory.limit_in_bytes 2>/dev/null || "
                        "cat /sys/fs/cgroup/memory.max; "
                        "cat /sys/fs/cgroup/cpu/cpu.cfs_quota_us 2>/dev/null || "
                        "cut -d' ' -f1 /sys/fs/cgroup/cpu.max");
  s.memory_bytes = int64_t{64} << 20;
  s.cpu_millis = 1500;
  ASSERT_TRUE(sup.Start(s).ok());
  const WorkloadStatus st = WaitFinal(7);
  const std::string log = Log(7);
  EXPECT_EQ(st.exit_code, 0) << log;
  EXPECT_NE(log.find("67108864\n"), std::string::npos) << log;
  EXPECT_NE(log.find("150000\n"), std::string::npos) << log;  // 1.5 cores of a 100 ms period
}

TEST_F(PodmanContainerTest, ReadOnlyWorkspaceCannotBeWritten) {
  Supervisor& sup = Open();
  fs::create_directories(workspace_);
  WorkloadSpec s = Spec(2, "echo x > /workspace/nope && exit 0; exit 9");
  s.workspace_mode = "ro";
  ASSERT_TRUE(sup.Start(s).ok());
  EXPECT_EQ(WaitFinal(2).exit_code, 9) << Log(2);
  EXPECT_FALSE(fs::exists(workspace_ + "/nope"));
}

TEST_F(PodmanContainerTest, StopGoesThroughPodmanStopWithItsGrace) {
  Supervisor& sup = Open();
  ASSERT_TRUE(sup.Start(Spec(3,
                             "trap 'echo got TERM; exit 7' TERM; echo ready; "
                             "sleep 100 & wait"))
                  .ok());
  ASSERT_TRUE(WaitFor([&] { return Log(3).find("ready") != std::string::npos; }));
  sup.Stop(3);
  const WorkloadStatus st = WaitFinal(3);
  EXPECT_TRUE(st.stopped);
  EXPECT_EQ(st.exit_code, 7) << Log(3);
  EXPECT_NE(Log(3).find("got TERM"), std::string::npos);
}

TEST_F(PodmanContainerTest, WalltimeKillsAContainerThatIgnoresSigterm) {
  Supervisor& sup = Open();
  WorkloadSpec s = Spec(4, "trap '' TERM; echo ready; while true; do sleep 1; done");
  s.walltime_s = 2;
  s.grace_ms = 500;
  ASSERT_TRUE(sup.Start(s).ok());
  const WorkloadStatus st = WaitFinal(4);
  EXPECT_TRUE(st.timed_out);
  EXPECT_NE(st.exit_code, 0) << Log(4);
  // The container is gone, not left behind under conmon.
  EXPECT_TRUE(WaitFor(
      [] { return std::system(("podman container exists " + ContainerName(4)).c_str()) != 0; }));
}

TEST_F(PodmanContainerTest, ANewSupervisorAdoptsARunningContainer) {
  Open();
  ASSERT_TRUE(sup_->Start(Spec(5, "echo first; sleep 3; echo second; exit 4")).ok());
  ASSERT_TRUE(WaitFor([&] { return Log(5).find("first") != std::string::npos; }));
  sup_->Close();
  sup_.reset();  // the agent goes away; the shim and its container keep running
  Open();
  auto w = sup_->Get(5);
  ASSERT_TRUE(w.has_value());
  const WorkloadStatus st = WaitFinal(5);
  EXPECT_EQ(st.exit_code, 4);
  EXPECT_NE(Log(5).find("second"), std::string::npos);
}

// A listener on the host for the container's traffic: accepts one connection and reads until
// `want` bytes came or the peer closed (then closes, so that the sender's nc ends).
class HostSink {
 public:
  explicit HostSink(int64_t want) : want_(want) {
    fd_ = socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_ANY);  // the container comes through the bridge
    socklen_t len = sizeof a;
    if (bind(fd_, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0 || listen(fd_, 1) != 0 ||
        getsockname(fd_, reinterpret_cast<sockaddr*>(&a), &len) != 0) {
      return;
    }
    port_ = ntohs(a.sin_port);
    timeval tv{60, 0};  // accept and recv give up after a minute
    setsockopt(fd_, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    thread_ = std::thread([this, tv] {
      const int c = accept(fd_, nullptr, nullptr);
      if (c < 0) return;
      setsockopt(c, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
      char buf[65536];
      while (received_ < want_) {
        const ssize_t n = recv(c, buf, sizeof buf, 0);
        if (n <= 0) break;
        received_ += n;
      }
      close(c);
    });
  }
  ~HostSink() {
    if (thread_.joinable()) thread_.join();
    close(fd_);
  }
  int port() const { return port_; }
  int64_t Received() {
    if (thread_.joinable()) thread_.join();
    return received_;
  }

 private:
  int64_t want_;
  int fd_ = -1;
  int port_ = 0;
  std::atomic<int64_t> received_{0};
  std::thread thread_;
};

// The gateway of podman's default bridge network: the host, as the container sees it.
std::string PodmanGateway() {
  FILE* p =
      popen("podman network inspect podman --format '{{range .Subnets}}{{.Gateway}}{{end}}'", "r");
  if (p == nullptr) return "";
  char buf[64] = {};
  const size_t n = fread(buf, 1, sizeof buf - 1, p);
  pclose(p);
  std::string s(buf, n);
  while (!s.empty() && (s.back() == '\n' || s.back() == ' ')) s.pop_back();
  return s;
}

TEST_F(PodmanContainerTest, TheJobsOwnTrafficIsCountedInItsNetworkNamespace) {
  const std::string gateway = PodmanGateway();
  ASSERT_FALSE(gateway.empty()) << "podman network inspect podman gave no gateway";
  constexpr int64_t kSent = int64_t{6} << 20;  // 6 MiB to the host
  HostSink sink(kSent);
  ASSERT_NE(sink.port(), 0);
  Supervisor& sup = Open();
  ASSERT_TRUE(sup.Start(Spec(8, "dd if=/dev/zero bs=65536 count=96 2>/dev/null | nc " + gateway +
                                    " " + std::to_string(sink.port()) + "; echo sent; sleep 60"))
                  .ok());
  ASSERT_TRUE(WaitFor([&] { return Log(8).find("sent") != std::string::npos; })) << Log(8);
  EXPECT_EQ(sink.Received(), kSent) << Log(8);
  std::map<AllocationId, NetReading> net = sup.ContainerNetwork();
  ASSERT_EQ(net.count(8), 1u) << "no counters for the running container";
  // The payload plus TCP/IP headers went out; the host's acknowledgements came in. The
  // counters are the container's alone: the rest of the machine's traffic is not in them.
  std::printf("container counters: rx %lld tx %lld bytes\n",
              static_cast<long long>(net[8].rx_bytes), static_cast<long long>(net[8].tx_bytes));
  EXPECT_GE(net[8].tx_bytes, kSent);
  EXPECT_LT(net[8].tx_bytes, kSent + (int64_t{1} << 20));
  EXPECT_GT(net[8].rx_bytes, 0);
  EXPECT_LT(net[8].rx_bytes, int64_t{1} << 20);
  EXPECT_GT(net[8].t, 0);
  sup.Stop(8);
  WaitFinal(8);
  EXPECT_EQ(sup.ContainerNetwork().count(8), 0u);  // a finished workload has none
}

TEST_F(PodmanContainerTest, AMissingImageFailsWithPodmansMessage) {
  Supervisor& sup = Open();
  WorkloadSpec s = Spec(6, "true");
  s.image = "localhost/gpuaas-no-such-image:none";
  ASSERT_TRUE(sup.Start(s).ok());
  const WorkloadStatus st = WaitFinal(6);
  EXPECT_NE(st.exit_code, 0);
  EXPECT_FALSE(Log(6).empty());  // podman says why in the job's log
}

}  // namespace
}  // namespace gpuaas
