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

#include "base/base64.h"
#include "base/log.h"

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

namespace {

constexpr char kFormat[] = "gpuaas-secrets/2";

// What a sealed value is bound to: its entity and name (a value moved elsewhere does not open).
std::string Place(EntityId entity, const std::string& name) {
  return "gpuaas-secret/" + std::to_string(entity) + "/" + name;
}

}  // namespace

Result<SecretStore::Keys> SecretStore::ChooseKeys(const std::string* sealed_with) const {
  auto key = SealKey::Load(key_file_);
  // A first start, or the first after `previous_key_file` took the old key away: a new key.
  if (!key.ok() && key.status().code() == Code::kNotFound &&
      (!sealed_with || !previous_key_file_.empty())) {
    key = SealKey::Create(key_file_);
    if (key.ok()) GLOG_INFO("secrets: created the sealing key {} (key {})", key_file_, key->id());
  }
  if (!key.ok()) {
    if (key.status().code() == Code::kNotFound) {
      return FailedPrecondition(path_ + " is sealed with key " + *sealed_with +
                                ", but the key file " + key_file_ +
                                " does not exist: put it back (or set [secrets] key_file)");
    }
    return key.status();
  }
  Keys keys{std::move(key).value(), std::nullopt};
  if (!sealed_with || *sealed_with == keys.current.id()) return keys;
  std::string known = "the key file " + key_file_ + " holds key " + keys.current.id();
  if (!previous_key_file_.empty()) {
    GPUAAS_ASSIGN_OR_RETURN(SealKey previous, SealKey::Load(previous_key_file_));
    if (previous.id() == *sealed_with) {
      keys.previous = std::move(previous);
      return keys;
    }
    known += " and " + previous_key_file_ + " key " + previous.id();
  }
  return FailedPrecondition(path_ + " is sealed with key " + *sealed_with + "; " + known);
}

Status SecretStore::Load() {
  secrets_.clear();
  key_.reset();
  if (path_.empty()) return Status::Ok();
  struct stat st;
  bool exists = true;
  if (stat(path_.c_str(), &st) != 0) {
    if (errno != ENOENT) return Internal("cannot read " + path_ + ": " + strerror(errno));
    exists = false;
  } else if ((st.st_mode & 077) != 0) {
    char mode[8];
    snprintf(mode, sizeof mode, "%03o", st.st_mode & 0777);
    return FailedPrecondition(path_ + " may be read by others (mode " + mode + "); chmod 600 it");
  }
  json::value doc;
  if (exists) {
    std::ifstream in(path_);
    const std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    boost::system::error_code ec;
    doc = json::parse(text, ec);
    if (ec || !doc.is_object() || !doc.as_object().contains("entities") ||
        !doc.at("entities").is_object()) {
      return Internal(path_ + " is not a secrets file" + (ec ? ": " + ec.message() : ""));
    }
  }
  const json::object* top = exists ? &doc.as_object() : nullptr;
  const bool sealed = top && top->contains("format");
  std::string sealed_with;
  if (sealed) {
    const json::value* f = top->if_contains("format");
    const json::value* k = top->if_contains("key_id");
    if (!f->is_string() || f->as_string() != kFormat || !k || !k->is_string()) {
      return Internal(path_ + " is not a secrets file of this version (format " +
                      json::serialize(*f) + ")");
    }
    sealed_with = std::string(k->as_string());
  }

  GPUAAS_ASSIGN_OR_RETURN(Keys keys, ChooseKeys(sealed ? &sealed_with : nullptr));
  const SealKey& open_with = keys.previous ? *keys.previous : keys.current;

  std::map<EntityId, std::map<std::string, Entry>> loaded;
  if (top) {
    try {
      for (const auto& [eid, names] : top->at("entities").as_object()) {
        const EntityId entity = std::stoll(std::string(eid));
        for (const auto& [n, v] : names.as_object()) {
          const std::string name(n);
          const json::object& o = v.as_object();
          std::string value;
          if (sealed) {
            auto bytes = Base64Decode(o.at("sealed").as_string());
            if (!bytes.ok()) {
              return Internal(path_ + ": secret " + name + ": " + bytes.status().message());
            }
            auto plain = open_with.Open(*bytes, Place(entity, name));
            if (!plain.ok()) {
              return FailedPrecondition(path_ + ": secret " + name + " of entity " +
                                        std::string(eid) + ": " + plain.status().message());
            }
            value = std::move(plain).value();
          } else {
            value = std::string(o.at("value").as_string());
          }
          loaded[entity][name] = Entry{std::move(value), o.at("created_at").to_number<int64_t>()};
        }
      }
    } catch (const std::exception& e) {
      return Internal(path_ + " is not a secrets file: " + e.what());
    }
  }
  key_ = std::move(keys.current);
  if (exists && (!sealed || keys.previous)) {
    // A plaintext file of the earlier format, or one sealed with the previous key: sealed with
    // the current key now, before anything else reads it.
    if (Status s = Save(loaded); !s.ok()) {
      key_.reset();
      return s;
    }
    GLOG_INFO("secrets: {} {} with key {}", path_,
              sealed ? "sealed again (key rotation)" : "sealed", key_->id());
  }
  secrets_ = std::move(loaded);
  return Status::Ok();
}

Status SecretStore::Save(const std::map<EntityId, std::map<std::string, Entry>>& all) const {
  if (path_.empty()) return Status::Ok();
  if (!key_) return FailedPrecondition("the secrets store is not loaded");
  json::object entities;
  for (const auto& [entity, names] : all) {
    json::object o;
    for (const auto& [name, e] : names) {
      GPUAAS_ASSIGN_OR_RETURN(const std::string sealed, key_->Seal(e.value, Place(entity, name)));
      o[name] = json::object{{"sealed", Base64Encode(sealed)}, {"created_at", e.created_at}};
    }
    entities[std::to_string(entity)] = std::move(o);
  }
  const std::string text = json::serialize(json::object{{"format", kFormat},
                                                        {"cipher", "AES-256-GCM"},
                                                        {"key_id", key_->id()},
                                                        {"entities", std::move(entities)}});
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
