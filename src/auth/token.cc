#include "auth/token.h"

#include <openssl/sha.h>

#include "auth/bytes.h"

namespace gpuaas {

Result<std::string> NewApiToken() {
  unsigned char buf[32];
  GPUAAS_RETURN_IF_ERROR(RandomBytes(buf, sizeof buf));
  return "gpa_" + LowerHex(buf, sizeof buf);
}

std::string HashToken(std::string_view token) {
  unsigned char md[SHA256_DIGEST_LENGTH];
  SHA256(reinterpret_cast<const unsigned char*>(token.data()), token.size(), md);
  return LowerHex(md, sizeof md);
}

bool LooksLikeToken(std::string_view t) {
  if (t.size() != 68 || t.substr(0, 4) != "gpa_") return false;
  for (char c : t.substr(4)) {
    if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) return false;
  }
  return true;
}

}  // namespace gpuaas
