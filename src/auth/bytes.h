// The auth module's raw material: bytes from the OS's CSPRNG (getrandom) and their lowercase
// hex, shared by API tokens (auth/token.h) and sealing keys (auth/seal_key.h). Thread-safe.
#pragma once

#include <cstddef>
#include <string>

#include "base/status.h"

namespace gpuaas {

// Fills `out` with `n` random bytes. Fails only if the OS refuses randomness.
Status RandomBytes(unsigned char* out, size_t n);
// "00ff..." (two lowercase digits per byte).
std::string LowerHex(const unsigned char* p, size_t n);

}  // namespace gpuaas
