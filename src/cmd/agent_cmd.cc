// `gpuaas agent`: a standalone node agent. Wires the flags, the real clock, the state directory
// and the signals to an Agent (agent/agent.h) and runs until SIGTERM or SIGINT. Its workloads
// keep running when it stops; the next start adopts them.
#include <pthread.h>
#include <signal.h>

#include <CLI/CLI.hpp>
#include <filesystem>
#include <iostream>
#include <map>
#include <string>
#include <vector>

#include "agent/agent.h"
#include "agent/demo_inventory.h"
#include "agent/nvml_gpu_source.h"
#include "base/log.h"
#include "cmd/commands.h"
#include "cmd/usage_exit.h"
#include "sched/filters.h"
#include "store/writer_lock.h"

namespace gpuaas {
namespace {

// The contract's names: 1-63 characters of [a-z0-9._-], starting with a letter or digit.
bool ValidNodeName(const std::string& s) {
  if (s.empty() || s.size() > 63) return false;
  for (size_t i = 0; i < s.size(); ++i) {
    const char c = s[i];
    const bool alnum = (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9');
    if (!alnum && (i == 0 || (c != '.' && c != '_' && c != '-'))) return false;
  }
  return true;
}

int UsageError(const std::string& message) {
  std::cerr << "error: " << message << "\n";
  return 2;
}

}  // namespace

int RunAgentCommand(int argc, char** argv) {
  CLI::App app{
      "gpuaas agent: the node agent. Reports this node's GPUs to the control plane, runs the "
      "workloads the server places here as real processes (they survive agent restarts), and "
      "ships their logs and exit status."};
  app.name("gpuaas agent");
  std::string server, token, name, demo, state_dir = "./gpuaas-agent", log_level = "info";
  std::vector<std::string> labels;
  int wait_ms = 5000;
  int sample_interval_ms = 5000;
  std::vector<std::string> net_interfaces;
  int max_temp_c = 90;
  std::string nvml_lib = "libnvidia-ml.so.1";
  std::string cgroups_mode = "required", cgroup_root;
  std::string ca_file;
  app.add_option("--server", server,
                 "control plane URL, e.g. https://gpuaas.example:8443 (or http:// on a trusted "
                 "network)")
      ->required();
  app.add_option("--ca-file", ca_file,
                 "https: the PEM file of the CA(s) that signed the server's certificate "
                 "(default: the system's CAs; SSL_CERT_FILE also works)")
      ->envname("GPUAAS_CA_FILE")
      ->check(CLI::ExistingFile);
  app.add_option("--token", token, "platform-admin (or agent) token")
      ->envname("GPUAAS_TOKEN")
      ->required();
  app.add_option("--name", name, "this node's name, e.g. gpu-node-01")->required();
  app.add_option("--demo-gpus", demo,
                 "serve a simulated inventory of one node, e.g. h200:8 (real processes, "
                 "simulated GPUs)");
  app.add_option("--state-dir", state_dir, "where workloads, their logs and exit codes are kept")
      ->capture_default_str();
  app.add_option("--label", labels,
                 "a node label k=v (repeatable); gpuaas.io/min-gpus=N keeps the node for jobs of "
                 "at least N GPUs (docs/scheduling.md)");
  app.add_option("--wait-ms", wait_ms, "long-poll wait asked from the server")
      ->check(CLI::Range(0, 10'000))
      ->capture_default_str();
  app.add_option("--nvml-lib", nvml_lib,
                 "the NVML library to load (the driver's; tests give a stand-in)")
      ->envname("GPUAAS_NVML_LIB")
      ->capture_default_str();
  app.add_option("--sample-interval-ms", sample_interval_ms,
                 "how often GPU telemetry is read and sent")
      ->check(CLI::Range(100, 600'000))
      ->capture_default_str();
  app.add_option("--net-interfaces", net_interfaces,
                 "the interfaces whose traffic is the node's share of the network, e.g. "
                 "eth0,ib0 (default: every one but lo); their byte counters go with each "
                 "heartbeat")
      ->delimiter(',');
  app.add_option("--max-temp-c", max_temp_c,
                 "a GPU at or above this temperature is reported unhealthy")
      ->check(CLI::Range(40, 200))
      ->capture_default_str();
  app.add_option("--cgroups", cgroups_mode,
                 "memory/CPU limits of the workloads through cgroups (v2, or v1): required "
                 "(refuse to start without them), auto (warn and run without), off")
      ->check(CLI::IsMember({"off", "auto", "required"}))
      ->capture_default_str();
  app.add_option("--cgroup-root", cgroup_root,
                 "the workloads' parent cgroup, relative to each cgroup hierarchy "
                 "(default gpuaas/NAME)");
  std::string run_as_user;
  app.add_option("--run-as-user", run_as_user,
                 "run each job (process runtime) as this Unix user, {entity} replaced by the "
                 "job's entity, e.g. gpuaas-{entity}; the users must exist on the node "
                 "(default: as the agent's user)");
  PodmanOptions podman;
  std::string podman_gpus = "cdi";
  app.add_option("--podman", podman.podman,
                 "the podman binary of the container runtime (jobs with an environment)")
      ->capture_default_str();
  app.add_option("--podman-gpus", podman_gpus,
                 "how containers get their GPUs: cdi (--device nvidia.com/gpu=N; needs "
                 "`nvidia-ctk cdi generate`) or devices (the /dev/nvidiaN nodes)")
      ->check(CLI::IsMember({"cdi", "devices"}))
      ->capture_default_str();
  app.add_option("--podman-device-dir", podman.device_dir,
                 "devices mode: where nvidiaN, nvidiactl and nvidia-uvm are")
      ->capture_default_str();
  std::vector<std::string> podman_args;
  app.add_option("--podman-arg", podman_args,
                 "one more `podman run` argument for every container, repeatable, written with "
                 "'=': --podman-arg=--shm-size --podman-arg=16g (host namespaces, --privileged, "
                 "--device and the options the agent sets itself are refused)");
  app.add_option("--log-level", log_level, "debug, info, warn or error")->capture_default_str();
  app.footer(
      "Example: gpuaas agent --server https://gpuaas.example:8443 --token $TOKEN --name "
      "demo-h200-0 --demo-gpus h200:8 --label rack=a1\n"
      "Stops on SIGTERM/SIGINT; running workloads keep running and are adopted at the next "
      "start with the same --state-dir.");
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    return UsageExit(app, e);
  }
  SetLogLevel(log_level.c_str());

  if (!ValidNodeName(name)) {
    return UsageError("--name \"" + name + "\": 1-63 characters of a-z, 0-9, '.', '_', '-'");
  }
  AgentOptions options;
  options.server_url = server;
  options.ca_file = ca_file;
  options.token = token;
  options.node_name = name;
  options.state_dir = state_dir;
  options.wait_ms = wait_ms;
  options.sample_interval_ms = sample_interval_ms;
  options.net_interfaces = net_interfaces;
  (void)ParsePodmanGpuMode(podman_gpus, &podman.gpu_mode);  // checked by IsMember
  if (Status st = CheckPodmanArgs(podman_args); !st.ok()) {
    return UsageError("--podman-arg: " + std::string(st.message()));
  }
  podman.extra_args.insert(podman.extra_args.end(), podman_args.begin(), podman_args.end());
  options.podman = podman;
  if (!run_as_user.empty() && run_as_user.find("{entity}") == std::string::npos) {
    return UsageError("--run-as-user: the pattern must contain {entity} (one user per entity)");
  }
  options.run_as_user = run_as_user;
  for (const auto& kv : labels) {
    const size_t eq = kv.find('=');
    if (eq == std::string::npos || eq == 0) {
      return UsageError("--label \"" + kv + "\": expected KEY=VALUE");
    }
    options.labels[kv.substr(0, eq)] = kv.substr(eq + 1);
  }
  if (Result<int> min = sched::MinJobGpusOf(options.labels); !min.ok()) {
    return UsageError("--label: " + min.status().message());
  }
  if (demo.empty()) {
    GpuHealthLimits limits;
    limits.max_temp_c = max_temp_c;
    std::vector<std::string> notes;
    auto source = NvmlGpuSource::Open(nvml_lib, limits, &notes);
    if (!source.ok()) {
      return UsageError(source.status().message() +
                        "; without a driver, use --demo-gpus h200:8 to serve a simulated "
                        "inventory");
    }
    for (const auto& n : notes) GLOG_INFO("agent {}: NVML: {}", name, n);
    if ((*source)->Inventory().empty()) {
      return UsageError("NVML sees no H200 or L40S GPU on this machine");
    }
    options.gpu_source = std::shared_ptr<GpuSource>(std::move(*source));
  } else {
    auto nodes = ParseDemoGpus(demo);
    if (!nodes.ok()) return UsageError("--demo-gpus: " + nodes.status().message());
    if (nodes->size() != 1) {
      return UsageError(
          "--demo-gpus must describe exactly one node for one agent (e.g. h200:8); "
          "got " +
          std::to_string(nodes->size()) + " items");
    }
    const DemoNodeSpec& node = (*nodes)[0];
    auto gpus = MakeDemoGpus(name, node.gpu_class, static_cast<int>(node.gpus.size()));
    if (!gpus.ok()) return UsageError("--demo-gpus: " + gpus.status().message());
    options.gpus = std::move(*gpus);
    options.simulated = true;
  }

  CgroupMode mode = CgroupMode::kRequired;
  (void)ParseCgroupMode(cgroups_mode, &mode);
  auto cgroups = CgroupsForMode(mode, cgroup_root.empty() ? "gpuaas/" + name : cgroup_root, name);
  if (!cgroups.ok()) return UsageError(cgroups.status().message());
  options.cgroups = *cgroups;

  // Block the stop signals before any thread starts, so that only sigwait() below sees them.
  sigset_t sigs;
  sigemptyset(&sigs);
  sigaddset(&sigs, SIGTERM);
  sigaddset(&sigs, SIGINT);
  pthread_sigmask(SIG_BLOCK, &sigs, nullptr);
  ::signal(SIGPIPE, SIG_IGN);

  // One agent per state directory: two would adopt the same workloads and fight over them.
  std::error_code ec;
  std::filesystem::create_directories(state_dir, ec);
  auto lock =
      WriterLock::Acquire(state_dir + "/agent.lock", "the agent state directory " + state_dir);
  if (!lock.ok()) {
    std::cerr << "error: " << lock.status().message() << "\n";
    return 1;
  }

  Agent agent(options);
  if (Status s = agent.Start(); !s.ok()) {
    std::cerr << "error: " << s.message() << "\n";
    return 1;
  }
  int sig = 0;
  sigwait(&sigs, &sig);
  GLOG_INFO(
      "agent {}: signal {}: stopping (workloads keep running and are adopted at the next "
      "start)",
      name, sig);
  agent.Stop();
  return 0;
}

}  // namespace gpuaas
