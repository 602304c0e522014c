// AuditLog on real files in a temporary directory: lines, the chain across reopenings, the
// verification of edited / removed / reordered lines, a torn last line, a failed write (the
// file size limit standing in for a full disk), reading the tail.
#include "auth/audit_log.h"

#include <gtest/gtest.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/resource.h>
#include <sys/stat.h>

#include <filesystem>
#include <fstream>
#include <future>
#include <sstream>

namespace gpuaas {
namespace {

class AuditLogTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/gpuaas-audit-XXXXXX";
    ASSERT_NE(mkdtemp(tmpl), nullptr);
    dir_ = tmpl;
    path_ = dir_ + "/audit.log";
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }

  static AuditEntry Entry(const std::string& actor, int status) {
    AuditEntry e;
    e.time = 1'764'700'000'123;
    e.actor = actor;
    e.role = "member";
    e.entity = "acme";
    e.remote = "127.0.0.1:5555";
    e.method = "POST";
    e.path = "/api/v1/jobs";
    e.status = status;
    return e;
  }
  // Appends and waits for each line's `done`.
  void Write(AuditLog& log, const std::vector<AuditEntry>& entries) {
    std::vector<std::future<void>> done;
    for (const AuditEntry& e : entries) {
      auto p = std::make_shared<std::promise<void>>();
      done.push_back(p->get_future());
      log.Append(e, [p] { p->set_value(); });
    }
    for (auto& f : done) f.wait();
  }
  std::vector<std::string> Lines() {
    std::ifstream in(path_);
    std::vector<std::string> out;
    for (std::string l; std::getline(in, l);) out.push_back(l);
    return out;
  }
  void Rewrite(const std::vector<std::string>& lines) {
    std::ofstream out(path_, std::ios::trunc);
    for (const auto& l : lines) out << l << "\n";
  }

  std::string dir_, path_;
};

