// SqlStore<Db>: the group-commit writer behind both SQL stores (SqliteStore, PgStore). One
// connection, owned by one writer thread. Commit() only queues; the writer takes every queued
// batch (up to max_batch_mutations), applies them in one write transaction and commits (one
// durable commit per group), then runs the callbacks in submission order. When one batch fails
// (e.g. a duplicate usage record) the group is rolled back and replayed in one transaction with a
// savepoint per batch, so that exactly that batch gets the error and nothing of it is applied,
// while the others still commit.
// Thread-safety: Commit/Flush/Load/Close/Stats may be called from any thread. Callbacks run on
// the writer thread, except a rejected Commit (after Close, or queue full: kUnavailable) whose
// callback runs inline on the caller's thread; do not hold a lock the callback needs. A callback
// must not call Flush(), Load() or Close() (they wait for the writer thread it runs on); Commit()
// from a callback is fine. Stats() is a consistent copy, updated before the callbacks run.
#pragma once

#include <condition_variable>
#include <cstdint>
#include <deque>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "store/store.h"
#include "store/store_rows.h"

namespace gpuaas {

struct StoreStats {
  int64_t transactions = 0;    // transactions committed by the writer (one durable commit each)
  int64_t batches_ok = 0;      // batches whose callback got OK
  int64_t batches_failed = 0;  // batches whose callback got an error (incl. rejected ones)
  int64_t mutations = 0;       // mutations committed
  int64_t retried_groups = 0;  // groups replayed batch by batch after a failure
};
using SqliteStoreStats = StoreStats;

template <typename Db>
class SqlStore : public Store {
 public:
  ~SqlStore() override;  // Close()

  Result<StoredState> Load() override;
  void Commit(std::vector<Mutation> batch, std::function<void(Status)> done) override;
  Status Flush() override;
  void Close() override;

  StoreStats Stats() const;

 protected:
  // `db` must be at the latest schema; `rows` prepared on it.
  SqlStore(Db db, std::unique_ptr<RowWriter<Db>> rows, StoreOptions options);
  // Called by Close() (once per call, serialised) after the connection is closed: a subclass
  // lets go of what it holds beside it (SqliteStore: its WriterLock).
  virtual void Closed() {}

 private:
  // A queued item: a batch to commit, or a task to run on the writer thread in queue order
  // (Load and Flush use tasks, so that they see every batch queued before them).
  struct Item {
    std::vector<Mutation> batch;
    std::function<void(Status)> done;
    std::function<void()> task;  // set for tasks only
  };

  void WriterLoop();
  // Runs `task` on the writer thread after everything queued before it; false if closed.
  bool RunOnWriter(std::function<void()> task);
  // Commits one group; fills `results` (one Status per item).
  void CommitGroup(std::vector<Item>& group, std::vector<Status>& results);
  Status ApplyAll(std::vector<Item>& group);
  void ReplayOneByOne(std::vector<Item>& group, std::vector<Status>& results);

  const StoreOptions options_;
  Db db_;                                // touched only by the writer thread
  std::unique_ptr<RowWriter<Db>> rows_;  // idem; destroyed before db_

  mutable std::mutex mu_;
  std::condition_variable cv_;
  std::deque<Item> queue_;     // guarded by mu_
  size_t queued_batches_ = 0;  // guarded by mu_
  bool closing_ = false;       // guarded by mu_: no new work accepted
  StoreStats stats_;           // guarded by mu_
  std::mutex close_mu_;        // serialises Close()
  std::thread writer_;
};

}  // namespace gpuaas
