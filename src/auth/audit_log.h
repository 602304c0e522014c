// AuditLog: the platform's audit trail, an append-only file of JSON lines, one per audited API
// request (docs/operations.md "Audit trail", docs/adr/0018):
//   {"seq":7,"time":"2026-12-02T19:04:05.123Z","actor":"alice","role":"member","entity":"acme",
//    "remote":"10.0.0.9:51234","method":"POST","path":"/api/v1/jobs","status":201,
//    "prev":"<hash of line 6>","hash":"<SHA-256 of this line's bytes before ,\"hash\">"}
// Each line carries the hash of the line before it, so an edited, removed, inserted or reordered
// line breaks the chain (VerifyAuditFile). One writer thread group-commits: a batch of lines is
// written with one write() and one fdatasync(), then each entry's `done` runs (on that thread),
// so that a caller can answer its client only once the line is on disk. A reopened file continues
// its chain; a torn last line (a crash mid-write: never acknowledged) is cut off at open.
// Thread-safety: Append and Flush may be called from any thread.
#pragma once

#include <condition_variable>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include "base/clock.h"
#include "base/status.h"

namespace gpuaas {

struct AuditEntry {
  Millis time = 0;
  std::string actor;   // the user's name ("" = no valid token: written as null)
  std::string role;    // "platform-admin", "entity-admin" or "member" ("" = null)
  std::string entity;  // the actor's entity ("" = null)
  std::string remote;  // the client's "address:port"
  std::string method;  // "POST", ...
  std::string path;    // without the query string
  int status = 0;      // the HTTP status answered
};

class AuditLog {
 public:
  // Opens (creates, mode 0600) the file and reads its last line to continue the chain.
  static Result<std::unique_ptr<AuditLog>> Open(const std::string& path);
  ~AuditLog();  // writes what is queued, then stops the writer
  AuditLog(const AuditLog&) = delete;
  AuditLog& operator=(const AuditLog&) = delete;

  // Queues a line; `done` runs once it is durable, or once writing it failed (logged, counted in
  // failures(): the request is answered anyway, the chain stays whole).
  void Append(AuditEntry entry, std::function<void()> done);
  // Blocks until every line appended before the call is written.
  void Flush();
  const std::string& path() const { return path_; }
  int64_t failures() const;
  int64_t last_seq() const;

 private:
  AuditLog(std::string path, int fd, int64_t size, int64_t seq, std::string hash);
  void WriterLoop();

  const std::string path_;
  const int fd_;
  int64_t size_;      // writer thread: bytes of whole lines in the file
  int64_t seq_;       // writer thread: the last line's number (0 = none)
  std::string hash_;  // writer thread: the last line's hash (64 zeros = none)
  mutable std::mutex mu_;
  std::condition_variable cv_;
  std::vector<std::pair<AuditEntry, std::function<void()>>> queue_;
  int64_t queued_ = 0, written_ = 0;  // under mu_: appended and processed counts
  int64_t failures_ = 0, last_seq_ = 0;
  bool stopping_ = false;
  std::thread writer_;
};

// The hash that starts a chain (the "prev" of line 1).
inline constexpr std::string_view kAuditGenesis =
    "0000000000000000000000000000000000000000000000000000000000000000";

// The line of `e` numbered `seq` after the line whose hash is `prev`, with its newline.
std::string FormatAuditLine(const AuditEntry& e, int64_t seq, std::string_view prev);

// A whole file checked: every line's hash, its link to the line before, its number.
struct AuditCheck {
  int64_t lines = 0;
  int64_t first_bad_line = 0;  // 1-based; 0 = the chain is whole
  std::string problem;         // why that line is bad
  std::string last_hash;       // the last good line's hash
};
Result<AuditCheck> VerifyAuditFile(const std::string& path);

// The newest lines of the file, newest first: at most `limit` lines for which `keep` holds,
// only lines numbered below `before_seq` when it is > 0, reading at most `max_bytes` back from
// the end of the file, or from where line `before_seq` starts (found by bisection: lines are in
// number order). `next_before` is where the next page starts (the number of the oldest line
// looked at), or 0 when no older line is left: a filter that matches nothing in the window still
// lets the caller page on, so that paging with before_seq reaches every line.
struct AuditTail {
  std::vector<std::string> lines;
  int64_t next_before = 0;
};
Result<AuditTail> ReadAuditTail(const std::string& path, size_t limit, int64_t before_seq,
                                const std::function<bool(std::string_view)>& keep,
                                size_t max_bytes = 8 << 20);

}  // namespace gpuaas
