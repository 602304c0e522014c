// WriterLock: one writer per SQLite database and per data directory (ADR 0001's single writer,
// ADR 0022). An exclusive flock(2) on a lock file ("<database>.lock", "DATA/server.lock"), held
// for the life of the object: a second server on the same database or data directory, or
// `gpuaas db copy` while a server runs, is refused instead of writing beside it. The file holds the
// holder's process id, for the error message; the lock itself is the kernel's and goes away with
// the process, so a crash leaves nothing to clean up. (PostgreSQL has the same rule with a session
// advisory lock: pg_store.h.) Thread-safety: an object is used by one thread; the lock excludes
// other processes and other WriterLocks of this process alike.
#pragma once

#include <string>

#include "base/status.h"

namespace gpuaas {

class WriterLock {
 public:
  WriterLock() = default;
  WriterLock(const WriterLock&) = delete;
  WriterLock& operator=(const WriterLock&) = delete;
  WriterLock(WriterLock&& o) noexcept;
  WriterLock& operator=(WriterLock&& o) noexcept;
  ~WriterLock();

  // Takes the lock file `lock_path` (made if missing) without waiting; `what` names what it
  // guards in messages ("the database /var/lib/gpuaas/gpuaas.db"). kFailedPrecondition when
  // another holds it (the message names the holder's pid); kUnavailable when the lock file
  // cannot be made (e.g. a missing directory).
  static Result<WriterLock> Acquire(const std::string& lock_path, const std::string& what);
  // The lock of the SQLite database at `db_path`: "<db_path>.lock".
  static Result<WriterLock> ForDatabase(const std::string& db_path) {
    return Acquire(db_path + ".lock", "the database " + db_path);
  }

 private:
  explicit WriterLock(int fd) : fd_(fd) {}
  int fd_ = -1;
};

}  // namespace gpuaas
