// `gpuaas server`: wires the real clock, files, sockets and signals to the Platform, the REST
// API, the HTTP server and the embedded node agents. The only place where they meet.
#include <dlfcn.h>
#include <pthread.h>
#include <signal.h>
#include <sys/stat.h>
#include <unistd.h>

#include <CLI/CLI.hpp>
#include <cerrno>
#include <cstring>
#include <fstream>
#include <iostream>
#include <memory>
#include <thread>

#include "agent/agent.h"
#include "agent/demo_inventory.h"
#include "api/api.h"
#include "api/audit.h"
#include "api/portal.h"
#include "base/clock.h"
#include "base/log.h"
#include "cmd/commands.h"
#include "cmd/loop_executor.h"
#include "cmd/server_config.h"
#include "cmd/usage_exit.h"
#include "net/event_loop.h"
#include "net/http_server.h"
#include "net/router.h"
#include "state/platform.h"
#include "store/store.h"
#include "store/writer_lock.h"

namespace gpuaas {
namespace {

constexpr const char* kDefaultDemo = "h200:8,l40s:4";

bool MakeDirs(const std::string& path) {
  std::string cur;
  for (size_t i = 0; i <= path.size(); ++i) {
    if (i == path.size() || path[i] == '/') {
      if (!cur.empty() && ::mkdir(cur.c_str(), 0750) != 0 && errno != EEXIST) return false;
    }
    if (i < path.size()) cur += path[i];
  }
  return true;
}

bool NvidiaDriverPresent() {
  void* h = ::dlopen("libnvidia-ml.so.1", RTLD_NOW | RTLD_LOCAL);
  if (h) ::dlclose(h);
  return h != nullptr;
}

Status WriteAdminToken(const std::string& path, const std::string& token) {
  std::string tmp = path + ".tmp";
  {
    std::ofstream f(tmp, std::ios::trunc);
    if (!f) return Internal("cannot write " + tmp);
    f << token << "\n";
  }
  if (::chmod(tmp.c_str(), 0600) != 0 || ::rename(tmp.c_str(), path.c_str()) != 0) {
    return Internal("cannot write " + path + ": " + std::strerror(errno));
  }
  return Status::Ok();
}

bool IsLoopback(const std::string& host) {
  return host == "localhost" || host == "[::1]" || host.rfind("127.", 0) == 0;
}

// The portal's default asset directory: `web` beside the executable (build/web, where
// `make build` copies web/dist), else ./web/dist (the source tree's build output).
std::string DefaultWebDir() {
  char buf[4096];
  ssize_t n = ::readlink("/proc/self/exe", buf, sizeof(buf) - 1);
  if (n > 0) {
    std::string exe(buf, static_cast<size_t>(n));
    std::string dir = exe.substr(0, exe.rfind('/')) + "/web";
    struct stat st {};
    if (::stat((dir + "/index.html").c_str(), &st) == 0) return dir;
  }
  return "web/dist";
}

}  // namespace

int RunServerCommand(int argc, char** argv) {
  CLI::App app{"gpuaas server: the GPUaaS control plane (REST API, scheduler, state, metering)"};
  std::string listen = "127.0.0.1:8080", data_dir = "./gpuaas-data", demo, config_file,
              log_level = "info";
  app.add_option("--listen", listen, "HOST:PORT to serve the API on")->capture_default_str();
  app.add_option("--data-dir", data_dir, "directory of the database, logs and admin token")
      ->capture_default_str();
  app.add_option("--demo-gpus", demo,
                 "the server's own simulated nodes, one per item, e.g. h200:8,l40s:4 (the "
                 "default); \"none\" for a control plane whose GPUs all come from `gpuaas agent`s");
  app.add_option("--config", config_file, "TOML configuration file (see docs/operations.md)");
  std::string demo_cgroups = "off";
  app.add_option("--demo-cgroups", demo_cgroups,
                 "memory/CPU limits of the demo nodes' workloads (docs/agent.md): off, auto or "
                 "required")
      ->check(CLI::IsMember({"off", "auto", "required"}))
      ->capture_default_str();
  std::string web_dir;
  app.add_option("--web-dir", web_dir,
                 "the portal's built assets (default: web/ beside the binary, else ./web/dist; "
                 "\"none\" disables the portal)");
  std::string tls_cert, tls_key;
  app.add_option("--tls-cert", tls_cert,
                 "serve HTTPS with this certificate chain (PEM, the server's first); with "
                 "--tls-key; overrides [tls] cert_file")
      ->check(CLI::ExistingFile);
  app.add_option("--tls-key", tls_key, "the certificate's private key (PEM)")
      ->check(CLI::ExistingFile);
  app.add_option("--log-level", log_level, "debug, info, warn or error")->capture_default_str();
  std::string database;
  app.add_option("--database", database,
                 "a PostgreSQL connection string (postgresql://USER@HOST/DB; keep the password "
                 "in ~/.pgpass); overrides [database] url; default: SQLite in the data dir");
  app.footer(
      "Example: gpuaas server --listen 0.0.0.0:8443 --data-dir /var/lib/gpuaas --demo-gpus none "
      "--tls-cert /etc/gpuaas/tls.crt --tls-key /etc/gpuaas/tls.key");
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    return UsageExit(app, e);
  }
  SetLogLevel(log_level.c_str());

