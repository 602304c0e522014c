// The CLI's saved login (`gpuaas login`, `gpuaas logout`): the server's URL, the session token
// it approved, the CA file used to reach it, in $XDG_CONFIG_HOME/gpuaas/login.json (default
// ~/.config/gpuaas/login.json), mode 0600 in a 0700 directory. The token is used only for that
// URL, and only when neither --token nor GPUAAS_TOKEN gives one; the URL is the default when
// neither --url nor GPUAAS_URL gives one.
// Thread-safety: plain file functions; one CLI process at a time is assumed per file.
#pragma once

#include <optional>
#include <string>

#include "base/status.h"

namespace gpuaas::cli {

struct SavedLogin {
  std::string url;
  std::string token;
  std::string user;
  std::string ca_file;     // "" = the system's CAs
  std::string expires_at;  // RFC 3339, "" = never
};

// Where the login is kept ("" when neither XDG_CONFIG_HOME nor HOME is set).
std::string LoginFilePath();
// The saved login, nullopt when there is none; an error for a file that cannot be read or is
// not a login, or that others may read (it holds a token) unless `any_mode` (logout: a token
// that may have leaked is best revoked).
Result<std::optional<SavedLogin>> LoadLogin(bool any_mode = false);
// Writes it (replacing any other), atomically, 0600.
Status SaveLogin(const SavedLogin& login);
// Removes it; Ok when there was none.
Status ForgetLogin();
// "https://a.example/" and "https://a.example" are the same server.
bool SameServer(const std::string& a, const std::string& b);

}  // namespace gpuaas::cli
