#include "auth/audit_log.h"

#include <errno.h>
#include <fcntl.h>
#include <openssl/sha.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <charconv>
#include <cstring>
#include <fstream>

#include "auth/bytes.h"
#include "base/log.h"
#include "base/time.h"

namespace gpuaas {
namespace {

constexpr std::string_view kHashField = ",\"hash\":\"";
constexpr std::string_view kPrevField = ",\"prev\":\"";
constexpr std::string_view kSeqField = "{\"seq\":";
constexpr size_t kHashHex = 64;

std::string Sha256Hex(std::string_view bytes) {
  unsigned char md[SHA256_DIGEST_LENGTH];
  SHA256(reinterpret_cast<const unsigned char*>(bytes.data()), bytes.size(), md);
  return LowerHex(md, sizeof md);
}

// The length of the well-formed UTF-8 sequence at the start of `s`, or 0 if there is none.
size_t Utf8Length(std::string_view s) {
  const auto b = [&](size_t i) { return static_cast<unsigned char>(s[i]); };
  const auto cont = [&](size_t i) { return i < s.size() && (b(i) & 0xC0) == 0x80; };
  const unsigned char c = b(0);
  if (c < 0x80) return 1;
  if (c >= 0xC2 && c <= 0xDF) return cont(1) ? 2 : 0;
  if (c >= 0xE0 && c <= 0xEF) {
    if (!cont(1) || !cont(2)) return 0;
    if ((c == 0xE0 && b(1) < 0xA0) || (c == 0xED && b(1) > 0x9F)) return 0;  // overlong, surrogate
    return 3;
  }
  if (c >= 0xF0 && c <= 0xF4) {
    if (!cont(1) || !cont(2) || !cont(3)) return 0;
    if ((c == 0xF0 && b(1) < 0x90) || (c == 0xF4 && b(1) > 0x8F)) return 0;  // overlong, > U+10FFFF
    return 4;
  }
  return 0;
}

// A JSON string ("" as null). Control characters, and bytes that are not well-formed UTF-8 (a
// decoded path may hold any byte), are written as \u00XX, so that every line parses as JSON.
void AppendJsonString(std::string& out, std::string_view s) {
  if (s.empty()) {
    out += "null";
    return;
  }
  static constexpr char kHex[] = "0123456789abcdef";
  out += '"';
  while (!s.empty()) {
    const auto c = static_cast<unsigned char>(s[0]);
    const size_t n = Utf8Length(s);
    if (c == '"' || c == '\\') {
      out += '\\';
      out += s[0];
    } else if (c < 0x20 || n == 0) {
      out += "\\u00";
      out += kHex[c >> 4];
      out += kHex[c & 15];
    } else {
      out += s.substr(0, n);
      s.remove_prefix(n - 1);
    }
    s.remove_prefix(1);
  }
  out += '"';
}

// The parts of one line that the chain needs: its number, the previous hash, its own hash.
struct LineParts {
  int64_t seq = 0;
  std::string_view prev, hash, hashed;  // hashed: the bytes the hash covers
};

Result<LineParts> SplitLine(std::string_view line) {
  LineParts p;
  if (line.substr(0, kSeqField.size()) != kSeqField) return InvalidArgument("not an audit line");
  const char* first = line.data() + kSeqField.size();
  auto [end, err] = std::from_chars(first, line.data() + line.size(), p.seq);
  if (err != std::errc() || p.seq <= 0 || *end != ',') return InvalidArgument("bad seq");
  const size_t h = line.rfind(kHashField);
  if (h == std::string_view::npos || line.size() != h + kHashField.size() + kHashHex + 2 ||
      line.substr(line.size() - 2) != "\"}") {
    return InvalidArgument("no hash at the end of the line");
  }
  p.hash = line.substr(h + kHashField.size(), kHashHex);
  p.hashed = line.substr(0, h);
  const size_t v = p.hashed.rfind(kPrevField);
  if (v == std::string_view::npos || p.hashed.size() != v + kPrevField.size() + kHashHex + 1) {
    return InvalidArgument("no prev before the hash");
  }
  p.prev = p.hashed.substr(v + kPrevField.size(), kHashHex);
  return p;
}

Status WriteAll(int fd, std::string_view bytes) {
  while (!bytes.empty()) {
    const ssize_t n = ::write(fd, bytes.data(), bytes.size());
    if (n < 0) {
      if (errno == EINTR) continue;
      return Internal(std::string("write: ") + std::strerror(errno));
    }
    bytes.remove_prefix(static_cast<size_t>(n));
  }
  return Status::Ok();
}

}  // namespace

std::string FormatAuditLine(const AuditEntry& e, int64_t seq, std::string_view prev) {
  std::string line =
      "{\"seq\":" + std::to_string(seq) + ",\"time\":\"" + FormatRfc3339(e.time) + "\",\"actor\":";
  AppendJsonString(line, e.actor);
  line += ",\"role\":";
  AppendJsonString(line, e.role);
  line += ",\"entity\":";
  AppendJsonString(line, e.entity);
  line += ",\"remote\":";
  AppendJsonString(line, e.remote);
  line += ",\"method\":";
  AppendJsonString(line, e.method);
  line += ",\"path\":";
  AppendJsonString(line, e.path);
  line += ",\"status\":" + std::to_string(e.status);
  line += kPrevField;
  line += prev;
  line += '"';
  const std::string hash = Sha256Hex(line);
  line += kHashField;
  line += hash;
  line += "\"}\n";
  return line;
}

Result<std::unique_ptr<AuditLog>> AuditLog::Open(const std::string& path) {
  const int fd = ::open(path.c_str(), O_RDWR | O_CREAT | O_APPEND | O_CLOEXEC, 0600);
  if (fd < 0) {
    return Unavailable("cannot open the audit log " + path + ": " + std::strerror(errno));
  }
  struct stat st {};
  if (::fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
    ::close(fd);
    return InvalidArgument("the audit log " + path + " is not a regular file");
  }
  // The tail: enough for the last whole line (lines are well under 64 KiB).
  const int64_t size = st.st_size;
  const int64_t from = std::max<int64_t>(0, size - (64 << 10));
  std::string tail(static_cast<size_t>(size - from), '\0');
  if (!tail.empty() &&
      ::pread(fd, tail.data(), tail.size(), from) != static_cast<ssize_t>(tail.size())) {
    ::close(fd);
    return Unavailable("cannot read the audit log " + path + ": " + std::strerror(errno));
  }
  int64_t whole = size;  // bytes up to the last newline
  if (!tail.empty() && tail.back() != '\n') {
    const size_t nl = tail.rfind('\n');
    whole = nl == std::string::npos ? from : from + static_cast<int64_t>(nl) + 1;
    if (from > 0 && nl == std::string::npos) {
      ::close(fd);
      return InvalidArgument("the audit log " + path + " does not end with a whole line");
    }
    GLOG_WARN("audit log {}: cutting a torn last line of {} bytes (a crash while writing it)", path,
              size - whole);
    if (::ftruncate(fd, whole) != 0) {
      ::close(fd);
      return Unavailable("cannot cut the torn last line of " + path + ": " + std::strerror(errno));
    }
    tail.resize(static_cast<size_t>(whole - from));
  }
  int64_t seq = 0;
  std::string hash(kAuditGenesis);
  if (!tail.empty()) {
    tail.pop_back();  // the newline
    const size_t nl = tail.rfind('\n');
    auto parts = SplitLine(nl == std::string::npos ? std::string_view(tail)
                                                   : std::string_view(tail).substr(nl + 1));
    if (!parts.ok()) {
      ::close(fd);
      return InvalidArgument("the audit log " + path + " does not end with an audit line (" +
                             parts.status().message() + ")");
    }
    seq = parts->seq;
    hash = std::string(parts->hash);
  }
  return std::unique_ptr<AuditLog>(new AuditLog(path, fd, whole, seq, hash));
}

AuditLog::AuditLog(std::string path, int fd, int64_t size, int64_t seq, std::string hash)
    : path_(std::move(path)),
      fd_(fd),
      size_(size),
      seq_(seq),
      hash_(std::move(hash)),
      last_seq_(seq) {
  writer_ = std::thread([this] { WriterLoop(); });
}

AuditLog::~AuditLog() {
  {
    std::lock_guard lock(mu_);
    stopping_ = true;
  }
  cv_.notify_all();
  writer_.join();
  ::close(fd_);
}

void AuditLog::Append(AuditEntry entry, std::function<void()> done) {
  {
    std::lock_guard lock(mu_);
    queue_.emplace_back(std::move(entry), std::move(done));
    ++queued_;
  }
  cv_.notify_all();
}

void AuditLog::Flush() {
  std::unique_lock lock(mu_);
  const int64_t target = queued_;
  cv_.wait(lock, [&] { return written_ >= target; });
}

int64_t AuditLog::failures() const {
  std::lock_guard lock(mu_);
  return failures_;
}

int64_t AuditLog::last_seq() const {
  std::lock_guard lock(mu_);
  return last_seq_;
}

void AuditLog::WriterLoop() {
  for (;;) {
    std::vector<std::pair<AuditEntry, std::function<void()>>> batch;
    {
      std::unique_lock lock(mu_);
      cv_.wait(lock, [&] { return stopping_ || !queue_.empty(); });
      if (queue_.empty()) return;  // stopping, nothing left
      batch.swap(queue_);
    }
    std::string bytes;
    int64_t seq = seq_;
    std::string hash = hash_;
    for (const auto& [entry, done] : batch) {
      std::string line = FormatAuditLine(entry, ++seq, hash);
      hash = line.substr(line.size() - 3 - kHashHex, kHashHex);
      bytes += line;
    }
    Status st = WriteAll(fd_, bytes);
    if (st.ok() && ::fdatasync(fd_) != 0) {
      st = Internal(std::string("fdatasync: ") + std::strerror(errno));
    }
    if (st.ok()) {
      size_ += static_cast<int64_t>(bytes.size());
      seq_ = seq;
      hash_ = hash;
    } else {
      // Nothing of the batch counts: cut what was written, so the chain stays whole.
      GLOG_ERROR("audit log {}: {} lines not written: {}", path_, batch.size(), st.message());
      if (::ftruncate(fd_, size_) != 0) {
        GLOG_ERROR("audit log {}: cannot cut a partial write: {}", path_, std::strerror(errno));
      }
    }
    {  // counted before the callbacks run, so that a caller answered sees them
      std::lock_guard lock(mu_);
      last_seq_ = seq_;
      if (!st.ok()) failures_ += static_cast<int64_t>(batch.size());
    }
    for (auto& [entry, done] : batch) {
      if (done) done();
    }
    {
      std::lock_guard lock(mu_);
      written_ += static_cast<int64_t>(batch.size());
    }
    cv_.notify_all();
  }
}

Result<AuditCheck> VerifyAuditFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return NotFound("cannot read " + path);
  AuditCheck check;
  std::string prev(kAuditGenesis);
  int64_t expected_seq = 0;
  std::string line;
  while (std::getline(in, line)) {
    ++check.lines;
    auto parts = SplitLine(line);
    std::string problem;
    if (!parts.ok()) {
      problem = parts.status().message();
    } else if (expected_seq != 0 && parts->seq != expected_seq) {
      problem = "seq " + std::to_string(parts->seq) + " where " + std::to_string(expected_seq) +
                " was expected (a line removed, inserted or moved)";
    } else if (parts->prev != prev) {
      problem = "its prev is not the hash of the line before (a line removed, inserted or moved)";
    } else if (Sha256Hex(parts->hashed) != parts->hash) {
      problem = "its hash does not match its content (the line was edited)";
    }
    if (!problem.empty()) {
      check.first_bad_line = check.lines;
      check.problem = problem;
      return check;
    }
    expected_seq = parts->seq + 1;
    prev = std::string(parts->hash);
    check.last_hash = prev;
  }
  return check;
}