  PlatformConfig config;
  if (!config_file.empty()) {
    if (Status s = ApplyConfigFile(config_file, config); !s.ok()) {
      std::cerr << "error: " << s.message() << "\n";
      return 2;
    }
  }
  if (tls_cert.empty() != tls_key.empty()) {
    std::cerr << "error: --tls-cert and --tls-key go together\n";
    return 2;
  }
  if (!tls_cert.empty()) {
    config.tls_cert_file = tls_cert;
    config.tls_key_file = tls_key;
  }
  if (demo == "none") {
    GLOG_INFO("no simulated nodes (--demo-gpus none): GPUs come from node agents");
  } else if (demo.empty()) {
    if (NvidiaDriverPresent()) {
      GLOG_WARN(
          "an NVIDIA driver is present, but the server's own nodes are always simulated: "
          "serving the demo inventory {} (SIMULATED GPUs); run `gpuaas agent` (NVML) on each "
          "GPU server to serve its real GPUs (docs/agent.md)",
          kDefaultDemo);
    } else {
      GLOG_WARN(
          "no NVIDIA driver found: serving the demo inventory {} (SIMULATED GPUs; "
          "real processes)",
          kDefaultDemo);
    }
    demo = kDefaultDemo;
  }
  auto demo_nodes = demo == "none" ? Result<std::vector<DemoNodeSpec>>(std::vector<DemoNodeSpec>{})
                                   : ParseDemoGpus(demo);
  if (!demo_nodes.ok()) {
    std::cerr << "error: --demo-gpus: " << demo_nodes.status().message() << "\n";
    return 2;
  }
  if (!MakeDirs(data_dir + "/logs") || !MakeDirs(data_dir + "/agent")) {
    std::cerr << "error: cannot create data directory " << data_dir << ": " << std::strerror(errno)
              << "\n";
    return 1;
  }
  // One server per data directory (its audit trail, secrets, workloads), whatever its database.
  auto data_lock = WriterLock::Acquire(data_dir + "/server.lock", "the data directory " + data_dir);
  if (!data_lock.ok()) {
    std::cerr << "error: " << data_lock.status().message() << "\n";
    return 1;
  }
  config.log_dir = data_dir + "/logs";
  // Entity workspaces default to DATA/workspaces/<entity>; secrets live in DATA/secrets.json,
  // sealed with the key in DATA/secrets.key unless [secrets] key_file says where it is.
  if (config.billing.workspace_root.empty()) {
    config.billing.workspace_root = data_dir + "/workspaces";
  }
  config.secrets_path = data_dir + "/secrets.json";
  if (config.secrets_key_file.empty()) config.secrets_key_file = data_dir + "/secrets.key";

  // Signals go to one thread that asks the loop to stop; block them everywhere else first.
  sigset_t sigs;
  sigemptyset(&sigs);
  sigaddset(&sigs, SIGTERM);
  sigaddset(&sigs, SIGINT);
  pthread_sigmask(SIG_BLOCK, &sigs, nullptr);
  ::signal(SIGPIPE, SIG_IGN);

