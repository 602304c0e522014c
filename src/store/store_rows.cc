#include "store/store_rows.h"

#include "store/pg_db.h"
#include "store/sqlite_db.h"

#include <initializer_list>
#include <string>
#include <type_traits>

#include "store/json_columns.h"

namespace gpuaas {
namespace {

using Columns = std::initializer_list<const char*>;

// Column lists, shared by the upsert and the load of each table; the first is the key.
constexpr Columns kEntityCols = {"id",         "name",           "quota_json",
                                 "created_at", "guarantee_json", "shares"};
constexpr Columns kUserCols = {"id",         "name",           "entity",     "role",
                               "created_at", "from_directory", "disabled_at"};
constexpr Columns kTokenCols = {"id", "user", "hash_hex", "created_at", "expires_at", "session"};
constexpr Columns kNodeCols = {"id",        "name",        "state",         "simulated",
                               "gpus_json", "labels_json", "registered_at", "last_heartbeat"};
constexpr Columns kJobCols = {"id",
                              "name",
                              "kind",
                              "entity",
                              "user",
                              "gpus",
                              "gpu_types_json",
                              "walltime_s",
                              "command_json",
                              "environment",
                              "priority",
                              "state",
                              "submitted_at",
                              "started_at",
                              "finished_at",
                              "exit_code",
                              "reason",
                              "cancel_requested",
                              "gpu_type",
                              "node",
                              "gpu_ids_json",
                              "allocation",
                              "project",
                              "priority_class",
                              "requeue_on_preempt",
                              "allow_fallback",
                              "node_selector_json",
                              "resubmitted_from",
                              "cpus",
                              "memory_gb",
                              "workspace_mode",
                              "secrets_json"};
constexpr Columns kAllocationCols = {"id",        "job",          "entity", "user", "node",
                                     "gpu_class", "devices_json", "start",  "end"};
constexpr Columns kUsageCols = {
    "allocation", "job",        "entity",          "user",         "gpu_class",   "gpus", "start",
    "end",        "energy_mwh", "idle_gpu_millis", "net_rx_bytes", "net_tx_bytes"};
constexpr Columns kMetaCols = {"key", "value"};
constexpr Columns kGroupCols = {"id", "group_name", "entity", "role", "created_by", "created_at"};

std::string Quoted(const char* c) { return std::string("\"") + c + "\""; }

std::string ColumnList(Columns cols) {
  std::string s;
  for (const char* c : cols) s += (s.empty() ? "" : ", ") + Quoted(c);
  return s;
}

// INSERT ... ON CONFLICT(key) DO UPDATE: an upsert that never deletes a row (unlike REPLACE).
std::string UpsertSql(const char* table, Columns cols) {
  std::string params, sets;
  int i = 0;
  for (const char* c : cols) {
    params += (i == 0 ? "?" : ", ?") + std::to_string(i + 1);
    if (i > 0) sets += (i == 1 ? "" : ", ") + Quoted(c) + " = excluded." + Quoted(c);
    ++i;
  }
  return "INSERT INTO " + std::string(table) + " (" + ColumnList(cols) + ") VALUES (" + params +
         ") ON CONFLICT(" + Quoted(*cols.begin()) + ") DO UPDATE SET " + sets;
}

std::string InsertSql(const char* table, Columns cols) {
  std::string params;
  for (size_t i = 1; i <= cols.size(); ++i) params += (i == 1 ? "?" : ", ?") + std::to_string(i);
  return "INSERT INTO " + std::string(table) + " (" + ColumnList(cols) + ") VALUES (" + params +
         ")";
}

std::string SelectSql(const char* table, Columns cols) {
  return "SELECT " + ColumnList(cols) + " FROM " + table + " ORDER BY " + Quoted(*cols.begin());
}

template <typename E>
std::optional<E> ParseByName(const std::string& s, const char* (*name)(E),
                             std::initializer_list<E> all) {
  for (E e : all) {
    if (s == name(e)) return e;
  }
  return std::nullopt;
}

Status BadRow(const char* table, int64_t id, const std::string& why) {
  return Internal("store: corrupt row in " + std::string(table) + " (id " + std::to_string(id) +
                  "): " + why);
}

// Runs `select` over `table` and calls read(stmt) -> Status for each row.
template <typename Db, typename F>
Status ForEachRow(Db& db, const char* table, Columns cols, F read) {
  using Stmt = typename Db::Stmt;
  GPUAAS_ASSIGN_OR_RETURN(Stmt stmt, Stmt::Prepare(db.get(), SelectSql(table, cols)));
  for (;;) {
    GPUAAS_ASSIGN_OR_RETURN(bool row, stmt.Step(std::string("load ") + table));
    if (!row) return Status::Ok();
    GPUAAS_RETURN_IF_ERROR(read(stmt));
  }
}

// Decodes a JSON column into `out` or returns a corrupt-row error.
template <typename T>
Status DecodeInto(Result<T> r, T& out, const char* table, int64_t id, const char* col) {
  if (!r.ok()) return BadRow(table, id, std::string(col) + ": " + r.status().message());
  out = std::move(r).value();
  return Status::Ok();
}

}  // namespace

template <typename Db>
Result<std::unique_ptr<RowWriter<Db>>> RowWriter<Db>::Prepare(Db& db) {
  std::unique_ptr<RowWriter> w(new RowWriter());
  auto* h = db.get();
  struct Item {
    Stmt* stmt;
    std::string sql;
  };
  for (const Item& it : std::initializer_list<Item>{
           {&w->entity_, UpsertSql("entities", kEntityCols)},
           {&w->user_, UpsertSql("users", kUserCols)},
           {&w->token_, UpsertSql("api_tokens", kTokenCols)},
           {&w->node_, UpsertSql("nodes", kNodeCols)},
           {&w->job_, UpsertSql("jobs", kJobCols)},
           {&w->allocation_, UpsertSql("allocations", kAllocationCols)},
           {&w->usage_, InsertSql("usage_records", kUsageCols)},
           {&w->meta_, UpsertSql("meta", kMetaCols)},
           {&w->delete_token_, "DELETE FROM api_tokens WHERE \"id\" = ?1"},
           {&w->group_, UpsertSql("group_mappings", kGroupCols)},
           {&w->delete_group_, "DELETE FROM group_mappings WHERE \"id\" = ?1"},
       }) {
    GPUAAS_ASSIGN_OR_RETURN(*it.stmt, Stmt::Prepare(h, it.sql));
  }
  GPUAAS_ASSIGN_OR_RETURN(w->billing_, BillingRows<Db>::Prepare(db));
  return w;
}

template <typename Db>
Status RowWriter<Db>::Apply(const Mutation& m) {
  return std::visit([this](const auto& row) { return Write(row); }, m);
}

template <typename Db>
Status RowWriter<Db>::Write(const Entity& e) {
  entity_.BindInt(1, e.id);
  entity_.BindText(2, e.name);
  entity_.BindText(3, EncodeIntMap(e.quota));
  entity_.BindInt(4, e.created_at);
  entity_.BindText(5, EncodeIntMap(e.guarantee));
  entity_.BindInt(6, e.shares);
  return entity_.Exec("upsert entity");
}

template <typename Db>
Status RowWriter<Db>::Write(const User& u) {
  user_.BindInt(1, u.id);
  user_.BindText(2, u.name);
  user_.BindInt(3, u.entity);
  user_.BindText(4, RoleName(u.role));
  user_.BindInt(5, u.created_at);
  user_.BindInt(6, u.from_directory ? 1 : 0);
  user_.BindInt(7, u.disabled_at);
  return user_.Exec("upsert user");
}

template <typename Db>
Status RowWriter<Db>::Write(const GroupMapping& g) {
  group_.BindInt(1, g.id);
  group_.BindText(2, g.group);
  group_.BindInt(3, g.entity);
  group_.BindText(4, RoleName(g.role));
  group_.BindInt(5, g.created_by);
  group_.BindInt(6, g.created_at);
  return group_.Exec("upsert group mapping");
}

template <typename Db>
Status RowWriter<Db>::Write(const DeleteGroupMapping& d) {
  delete_group_.BindInt(1, d.id);
  return delete_group_.Exec("delete group mapping");
}

template <typename Db>
Status RowWriter<Db>::Write(const ApiToken& t) {
  token_.BindInt(1, t.id);
  token_.BindInt(2, t.user);
  token_.BindText(3, t.hash_hex);
  token_.BindInt(4, t.created_at);
  token_.BindInt(5, t.expires_at);
  token_.BindInt(6, t.session ? 1 : 0);
  return token_.Exec("upsert token");
}

template <typename Db>
Status RowWriter<Db>::Write(const Node& n) {
  node_.BindInt(1, n.id);
  node_.BindText(2, n.name);
  node_.BindText(3, NodeStateName(n.state));
  node_.BindInt(4, n.simulated ? 1 : 0);
  node_.BindText(5, EncodeGpuDevices(n.gpus));
  node_.BindText(6, EncodeStringMap(n.labels));
  node_.BindInt(7, n.registered_at);
  node_.BindInt(8, n.last_heartbeat);
  return node_.Exec("upsert node");
}

template <typename Db>
Status RowWriter<Db>::Write(const Job& j) {
  job_.BindInt(1, j.id);
  job_.BindText(2, j.name);
  job_.BindText(3, JobKindName(j.kind));
  job_.BindInt(4, j.entity);
  job_.BindInt(5, j.user);
  job_.BindInt(6, j.gpus);
  job_.BindText(7, EncodeStringList(j.gpu_types));
  job_.BindInt(8, j.walltime_s);
  job_.BindText(9, EncodeStringList(j.command));
  job_.BindText(10, j.environment);
  job_.BindInt(11, j.priority);
  job_.BindText(12, JobStateName(j.state));
  job_.BindInt(13, j.submitted_at);
  job_.BindInt(14, j.started_at);
  job_.BindInt(15, j.finished_at);
  job_.BindOptionalInt(16, j.exit_code);
  job_.BindText(17, j.reason);
  job_.BindInt(18, j.cancel_requested ? 1 : 0);
  job_.BindText(19, j.gpu_type);
  job_.BindInt(20, j.node);
  job_.BindText(21, EncodeIntList(j.gpu_ids));
  job_.BindInt(22, j.allocation);
  job_.BindText(23, j.project);
  job_.BindText(24, j.priority_class);
  job_.BindInt(25, j.requeue_on_preempt ? 1 : 0);
  job_.BindInt(26, j.allow_fallback ? 1 : 0);
  job_.BindText(27, EncodeStringMap(j.node_selector));
  job_.BindInt(28, j.resubmitted_from);
  job_.BindInt(29, j.cpus);
  job_.BindInt(30, j.memory_gb);
  job_.BindText(31, j.workspace_mode);
  job_.BindText(32, EncodeStringList(j.secrets));  // names only
  return job_.Exec("upsert job");
}

template <typename Db>
Status RowWriter<Db>::Write(const Allocation& a) {
  allocation_.BindInt(1, a.id);
  allocation_.BindInt(2, a.job);
  allocation_.BindInt(3, a.entity);
  allocation_.BindInt(4, a.user);
  allocation_.BindInt(5, a.node);
  allocation_.BindText(6, a.gpu_class);
  allocation_.BindText(7, EncodeIntList(a.devices));
  allocation_.BindInt(8, a.start);
  allocation_.BindInt(9, a.end);
  return allocation_.Exec("upsert allocation");
}

template <typename Db>
Status RowWriter<Db>::Write(const UsageRecord& u) {
  usage_.BindInt(1, u.allocation);
  usage_.BindInt(2, u.job);
  usage_.BindInt(3, u.entity);
  usage_.BindInt(4, u.user);
  usage_.BindText(5, u.gpu_class);
  usage_.BindInt(6, u.gpus);
  usage_.BindInt(7, u.start);
  usage_.BindInt(8, u.end);
  usage_.BindInt(9, u.energy_mwh);
  usage_.BindInt(10, u.idle_gpu_millis);
  usage_.BindInt(11, u.net_rx_bytes);
  usage_.BindInt(12, u.net_tx_bytes);
  Status st = usage_.Exec("append usage record");
  if (st.code() == Code::kConflict) {
    return Conflict("usage record for allocation " + std::to_string(u.allocation) +
                    " already recorded");
  }
  return st;
}

template <typename Db>
Status RowWriter<Db>::Write(const MetaKV& kv) {
  meta_.BindText(1, kv.key);
  meta_.BindText(2, kv.value);
  return meta_.Exec("upsert meta");
}

template <typename Db>
Status RowWriter<Db>::Write(const DeleteToken& d) {
  delete_token_.BindInt(1, d.id);
  return delete_token_.Exec("delete token");
}

template <typename Db>
Result<StoredState> LoadState(Db& db) {
  StoredState s;
  GPUAAS_RETURN_IF_ERROR(ForEachRow(db, "entities", kEntityCols, [&](auto& r) {
    Entity e;
    e.id = r.ColumnInt(0);
    e.name = r.ColumnText(1);
    GPUAAS_RETURN_IF_ERROR(
        DecodeInto(DecodeIntMap(r.ColumnText(2)), e.quota, "entities", e.id, "quota_json"));
    e.created_at = r.ColumnInt(3);
    GPUAAS_RETURN_IF_ERROR(
        DecodeInto(DecodeIntMap(r.ColumnText(4)), e.guarantee, "entities", e.id, "guarantee_json"));
    e.shares = static_cast<int>(r.ColumnInt(5));
    s.entities.push_back(std::move(e));
    return Status::Ok();
  }));
  GPUAAS_RETURN_IF_ERROR(ForEachRow(db, "users", kUserCols, [&](auto& r) {
    User u;
    u.id = r.ColumnInt(0);
    u.name = r.ColumnText(1);
    u.entity = r.ColumnInt(2);
    auto role = ParseRole(r.ColumnText(3));
    if (!role) return BadRow("users", u.id, "unknown role " + r.ColumnText(3));
    u.role = *role;
    u.created_at = r.ColumnInt(4);
    u.from_directory = r.ColumnInt(5) != 0;
    u.disabled_at = r.ColumnInt(6);
    s.users.push_back(std::move(u));
    return Status::Ok();
  }));
  GPUAAS_RETURN_IF_ERROR(ForEachRow(db, "api_tokens", kTokenCols, [&](auto& r) {
    ApiToken t;
    t.id = r.ColumnInt(0);
    t.user = r.ColumnInt(1);
    t.hash_hex = r.ColumnText(2);
    t.created_at = r.ColumnInt(3);
    t.expires_at = r.ColumnInt(4);
    t.session = r.ColumnInt(5) != 0;
    s.tokens.push_back(std::move(t));
    return Status::Ok();
  }));
  GPUAAS_RETURN_IF_ERROR(ForEachRow(db, "nodes", kNodeCols, [&](auto& r) {
    Node n;
    n.id = r.ColumnInt(0);
    n.name = r.ColumnText(1);
    auto state = ParseByName<NodeState>(
        r.ColumnText(2), NodeStateName,
        {NodeState::kReady, NodeState::kDown, NodeState::kCordoned, NodeState::kDraining});
    if (!state) return BadRow("nodes", n.id, "unknown state " + r.ColumnText(2));
    n.state = *state;
    n.simulated = r.ColumnInt(3) != 0;
    GPUAAS_RETURN_IF_ERROR(
        DecodeInto(DecodeGpuDevices(r.ColumnText(4)), n.gpus, "nodes", n.id, "gpus_json"));
    GPUAAS_RETURN_IF_ERROR(
        DecodeInto(DecodeStringMap(r.ColumnText(5)), n.labels, "nodes", n.id, "labels_json"));
    n.registered_at = r.ColumnInt(6);
    n.last_heartbeat = r.ColumnInt(7);
    s.nodes.push_back(std::move(n));
    return Status::Ok();
  }));
  GPUAAS_RETURN_IF_ERROR(ForEachRow(db, "jobs", kJobCols, [&](auto& r) {
    Job j;
    j.id = r.ColumnInt(0);
    j.name = r.ColumnText(1);
    auto kind = ParseJobKind(r.ColumnText(2));
    if (!kind) return BadRow("jobs", j.id, "unknown kind " + r.ColumnText(2));
    j.kind = *kind;
    j.entity = r.ColumnInt(3);
    j.user = r.ColumnInt(4);
    j.gpus = static_cast<int>(r.ColumnInt(5));
    GPUAAS_RETURN_IF_ERROR(
        DecodeInto(DecodeStringList(r.ColumnText(6)), j.gpu_types, "jobs", j.id, "gpu_types_json"));
    j.walltime_s = r.ColumnInt(7);
    GPUAAS_RETURN_IF_ERROR(
        DecodeInto(DecodeStringList(r.ColumnText(8)), j.command, "jobs", j.id, "command_json"));
    j.environment = r.ColumnText(9);
    j.priority = static_cast<int>(r.ColumnInt(10));
    auto state = ParseJobState(r.ColumnText(11));
    if (!state) return BadRow("jobs", j.id, "unknown state " + r.ColumnText(11));
    j.state = *state;
    j.submitted_at = r.ColumnInt(12);
    j.started_at = r.ColumnInt(13);
    j.finished_at = r.ColumnInt(14);
    if (!r.ColumnIsNull(15)) j.exit_code = static_cast<int>(r.ColumnInt(15));
    j.reason = r.ColumnText(16);
    j.cancel_requested = r.ColumnInt(17) != 0;
    j.gpu_type = r.ColumnText(18);
    j.node = r.ColumnInt(19);
    GPUAAS_RETURN_IF_ERROR(
        DecodeInto(DecodeIntList(r.ColumnText(20)), j.gpu_ids, "jobs", j.id, "gpu_ids_json"));
    j.allocation = r.ColumnInt(21);
    j.project = r.ColumnText(22);
    j.priority_class = r.ColumnText(23);
    j.requeue_on_preempt = r.ColumnInt(24) != 0;
    j.allow_fallback = r.ColumnInt(25) != 0;
    GPUAAS_RETURN_IF_ERROR(DecodeInto(DecodeStringMap(r.ColumnText(26)), j.node_selector, "jobs",
                                      j.id, "node_selector_json"));
    j.resubmitted_from = r.ColumnInt(27);
    j.cpus = static_cast<int>(r.ColumnInt(28));
    j.memory_gb = static_cast<int>(r.ColumnInt(29));
    j.workspace_mode = r.ColumnText(30);
    GPUAAS_RETURN_IF_ERROR(
        DecodeInto(DecodeStringList(r.ColumnText(31)), j.secrets, "jobs", j.id, "secrets_json"));
    s.jobs.push_back(std::move(j));
    return Status::Ok();
  }));
  GPUAAS_RETURN_IF_ERROR(ForEachRow(db, "allocations", kAllocationCols, [&](auto& r) {
    Allocation a;
    a.id = r.ColumnInt(0);
    a.job = r.ColumnInt(1);
    a.entity = r.ColumnInt(2);
    a.user = r.ColumnInt(3);
    a.node = r.ColumnInt(4);
    a.gpu_class = r.ColumnText(5);
    GPUAAS_RETURN_IF_ERROR(
        DecodeInto(DecodeIntList(r.ColumnText(6)), a.devices, "allocations", a.id, "devices_json"));
    a.start = r.ColumnInt(7);
    a.end = r.ColumnInt(8);
    s.allocations.push_back(std::move(a));
    return Status::Ok();
  }));
  GPUAAS_RETURN_IF_ERROR(ForEachRow(db, "usage_records", kUsageCols, [&](auto& r) {
    UsageRecord u;
    u.allocation = r.ColumnInt(0);
    u.job = r.ColumnInt(1);
    u.entity = r.ColumnInt(2);
    u.user = r.ColumnInt(3);
    u.gpu_class = r.ColumnText(4);
    u.gpus = static_cast<int>(r.ColumnInt(5));
    u.start = r.ColumnInt(6);
    u.end = r.ColumnInt(7);
    u.energy_mwh = r.ColumnInt(8);
    u.idle_gpu_millis = r.ColumnInt(9);
    u.net_rx_bytes = r.ColumnInt(10);
    u.net_tx_bytes = r.ColumnInt(11);
    s.usage.push_back(std::move(u));
    return Status::Ok();
  }));
  GPUAAS_RETURN_IF_ERROR(ForEachRow(db, "meta", kMetaCols, [&](auto& r) {
    s.meta[r.ColumnText(0)] = r.ColumnText(1);
    return Status::Ok();
  }));
  GPUAAS_RETURN_IF_ERROR(ForEachRow(db, "group_mappings", kGroupCols, [&](auto& r) {
    GroupMapping g;
    g.id = r.ColumnInt(0);
    g.group = r.ColumnText(1);
    g.entity = r.ColumnInt(2);
    auto role = ParseRole(r.ColumnText(3));
    if (!role) return BadRow("group_mappings", g.id, "unknown role " + r.ColumnText(3));
    g.role = *role;
    g.created_by = r.ColumnInt(4);
    g.created_at = r.ColumnInt(5);
    s.group_mappings.push_back(std::move(g));
    return Status::Ok();
  }));
  GPUAAS_RETURN_IF_ERROR(LoadBillingState(db, s));
  return s;
}

template class RowWriter<SqliteDb>;
template class RowWriter<PgDb>;
template Result<StoredState> LoadState(SqliteDb& db);
template Result<StoredState> LoadState(PgDb& db);

}  // namespace gpuaas
