// `gpuaas login` and `gpuaas logout`: the device login (docs/adr/0023). login asks the server
// for a code, tells the user where to approve it, polls until the portal's answer, then saves
// the session token (cli_credentials.h) or prints it; logout revokes and forgets it.
#include <unistd.h>

#include <boost/json.hpp>
#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <thread>

#include "cmd/cli_credentials.h"
#include "cmd/cli_verbs.h"

namespace gpuaas::cli {
namespace {

namespace json = boost::json;

std::string Str(const json::object& o, const char* key) {
  const json::value* v = o.if_contains(key);
  return v != nullptr && v->is_string() ? std::string(v->as_string()) : std::string();
}

int64_t Int(const json::object& o, const char* key, int64_t dflt) {
  const json::value* v = o.if_contains(key);
  return v != nullptr && v->is_int64() && v->as_int64() > 0 ? v->as_int64() : dflt;
}

// "gpuaas CLI on HOST (USER)": what the portal shows the user before they approve.
std::string ClientName() {
  char host[256] = {};
  if (gethostname(host, sizeof host - 1) != 0) host[0] = '\0';
  const char* user = std::getenv("USER");
  std::string name = "gpuaas CLI";
  if (host[0] != '\0') name += " on " + std::string(host);
  if (user != nullptr && *user != '\0') name += " (" + std::string(user) + ")";
  return name;
}

}  // namespace

int RunLogin(const VerbContext& c) {
  auto begin = c.api.Call("POST", "/api/v1/auth/device", json::object{{"client", ClientName()}});
  if (!begin.ok()) return c.Fail(begin.status());
  if (!begin->json.is_object()) return c.Fail(Internal("the server's answer is not an object"));
  const json::object& g = begin->json.as_object();
  const std::string device_code = Str(g, "device_code"), user_code = Str(g, "user_code");
  const std::string page = Str(g, "verification_path_complete");
  if (device_code.empty() || user_code.empty() || page.empty()) {
    return c.Fail(Internal("the server's answer has no device_code, user_code or page"));
  }
  const int64_t expires_s = Int(g, "expires_in_s", 600);
  int64_t interval_s = Int(g, "interval_s", 5);
  c.err << "To sign this CLI in, open this page where you use the portal, and approve the code "
        << user_code << ":\n  " << c.api.base_url() << page << "\n(the code expires in "
        << (expires_s + 59) / 60 << " minutes; Ctrl-C gives up)\n";
  c.err.flush();

  using Clock = std::chrono::steady_clock;
  const auto deadline = Clock::now() + std::chrono::seconds(expires_s + 30);
  json::object approved;
  while (approved.empty()) {
    if (Clock::now() >= deadline) {
      return c.Fail(NotFound("the code " + user_code +
                             " was not approved in time: run `gpuaas "
                             "login` again"));
    }
    std::this_thread::sleep_for(std::chrono::seconds(interval_s));
    auto poll =
        c.api.Call("POST", "/api/v1/auth/device/token", json::object{{"device_code", device_code}});
    if (!poll.ok()) {
      switch (poll.status().code()) {
        case Code::kResourceExhausted:  // asked too soon: ask less often
          interval_s += 5;
          continue;
        default:  // refused in the portal, expired, or the server out of reach
          return c.Fail(poll.status());
      }
    }
    if (poll->json.is_object() && Str(poll->json.as_object(), "status") == "approved") {
      approved = poll->json.as_object();
    }
  }
  SavedLogin login{c.api.base_url(), Str(approved, "token"), Str(approved, "user"), "",
                   Str(approved, "expires_at")};
  if (login.token.empty())
    return c.Fail(Internal("the server approved the login but sent no token"));
  if (c.args.print_token) {
    c.out << login.token << "\n";
    return 0;
  }
  if (!c.args.ca_file.empty()) {
    std::error_code ec;
    login.ca_file = std::filesystem::absolute(c.args.ca_file, ec).string();
  }
  Status saved = SaveLogin(login);
  if (!saved.ok()) {
    return c.Fail(Status(saved.code(), saved.message() +
                                           " (the session stays valid; `gpuaas login "
                                           "--print-token` gives a token without saving it)"));
  }
  if (const char* env = std::getenv("GPUAAS_TOKEN"); env != nullptr && *env != '\0') {
    c.err << "note: GPUAAS_TOKEN is set; it is used before the saved login (unset it)\n";
  }
  const json::value expires =
      login.expires_at.empty() ? json::value(nullptr) : json::value(login.expires_at);
  if (c.args.json) {
    return c.PrintJson(json::object{{"user", login.user},
                                    {"url", login.url},
                                    {"expires_at", expires},
                                    {"saved_to", LoginFilePath()}});
  }
  c.out << "Logged in to " << login.url << " as " << login.user << " until "
        << (login.expires_at.empty() ? std::string("revoked") : login.expires_at)
        << "; the token is in " << LoginFilePath() << ".\n";
  return 0;
}

int RunLogout(const VerbContext& c) {
  auto saved = LoadLogin(/*any_mode=*/true);
  if (!saved.ok()) return c.Fail(saved.status());
  if (!*saved) {
    c.err << "not logged in (no saved login at " << LoginFilePath() << ")\n";
    return 0;
  }
  const SavedLogin& login = **saved;
  ApiClient api(login.url, login.token, login.ca_file);
  auto ended = api.Call("DELETE", "/api/v1/session");
  Status forgot = ForgetLogin();
  if (!forgot.ok()) return c.Fail(forgot);
  if (!ended.ok()) {
    return c.Fail(Status(ended.status().code(),
                         "the login is forgotten here, but the server did not end it (" +
                             ended.status().message() +
                             "): its token stays valid until it expires or is revoked "
                             "(`gpuaas token revoke " +
                             login.user + " ID`)"));
  }
  if (c.args.json) return c.PrintJson(json::object{{"url", login.url}, {"user", login.user}});
  c.out << "Logged out of " << login.url << " (" << login.user
        << "): the session's token is revoked and forgotten.\n";
  return 0;
}

}  // namespace gpuaas::cli
