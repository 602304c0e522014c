#include "store/sql_store.h"

#include <future>
#include <utility>

#include "store/pg_db.h"
#include "store/sqlite_db.h"

namespace gpuaas {

template <typename Db>
SqlStore<Db>::SqlStore(Db db, std::unique_ptr<RowWriter<Db>> rows, StoreOptions options)
    : options_(options), db_(std::move(db)), rows_(std::move(rows)) {
  writer_ = std::thread([this] { WriterLoop(); });
}

template <typename Db>
SqlStore<Db>::~SqlStore() {
  Close();
}

template <typename Db>
void SqlStore<Db>::Commit(std::vector<Mutation> batch, std::function<void(Status)> done) {
  if (!done) done = [](Status) {};
  std::unique_lock lock(mu_);
  Status reject;
  if (closing_) {
    reject = Unavailable("store closed");
  } else if (queued_batches_ >= options_.max_queued_batches) {
    reject = Unavailable("store overloaded");
  }
  if (!reject.ok()) {
    ++stats_.batches_failed;
    lock.unlock();
    done(std::move(reject));
    return;
  }
  queue_.push_back(Item{std::move(batch), std::move(done), nullptr});
  ++queued_batches_;
  lock.unlock();
  cv_.notify_one();
}

template <typename Db>
bool SqlStore<Db>::RunOnWriter(std::function<void()> task) {
  {
    std::lock_guard lock(mu_);
    if (closing_) return false;
    queue_.push_back(Item{{}, nullptr, std::move(task)});
  }
  cv_.notify_one();
  return true;
}

template <typename Db>
Result<StoredState> SqlStore<Db>::Load() {
  std::promise<Result<StoredState>> result;
  auto ready = result.get_future();
  bool queued = RunOnWriter([this, &result] {
    Status st = db_.Exec("BEGIN");  // one read snapshot for every table
    if (!st.ok()) {
      result.set_value(st);
      return;
    }
    Result<StoredState> state = LoadState(db_);
    (void)db_.Exec("COMMIT");
    result.set_value(std::move(state));
  });
  if (!queued) return Unavailable("store closed");
  return ready.get();
}

template <typename Db>
Status SqlStore<Db>::Flush() {
  std::promise<void> flushed;
  auto ready = flushed.get_future();
  if (!RunOnWriter([&flushed] { flushed.set_value(); })) {
    // Closing: Close() drains the queue before it returns; wait for it.
    std::lock_guard wait(close_mu_);
    return Status::Ok();
  }
  ready.wait();
  return Status::Ok();
}

template <typename Db>
void SqlStore<Db>::Close() {
  std::lock_guard serial(close_mu_);
  {
    std::lock_guard lock(mu_);
    closing_ = true;
  }
  cv_.notify_all();
  if (writer_.joinable()) writer_.join();
  rows_.reset();  // finalize statements, then close the connection (SQLite checkpoints its WAL)
  db_ = Db();
  Closed();
}

template <typename Db>
StoreStats SqlStore<Db>::Stats() const {
  std::lock_guard lock(mu_);
  return stats_;
}

template <typename Db>
void SqlStore<Db>::WriterLoop() {
  std::vector<Item> group;
  std::vector<Status> results;
  for (;;) {
    group.clear();
    std::function<void()> task;
    {
      std::unique_lock lock(mu_);
      cv_.wait(lock, [this] { return !queue_.empty() || closing_; });
      if (queue_.empty()) return;  // closing, and everything queued is done
      if (queue_.front().task) {
        task = std::move(queue_.front().task);
        queue_.pop_front();
      } else {
        // Take consecutive batches up to the mutation limit (always at least one).
        size_t mutations = 0;
        const auto limit = static_cast<size_t>(options_.max_batch_mutations);
        while (!queue_.empty() && !queue_.front().task) {
          size_t n = queue_.front().batch.size();
          if (!group.empty() && mutations + n > limit) break;
          mutations += n;
          group.push_back(std::move(queue_.front()));
          queue_.pop_front();
        }
        queued_batches_ -= group.size();
      }
    }
    if (task) {
      task();
      continue;
    }
    CommitGroup(group, results);
    {
      std::lock_guard lock(mu_);
      for (size_t i = 0; i < group.size(); ++i) {
        if (results[i].ok()) {
          ++stats_.batches_ok;
          stats_.mutations += static_cast<int64_t>(group[i].batch.size());
        } else {
          ++stats_.batches_failed;
        }
      }
    }
    for (size_t i = 0; i < group.size(); ++i) group[i].done(std::move(results[i]));
  }
}

template <typename Db>
Status SqlStore<Db>::ApplyAll(std::vector<Item>& group) {
  for (const Item& item : group) {
    for (const Mutation& m : item.batch) GPUAAS_RETURN_IF_ERROR(rows_->Apply(m));
  }
  return Status::Ok();
}

template <typename Db>
void SqlStore<Db>::CommitGroup(std::vector<Item>& group, std::vector<Status>& results) {
  results.assign(group.size(), Status::Ok());
  Status st = db_.Exec(Db::kBeginWrite);
  if (!st.ok()) {
    results.assign(group.size(), st);
    return;
  }
  Status applied = ApplyAll(group);
  if (applied.ok()) {
    Status committed = db_.Exec("COMMIT");
    if (committed.ok()) {
      std::lock_guard lock(mu_);
      ++stats_.transactions;
      return;
    }
    // The commit itself failed (disk full, I/O error): nothing of the group is durable.
    if (!db_.InAutocommit()) (void)db_.Exec("ROLLBACK");
    results.assign(group.size(), committed);
    return;
  }
  if (!db_.InAutocommit()) (void)db_.Exec("ROLLBACK");
  if (group.size() == 1) {
    results[0] = applied;
    return;
  }
  ReplayOneByOne(group, results);
}

// The slow path after a failed group: one transaction again, but each batch under its own
// savepoint, so that a failing batch is undone alone and the others commit with one fsync.
template <typename Db>
void SqlStore<Db>::ReplayOneByOne(std::vector<Item>& group, std::vector<Status>& results) {
  {
    std::lock_guard lock(mu_);
    ++stats_.retried_groups;
  }
  Status st = db_.Exec(Db::kBeginWrite);
  if (!st.ok()) {
    results.assign(group.size(), st);
    return;
  }
  for (size_t i = 0; i < group.size(); ++i) {
    st = db_.Exec("SAVEPOINT batch");
    if (st.ok()) {
      for (const Mutation& m : group[i].batch) {
        st = rows_->Apply(m);
        if (!st.ok()) break;
      }
    }
    if (st.ok()) st = db_.Exec("RELEASE batch");
    if (st.ok()) continue;
    if (db_.InAutocommit()) {
      // The database rolled the whole transaction back (SQLite after an I/O error or a full
      // disk, a lost PostgreSQL connection): nothing is applied.
      for (size_t j = 0; j < group.size(); ++j) {
        if (j >= i || results[j].ok()) results[j] = st;
      }
      return;
    }
    results[i] = st;
    Status undo = db_.Exec("ROLLBACK TO batch");
    if (undo.ok()) undo = db_.Exec("RELEASE batch");
    if (!undo.ok()) {
      (void)db_.Exec("ROLLBACK");
      for (size_t j = 0; j < group.size(); ++j) {
        if (results[j].ok() || j > i) results[j] = undo;
      }
      return;
    }
  }
  Status committed = db_.Exec("COMMIT");
  if (committed.ok()) {
    std::lock_guard lock(mu_);
    ++stats_.transactions;
    return;
  }
  if (!db_.InAutocommit()) (void)db_.Exec("ROLLBACK");
  for (Status& r : results) {
    if (r.ok()) r = committed;
  }
}

template class SqlStore<SqliteDb>;
template class SqlStore<PgDb>;

}  // namespace gpuaas
