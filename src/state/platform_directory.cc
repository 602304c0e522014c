// Single sign-on's directory groups (docs/adr/0024): the group mappings an administrator keeps,
// and what they do when the identity provider signs someone in (see platform.h for the
// threading contract).
#include <algorithm>

#include "auth/directory_groups.h"
#include "base/log.h"
#include "state/platform.h"

namespace gpuaas {
namespace {

// Directory groups are the admins' business: entity-admins and platform-admins only.
Status MayAdministerGroups(const Principal& p) {
  if (p.agent || p.role == Role::kMember) {
    return PermissionDenied("only an entity-admin or a platform-admin maps directory groups");
  }
  return Status::Ok();
}

std::string Joined(const std::vector<std::string>& items) {
  std::string out;
  for (const std::string& s : items) out += (out.empty() ? "" : ", ") + s;
  return out;
}

}  // namespace

void Platform::IssueSignInToken(const DirectoryIdentity& who, int64_t lifetime_s,
                                Done<UserWithToken> done) {
  std::vector<GroupMapping> mappings;
  for (const auto& [id, m] : group_mappings_) mappings.push_back(m);
  const std::vector<DirectoryGrant> grants = GrantsOf(mappings, who.groups);
  auto entity_name = [this](EntityId id) {
    const Entity* e = FindEntityById(id);
    return e ? e->name : std::to_string(id);
  };
  std::vector<Mutation> batch;
  User u;
  bool fresh = false;
  std::string how = "signed in through the identity provider";
  if (auto it = user_by_name_.find(who.name); it != user_by_name_.end()) {
    u = users_.at(it->second);
    if (u.disabled_at != 0) {
      return done(PermissionDenied("your account '" + who.name +
                                   "' is disabled: ask an administrator of your entity"));
    }
    if (u.from_directory) {
      auto g = std::find_if(grants.begin(), grants.end(),
                            [&](const DirectoryGrant& d) { return d.entity == u.entity; });
      if (g == grants.end()) {
        return done(PermissionDenied(
            "you are signed in as '" + who.name + "', whose account in " + entity_name(u.entity) +
            " was made by a directory group, but none of your groups gives access to it any "
            "more: ask an administrator of " +
            entity_name(u.entity)));
      }
      if (g->role != u.role) {
        how += " (role " + std::string(RoleName(u.role)) + " -> " + RoleName(g->role) +
               " by the directory group " + Joined(g->groups) + ")";
        u.role = g->role;
        batch.push_back(u);
      }
    }
  } else {
    if (grants.empty()) {
      std::string why = "you are signed in as '" + who.name +
                        "' but have no account on this platform: ask your entity's "
                        "administrator to add the user " +
                        who.name;
      if (!group_mappings_.empty()) {
        why += " (none of your " + std::to_string(who.groups.size()) +
               " directory groups is mapped to an entity here)";
      }
      return done(PermissionDenied(why));
    }
    if (grants.size() > 1) {
      std::vector<std::string> names;
      for (const DirectoryGrant& g : grants) names.push_back(entity_name(g.entity));
      return done(PermissionDenied(
          "your directory groups give access to several entities (" + Joined(names) +
          ") but a user belongs to one: ask a platform administrator to create your account "
          "in the one that pays for your work"));
    }
    if (!IsValidName(who.name)) {
      return done(PermissionDenied(
          "the identity provider names you '" + who.name.substr(0, 100) +
          "', which cannot be a user name here (1-63 characters of a-z, 0-9, '-', '_', '.'): "
          "ask the operator to check [auth.oidc] username_claim"));
    }
    u = User{next_user_, who.name, grants[0].entity, grants[0].role, clock_.Now(), true, 0};
    how = "account made in " + entity_name(u.entity) + " as " + RoleName(u.role) +
          " by the directory group " + Joined(grants[0].groups) + ", signed in";
    batch.push_back(u);
    fresh = true;
  }
  auto ut = SessionTokenFor(u, lifetime_s, batch);
  if (!ut.ok()) return done(ut.status());
  if (fresh) {
    ++next_user_;
    user_by_name_[u.name] = u.id;
  }
  users_[u.id] = u;
  GLOG_INFO("audit: {} {}", u.name, how);
  Persist(std::move(batch), [ut = std::move(ut).value(), done = std::move(done)] { done(ut); });
}

void Platform::CreateGroupMapping(const Principal& p, const GroupMappingRequest& req,
                                  Done<GroupMapping> done) {
  if (Status s = MayAdministerGroups(p); !s.ok()) return done(s);
  if (Status s = CheckGroupName(req.group); !s.ok()) return done(s);
  if (!MappableRole(req.role)) {
    return done(FailedPrecondition(
        "a directory group gives member or entity-admin, never platform-admin: platform "
        "administrators are made by hand"));
  }
  auto e = entity_by_name_.find(req.entity);
  if (e == entity_by_name_.end() || !Visible(p, e->second)) {
    return done(NotFound("entity '" + req.entity + "' does not exist"));
  }
  if (!CanCreateUser(p, e->second, req.role)) {
    return done(PermissionDenied("you may map groups to your own entity only"));
  }
  for (const auto& [id, m] : group_mappings_) {
    if (m.group != req.group) continue;
    if (m.entity == e->second) {
      return done(Conflict("the group '" + req.group + "' is already mapped to " + req.entity +
                           " (as " + RoleName(m.role) + ", mapping " + std::to_string(id) +
                           "): remove that mapping first to change it"));
    }
    return done(Conflict(
        "the group '" + req.group + "' is already mapped to " +
        (IsPlatformAdmin(p) ? FindEntityById(m.entity)->name : std::string("another entity")) +
        ": a group gives access to one entity"));
  }
  if (group_mappings_.size() >= kMaxGroupMappings) {
    return done(FailedPrecondition("the platform has " + std::to_string(kMaxGroupMappings) +
                                   " group mappings, the most it keeps: remove some first"));
  }
  GroupMapping m{next_group_mapping_++, req.group, e->second, req.role, p.user, clock_.Now()};
  group_mappings_[m.id] = m;
  Persist({m}, [m, done = std::move(done)] { done(m); });
}

Result<std::vector<GroupMapping>> Platform::ListGroupMappings(const Principal& p) const {
  GPUAAS_RETURN_IF_ERROR(MayAdministerGroups(p));
  std::vector<GroupMapping> out;
  for (const auto& [id, m] : group_mappings_) {
    if (Visible(p, m.entity)) out.push_back(m);
  }
  return out;
}

void Platform::DeleteGroupMapping(const Principal& p, GroupMappingId id, Done<GroupMapping> done) {
  auto it = group_mappings_.find(id);
  if (Status s = MayAdministerGroups(p); !s.ok()) return done(s);
  if (it == group_mappings_.end() || !Visible(p, it->second.entity)) {
    return done(NotFound("group mapping " + std::to_string(id) + " does not exist"));
  }
  if (!CanCreateUser(p, it->second.entity, it->second.role)) {
    return done(PermissionDenied("you may remove the mappings of your own entity only"));
  }
  const GroupMapping m = it->second;
  group_mappings_.erase(it);
  Persist({gpuaas::DeleteGroupMapping{id}}, [m, done = std::move(done)] { done(m); });
}

}  // namespace gpuaas
