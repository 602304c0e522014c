#include "agent/podman_runtime.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <charconv>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <set>

namespace gpuaas {

namespace fs = std::filesystem;

namespace {

std::string Join(const std::vector<int>& ids, int base = -1) {
  std::string out;
  for (size_t i = 0; i < ids.size(); ++i) {
    out += (out.empty() ? "" : ",") + std::to_string(base < 0 ? ids[i] : base + int(i));
  }
  return out;
}

bool IsCharDevice(const std::string& path) {
  struct stat st;
  return stat(path.c_str(), &st) == 0 && S_ISCHR(st.st_mode);
}

// Forks a grandchild that execs argv with stdio on /dev/null; waits only for the intermediate
// child (which exits at once), so nothing is left to reap.
void SpawnDetached(const std::vector<std::string>& args) {
  std::vector<char*> argv;
  for (const auto& a : args) argv.push_back(const_cast<char*>(a.c_str()));
  argv.push_back(nullptr);
  const pid_t child = fork();
  if (child == 0) {
    setsid();
    if (fork() != 0) _exit(0);
    const int devnull = open("/dev/null", O_RDWR);
    if (devnull >= 0) {
      for (int fd = 0; fd <= 2; ++fd) dup2(devnull, fd);
    }
    close_range(3, ~0U, 0);
    execvp(argv[0], argv.data());
    _exit(127);
  }
  if (child > 0) {
    while (waitpid(child, nullptr, 0) < 0 && errno == EINTR) {
    }
  }
}

}  // namespace

bool ParsePodmanGpuMode(const std::string& s, PodmanGpuMode* mode) {
  if (s == "cdi") {
    *mode = PodmanGpuMode::kCdi;
  } else if (s == "devices") {
    *mode = PodmanGpuMode::kDevices;
  } else {
    return false;
  }
  return true;
}

const char* PodmanGpuModeName(PodmanGpuMode m) {
  return m == PodmanGpuMode::kCdi ? "cdi" : "devices";
}

std::string ContainerName(AllocationId allocation) {
  return "gpuaas-alloc-" + std::to_string(allocation);
}

Status CheckPodmanArgs(const std::vector<std::string>& args) {
  if (args.size() > 64) return InvalidArgument("at most 64 podman arguments");
  // The option's name: "--pid=host" -> "--pid"; its value: after '=' or the next argument.
  static const std::set<std::string> kIsolation = {"--privileged",
                                                   "--cap-add",
                                                   "--security-opt",
                                                   "--device",
                                                   "--gpus",
                                                   "--volumes-from",
                                                   "--device-cgroup-rule",
                                                   "--publish-all",
                                                   "-P"};
  static const std::set<std::string> kControl = {
      "--rm",          "--name", "--pidfile", "--detach",  "-d", "--memory",
      "--memory-swap", "--cpus", "--runtime", "--publish", "-p"};
  static const std::set<std::string> kNamespaces = {"--pid",      "--ipc",     "--uts", "--userns",
                                                    "--cgroupns", "--network", "--net"};
  for (size_t i = 0; i < args.size(); ++i) {
    const std::string& a = args[i];
    if (a.empty() || a.size() > 4096) {
      return InvalidArgument("a podman argument must be 1-4096 characters");
    }
    const size_t eq = a.find('=');
    std::string name = a.rfind("-", 0) == 0 ? a.substr(0, eq) : "";
    // A short option with its value or others glued on: "-p8080:80", "-dit".
    if (name.size() > 2 && name[1] != '-') name = name.substr(0, 2);
    if (kIsolation.count(name)) {
      return InvalidArgument("podman argument '" + a +
                             "' is refused: it would break the isolation of entities' jobs");
    }
    if (kControl.count(name)) {
      return InvalidArgument("podman argument '" + a +
                             "' is refused: the agent sets it for each job itself");
    }
    if (kNamespaces.count(name)) {
      const std::string value = eq != std::string::npos ? a.substr(eq + 1)
                                : i + 1 < args.size()   ? args[i + 1]
                                                        : "";
      if (value == "host" || value.rfind("container:", 0) == 0) {
        return InvalidArgument("podman argument '" + name + " " + value +
                               "' is refused: jobs must not share the host's or another "
                               "container's namespaces");
      }
    }
  }
  return Status::Ok();
}

Result<ContainerCommand> BuildPodmanRun(const PodmanOptions& o, const WorkloadSpec& spec,
                                        const std::string& pidfile) {
  if (spec.image.empty()) return InvalidArgument("container workload without an image");
  if (spec.image[0] == '-') return InvalidArgument("image reference must not start with '-'");
  if (spec.workspace_mode != "rw" && spec.workspace_mode != "ro") {
    return InvalidArgument("workspace mode must be rw or ro, not '" + spec.workspace_mode + "'");
  }
  ContainerCommand c;
  auto& a = c.argv;
  a = {o.podman, "run", "--rm", "--name", ContainerName(spec.allocation)};
  if (!o.oci_runtime.empty()) a.insert(a.end(), {"--runtime", o.oci_runtime});
  a.insert(a.end(), o.extra_args.begin(), o.extra_args.end());
  if (!pidfile.empty()) a.insert(a.end(), {"--pidfile", pidfile});
  // The shim keeps the output; no second copy in podman's storage.
  a.insert(a.end(), {"--log-driver", "none", "--label", "gpuaas.job=" + std::to_string(spec.job),
                     "--label", "gpuaas.allocation=" + std::to_string(spec.allocation)});
  // A notebook's Jupyter listens in the container's own network (platform_notebooks.cc gives it
  // --ip=0.0.0.0): its port is published on the node's loopback, where the server's proxy
  // reaches it, as it reaches a notebook of the process runtime.
  if (auto it = spec.env.find("GPUAAS_NOTEBOOK_PORT"); it != spec.env.end()) {
    const std::string& p = it->second;
    int port = 0;
    auto [end, ec] = std::from_chars(p.data(), p.data() + p.size(), port);
    if (ec != std::errc() || end != p.data() + p.size() || port < 1 || port > 65535) {
      return InvalidArgument("GPUAAS_NOTEBOOK_PORT must be a port number, not '" + p + "'");
    }
    a.insert(a.end(), {"--publish", "127.0.0.1:" + p + ":" + p + "/tcp"});
  }
  // The job's host resources, as the process runtime's cgroup limits: memory without extra
  // swap, CPU as a quota of cores.
  if (spec.memory_bytes > 0) {
    const std::string m = std::to_string(spec.memory_bytes);
    a.insert(a.end(), {"--memory", m, "--memory-swap", m});
  }
  if (spec.cpu_millis > 0) {
    char cpus[32];
    std::snprintf(cpus, sizeof cpus, "%lld.%03lld", static_cast<long long>(spec.cpu_millis / 1000),
                  static_cast<long long>(spec.cpu_millis % 1000));
    a.insert(a.end(), {"--cpus", cpus});
  }
  if (o.gpu_mode == PodmanGpuMode::kCdi) {
    for (int g : spec.gpu_ids)
      a.insert(a.end(), {"--device", "nvidia.com/gpu=" + std::to_string(g)});
  } else {
    for (int g : spec.gpu_ids) {
      const std::string node = "nvidia" + std::to_string(g);
      const std::string host = o.device_dir + "/" + node;
      if (!IsCharDevice(host)) {
        return FailedPrecondition("GPU " + std::to_string(g) + ": no device node " + host);
      }
      a.insert(a.end(), {"--device", host + ":/dev/" + node});
    }
    if (!spec.gpu_ids.empty()) {
      for (const char* node : {"nvidiactl", "nvidia-uvm", "nvidia-uvm-tools", "nvidia-modeset"}) {
        const std::string host = o.device_dir + "/" + node;
        if (IsCharDevice(host)) a.insert(a.end(), {"--device", host + ":/dev/" + node});
      }
    }
  }
  c.env = spec.env;
  c.env["NVIDIA_VISIBLE_DEVICES"] = spec.gpu_ids.empty() ? "void" : Join(spec.gpu_ids);
  c.env["CUDA_VISIBLE_DEVICES"] = Join(spec.gpu_ids, 0);
  c.env["GPUAAS_GPU_IDS"] = Join(spec.gpu_ids);
  c.env["GPUAAS_JOB_ID"] = std::to_string(spec.job);
  if (!spec.workspace.empty()) {
    if (spec.workspace.find(':') != std::string::npos || spec.workspace[0] != '/') {
      return InvalidArgument("workspace must be an absolute path without ':'");
    }
    a.insert(a.end(), {"--volume", spec.workspace + ":/workspace:" + spec.workspace_mode,
                       "--workdir", "/workspace"});
    c.env["GPUAAS_WORKSPACE"] = "/workspace";
  } else {
    c.env.erase("GPUAAS_WORKSPACE");
  }
  for (const auto& [k, v] : c.env) a.insert(a.end(), {"--env", k});  // values: from podman's env
  a.push_back(spec.image);
  a.insert(a.end(), spec.command.begin(), spec.command.end());
  return c;
}

Status EnsureWorkspace(const WorkloadSpec& spec) {
  if (spec.workspace.empty()) return Status::Ok();
  std::error_code ec;
  if (fs::is_directory(spec.workspace, ec)) return Status::Ok();
  fs::create_directories(spec.workspace, ec);
  if (ec) return Internal("cannot create workspace " + spec.workspace + ": " + ec.message());
  chmod(spec.workspace.c_str(), 0770);
  return Status::Ok();
}

void PodmanStopAsync(const PodmanOptions& o, AllocationId allocation, int64_t grace_ms) {
  const int64_t secs = grace_ms <= 0 ? 0 : (grace_ms + 999) / 1000;
  SpawnDetached({o.podman, "stop", "-t", std::to_string(secs), ContainerName(allocation)});
}

void PodmanRemoveAsync(const PodmanOptions& o, AllocationId allocation) {
  SpawnDetached({o.podman, "rm", "-f", "-t", "0", ContainerName(allocation)});
}

bool PodmanUsable(const std::string& podman, std::string* why) {
  const std::string cmd = podman + " info --format '{{.Host.OCIRuntime.Name}}' 2>&1";
  FILE* f = popen(cmd.c_str(), "r");
  if (!f) {
    *why = std::string("cannot run ") + podman + ": " + strerror(errno);
    return false;
  }
  std::string out;
  char buf[512];
  size_t n;
  while ((n = fread(buf, 1, sizeof buf, f)) > 0) out.append(buf, n);
  const int rc = pclose(f);
  if (rc != 0) {
    *why = "`" + podman + " info` failed: " + out.substr(0, 300);
    return false;
  }
  return true;
}

}  // namespace gpuaas
