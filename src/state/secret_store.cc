#include "state/secret_store.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <fstream>

// GCC 12 reports a false -Wdangling-pointer inside Boost.JSON's object::end() (empty table).
#pragma GCC diagnostic ignored "-Wdangling-pointer"
#include <boost/json.hpp>

namespace gpuaas {

namespace json = boost::json;

Status CheckSecretName(const std::string& name) {
  if (name.empty() || name.size() > 64) {
    return InvalidArgument("a secret name has 1 to 64 characters");
  }
  for (size_t i = 0; i < name.size(); ++i) {
    const char c = name[i];
    const bool ok = (c >= 'A' && c <= 'Z') || c == '_' || (i > 0 && c >= '0' && c <= '9');
    if (!ok) {
      return InvalidArgument("secret name '" + name +
                             "' must be an environment variable name: A-Z, 0-9 and _, not "
                             "starting with a digit");
    }
  }
  static const char* const kReserved[] = {"PATH",
                                          "HOME",
                                          "LANG",
                                          "USER",
                                          "SHELL",
                                          "PWD",
                                          "TMPDIR",
                                          "HOSTNAME",
                                          "TERM",
                                          "JUPYTER_TOKEN",
                                          "REGISTRY_AUTH_FILE",
                                          "DOCKER_CONFIG"};
  for (const char* r : kReserved) {
    if (name == r) return InvalidArgument("secret name '" + name + "' is reserved");
  }
  static const char* const kReservedPrefixes[] = {"LD_",         "CUDA_",  "NVIDIA_", "GPUAAS_",
                                                  "CONTAINERS_", "XDG_",   "PODMAN_", "LC_",
                                                  "BUILDAH_",    "CONMON_"};
  for (const char* r : kReservedPrefixes) {
    if (name.rfind(r, 0) == 0) {
      return InvalidArgument("secret name '" + name + "' is reserved (" + r + "*)");
    }
  }
  return Status::Ok();
}

Status SecretStore::Load() {
  secrets_.clear();
  if (path_.empty()) return Status::Ok();
  struct stat st;
  if (stat(path_.c_str(), &st) != 0) {
    if (errno == ENOENT) return Status::Ok();
    return Internal("cannot read " + path_ + ": " + strerror(errno));
  }
  if ((st.st_mode & 077) != 0) {
    char mode[8];
    snprintf(mode, sizeof mode, "%03o", st.st_mode & 0777);
    return FailedPrecondition(path_ + " may be read by others (mode " + mode + "); chmod 600 it");
  }
  std::ifstream in(path_);
  const std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  try {
    const json::value doc = json::parse(text);
    for (const auto& [eid, names] : doc.at("entities").as_object()) {
      const EntityId entity = std::stoll(std::string(eid));
      for (const auto& [name, v] : names.as_object()) {
        const json::object& o = v.as_object();
        secrets_[entity][std::string(name)] =
            Entry{std::string(o.at("value").as_string()), o.at("created_at").to_number<int64_t>()};
      }
    }
  } catch (const std::exception& e) {
    secrets_.clear();
    return Internal(path_ + " is not a secrets file: " + e.what());
  }
  return Status::Ok();
}

Status SecretStore::Save(const std::map<EntityId, std::map<std::string, Entry>>& all) const {
  if (path_.empty()) return Status::Ok();
  json::object entities;
  for (const auto& [entity, names] : all) {
    json::object o;
    for (const auto& [name, e] : names) {
      o[name] = json::object{{"value", e.value}, {"created_at", e.created_at}};
    }
    entities[std::to_string(entity)] = std::move(o);
  }
  const std::string text = json::serialize(json::object{{"entities", std::move(entities)}});
  const std::string tmp = path_ + ".tmp";
  const int fd = open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
  if (fd < 0) return Internal("cannot write " + tmp + ": " + strerror(errno));
  fchmod(fd, 0600);
  size_t done = 0;
  while (done < text.size()) {
    const ssize_t w = write(fd, text.data() + done, text.size() - done);
    if (w < 0 && errno == EINTR) continue;
    if (w <= 0) {
      const int e = errno;
      close(fd);
      unlink(tmp.c_str());
      return Internal("cannot write " + tmp + ": " + strerror(e));
    }
    done += static_cast<size_t>(w);
  }
  const bool synced = fsync(fd) == 0;
  close(fd);
  if (!synced || rename(tmp.c_str(), path_.c_str()) != 0) {
    unlink(tmp.c_str());
    return Internal("cannot replace " + path_ + ": " + strerror(errno));
  }
  return Status::Ok();
}

Status SecretStore::Put(EntityId entity, const std::string& name, const std::string& value,
                        Millis now) {
  GPUAAS_RETURN_IF_ERROR(CheckSecretName(name));
  if (value.empty()) return InvalidArgument("a secret's value must not be empty");
  if (value.size() > kMaxValueBytes) return InvalidArgument("a secret's value is at most 64 KiB");
  if (value.find('\0') != std::string::npos) {
    return InvalidArgument("a secret's value must not contain a NUL byte");
  }
  auto next = secrets_;
  auto& names = next[entity];
  if (!names.count(name) && names.size() >= kMaxPerEntity) {
    return FailedPrecondition("an entity has at most 100 secrets");
  }
  names[name] = Entry{value, now};
  GPUAAS_RETURN_IF_ERROR(Save(next));
  secrets_ = std::move(next);
  return Status::Ok();
}

Status SecretStore::Delete(EntityId entity, const std::string& name) {
  auto it = secrets_.find(entity);
  if (it == secrets_.end() || !it->second.count(name)) {
    return NotFound("secret '" + name + "' does not exist");
  }
  auto next = secrets_;
  next[entity].erase(name);
  if (next[entity].empty()) next.erase(entity);
  GPUAAS_RETURN_IF_ERROR(Save(next));
  secrets_ = std::move(next);
  return Status::Ok();
}

std::vector<SecretInfo> SecretStore::List(EntityId entity) const {
  std::vector<SecretInfo> out;
  auto it = secrets_.find(entity);
  if (it == secrets_.end()) return out;
  for (const auto& [name, e] : it->second) {
    out.push_back({name, e.created_at, static_cast<int64_t>(e.value.size())});
  }
  return out;
}

std::optional<std::string> SecretStore::Value(EntityId entity, const std::string& name) const {
  auto it = secrets_.find(entity);
  if (it == secrets_.end()) return std::nullopt;
  auto n = it->second.find(name);
  if (n == it->second.end()) return std::nullopt;
  return n->second.value;
}

}  // namespace gpuaas