namespace {

// The offset of the first line numbered `seq` or more (lines are in seq order): a bisection on
// line starts, then a short scan. `size` when every line is below it.
int64_t OffsetOfSeq(int fd, int64_t size, int64_t seq) {
  constexpr int64_t kProbe = 4096;
  // The number of the first whole line at or after `at`, and that line's offset.
  auto line_at = [&](int64_t at, int64_t* line_start) -> int64_t {
    std::string buf(static_cast<size_t>(std::min(kProbe * 16, size - at)), '\0');
    const ssize_t n = ::pread(fd, buf.data(), buf.size(), at);
    if (n <= 0) return -1;
    buf.resize(static_cast<size_t>(n));
    size_t start = 0;
    if (at > 0) {
      const size_t nl = buf.find('\n');
      if (nl == std::string::npos) return -1;
      start = nl + 1;
    }
    *line_start = at + static_cast<int64_t>(start);
    int64_t s = 0;
    std::string_view v(buf);
    v.remove_prefix(start);
    if (v.substr(0, kSeqField.size()) != kSeqField) return -1;
    auto [end, err] = std::from_chars(v.data() + kSeqField.size(), v.data() + v.size(), s);
    return err == std::errc() ? s : -1;
  };
  int64_t lo = 0, hi = size;  // the line sought starts in [lo, hi]
  while (hi - lo > kProbe) {
    const int64_t mid = lo + (hi - lo) / 2;
    int64_t start = 0;
    const int64_t s = line_at(mid, &start);
    if (s < 0 || start >= hi) {
      hi = mid;
    } else if (s < seq) {
      lo = start;
    } else {
      hi = start;
    }
  }
  // The last stretch, line by line (from just before lo: lo itself may be the line sought).
  for (int64_t at = lo > 0 ? lo - 1 : 0; at < size;) {
    int64_t start = 0;
    const int64_t s = line_at(at, &start);
    if (s < 0) return size;
    if (s >= seq) return start;
    at = start + 1;
  }
  return size;
}

}  // namespace

