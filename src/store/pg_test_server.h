// PgTestServer: a real PostgreSQL server of the test's own (initdb + pg_ctl from Debian's
// postgresql package, found with `pg_config --bindir`), in a fresh directory under /tmp,
// listening on a Unix socket in that directory only (no TCP port), stopped and removed when the
// object dies. As root it runs as the `postgres` user (initdb refuses root). fsync is off: the
// tests check what is written, not crash durability. For the store's tests only.
#pragma once

#include <gtest/gtest.h>
#include <unistd.h>

#include <atomic>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <memory>
#include <string>

#include "base/status.h"
#include "store/pg_db.h"

namespace gpuaas::store_test {

class PgTestServer {
 public:
  static Result<std::unique_ptr<PgTestServer>> Start() {
    std::unique_ptr<PgTestServer> s(new PgTestServer());
    char tmpl[] = "/tmp/gpuaas-pg-test-XXXXXX";
    if (mkdtemp(tmpl) == nullptr) return Internal("mkdtemp failed");
    s->dir_ = tmpl;
    std::string bindir = Output("pg_config --bindir");
    while (!bindir.empty() && (bindir.back() == '\n' || bindir.back() == ' ')) bindir.pop_back();
    if (bindir.empty() || !std::filesystem::exists(bindir + "/initdb")) {
      return FailedPrecondition(
          "PostgreSQL's server programs are missing (pg_config --bindir gave '" + bindir +
          "'): scripts/install-deps.sh installs the postgresql package");
    }
    s->as_ = geteuid() == 0 ? "runuser -u postgres -- " : "";
    if (geteuid() == 0 && std::system(("chown postgres " + s->dir_).c_str()) != 0) {
      return Internal("cannot give " + s->dir_ + " to the postgres user");
    }
    s->pg_ctl_ = bindir + "/pg_ctl";
    const std::string init = s->as_ + bindir + "/initdb -D " + s->dir_ +
                             "/data -A trust -U gpuaas -E UTF8 --no-locale --no-sync > " + s->dir_ +
                             "/initdb.log 2>&1";
    if (std::system(init.c_str()) != 0) {
      return Internal("initdb failed: " + Output("cat " + s->dir_ + "/initdb.log"));
    }
    const std::string start = s->as_ + s->pg_ctl_ + " -D " + s->dir_ + "/data -l " + s->dir_ +
                              "/server.log -w -o \"-k " + s->dir_ +
                              " -c listen_addresses= -c fsync=off\" start > /dev/null 2>&1";
    if (std::system(start.c_str()) != 0) {
      return Internal("pg_ctl start failed: " + Output("cat " + s->dir_ + "/server.log"));
    }
    s->running_ = true;
    return s;
  }

  ~PgTestServer() {
    if (running_) {
      const std::string stop = as_ + pg_ctl_ + " -D " + dir_ + "/data -m immediate -w stop";
      (void)std::system((stop + " > /dev/null 2>&1").c_str());
    }
    if (!dir_.empty()) std::filesystem::remove_all(dir_);
  }
  PgTestServer(const PgTestServer&) = delete;
  PgTestServer& operator=(const PgTestServer&) = delete;

  // A libpq connection string for database `db` of this server.
  std::string ConnInfo(const std::string& db) const {
    return "host=" + dir_ + " user=gpuaas dbname=" + db;
  }

 private:
  PgTestServer() = default;
  static std::string Output(const std::string& cmd) {
    std::string out;
    if (FILE* f = popen(cmd.c_str(), "r")) {
      char buf[4096];
      size_t n;
      while ((n = fread(buf, 1, sizeof buf, f)) > 0) out.append(buf, n);
      pclose(f);
    }
    return out;
  }

  std::string dir_, as_, pg_ctl_;
  bool running_ = false;
};

// The PostgreSQL server of this test program (every store test shares it), started on first use
// and stopped at exit; null, with the reason as a failure of the calling test, if it cannot start.
inline PgTestServer* SharedPgServer() {
  static Status failed;
  static std::unique_ptr<PgTestServer> server = [] {
    auto s = PgTestServer::Start();
    if (!s.ok()) failed = s.status();
    return s.ok() ? std::move(s).value() : nullptr;
  }();
  EXPECT_NE(server, nullptr) << failed.ToString();
  return server.get();
}

// A fresh, empty database on `server` for one test; its connection string.
inline std::string FreshPgDatabase(PgTestServer& server) {
  static std::atomic<int> next{1};
  const std::string name = "t" + std::to_string(next++);
  auto admin = PgDb::Open(server.ConnInfo("postgres"));
  EXPECT_TRUE(admin.ok()) << admin.status().ToString();
  if (admin.ok()) {
    Status st = admin->Exec("CREATE DATABASE " + name);
    EXPECT_TRUE(st.ok()) << st.ToString();
  }
  return server.ConnInfo(name);
}

}  // namespace gpuaas::store_test
