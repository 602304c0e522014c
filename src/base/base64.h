// Base64 (RFC 4648, standard alphabet, with '=' padding): how the agent ships binary log chunks
// inside JSON. Pure functions; thread-safe.
#pragma once

#include <string>
#include <string_view>

#include "base/status.h"

namespace gpuaas {

std::string Base64Encode(std::string_view data);
// Strict: rejects characters outside the alphabet, a length not a multiple of 4, misplaced
// padding and non-zero trailing bits (so every decodable text has exactly one encoding).
Result<std::string> Base64Decode(std::string_view text);

}  // namespace gpuaas

namespace gpuaas {

// Base64url without padding (RFC 4648 §5): JWTs, JWKs, PKCE challenges.
std::string Base64UrlEncode(std::string_view data);
// As strict as Base64Decode; '+', '/' and '=' are refused.
Result<std::string> Base64UrlDecode(std::string_view text);

}  // namespace gpuaas
