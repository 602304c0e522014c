#include "agent/shim.h"

#include <fcntl.h>
#include <grp.h>
#include <poll.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <cerrno>
#include <charconv>
#include <cstring>
#include <fstream>
#include <sstream>

namespace gpuaas {
namespace {

// What the shim tells the agent once the job exec'd (or did not).
struct ShimHello {
  int32_t job_pid;
  int32_t err;  // errno of the job's chdir/execve, or of the shim's own setup
};

// Everything the child processes read, as plain pointers prepared before fork().
struct Prepared {
  const char* exec_path;
  char* const* argv;
  char* const* envp;
  const char* work_dir;
  const char* log_path;
  const char* exit_path;
  const char* exit_tmp_path;
  const char* pid_path;  // nullptr: not written
  const char* pid_tmp_path;
  int64_t log_cap;
  int max_fd;
  char* const* cgroup_procs;  // nullptr-terminated
  bool has_credentials;
  uid_t uid;
  gid_t gid;
  const gid_t* groups;
  size_t ngroups;
};

// Added to the errno the job reports when joining its cgroup failed (not chdir/execve).
constexpr int32_t kCgroupErrorBase = 1 << 20;
// Added to the errno the job reports when taking its user failed (setgroups/setgid/setuid).
constexpr int32_t kCredentialsErrorBase = 2 << 20;

// ---- async-signal-safe helpers: the only things used between fork() and execve()/_exit() ----

void SafeWrite(int fd, const char* p, size_t n) {
  while (n > 0) {
    const ssize_t w = write(fd, p, n);
    if (w < 0) {
      if (errno == EINTR) continue;
      return;
    }
    p += w;
    n -= static_cast<size_t>(w);
  }
}

// Writes the decimal form of v into out (at least 21 bytes); returns its length.
size_t FormatInt(int64_t v, char* out) {
  char tmp[24];
  size_t n = 0;
  const bool neg = v < 0;
  uint64_t u = neg ? 0 - static_cast<uint64_t>(v) : static_cast<uint64_t>(v);
  do {
    tmp[n++] = static_cast<char>('0' + u % 10);
    u /= 10;
  } while (u > 0);
  size_t len = 0;
  if (neg) out[len++] = '-';
  while (n > 0) out[len++] = tmp[--n];
  return len;
}

int64_t WallMillis() {
  timespec ts{};
  clock_gettime(CLOCK_REALTIME, &ts);
  return static_cast<int64_t>(ts.tv_sec) * 1000 + ts.tv_nsec / 1'000'000;
}

void SetDisposition(int sig, void (*handler)(int)) {
  struct sigaction sa;
  memset(&sa, 0, sizeof sa);
  sa.sa_handler = handler;
  sigemptyset(&sa.sa_mask);
  sigaction(sig, &sa, nullptr);
}

void UnblockAllSignals() {
  sigset_t none;
  sigemptyset(&none);
  sigprocmask(SIG_SETMASK, &none, nullptr);
}

void CloseFrom(int first, int max_fd) {
  if (close_range(static_cast<unsigned>(first), ~0U, 0) == 0) return;
  for (int fd = first; fd < max_fd; ++fd) close(fd);
}

// The job process: its own process group, output into the pipe, then execve.
[[noreturn]] void RunJob(const Prepared& p, int out_w, int err_w) {
  setpgid(0, 0);
  dup2(out_w, 1);
  dup2(out_w, 2);
  close(3);  // the shim's channel to the agent (not close-on-exec after dup2)
  for (int sig = 1; sig < NSIG; ++sig) {
    if (sig != SIGKILL && sig != SIGSTOP) SetDisposition(sig, SIG_DFL);
  }
  UnblockAllSignals();
  char pid[24];
  const size_t pid_len = FormatInt(getpid(), pid);
  for (char* const* f = p.cgroup_procs; *f != nullptr; ++f) {
    const int fd = open(*f, O_WRONLY | O_CLOEXEC);
    const bool joined = fd >= 0 && write(fd, pid, pid_len) == static_cast<ssize_t>(pid_len);
    const int32_t e = kCgroupErrorBase + (errno != 0 ? errno : EIO);
    if (fd >= 0) close(fd);
    if (!joined) {
      SafeWrite(err_w, reinterpret_cast<const char*>(&e), sizeof e);
      _exit(127);
    }
  }
  if (p.has_credentials) {
    // Groups first, then the group, then the user (after which none of it could be changed).
    errno = 0;
    if (setgroups(p.ngroups, p.groups) != 0 || setgid(p.gid) != 0 || setuid(p.uid) != 0) {
      const int32_t e = kCredentialsErrorBase + (errno != 0 ? errno : EPERM);
      SafeWrite(err_w, reinterpret_cast<const char*>(&e), sizeof e);
      _exit(127);
    }
  }
  if (chdir(p.work_dir) == 0) execve(p.exec_path, p.argv, p.envp);
  const int32_t e = errno;
  SafeWrite(err_w, reinterpret_cast<const char*>(&e), sizeof e);
  _exit(127);
}

void WriteExit(const Prepared& p, int wstatus) {
  int code = -1;
  int sig = 0;
  if (WIFEXITED(wstatus)) {
    code = WEXITSTATUS(wstatus);
  } else if (WIFSIGNALED(wstatus)) {
    sig = WTERMSIG(wstatus);
    code = 128 + sig;
  }
  char line[96];
  size_t n = FormatInt(code, line);
  line[n++] = ' ';
  n += FormatInt(sig, line + n);
  line[n++] = ' ';
  n += FormatInt(WallMillis(), line + n);
  line[n++] = '\n';
  const int fd = open(p.exit_tmp_path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0) return;
  SafeWrite(fd, line, n);
  fsync(fd);
  close(fd);
  rename(p.exit_tmp_path, p.exit_path);
}

// The start time (field 22 of /proc/self/stat, clock ticks since boot) of the calling process;
// 0 when unreadable. Async-signal-safe (ReadProcInfo is its allocating twin for other pids).
uint64_t OwnStartTime() {
  char buf[1024];
  const int fd = open("/proc/self/stat", O_RDONLY | O_CLOEXEC);
  if (fd < 0) return 0;
  ssize_t n;
  while ((n = read(fd, buf, sizeof buf - 1)) < 0 && errno == EINTR) {
  }
  close(fd);
  if (n <= 0) return 0;
  ssize_t i = n - 1;
  while (i >= 0 && buf[i] != ')') --i;  // the command name may hold spaces and parentheses
  if (i < 0) return 0;
  int field = 2;  // the ')' ends field 2
  for (++i; i < n && field < 22; ++i) {
    if (buf[i] == ' ') ++field;
  }
  uint64_t v = 0;
  for (; i < n && buf[i] >= '0' && buf[i] <= '9'; ++i)
    v = v * 10 + static_cast<uint64_t>(buf[i] - '0');
  return v;
}

// The pid record (shim.h), written atomically before the agent is told that the job runs.
void WritePidRecord(const Prepared& p, pid_t job) {
  if (p.pid_path == nullptr) return;
  char line[96];
  size_t n = FormatInt(getpid(), line);
  line[n++] = ' ';
  n += FormatInt(static_cast<int64_t>(OwnStartTime()), line + n);
  line[n++] = ' ';
  n += FormatInt(job, line + n);
  line[n++] = '\n';
  const int fd = open(p.pid_tmp_path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0) return;
  SafeWrite(fd, line, n);
  fsync(fd);
  close(fd);
  rename(p.pid_tmp_path, p.pid_path);
}

// The shim: see shim.h. status_w is the write end of the pipe to the agent.
[[noreturn]] void RunShim(const Prepared& p, int status_w) {
  setsid();
  SetDisposition(SIGTERM, SIG_IGN);
  SetDisposition(SIGINT, SIG_IGN);
  SetDisposition(SIGHUP, SIG_IGN);
  SetDisposition(SIGPIPE, SIG_IGN);
  SetDisposition(SIGCHLD, SIG_DFL);  // SIG_IGN would make waitpid() lose the job's status
  UnblockAllSignals();
  // Keep only the agent channel (on fd 3); drop every descriptor inherited from the agent.
  if (status_w != 3) dup2(status_w, 3);
  CloseFrom(4, p.max_fd);
  const int devnull = open("/dev/null", O_RDWR);
  if (devnull >= 0) {
    for (int fd = 0; fd <= 2; ++fd) dup2(devnull, fd);
    if (devnull > 2) close(devnull);
  }
  ShimHello hello{0, 0};
  const int log_fd = open(p.log_path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0640);
  int out[2];
  int err[2];
  if (log_fd < 0 || pipe2(out, O_CLOEXEC) != 0 || pipe2(err, O_CLOEXEC) != 0) {
    hello.err = errno;
    SafeWrite(3, reinterpret_cast<const char*>(&hello), sizeof hello);
    _exit(1);
  }
  // vfork: the job borrows the shim's memory until its execve instead of copying it (the shim
  // is a copy of the agent, which may be a whole server): the job starts several ms sooner on a
  // busy node. RunJob only makes system calls on its own stack and never returns.
  const pid_t job = vfork();
  if (job == 0) RunJob(p, out[1], err[1]);
  if (job < 0) {
    hello.err = errno;
    SafeWrite(3, reinterpret_cast<const char*>(&hello), sizeof hello);
    _exit(1);
  }
  setpgid(job, job);  // also here, so that the group exists before the agent can signal it
  close(out[1]);
  close(err[1]);
  int32_t exec_errno = 0;
  ssize_t got;
  while ((got = read(err[0], &exec_errno, sizeof exec_errno)) < 0 && errno == EINTR) {
  }
  if (got != static_cast<ssize_t>(sizeof exec_errno)) exec_errno = 0;
  close(err[0]);
  if (exec_errno == 0) WritePidRecord(p, job);
  hello.job_pid = job;
  hello.err = exec_errno;
  SafeWrite(3, reinterpret_cast<const char*>(&hello), sizeof hello);
  close(3);

  // Copy the job's output into the log until the job is gone and the pipe is drained.
  char buf[16384];
  int64_t written = 0;
  int64_t dropped = 0;
  char last = '\n';
  bool job_done = false;
  int wstatus = 0;
  for (;;) {
    pollfd pfd{out[0], POLLIN, 0};
    const int r = poll(&pfd, 1, job_done ? 200 : 100);
    if (r < 0 && errno != EINTR) break;
    if (r > 0) {
      const ssize_t n = read(out[0], buf, sizeof buf);
      if (n < 0 && errno == EINTR) continue;
      if (n <= 0) break;  // every writer is gone
      const int64_t room = p.log_cap - written;
      const int64_t take = n < room ? n : (room > 0 ? room : 0);
      if (take > 0) {
        SafeWrite(log_fd, buf, static_cast<size_t>(take));
        written += take;
        last = buf[take - 1];
      }
      dropped += n - take;
    } else if (r == 0 && job_done) {
      break;  // a straggler that escaped the group holds the pipe: stop waiting for it
    }
    if (!job_done && waitpid(job, &wstatus, WNOHANG) == job) {
      job_done = true;
      kill(-job, SIGKILL);  // what the job left behind in its group dies with it
    }
  }
  if (!job_done) {
    while (waitpid(job, &wstatus, 0) < 0 && errno == EINTR) {
    }
    kill(-job, SIGKILL);
  }
  if (dropped > 0) {
    char line[96];
    size_t n = 0;
    if (last != '\n') line[n++] = '\n';
    const char head[] = "[log truncated: ";
    memcpy(line + n, head, sizeof head - 1);
    n += sizeof head - 1;
    n += FormatInt(dropped, line + n);
    const char tail[] = " bytes dropped]\n";
    memcpy(line + n, tail, sizeof tail - 1);
    n += sizeof tail - 1;
    SafeWrite(log_fd, line, n);
  }
  close(log_fd);
  WriteExit(p, wstatus);
  _exit(0);
}

bool ReadFull(int fd, void* dst, size_t n, int timeout_ms) {
  char* p = static_cast<char*>(dst);
  while (n > 0) {
    pollfd pfd{fd, POLLIN, 0};
    const int r = poll(&pfd, 1, timeout_ms);
    if (r < 0 && errno == EINTR) continue;
    if (r <= 0) return false;
    const ssize_t got = read(fd, p, n);
    if (got < 0 && errno == EINTR) continue;
    if (got <= 0) return false;
    p += got;
    n -= static_cast<size_t>(got);
  }
  return true;
}

bool IsExecutableFile(const std::string& path, int* err) {
  struct stat st;
  if (stat(path.c_str(), &st) != 0) {
    *err = errno;
    return false;
  }
  if (!S_ISREG(st.st_mode)) {
    *err = EACCES;
    return false;
  }
  if (access(path.c_str(), X_OK) != 0) {
    *err = errno;
    return false;
  }
  return true;
}

}  // namespace

Result<std::string> ResolveCommand(const std::string& name, const std::string& path_env,
                                   const std::string& work_dir) {
  if (name.empty()) return NotFound("command not found: (empty command)");
  auto absolute = [&](const std::string& p) { return p[0] == '/' ? p : work_dir + "/" + p; };
  int err = ENOENT;
  if (name.find('/') != std::string::npos) {
    const std::string path = absolute(name);
    if (IsExecutableFile(path, &err)) return path;
    if (err == EACCES) return NotFound("permission denied: " + name);
    return NotFound("command not found: " + name);
  }
  const std::string search = path_env.empty() ? "/usr/local/bin:/usr/bin:/bin" : path_env;
  bool denied = false;
  size_t start = 0;
  for (;;) {
    const size_t colon = search.find(':', start);
    std::string dir = search.substr(start, colon == std::string::npos ? colon : colon - start);
    if (dir.empty()) dir = ".";
    const std::string path = absolute(dir + "/" + name);
    int e = 0;
    if (IsExecutableFile(path, &e)) return path;
    if (e == EACCES) denied = true;
    if (colon == std::string::npos) break;
    start = colon + 1;
  }
  return NotFound((denied ? "permission denied: " : "command not found: ") + name);
}

Result<ShimProcess> SpawnShim(const ShimLaunch& launch) {
  if (launch.argv.empty()) return InvalidArgument("empty command");
  std::vector<char*> argv;
  for (const auto& a : launch.argv) argv.push_back(const_cast<char*>(a.c_str()));
  argv.push_back(nullptr);
  std::vector<char*> envp;
  for (const auto& e : launch.envp) envp.push_back(const_cast<char*>(e.c_str()));
  envp.push_back(nullptr);
  std::vector<char*> cgroup_procs;
  for (const auto& f : launch.cgroup_procs) cgroup_procs.push_back(const_cast<char*>(f.c_str()));
  cgroup_procs.push_back(nullptr);
  const std::string exit_tmp = launch.exit_path + ".tmp";
  const std::string pid_tmp = launch.pid_path + ".tmp";
  long open_max = sysconf(_SC_OPEN_MAX);
  if (open_max <= 0 || open_max > 65536) open_max = 65536;
  const Prepared p{launch.exec_path.c_str(),
                   argv.data(),
                   envp.data(),
                   launch.work_dir.c_str(),
                   launch.log_path.c_str(),
                   launch.exit_path.c_str(),
                   exit_tmp.c_str(),
                   launch.pid_path.empty() ? nullptr : launch.pid_path.c_str(),
                   pid_tmp.c_str(),
                   launch.log_cap_bytes,
                   static_cast<int>(open_max),
                   cgroup_procs.data(),
                   launch.run_as.has_value(),
                   launch.run_as ? launch.run_as->uid : 0,
                   launch.run_as ? launch.run_as->gid : 0,
                   launch.run_as ? launch.run_as->groups.data() : nullptr,
                   launch.run_as ? launch.run_as->groups.size() : 0};
  int status[2];
  if (pipe2(status, O_CLOEXEC) != 0) return Internal(std::string("pipe: ") + strerror(errno));
  const pid_t shim = fork();
  if (shim == 0) {
    close(status[0]);
    RunShim(p, status[1]);
  }
  const int fork_errno = errno;
  close(status[1]);
  if (shim < 0) {
    close(status[0]);
    return Internal(std::string("fork: ") + strerror(fork_errno));
  }
  ShimHello hello{0, 0};
  const bool ok = ReadFull(status[0], &hello, sizeof hello, 10'000);
  close(status[0]);
  if (!ok || hello.job_pid <= 0) {
    // The shim could not start the job at all; it exits (or is killed) on its own.
    kill(shim, SIGKILL);
    while (waitpid(shim, nullptr, 0) < 0 && errno == EINTR) {
    }
    return Internal(std::string("workload shim failed to start the job: ") +
                    (ok && hello.err != 0 ? strerror(hello.err) : "no answer from the shim"));
  }
  if (hello.err >= kCredentialsErrorBase) {
    return ShimProcess{shim, hello.job_pid, 0, 0, hello.err - kCredentialsErrorBase};
  }
  if (hello.err >= kCgroupErrorBase) {
    return ShimProcess{shim, hello.job_pid, 0, hello.err - kCgroupErrorBase, 0};
  }
  return ShimProcess{shim, hello.job_pid, hello.err, 0, 0};
}

std::optional<ProcInfo> ReadProcInfo(pid_t pid) {
  std::ifstream in("/proc/" + std::to_string(pid) + "/stat");
  if (!in) return std::nullopt;
  std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  const size_t paren = text.rfind(')');
  if (paren == std::string::npos) return std::nullopt;
  std::istringstream fields(text.substr(paren + 1));
  ProcInfo info;
  std::string field;
  // After the command name: field 3 is the state, field 22 the start time.
  for (int i = 3; i <= 22 && (fields >> field); ++i) {
    if (i == 3) info.state = field.empty() ? '?' : field[0];
    if (i == 22) {
      auto [ptr, ec] = std::from_chars(field.data(), field.data() + field.size(), info.start_time);
      if (ec != std::errc()) return std::nullopt;
      return info;
    }
  }
  return std::nullopt;
}

std::optional<ExitRecord> ParseExitRecord(const std::string& text) {
  std::istringstream in(text);
  ExitRecord r;
  if (!(in >> r.exit_code >> r.signal >> r.finished_at)) return std::nullopt;
  std::getline(in, r.message);
  if (!r.message.empty() && r.message[0] == ' ') r.message.erase(0, 1);
  return r;
}

std::string FormatExitRecord(const ExitRecord& r) {
  std::string s = std::to_string(r.exit_code) + " " + std::to_string(r.signal) + " " +
                  std::to_string(r.finished_at);
  if (!r.message.empty()) s += " " + r.message;
  return s + "\n";
}

}  // namespace gpuaas