TEST_F(AuditLogTest, WritesChainedLinesAndContinuesTheChainWhenReopened) {
  {
    auto log = AuditLog::Open(path_);
    ASSERT_TRUE(log.ok()) << log.status().ToString();
    Write(**log, {Entry("alice", 201), Entry("", 401)});
    EXPECT_EQ((*log)->last_seq(), 2);
  }
  struct stat st {};
  ASSERT_EQ(::stat(path_.c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600u);
  std::vector<std::string> lines = Lines();
  ASSERT_EQ(lines.size(), 2u);
  EXPECT_EQ(
      lines[0].rfind("{\"seq\":1,\"time\":\"2025-12-02T18:26:40.123Z\",\"actor\":\"alice\","
                     "\"role\":\"member\",\"entity\":\"acme\",\"remote\":\"127.0.0.1:5555\","
                     "\"method\":\"POST\",\"path\":\"/api/v1/jobs\",\"status\":201,\"prev\":\"" +
                         std::string(kAuditGenesis) + "\",\"hash\":\"",
                     0),
      0u)
      << lines[0];
  EXPECT_NE(lines[1].find("\"actor\":null"), std::string::npos) << lines[1];
  {
    auto log = AuditLog::Open(path_);
    ASSERT_TRUE(log.ok());
    EXPECT_EQ((*log)->last_seq(), 2);
    Write(**log, {Entry("bob", 204)});
  }
  auto check = VerifyAuditFile(path_);
  ASSERT_TRUE(check.ok());
  EXPECT_EQ(check->lines, 3);
  EXPECT_EQ(check->first_bad_line, 0) << check->problem;
  EXPECT_NE(Lines()[2].find("{\"seq\":3,"), std::string::npos);
}

TEST_F(AuditLogTest, EscapesWhatCouldBreakALine) {
  {
    auto log = AuditLog::Open(path_);
    ASSERT_TRUE(log.ok());
    AuditEntry e = Entry("a\"b\\c", 400);
    e.path = "/api/v1/jobs/\n{\"seq\":99,";
    Write(**log, {e});
  }
  std::vector<std::string> lines = Lines();
  ASSERT_EQ(lines.size(), 1u);
  EXPECT_NE(lines[0].find("\"actor\":\"a\\\"b\\\\c\""), std::string::npos) << lines[0];
  EXPECT_NE(lines[0].find("\\u000a{\\\"seq\\\":99,"), std::string::npos) << lines[0];
  EXPECT_EQ(VerifyAuditFile(path_)->first_bad_line, 0);
}

TEST_F(AuditLogTest, BytesThatAreNotUtf8AreEscapedSoThatTheLineStaysJson) {
  {
    auto log = AuditLog::Open(path_);
    ASSERT_TRUE(log.ok());
    AuditEntry e = Entry("zoë", 404);
    // A decoded path may hold any byte: a stray 0xff, a whole "é", a cut "€", an overlong "/".
    e.path = "/api/v1/\xff\xc3\xa9x\xe2\x82/\xc0\xaf";
    Write(**log, {e});
  }
  std::vector<std::string> lines = Lines();
  ASSERT_EQ(lines.size(), 1u);
  EXPECT_NE(lines[0].find("\"actor\":\"zoë\""), std::string::npos) << lines[0];
  EXPECT_NE(lines[0].find("\"path\":\"/api/v1/\\u00ff\xc3\xa9x\\u00e2\\u0082/\\u00c0\\u00af\""),
            std::string::npos)
      << lines[0];
  EXPECT_EQ(VerifyAuditFile(path_)->first_bad_line, 0);
}

TEST_F(AuditLogTest, VerificationFindsEditedRemovedAndReorderedLines) {
  {
    auto log = AuditLog::Open(path_);
    ASSERT_TRUE(log.ok());
    Write(**log, {Entry("a", 201), Entry("b", 201), Entry("c", 201), Entry("d", 201)});
  }
  const std::vector<std::string> good = Lines();
  ASSERT_EQ(VerifyAuditFile(path_)->first_bad_line, 0);

  std::vector<std::string> edited = good;
  edited[1].replace(edited[1].find("\"status\":201"), 12, "\"status\":200");
  Rewrite(edited);
  auto c = VerifyAuditFile(path_);
  EXPECT_EQ(c->first_bad_line, 2);
  EXPECT_NE(c->problem.find("edited"), std::string::npos) << c->problem;

  std::vector<std::string> removed = {good[0], good[2], good[3]};
  Rewrite(removed);
  EXPECT_EQ(VerifyAuditFile(path_)->first_bad_line, 2);

  std::vector<std::string> swapped = {good[0], good[2], good[1], good[3]};
  Rewrite(swapped);
  EXPECT_EQ(VerifyAuditFile(path_)->first_bad_line, 2);

  Rewrite({good[0], good[1], good[2]});  // the newest line dropped: a chain cannot tell
  EXPECT_EQ(VerifyAuditFile(path_)->first_bad_line, 0);
  EXPECT_EQ(VerifyAuditFile(path_)->last_hash, good[2].substr(good[2].size() - 66, 64));

  Rewrite({good[0], "not a line", good[2]});
  EXPECT_EQ(VerifyAuditFile(path_)->first_bad_line, 2);
}

TEST_F(AuditLogTest, ATornLastLineIsCutAtOpenAndAForeignFileIsRefused) {
  {
    auto log = AuditLog::Open(path_);
    ASSERT_TRUE(log.ok());
    Write(**log, {Entry("a", 201), Entry("b", 201)});
  }
  {
    std::ofstream out(path_, std::ios::app);
    out << "{\"seq\":3,\"time\":\"2026";  // a crash in the middle of a write
  }
  {
    auto log = AuditLog::Open(path_);
    ASSERT_TRUE(log.ok()) << log.status().ToString();
    EXPECT_EQ((*log)->last_seq(), 2);
    Write(**log, {Entry("c", 201)});
  }
  EXPECT_EQ(Lines().size(), 3u);
  EXPECT_EQ(VerifyAuditFile(path_)->first_bad_line, 0);

  std::ofstream(dir_ + "/other.log") << "some other log\n";
  auto other = AuditLog::Open(dir_ + "/other.log");
  ASSERT_FALSE(other.ok());
  EXPECT_NE(other.status().message().find("does not end with an audit line"), std::string::npos);
  EXPECT_FALSE(AuditLog::Open(dir_ + "/missing-dir/audit.log").ok());
}

TEST_F(AuditLogTest, ReadsTheNewestLinesPageByPageWithAFilter) {
  {
    auto log = AuditLog::Open(path_);
    ASSERT_TRUE(log.ok());
    std::vector<AuditEntry> entries;
    for (int i = 0; i < 10; ++i) entries.push_back(Entry(i % 2 ? "odd" : "even", 200 + i));
    Write(**log, entries);
  }
  auto newest = ReadAuditTail(path_, 3, 0, nullptr);
  ASSERT_TRUE(newest.ok());
  ASSERT_EQ(newest->lines.size(), 3u);
  EXPECT_EQ(newest->lines[0].rfind("{\"seq\":10,", 0), 0u);
  EXPECT_EQ(newest->lines[2].rfind("{\"seq\":8,", 0), 0u);
  EXPECT_EQ(newest->next_before, 8);
  auto page = ReadAuditTail(path_, 3, 8, nullptr);
  ASSERT_EQ(page->lines.size(), 3u);
  EXPECT_EQ(page->lines[0].rfind("{\"seq\":7,", 0), 0u);
  EXPECT_EQ(page->next_before, 5);
  auto odd = ReadAuditTail(path_, 100, 0, [](std::string_view l) {
    return l.find("\"actor\":\"odd\"") != std::string_view::npos;
  });
  EXPECT_EQ(odd->lines.size(), 5u);
  EXPECT_EQ(odd->next_before, 0);  // the whole file was read
  auto last = ReadAuditTail(path_, 2, 3, nullptr);
  ASSERT_EQ(last->lines.size(), 2u);
  EXPECT_EQ(last->next_before, 0);  // line 1 was the last one
  // A window that cuts the oldest lines: only whole lines come back, and where to go on.
  auto small = ReadAuditTail(path_, 100, 0, nullptr, 700);
  ASSERT_TRUE(small.ok());
  EXPECT_GE(small->lines.size(), 1u);
  EXPECT_LT(small->lines.size(), 10u);
  for (const auto& l : small->lines) EXPECT_EQ(l.rfind("{\"seq\":", 0), 0u) << l;
  EXPECT_EQ(small->next_before, 11 - static_cast<int64_t>(small->lines.size()));
  // A filter that matches nothing in the window still says where to go on.
  auto nobody = ReadAuditTail(
      path_, 100, 0, [](std::string_view) { return false; }, 700);
  EXPECT_TRUE(nobody->lines.empty());
  EXPECT_EQ(nobody->next_before, small->next_before);
}

TEST_F(AuditLogTest, PagingReachesLinesFarBeforeTheEnd) {
  {
    auto log = AuditLog::Open(path_);
    ASSERT_TRUE(log.ok());
    for (int i = 0; i < 3000; ++i) (*log)->Append(Entry("user-" + std::to_string(i), 201), nullptr);
    (*log)->Flush();
  }
  // A window of 4 KiB (about 15 lines) ending where each page starts.
  for (int64_t before : {2, 3, 17, 1000, 1001, 2999, 3000, 3001, 5000}) {
    auto page = ReadAuditTail(path_, 2, before, nullptr, 4096);
    ASSERT_TRUE(page.ok());
    const int64_t first = std::min<int64_t>(before, 3001) - 1;
    ASSERT_EQ(page->lines.size(), first >= 2 ? 2u : 1u) << before;
    EXPECT_EQ(page->lines[0].rfind("{\"seq\":" + std::to_string(first) + ",", 0), 0u) << before;
    EXPECT_EQ(page->next_before, first > 2 ? first - 1 : 0) << before;
  }
  auto none = ReadAuditTail(path_, 2, 1, nullptr, 4096);
  EXPECT_TRUE(none->lines.empty());
  EXPECT_EQ(none->next_before, 0);
}

TEST_F(AuditLogTest, FlushWaitsForEverythingAppendedBefore) {
  auto log = AuditLog::Open(path_);
  ASSERT_TRUE(log.ok());
  for (int i = 0; i < 500; ++i) (*log)->Append(Entry("many", 201), nullptr);
  (*log)->Flush();
  EXPECT_EQ((*log)->last_seq(), 500);
  EXPECT_EQ((*log)->failures(), 0);
  EXPECT_EQ(Lines().size(), 500u);
}

TEST_F(AuditLogTest, AFailedWriteAnswersLosesTheBatchAndKeepsTheChainWhole) {
  auto log = AuditLog::Open(path_);
  ASSERT_TRUE(log.ok());
  Write(**log, {Entry("before", 201)});
  const auto size = static_cast<rlim_t>(std::filesystem::file_size(path_));
  // RLIMIT_FSIZE makes write() fail with EFBIG past `size` + 100 bytes, as a full disk fails
  // with ENOSPC: the second line cannot be written whole (a partial write, then an error).
  struct rlimit old {};
  ASSERT_EQ(getrlimit(RLIMIT_FSIZE, &old), 0);
  struct sigaction ignore {
  }, previous{};
  ignore.sa_handler = SIG_IGN;
  ASSERT_EQ(sigaction(SIGXFSZ, &ignore, &previous), 0);
  struct rlimit tight = old;
  tight.rlim_cur = size + 100;
  ASSERT_EQ(setrlimit(RLIMIT_FSIZE, &tight), 0);
  Write(**log, {Entry("lost-1", 201), Entry("lost-2", 403)});  // both `done`s still run
  const int64_t failures = (*log)->failures();
  ASSERT_EQ(setrlimit(RLIMIT_FSIZE, &old), 0);
  ASSERT_EQ(sigaction(SIGXFSZ, &previous, nullptr), 0);
  EXPECT_EQ(failures, 2);
  EXPECT_EQ(std::filesystem::file_size(path_), size);  // the partial write was cut off
  EXPECT_EQ((*log)->last_seq(), 1);
  // Once the disk has room again, the chain goes on from the last line written.
  Write(**log, {Entry("after", 200)});
  auto lines = Lines();
  ASSERT_EQ(lines.size(), 2u);
  EXPECT_EQ(lines[1].rfind("{\"seq\":2,", 0), 0u) << lines[1];
  EXPECT_NE(lines[1].find("\"actor\":\"after\""), std::string::npos);
  auto check = VerifyAuditFile(path_);
  ASSERT_TRUE(check.ok());
  EXPECT_EQ(check->first_bad_line, 0) << check->problem;
  EXPECT_EQ(check->lines, 2);
}

}  // namespace
}  // namespace gpuaas
