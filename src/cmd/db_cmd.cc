// `gpuaas db copy --from SRC --to DST`: moves the platform's database, e.g. from the embedded
// SQLite file to PostgreSQL (docs/operations.md "Moving to PostgreSQL"). The work is
// CopyDatabase (store/db_copy.h); this file parses flags and reports.
#include <CLI/CLI.hpp>
#include <boost/json.hpp>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <iostream>
#include <string>

#include "cmd/commands.h"
#include "cmd/usage_exit.h"
#include "store/db_copy.h"

namespace gpuaas {
namespace {

int Fail(const Status& s) {
  std::cerr << "error: " << s.message() << "\n";
  return s.code() == Code::kInvalidArgument ? 2 : 1;
}

// A SQLite location that is a directory means the server's data directory.
DbLocation ServerFile(DbLocation at) {
  std::error_code ec;
  if (!at.postgres && std::filesystem::is_directory(at.where, ec)) at.where += "/gpuaas.db";
  return at;
}

int Copy(const std::string& from_text, const std::string& to_text, bool quiet, bool json) {
  auto from = ParseDbLocation(from_text);
  if (!from.ok()) return Fail(Status(from.status().code(), "--from: " + from.status().message()));
  auto to = ParseDbLocation(to_text);
  if (!to.ok()) return Fail(Status(to.status().code(), "--to: " + to.status().message()));
  const DbLocation src = ServerFile(*from), dst = ServerFile(*to);
  const auto t0 = std::chrono::steady_clock::now();
  auto report =
      CopyDatabase(src, dst, [quiet](const std::string& table, int64_t done, int64_t total) {
        // Only long copies report progress: a line per 10,000 rows.
        if (quiet || total < 10'000 || done % 10'000 != 0) return;
        std::fprintf(stderr, "copying: %lld of %lld rows (%s)\n", static_cast<long long>(done),
                     static_cast<long long>(total), table.c_str());
      });
  if (!report.ok()) return Fail(report.status());
  const double seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  if (json) {
    boost::json::object tables;
    for (const auto& [name, n] : report->tables) tables[name] = n;
    boost::json::object out{{"from", DescribeDbLocation(src)},
                            {"to", DescribeDbLocation(dst)},
                            {"rows", report->rows},
                            {"tables", std::move(tables)},
                            {"schema_version", report->schema_version},
                            {"seconds", seconds}};
    std::cout << boost::json::serialize(out) << "\n";
    return std::cout ? 0 : 1;
  }
  std::printf(
      "copied %lld rows from %s to %s in %.1f s (schema version %d); read back and "
      "checked field by field before the commit\n",
      static_cast<long long>(report->rows), DescribeDbLocation(src).c_str(),
      DescribeDbLocation(dst).c_str(), seconds, report->schema_version);
  std::string line;
  for (const auto& [name, n] : report->tables) {
    line += (line.empty() ? "  " : ", ") + name + " " + std::to_string(n);
  }
  std::printf("%s\n", line.c_str());
  if (dst.postgres) {
    std::printf(
        "next: start the server with --database '<the --to string>' and the same "
        "--data-dir (job logs, workspaces, audit trail and secrets stay there); keep %s "
        "as the backup of this moment\n",
        src.where.c_str());
  }
  return 0;
}

}  // namespace

int RunDbCommand(int argc, char** argv) {
  CLI::App app{
      "gpuaas db: the platform's database, offline (stop the server first: a copy is refused "
      "while a server uses either database)."};
  app.name("gpuaas db");
  app.require_subcommand(1);
  CLI::App* copy = app.add_subcommand(
      "copy",
      "copy every row (entities, users, tokens, nodes, jobs, allocations, usage, billing) into "
      "an empty database, e.g. from SQLite to PostgreSQL; in one transaction, read back and "
      "compared with the source before it commits: on any difference or error the destination "
      "is left as it was. The source must be at this gpuaas's schema version and is only read");
  std::string from, to;
  bool quiet = false, json = false;
  copy->add_option("--from", from,
                   "the source: a SQLite file or a server's data directory (DIR/gpuaas.db), or a "
                   "PostgreSQL connection string (postgresql://... or \"host=... dbname=...\")")
      ->type_name("DB")
      ->required();
  copy->add_option("--to", to,
                   "the destination, the same forms; a SQLite file is created, a PostgreSQL "
                   "database must exist (createdb) and hold no platform")
      ->type_name("DB")
      ->required();
  copy->add_flag("--quiet,-q", quiet, "no progress on stderr");
  copy->add_flag("--json", json, "print the report as one JSON document");
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    return UsageExit(app, e);
  }
  return Copy(from, to, quiet, json);
}

}  // namespace gpuaas
