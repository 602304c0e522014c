// API tokens: "gpa_" + 64 hex characters (256 random bits from the OS). Only the SHA-256 of a
// token is ever stored; the secret is shown once at creation. Thread-safe (no shared state).
#pragma once

#include <string>
#include <string_view>

#include "base/status.h"

namespace gpuaas {

// A fresh token from the OS's CSPRNG (getrandom). Fails only if the OS refuses randomness.
Result<std::string> NewApiToken();
// Lowercase hex SHA-256 of the token text.
std::string HashToken(std::string_view token);
// Shape check before any lookup: "gpa_" + 64 lowercase hex.
bool LooksLikeToken(std::string_view token);

}  // namespace gpuaas
