#include "agent/workload_dir.h"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>

namespace gpuaas {

namespace fs = std::filesystem;

std::optional<std::string> ReadSmallFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return std::nullopt;
  std::ostringstream out;
  out << in.rdbuf();
  return out.str();
}

Status WriteFileAtomically(const std::string& path, const std::string& content) {
  const std::string tmp = path + ".tmp";
  const int fd = open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0) return Internal("cannot write " + tmp + ": " + strerror(errno));
  size_t done = 0;
  while (done < content.size()) {
    const ssize_t w = write(fd, content.data() + done, content.size() - done);
    if (w < 0 && errno == EINTR) continue;
    if (w < 0) {
      const int e = errno;
      close(fd);
      return Internal("cannot write " + tmp + ": " + strerror(e));
    }
    done += static_cast<size_t>(w);
  }
  fsync(fd);
  close(fd);
  if (rename(tmp.c_str(), path.c_str()) != 0) {
    return Internal("cannot rename " + tmp + ": " + strerror(errno));
  }
  return Status::Ok();
}

WorkloadDir::WorkloadDir(const std::string& workloads_root, AllocationId allocation)
    : path_(workloads_root + "/" + std::to_string(allocation)) {}

Status WorkloadDir::Create() const {
  std::error_code ec;
  fs::create_directories(File("work"), ec);
  if (ec) return Internal("cannot create " + File("work") + ": " + ec.message());
  return Status::Ok();
}

Status WorkloadDir::Remove() const {
  std::error_code ec;
  fs::remove_all(path_, ec);
  if (ec) return Internal("cannot remove " + path_ + ": " + ec.message());
  return Status::Ok();
}

Status WorkloadDir::WriteSpec(const WorkloadSpec& spec, Millis started_at) const {
  return WriteFileAtomically(File("spec.json"), SpecToJson(spec, started_at));
}

Status WorkloadDir::ReadSpec(WorkloadSpec* spec, Millis* started_at) const {
  auto text = ReadSmallFile(File("spec.json"));
  if (!text) return NotFound("no spec.json in " + path_);
  return SpecFromJson(*text, spec, started_at);
}

Status WorkloadDir::WritePid(const PidRecord& r) const {
  return WriteFileAtomically(File("pid"), std::to_string(r.shim_pid) + " " +
                                              std::to_string(r.shim_start_time) + " " +
                                              std::to_string(r.job_pgid) + "\n");
}

std::optional<PidRecord> WorkloadDir::ReadPid() const {
  auto text = ReadSmallFile(File("pid"));
  if (!text) return std::nullopt;
  std::istringstream in(*text);
  PidRecord r;
  if (!(in >> r.shim_pid >> r.shim_start_time >> r.job_pgid) || r.shim_pid <= 0 ||
      r.job_pgid <= 0) {
    return std::nullopt;
  }
  return r;
}

Status WorkloadDir::WriteExit(const ExitRecord& r) const {
  return WriteFileAtomically(File("exit"), FormatExitRecord(r));
}

std::optional<ExitRecord> WorkloadDir::ReadExit() const {
  auto text = ReadSmallFile(File("exit"));
  if (!text) return std::nullopt;
  return ParseExitRecord(*text);
}

Status WorkloadDir::WriteFailed(const std::string& message) const {
  return WriteFileAtomically(File("failed"), message);
}

std::optional<std::string> WorkloadDir::ReadFailed() const { return ReadSmallFile(File("failed")); }

Status WorkloadDir::WriteStop(const StopRecord& r) const {
  return WriteFileAtomically(
      File("stop"), std::string(r.timed_out ? "1 " : "0 ") + std::to_string(r.kill_at) + "\n");
}

std::optional<StopRecord> WorkloadDir::ReadStop() const {
  auto text = ReadSmallFile(File("stop"));
  if (!text) return std::nullopt;
  std::istringstream in(*text);
  int timed_out = 0;
  StopRecord r;
  if (!(in >> timed_out >> r.kill_at)) return std::nullopt;
  r.timed_out = timed_out != 0;
  return r;
}

}  // namespace gpuaas
