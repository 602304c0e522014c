#include "cmd/cli_credentials.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <boost/json.hpp>
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>

namespace gpuaas::cli {
namespace {

namespace json = boost::json;

constexpr size_t kMaxFile = 64 * 1024;

std::string Dir() {
  const char* xdg = std::getenv("XDG_CONFIG_HOME");
  if (xdg != nullptr && *xdg == '/') return std::string(xdg) + "/gpuaas";
  const char* home = std::getenv("HOME");
  if (home != nullptr && *home != '\0') return std::string(home) + "/.config/gpuaas";
  return "";
}

std::string Field(const json::object& o, const char* key) {
  const json::value* v = o.if_contains(key);
  return v != nullptr && v->is_string() ? std::string(v->as_string()) : std::string();
}

std::string Trimmed(std::string s) {
  while (!s.empty() && s.back() == '/') s.pop_back();
  return s;
}

}  // namespace

std::string LoginFilePath() {
  const std::string dir = Dir();
  return dir.empty() ? "" : dir + "/login.json";
}

bool SameServer(const std::string& a, const std::string& b) { return Trimmed(a) == Trimmed(b); }

Result<std::optional<SavedLogin>> LoadLogin(bool any_mode) {
  const std::string path = LoginFilePath();
  if (path.empty()) return std::optional<SavedLogin>();
  struct stat st {};
  if (stat(path.c_str(), &st) != 0) {
    if (errno == ENOENT) return std::optional<SavedLogin>();
    return Unavailable("cannot read the saved login " + path + ": " + std::strerror(errno));
  }
  if (!any_mode && (st.st_mode & 077) != 0) {
    return FailedPrecondition("the saved login " + path +
                              " may be read by others: chmod 600 it, or `gpuaas logout`");
  }
  if (st.st_size > static_cast<off_t>(kMaxFile)) {
    return InvalidArgument(path + " is not a saved login (too large): remove it");
  }
  std::ifstream in(path);
  std::stringstream text;
  text << in.rdbuf();
  boost::system::error_code ec;
  json::value v = json::parse(text.str(), ec);
  if (ec || !v.is_object()) {
    return InvalidArgument(path + " is not a saved login: remove it and run `gpuaas login`");
  }
  const json::object& o = v.as_object();
  SavedLogin login{Field(o, "url"), Field(o, "token"), Field(o, "user"), Field(o, "ca_file"),
                   Field(o, "expires_at")};
  if (login.url.empty() || login.token.empty()) {
    return InvalidArgument(path + " is not a saved login: remove it and run `gpuaas login`");
  }
  return std::optional<SavedLogin>(std::move(login));
}

Status SaveLogin(const SavedLogin& login) {
  const std::string dir = Dir();
  if (dir.empty()) return FailedPrecondition("cannot save the login: set HOME or XDG_CONFIG_HOME");
  std::error_code ec;
  std::filesystem::create_directories(dir, ec);
  if (ec) return Unavailable("cannot create " + dir + ": " + ec.message());
  chmod(dir.c_str(), 0700);
  const std::string path = dir + "/login.json", tmp = path + ".tmp";
  const std::string body = json::serialize(json::object{{"url", login.url},
                                                        {"token", login.token},
                                                        {"user", login.user},
                                                        {"ca_file", login.ca_file},
                                                        {"expires_at", login.expires_at}}) +
                           "\n";
  int fd = open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
  if (fd < 0) return Unavailable("cannot write " + tmp + ": " + std::strerror(errno));
  const bool written = fchmod(fd, 0600) == 0 &&
                       write(fd, body.data(), body.size()) == static_cast<ssize_t>(body.size()) &&
                       fsync(fd) == 0;
  const int err = errno;
  close(fd);
  if (!written || rename(tmp.c_str(), path.c_str()) != 0) {
    const int why = written ? errno : err;
    unlink(tmp.c_str());
    return Unavailable("cannot write " + path + ": " + std::strerror(why));
  }
  return Status::Ok();
}

Status ForgetLogin() {
  const std::string path = LoginFilePath();
  if (path.empty() || unlink(path.c_str()) == 0 || errno == ENOENT) return Status::Ok();
  return Unavailable("cannot remove " + path + ": " + std::strerror(errno));
}

}  // namespace gpuaas::cli