  if (!database.empty()) config.database_url = database;
  auto store = config.database_url.empty() ? OpenSqliteStore(data_dir + "/gpuaas.db")
                                           : OpenPgStore(config.database_url);
  if (!store.ok()) {
    std::cerr << "error: " << store.status().message() << "\n";
    return 1;
  }
  SystemClock clock;
  net::EventLoop loop;
  LoopExecutor executor(loop);
  Platform platform(clock, executor, **store, config);
  // Listen (and load the TLS certificate) before the platform starts: a bad address or
  // certificate stops the server before it changes anything. No request is read before the
  // loop runs.
  const std::string audit_path =
      config.audit_file.empty() ? data_dir + "/audit.log" : config.audit_file;
  auto opened_audit = AuditLog::Open(audit_path);
  if (!opened_audit.ok()) {
    std::cerr << "error: " << opened_audit.status().message() << "\n";
    return 1;
  }
  std::shared_ptr<AuditLog> audit = std::move(*opened_audit);
  net::Router router;
  api::RegisterApi(router, platform);
  api::RegisterAuditRoutes(router, platform, audit);
  net::HttpServerOptions opts;
  opts.listen = listen;
  opts.tls_cert_file = config.tls_cert_file;
  opts.tls_key_file = config.tls_key_file;
  const bool tls = !opts.tls_cert_file.empty();
  api::PortalOptions portal;
  portal.web_dir = web_dir.empty() ? DefaultWebDir() : (web_dir == "none" ? "" : web_dir);
  net::HttpServer server(
      loop, opts, api::WithPortal(api::WithAudit(router.AsHandler(), platform, audit), portal));
  if (Status s = server.Start(); !s.ok()) {
    std::cerr << "error: " << s.message() << "\n";  // names the address or the TLS file
    return 1;
  }
  auto admin = platform.Start();
  if (!admin.ok()) {
    std::cerr << "error: " << admin.status().message() << "\n";
    return 1;
  }
  if (!admin->empty()) {
    std::string path = data_dir + "/admin.token";
    if (Status s = WriteAdminToken(path, *admin); !s.ok()) {
      std::cerr << "error: " << s.message() << "\n";
      return 1;
    }
    std::cout << "admin token: " << *admin << std::endl;
    GLOG_INFO("first start: platform admin created; its token is in {}", path);
  }
  auto agent_token = platform.IssueAgentToken();
  if (!agent_token.ok()) {
    std::cerr << "error: " << agent_token.status().message() << "\n";
    return 1;
  }

  std::string host = listen.substr(0, listen.rfind(':'));
  if (host.empty() || host == "0.0.0.0") host = "127.0.0.1";
  if (host == "::" || host == "[::]") host = "[::1]";
  const std::string self_url =
      (tls ? "https://" : "http://") + host + ":" + std::to_string(server.port());
  GLOG_INFO(
      "gpuaas server listening on {} (data dir {}; database {}; audit trail {}, line {} so far)",
      self_url, data_dir,
      config.database_url.empty() ? "SQLite " + data_dir + "/gpuaas.db" : std::string("PostgreSQL"),
      audit_path, audit->last_seq());
  if (!tls && !IsLoopback(listen.substr(0, listen.rfind(':')))) {
    GLOG_WARN(
        "serving plain HTTP on {}: tokens and secrets cross the network in the clear; give the "
        "server a certificate (--tls-cert/--tls-key or [tls], docs/operations.md)",
        listen);
  }
  if (!portal.web_dir.empty()) {
    GLOG_INFO("web portal at {}/ (assets from {})", self_url, portal.web_dir);
  }

  std::vector<std::unique_ptr<Agent>> agents;
  for (const auto& n : *demo_nodes) {
    AgentOptions ao;
    ao.server_url = self_url;
    ao.pinned_cert_file = config.tls_cert_file;  // its own server, whatever names it holds
    ao.token = *agent_token;
    ao.node_name = n.name;
    ao.gpus = n.gpus;
    ao.simulated = true;
    ao.state_dir = data_dir + "/agent/" + n.name;
    CgroupMode cgroup_mode = CgroupMode::kOff;
    (void)ParseCgroupMode(demo_cgroups, &cgroup_mode);
    auto cgroups = CgroupsForMode(cgroup_mode, "gpuaas/" + n.name, n.name);
    if (!cgroups.ok()) {
      std::cerr << "error: agent " << n.name << ": " << cgroups.status().message() << "\n";
      return 1;
    }
    ao.cgroups = *cgroups;
    ao.podman.podman = config.runtime.podman;
    ParsePodmanGpuMode(config.runtime.gpu_mode, &ao.podman.gpu_mode);  // checked by the config
    ao.podman.device_dir = config.runtime.device_dir;
    ao.podman.extra_args.insert(ao.podman.extra_args.end(), config.runtime.podman_args.begin(),
                                config.runtime.podman_args.end());
    auto agent = std::make_unique<Agent>(ao);
    if (Status s = agent->Start(); !s.ok()) {
      std::cerr << "error: agent " << n.name << ": " << s.message() << "\n";
      return 1;
    }
    agents.push_back(std::move(agent));
  }

  // Shutdown: stop accepting, answer held long polls, let the agents finish their last
  // report, then stop the loop. Jobs keep running and are adopted at the next start.
  std::thread signals([&] {
    int sig = 0;
    sigwait(&sigs, &sig);
    GLOG_INFO("signal {}: stopping (jobs keep running and are adopted at the next start)", sig);
    loop.Post([&] {
      platform.Shutdown();
      server.Stop([&] { loop.Stop(); });  // once in-flight requests are answered
    });
    for (auto& a : agents) a->Stop();
  });
  loop.Run();
  signals.join();
  if (Status s = (*store)->Flush(); !s.ok()) GLOG_ERROR("final flush: {}", s.ToString());
  (*store)->Close();
  GLOG_INFO("stopped");
  return 0;
}

}  // namespace gpuaas
