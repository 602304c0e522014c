// Entities, users and tokens of the Platform (see platform.h for the threading contract).
#include <algorithm>

#include "auth/token.h"
#include "base/log.h"
#include "state/platform.h"

namespace gpuaas {
namespace {

Status CheckQuota(const std::map<std::string, int>& quota, const PlatformConfig& cfg) {
  for (const auto& [cls, n] : quota) {
    bool known = std::any_of(cfg.classes.begin(), cfg.classes.end(),
                             [&](const GpuClass& c) { return c.name == cls; });
    if (!known) return FailedPrecondition("unknown GPU class '" + cls + "' in quota");
    if (n < 0 || n > 1'000'000) {
      return FailedPrecondition("quota for " + cls + " must be between 0 and 1000000");
    }
  }
  return Status::Ok();
}

// Guarantees must fit within limits, and shares be a sane weight.
Status CheckEntityLimits(const Entity& e, const PlatformConfig& cfg) {
  GPUAAS_RETURN_IF_ERROR(CheckQuota(e.quota, cfg));
  GPUAAS_RETURN_IF_ERROR(CheckQuota(e.guarantee, cfg));
  for (const auto& [cls, g] : e.guarantee) {
    auto q = e.quota.find(cls);
    if (q != e.quota.end() && g > q->second) {
      return FailedPrecondition("the guarantee for " + cls + " (" + std::to_string(g) +
                                ") is above the quota (" + std::to_string(q->second) + ")");
    }
  }
  if (e.shares < 1 || e.shares > 10'000) {
    return FailedPrecondition("shares must be between 1 and 10000");
  }
  return Status::Ok();
}

}  // namespace

void Platform::CreateEntity(const Principal& p, const EntityRequest& req, Done<Entity> done) {
  if (!IsPlatformAdmin(p)) return done(PermissionDenied("only a platform-admin creates entities"));
  if (!IsValidName(req.name)) {
    return done(InvalidArgument("entity name '" + req.name +
                                "' is invalid (1-63 characters of a-z, 0-9, '-', '_', '.')"));
  }
  if (entity_by_name_.count(req.name)) {
    return done(Conflict("entity '" + req.name + "' already exists"));
  }
  Entity e{0, req.name, req.quota, clock_.Now(), req.guarantee, req.shares};
  if (Status s = CheckEntityLimits(e, config_); !s.ok()) return done(s);
  e.id = next_entity_++;
  entities_[e.id] = e;
  entity_by_name_[e.name] = e.id;
  Persist({e}, [e, done = std::move(done)] { done(e); });
}

void Platform::UpdateEntity(const Principal& p, const std::string& name, const EntityUpdate& update,
                            Done<Entity> done) {
  if (!IsPlatformAdmin(p)) return done(PermissionDenied("only a platform-admin sets quotas"));
  auto it = entity_by_name_.find(name);
  if (it == entity_by_name_.end()) return done(NotFound("entity '" + name + "' does not exist"));
  Entity e = entities_[it->second];  // all or nothing: change a copy, check, then apply
  if (update.quota) e.quota = *update.quota;
  if (update.guarantee) e.guarantee = *update.guarantee;
  if (update.shares) e.shares = *update.shares;
  if (Status s = CheckEntityLimits(e, config_); !s.ok()) return done(s);
  entities_[e.id] = e;
  Persist({e}, [this, e, done = std::move(done)] {
    RequestSchedulePass();
    done(e);
  });
}

Result<Entity> Platform::GetEntity(const Principal& p, const std::string& name) const {
  auto it = entity_by_name_.find(name);
  if (it == entity_by_name_.end() || !Visible(p, it->second)) {
    return NotFound("entity '" + name + "' does not exist");
  }
  return entities_.at(it->second);
}

std::vector<Entity> Platform::ListEntities(const Principal& p) const {
  std::vector<Entity> out;
  for (const auto& [id, e] : entities_) {
    if (Visible(p, id)) out.push_back(e);
  }
  return out;
}

const Entity* Platform::FindEntityById(EntityId id) const {
  auto it = entities_.find(id);
  return it == entities_.end() ? nullptr : &it->second;
}

void Platform::CreateUser(const Principal& p, const UserRequest& req, Done<UserWithToken> done) {
  if (p.agent || p.role == Role::kMember) {
    return done(PermissionDenied("only an entity-admin or a platform-admin creates users"));
  }
  if (!IsValidName(req.name)) {
    return done(InvalidArgument("user name '" + req.name +
                                "' is invalid (1-63 characters of a-z, 0-9, '-', '_', '.')"));
  }
  EntityId entity = 0;
  if (!req.entity.empty()) {
    auto it = entity_by_name_.find(req.entity);
    if (it == entity_by_name_.end() || !Visible(p, it->second)) {
      return done(NotFound("entity '" + req.entity + "' does not exist"));
    }
    entity = it->second;
  } else if (req.role != Role::kPlatformAdmin) {
    return done(InvalidArgument("a " + std::string(RoleName(req.role)) +
                                " needs an entity (\"entity\": NAME)"));
  }
  if (!CanCreateUser(p, entity, req.role)) {
    return done(PermissionDenied("you may not create a " + std::string(RoleName(req.role)) +
                                 " in this entity"));
  }
  if (user_by_name_.count(req.name)) {
    return done(Conflict("user '" + req.name + "' already exists"));
  }
  auto expires = TokenExpiry(std::nullopt);
  if (!expires.ok()) return done(expires.status());
  std::vector<Mutation> batch;
  User u{next_user_++, req.name, entity, req.role, clock_.Now(), false, 0};
  batch.push_back(u);
  auto ut = NewTokenFor(u, batch, *expires);
  if (!ut.ok()) {
    --next_user_;
    return done(ut.status());
  }
  users_[u.id] = u;
  user_by_name_[u.name] = u.id;
  Persist(std::move(batch), [ut = std::move(ut).value(), done = std::move(done)] { done(ut); });
}

void Platform::CreateToken(const Principal& p, const std::string& user_name,
                           std::optional<int64_t> expires_in_s, Done<UserWithToken> done) {
  auto it = user_by_name_.find(user_name);
  if (it == user_by_name_.end()) return done(NotFound("user '" + user_name + "' does not exist"));
  const User& u = users_.at(it->second);
  bool self = !p.agent && p.user == u.id;
  if (!self && !(Visible(p, u.entity) && CanCreateUser(p, u.entity, u.role))) {
    if (!Visible(p, u.entity)) return done(NotFound("user '" + user_name + "' does not exist"));
    return done(PermissionDenied("you may not create tokens for " + user_name));
  }
  if (u.disabled_at != 0) {
    return done(FailedPrecondition("user '" + user_name +
                                   "' is disabled: enable it first (gpuaas user enable " +
                                   user_name + ")"));
  }
  auto expires = TokenExpiry(expires_in_s);
  if (!expires.ok()) return done(expires.status());
  std::vector<Mutation> batch;
  auto ut = NewTokenFor(u, batch, *expires);
  if (!ut.ok()) return done(ut.status());
  Persist(std::move(batch), [ut = std::move(ut).value(), done = std::move(done)] { done(ut); });
}

void Platform::IssueDeviceToken(const Principal& p, int64_t lifetime_s, Done<UserWithToken> done) {
  const User* u = p.agent ? nullptr : FindUserById(p.user);
  if (u == nullptr) return done(PermissionDenied("only a user can approve a login"));
  IssueSessionToken(*u, lifetime_s, "approved a device login (gpuaas login)", std::move(done));
}

Result<UserWithToken> Platform::SessionTokenFor(const User& u, int64_t lifetime_s,
                                                std::vector<Mutation>& batch) {
  const int64_t max_s = config_.token_max_lifetime_ms / 1000;
  const int64_t s = max_s > 0 ? std::min(lifetime_s, max_s) : lifetime_s;
  return NewTokenFor(u, batch, clock_.Now() + std::max<int64_t>(s, 1) * 1000, true);
}

void Platform::IssueSessionToken(const User& u, int64_t lifetime_s, const char* how,
                                 Done<UserWithToken> done) {
  std::vector<Mutation> batch;
  auto ut = SessionTokenFor(u, lifetime_s, batch);
  if (!ut.ok()) return done(ut.status());
  GLOG_INFO("audit: {} {}", u.name, how);
  Persist(std::move(batch), [ut = std::move(ut).value(), done = std::move(done)] { done(ut); });
}

void Platform::EndSession(const std::string& token, Done<bool> done) {
  auto it = token_by_hash_.find(HashToken(token));
  if (it == token_by_hash_.end() || !it->second.session) return done(false);
  std::vector<Mutation> batch{DeleteToken{it->second.id}};
  token_by_hash_.erase(it);
  Persist(std::move(batch), [done = std::move(done)] { done(true); });
}

// May `p` see and manage the tokens of `u`? Itself, or an admin who could create such a user.
Status Platform::MayManageTokens(const Principal& p, const User& u) const {
  if (!p.agent && p.user == u.id) return Status::Ok();
  if (!Visible(p, u.entity)) return NotFound("user '" + u.name + "' does not exist");
  if (!CanCreateUser(p, u.entity, u.role)) {
    return PermissionDenied("you may not manage the tokens of " + u.name);
  }
  return Status::Ok();
}

Result<std::vector<ApiToken>> Platform::ListTokens(const Principal& p,
                                                   const std::string& user_name) const {
  auto it = user_by_name_.find(user_name);
  if (it == user_by_name_.end()) return NotFound("user '" + user_name + "' does not exist");
  const User& u = users_.at(it->second);
  GPUAAS_RETURN_IF_ERROR(MayManageTokens(p, u));
  std::vector<ApiToken> out;
  for (const auto& [hash, t] : token_by_hash_) {
    if (t.user == u.id) out.push_back(t);
  }
  std::sort(out.begin(), out.end(),
            [](const ApiToken& a, const ApiToken& b) { return a.id < b.id; });
  return out;
}

void Platform::RevokeTokens(const Principal& p, const std::string& user_name,
                            std::optional<TokenId> token, Done<int64_t> done) {
  auto it = user_by_name_.find(user_name);
  if (it == user_by_name_.end()) return done(NotFound("user '" + user_name + "' does not exist"));
  const User& u = users_.at(it->second);
  if (Status s = MayManageTokens(p, u); !s.ok()) return done(s);
  std::vector<std::string> doomed;  // hashes
  int64_t admin_tokens_left = 0;
  for (const auto& [hash, t] : token_by_hash_) {
    const bool revoked = t.user == u.id && (!token || t.id == *token);
    if (revoked) {
      doomed.push_back(hash);
    } else if (const User* owner = FindUserById(t.user);
               owner != nullptr && owner->role == Role::kPlatformAdmin && owner->disabled_at == 0 &&
               (t.expires_at == 0 || t.expires_at > clock_.Now())) {
      ++admin_tokens_left;
    }
  }
  if (token && doomed.empty()) {
    return done(NotFound("user '" + user_name + "' has no token " + std::to_string(*token)));
  }
  if (u.role == Role::kPlatformAdmin && !doomed.empty() && admin_tokens_left == 0) {
    return done(
        Conflict("that would revoke the last token of the platform's admins: create "
                 "another token for an admin first (gpuaas token create NAME)"));
  }
  if (doomed.empty()) return done(int64_t{0});
  std::vector<Mutation> batch;
  for (const std::string& hash : doomed) {
    batch.push_back(DeleteToken{token_by_hash_.at(hash).id});
    token_by_hash_.erase(hash);
  }
  GLOG_INFO("audit: {} revoked {} token(s) of user {}", p.name, doomed.size(), user_name);
  const auto n = static_cast<int64_t>(doomed.size());
  Persist(std::move(batch), [n, done = std::move(done)] { done(n); });
}

void Platform::UpdateUser(const Principal& p, const std::string& name, const UserUpdate& update,
                          Done<UserChanged> done) {
  auto it = user_by_name_.find(name);
  if (it == user_by_name_.end() || !Visible(p, users_.at(it->second).entity)) {
    return done(NotFound("user '" + name + "' does not exist"));
  }
  User u = users_.at(it->second);  // all or nothing: change a copy, check, then apply
  if (update.cancel_jobs && update.disabled != true) {
    return done(FailedPrecondition(
        "\"cancel_jobs\" goes with \"disabled\": true (to stop one job: gpuaas cancel JOB)"));
  }
  if (!update.role && !update.disabled) {
    return done(InvalidArgument("nothing to change: give \"role\" or \"disabled\""));
  }
  if (p.agent || !CanCreateUser(p, u.entity, u.role)) {
    return done(PermissionDenied("you may not change the user " + name));
  }
  if (update.role && *update.role != u.role) {
    if (u.from_directory) {
      return done(FailedPrecondition(
          "the role of " + name +
          " follows its directory groups (gpuaas group list): change the groups or their "
          "mappings instead"));
    }
    if (!CanCreateUser(p, u.entity, *update.role)) {
      return done(PermissionDenied("you may not make " + name + " a " + RoleName(*update.role)));
    }
    if (u.entity == 0 && *update.role != Role::kPlatformAdmin) {
      return done(FailedPrecondition("a " + std::string(RoleName(*update.role)) +
                                     " needs an entity, and " + name + " has none"));
    }
    u.role = *update.role;
  }
  if (update.disabled) {
    if (*update.disabled && p.user == u.id) {
      return done(FailedPrecondition("you cannot disable your own account"));
    }
    if (*update.disabled != (u.disabled_at != 0)) {
      u.disabled_at = *update.disabled ? clock_.Now() : 0;  // disabling twice keeps the first
    }
  }
  const User& before = users_.at(u.id);
  const bool was_admin = before.role == Role::kPlatformAdmin && before.disabled_at == 0;
  const bool is_admin = u.role == Role::kPlatformAdmin && u.disabled_at == 0;
  if (was_admin && !is_admin) {
    const bool another = std::any_of(users_.begin(), users_.end(), [&](const auto& kv) {
      return kv.first != u.id && kv.second.role == Role::kPlatformAdmin &&
             kv.second.disabled_at == 0;
    });
    if (!another) {
      return done(
          Conflict("that would leave the platform without an active platform-admin: "
                   "make another one first"));
    }
  }
  // Checked: from here on everything applies. The user's jobs, in id order.
  UserChanged changed{u, {}, 0};
  std::vector<Mutation> batch;
  std::set<NodeId> nodes;
  for (auto& [id, j] : jobs_) {
    if (j.user != u.id || IsFinal(j.state)) continue;
    if (!update.cancel_jobs) {
      ++changed.unfinished_jobs;
      continue;
    }
    CancelInto(j, "cancelled by " + p.name + ": user " + name + " disabled", batch, nodes);
    changed.cancelled_jobs.push_back(id);
  }
  if (u == before && batch.empty()) return done(changed);  // nothing changes, nothing written
  if (u != before) {
    GLOG_INFO("audit: {} changed user {}: role {} -> {}, {}", p.name, name, RoleName(before.role),
              RoleName(u.role), u.disabled_at != 0 ? "disabled" : "active");
    users_[u.id] = u;
    batch.insert(batch.begin(), u);
  }
  if (!changed.cancelled_jobs.empty()) {
    GLOG_INFO("audit: {} cancelled {} job(s) of disabled user {}", p.name,
              changed.cancelled_jobs.size(), name);
  }
  Persist(std::move(batch), [this, nodes, changed = std::move(changed), done = std::move(done)] {
    for (NodeId n : nodes) WakeNode(n);
    done(changed);
  });
}

std::vector<User> Platform::ListUsers(const Principal& p) const {
  std::vector<User> out;
  for (const auto& [id, u] : users_) {
    if (IsPlatformAdmin(p) || (!p.agent && u.entity != 0 && u.entity == p.entity)) {
      out.push_back(u);
    }
  }
  return out;
}

const User* Platform::FindUserById(UserId id) const {
  auto it = users_.find(id);
  return it == users_.end() ? nullptr : &it->second;
}

}  // namespace gpuaas
