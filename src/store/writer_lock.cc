#include "store/writer_lock.h"

#include <fcntl.h>
#include <sys/file.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <string>
#include <utility>

namespace gpuaas {
namespace {

// The pid written by the holder ("" when unreadable or empty).
std::string HolderOf(int fd) {
  char buf[32] = {};
  ssize_t n = pread(fd, buf, sizeof(buf) - 1, 0);
  if (n <= 0) return "";
  std::string pid(buf, static_cast<size_t>(n));
  while (!pid.empty() && (pid.back() == '\n' || pid.back() == ' ')) pid.pop_back();
  for (char c : pid) {
    if (c < '0' || c > '9') return "";
  }
  return pid;
}

}  // namespace

WriterLock::WriterLock(WriterLock&& o) noexcept : fd_(std::exchange(o.fd_, -1)) {}

WriterLock& WriterLock::operator=(WriterLock&& o) noexcept {
  if (this != &o) {
    if (fd_ >= 0) close(fd_);
    fd_ = std::exchange(o.fd_, -1);
  }
  return *this;
}

WriterLock::~WriterLock() {
  if (fd_ >= 0) close(fd_);  // closing the last descriptor releases the flock
}

Result<WriterLock> WriterLock::Acquire(const std::string& path, const std::string& what) {
  int fd = open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0600);
  if (fd < 0) {
    return Unavailable("cannot open the lock file " + path + ": " + std::strerror(errno));
  }
  if (flock(fd, LOCK_EX | LOCK_NB) != 0) {
    const int err = errno;
    const std::string holder = HolderOf(fd);
    close(fd);
    if (err == EWOULDBLOCK) {
      return FailedPrecondition(what + " is in use by another GPUaaS process" +
                                (holder.empty() ? std::string() : " (pid " + holder + ")") +
                                ": one server per database and data directory; stop it first (" +
                                path + " is its lock)");
    }
    return Unavailable("cannot lock " + path + ": " + std::strerror(err));
  }
  // Ours now: record the pid for whoever is refused next (best effort: the lock is the flock).
  const std::string pid = std::to_string(getpid()) + "\n";
  if (ftruncate(fd, 0) != 0 || pwrite(fd, pid.data(), pid.size(), 0) < 0) {
    // Not fatal: the message will just not name the holder.
  }
  return WriterLock(fd);
}

}  // namespace gpuaas