Result<AuditTail> ReadAuditTail(const std::string& path, size_t limit, int64_t before_seq,
                                const std::function<bool(std::string_view)>& keep,
                                size_t max_bytes) {
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return Unavailable("cannot read the audit log: " + std::string(std::strerror(errno)));
  struct stat st {};
  if (::fstat(fd, &st) != 0) {
    ::close(fd);
    return Unavailable("cannot read the audit log: " + std::string(std::strerror(errno)));
  }
  // The window ends at the end of the file, or where line `before_seq` starts.
  const int64_t size = before_seq > 0 ? OffsetOfSeq(fd, st.st_size, before_seq) : st.st_size;
  const int64_t from = std::max<int64_t>(0, size - static_cast<int64_t>(max_bytes));
  std::string buf(static_cast<size_t>(size - from), '\0');
  const ssize_t n = buf.empty() ? 0 : ::pread(fd, buf.data(), buf.size(), from);
  ::close(fd);
  if (n < 0) return Unavailable("cannot read the audit log: " + std::string(std::strerror(errno)));
  buf.resize(static_cast<size_t>(n));
  std::string_view rest(buf);
  if (from > 0) {  // the first line may be cut: skip it
    const size_t nl = rest.find('\n');
    rest = nl == std::string_view::npos ? std::string_view() : rest.substr(nl + 1);
  }
  AuditTail out;
  int64_t oldest = 0;  // the number of the oldest line looked at
  while (!rest.empty() && out.lines.size() < limit) {
    if (rest.back() == '\n') rest.remove_suffix(1);
    const size_t nl = rest.rfind('\n');
    std::string_view line = nl == std::string_view::npos ? rest : rest.substr(nl + 1);
    rest = nl == std::string_view::npos ? std::string_view() : rest.substr(0, nl + 1);
    if (line.empty()) continue;
    auto parts = SplitLine(line);
    if (parts.ok()) {
      if (before_seq > 0 && parts->seq >= before_seq) continue;
      oldest = parts->seq;
    }
    if (keep && !keep(line)) continue;
    out.lines.emplace_back(line);
  }
  if ((!rest.empty() || from > 0) && oldest > 1) out.next_before = oldest;
  return out;
}

}  // namespace gpuaas
