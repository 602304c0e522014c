// Percent-encoding (RFC 3986): query values, form bodies (application/x-www-form-urlencoded
// with %20 for a space, which every server accepts). Pure; thread-safe.
#pragma once

#include <string>
#include <string_view>

namespace gpuaas {

// Every byte but the unreserved characters (A-Z a-z 0-9 - . _ ~) becomes %XX.
std::string UrlEncode(std::string_view s);

}  // namespace gpuaas
