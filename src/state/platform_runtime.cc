// Platform: the environment catalogue, entity workspaces and entity secrets (see platform.h for
// the threading contract, docs/agent.md for the behaviour).
#include "base/log.h"
#include "state/platform.h"

namespace gpuaas {

std::vector<Environment> Platform::ListEnvironments() const {
  std::vector<Environment> out;
  for (const auto& [name, e] : config_.environments) out.push_back(e);
  return out;
}

std::string Platform::WorkspacePath(EntityId entity) const {
  const Entity* e = FindEntityById(entity);
  if (config_.billing.workspace_root.empty() || e == nullptr) return "";
  return config_.billing.workspace_root + "/" + e->name;
}

Status Platform::CheckJobRuntime(const JobRequest& req, EntityId entity) const {
  if (!req.environment.empty() && !config_.environments.count(req.environment)) {
    std::string known;
    for (const auto& [name, e] : config_.environments) known += (known.empty() ? "" : ", ") + name;
    return FailedPrecondition("unknown environment '" + req.environment + "' (known: " + known +
                              "; GET /api/v1/environments)");
  }
  if (req.workspace_mode != "rw" && req.workspace_mode != "ro" && req.workspace_mode != "none") {
    return FailedPrecondition("workspace must be \"rw\", \"ro\" or \"none\", not '" +
                              req.workspace_mode + "'");
  }
  if (req.secrets.size() > SecretStore::kMaxPerEntity) {
    return FailedPrecondition("a job asks for at most 100 secrets");
  }
  for (size_t i = 0; i < req.secrets.size(); ++i) {
    const std::string& name = req.secrets[i];
    if (Status s = CheckSecretName(name); !s.ok()) return FailedPrecondition(s.message());
    for (size_t k = 0; k < i; ++k) {
      if (req.secrets[k] == name) return FailedPrecondition("secret '" + name + "' named twice");
    }
    if (!secrets_.Value(entity, name)) {
      const Entity* e = FindEntityById(entity);
      return FailedPrecondition("secret '" + name + "' does not exist in entity " +
                                (e ? e->name : std::to_string(entity)));
    }
  }
  return Status::Ok();
}

void Platform::RuntimeWorkload(const Job& j, Assignment& w) const {
  if (!j.environment.empty()) {
    auto it = config_.environments.find(j.environment);
    // Removed from the config since the submit: podman then fails to start it, saying so.
    w.image = it != config_.environments.end() ? it->second.image
                                               : "gpuaas-environment-removed/" + j.environment;
  }
  const std::string ws = WorkspacePath(j.entity);
  if (!ws.empty() && j.workspace_mode != "none") {
    w.workspace = ws;
    w.workspace_mode = j.workspace_mode;
    // The process runtime finds it here; the container runtime mounts it at /workspace.
    w.env["GPUAAS_WORKSPACE"] = ws;
  }
  for (const auto& name : j.secrets) {
    if (auto v = secrets_.Value(j.entity, name)) w.secret_env[name] = *v;
  }
}

Result<EntityId> Platform::SecretEntity(const Principal& p, const std::string& entity) const {
  auto it = entity_by_name_.find(entity);
  if (p.agent || it == entity_by_name_.end() || !Visible(p, it->second)) {
    return NotFound("entity '" + entity + "' does not exist");
  }
  if (!IsPlatformAdmin(p) && p.role != Role::kEntityAdmin) {
    return PermissionDenied("only a platform-admin or an entity-admin of " + entity +
                            " manages its secrets");
  }
  return it->second;
}

Result<SecretInfo> Platform::PutSecret(const Principal& p, const std::string& entity,
                                       const std::string& name, const std::string& value) {
  GPUAAS_ASSIGN_OR_RETURN(EntityId id, SecretEntity(p, entity));
  if (Status s = secrets_.Put(id, name, value, clock_.Now()); !s.ok()) {
    return s.code() == Code::kInvalidArgument ? FailedPrecondition(s.message()) : s;
  }
  // The audit line: who, which entity, which name. Never the value.
  GLOG_INFO("audit: {} set secret {} of entity {}", p.name, name, entity);
  for (const auto& s : secrets_.List(id)) {
    if (s.name == name) return s;
  }
  return Internal("secret vanished");
}

Result<std::vector<SecretInfo>> Platform::ListSecrets(const Principal& p,
                                                      const std::string& entity) const {
  GPUAAS_ASSIGN_OR_RETURN(EntityId id, SecretEntity(p, entity));
  return secrets_.List(id);
}

Status Platform::DeleteSecret(const Principal& p, const std::string& entity,
                              const std::string& name) {
  GPUAAS_ASSIGN_OR_RETURN(EntityId id, SecretEntity(p, entity));
  GPUAAS_RETURN_IF_ERROR(secrets_.Delete(id, name));
  GLOG_INFO("audit: {} deleted secret {} of entity {}", p.name, name, entity);
  return Status::Ok();
}

}  // namespace gpuaas
