// SealKey: a 256-bit key that seals small values at rest (the entities' secrets) with
// AES-256-GCM: confidentiality and integrity, bound to associated data (where the value belongs),
// so a sealed value cannot be read, altered, or moved to another slot without the key.
//
// The key lives in a file of its own: 64 hex digits and a newline, mode 0600, so that it can sit
// on another volume than the data it protects (a tmpfs filled by a KMS or vault agent, a
// separate backup) and be made with `openssl rand -hex 32`. Its id, the first 16 hex digits of
// the SHA-256 of the key, names it in files and errors without revealing it. Thread-safe
// (immutable after load).
#pragma once

#include <array>
#include <string>
#include <string_view>

#include "base/status.h"

namespace gpuaas {

class SealKey {
 public:
  static constexpr size_t kNonceBytes = 12;
  static constexpr size_t kTagBytes = 16;

  // The key in 64 hex digits (either case; surrounding whitespace ignored).
  static Result<SealKey> FromHex(std::string_view hex);
  // Reads the key file. Refuses a file others may read (FailedPrecondition) or one that is not
  // a key (InvalidArgument). A missing file is NotFound.
  static Result<SealKey> Load(const std::string& path);
  // Writes a new random key to `path` (mode 0600, created exclusively, synced): Conflict rather
  // than replacing a key.
  static Result<SealKey> Create(const std::string& path);

  const std::string& id() const { return id_; }

  // nonce (12 random bytes) + ciphertext + tag (16 bytes).
  Result<std::string> Seal(std::string_view plain, std::string_view associated) const;
  // FailedPrecondition when the value was sealed with another key or other associated data, or
  // was altered since.
  Result<std::string> Open(std::string_view sealed, std::string_view associated) const;

 private:
  explicit SealKey(const std::array<unsigned char, 32>& key);

  std::array<unsigned char, 32> key_{};
  std::string id_;
};

}  // namespace gpuaas
