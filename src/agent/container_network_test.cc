// A container's network counters: against a directory standing in for /proc (a pid file, the
// process's ns/net link and net/dev as Linux writes them), then against the real /proc with
// this test's own pid, which shares the test's network namespace and must be refused. A real
// container's traffic is measured in podman_runtime_test.cc.
#include "agent/container_network.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>

namespace gpuaas {
namespace {

namespace fs = std::filesystem;

constexpr const char* kNetDev =
    "Inter-|   Receive                                                |  Transmit\n"
    " face |bytes    packets errs drop fifo frame compressed multicast|bytes    packets errs "
    "drop fifo colls carrier compressed\n"
    "    lo:   5000      50    0    0    0     0          0         0     5000      50    0    0 "
    "   0     0       0          0\n"
    "  eth0: 7340032   5000    0    0    0     0          0         0   131072     900    0    0 "
    "   0     0       0          0\n";

void Write(const std::string& path, const std::string& text) {
  fs::create_directories(fs::path(path).parent_path());
  std::ofstream(path) << text;
}

class ContainerNetworkTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/gpuaas-netns-test-XXXXXX";
    ASSERT_NE(mkdtemp(tmpl), nullptr);
    root_ = tmpl;
    proc_ = root_ + "/proc";
    fs::create_directories(proc_ + "/4242/ns");
    fs::create_symlink("net:[4026531992]", proc_ + "/4242/ns/net");  // the agent's
    fs::create_directory_symlink("4242", proc_ + "/self");           // as /proc/self is
    fs::create_directories(proc_ + "/777/ns");
    fs::create_symlink("net:[4026532301]", proc_ + "/777/ns/net");  // the container's
    Write(proc_ + "/777/net/dev", kNetDev);
    pidfile_ = root_ + "/container.pid";
  }
  void TearDown() override { fs::remove_all(root_); }
  std::string root_, proc_, pidfile_;
};

TEST_F(ContainerNetworkTest, ReadsTheContainersNamespaceButItsLoopback) {
  Write(pidfile_, "777\n");
  auto c = ReadContainerNetwork(pidfile_, proc_);
  ASSERT_TRUE(c.ok()) << c.status().ToString();
  EXPECT_EQ(c->rx_bytes, 7'340'032);
  EXPECT_EQ(c->tx_bytes, 131'072);
  Write(pidfile_, "777");  // without the newline too
  EXPECT_TRUE(ReadContainerNetwork(pidfile_, proc_).ok());
}

TEST_F(ContainerNetworkTest, RefusesTheAgentsOwnNamespaceAndMissingOrBadFiles) {
  Write(pidfile_, "4242\n");  // a process in the agent's namespace (--network host, pid reuse)
  EXPECT_EQ(ReadContainerNetwork(pidfile_, proc_).status().code(), Code::kFailedPrecondition);
  EXPECT_EQ(ReadContainerNetwork(root_ + "/none.pid", proc_).status().code(), Code::kNotFound);
  Write(pidfile_, "12345\n");  // the container is gone
  EXPECT_EQ(ReadContainerNetwork(pidfile_, proc_).status().code(), Code::kNotFound);
  for (const char* bad : {"", "abc\n", "-3\n", "0\n", "77x\n"}) {
    Write(pidfile_, bad);
    EXPECT_EQ(ReadContainerNetwork(pidfile_, proc_).status().code(), Code::kInvalidArgument)
        << "'" << bad << "'";
  }
}

TEST_F(ContainerNetworkTest, TheRealProcRefusesAProcessOfTheTestsOwnNamespace) {
  Write(pidfile_, std::to_string(getpid()) + "\n");
  EXPECT_EQ(ReadContainerNetwork(pidfile_).status().code(), Code::kFailedPrecondition);
}

}  // namespace
}  // namespace gpuaas
