#include "auth/seal_key.h"

#include <fcntl.h>
#include <openssl/evp.h>
#include <openssl/sha.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <memory>

#include "auth/bytes.h"

namespace gpuaas {
namespace {

int HexValue(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

std::string_view Trim(std::string_view s) {
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.front()))) s.remove_prefix(1);
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.back()))) s.remove_suffix(1);
  return s;
}

struct CtxFree {
  void operator()(EVP_CIPHER_CTX* c) const { EVP_CIPHER_CTX_free(c); }
};
using Ctx = std::unique_ptr<EVP_CIPHER_CTX, CtxFree>;

const unsigned char* Bytes(std::string_view s) {
  return reinterpret_cast<const unsigned char*>(s.data());
}

}  // namespace

SealKey::SealKey(const std::array<unsigned char, 32>& key) : key_(key) {
  unsigned char md[SHA256_DIGEST_LENGTH];
  SHA256(key_.data(), key_.size(), md);
  id_ = LowerHex(md, 8);
}

Result<SealKey> SealKey::FromHex(std::string_view hex) {
  hex = Trim(hex);
  if (hex.size() != 64) {
    return InvalidArgument(
        "a key is 64 hex digits (256 bits; make one with `openssl rand -hex 32`)");
  }
  std::array<unsigned char, 32> key{};
  for (size_t i = 0; i < key.size(); ++i) {
    const int hi = HexValue(hex[2 * i]), lo = HexValue(hex[2 * i + 1]);
    if (hi < 0 || lo < 0) return InvalidArgument("a key is 64 hex digits; found another character");
    key[i] = static_cast<unsigned char>(hi << 4 | lo);
  }
  return SealKey(key);
}

Result<SealKey> SealKey::Load(const std::string& path) {
  const int fd = open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) {
    if (errno == ENOENT) return NotFound("key file " + path + " does not exist");
    return Internal("cannot read key file " + path + ": " + std::strerror(errno));
  }
  struct stat st;
  if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
    close(fd);
    return InvalidArgument("key file " + path + " is not a regular file");
  }
  if ((st.st_mode & 077) != 0) {
    close(fd);
    char mode[8];
    std::snprintf(mode, sizeof mode, "%03o", st.st_mode & 0777);
    return FailedPrecondition("key file " + path + " may be read by others (mode " + mode +
                              "); chmod 600 it");
  }
  char buf[256];
  size_t n = 0;
  while (n < sizeof buf) {
    const ssize_t r = read(fd, buf + n, sizeof buf - n);
    if (r < 0 && errno == EINTR) continue;
    if (r <= 0) break;
    n += static_cast<size_t>(r);
  }
  close(fd);
  auto key = FromHex(std::string_view(buf, n));
  std::memset(buf, 0, sizeof buf);
  if (!key.ok()) return InvalidArgument("key file " + path + ": " + key.status().message());
  return key;
}

Result<SealKey> SealKey::Create(const std::string& path) {
  std::array<unsigned char, 32> key{};
  GPUAAS_RETURN_IF_ERROR(RandomBytes(key.data(), key.size()));
  std::string text = LowerHex(key.data(), key.size()) + "\n";
  const int fd = open(path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
  if (fd < 0) {
    if (errno == EEXIST) return Conflict("key file " + path + " exists already");
    return Internal("cannot create key file " + path + ": " + std::strerror(errno));
  }
  fchmod(fd, 0600);  // whatever the umask
  size_t done = 0;
  while (done < text.size()) {
    const ssize_t w = write(fd, text.data() + done, text.size() - done);
    if (w < 0 && errno == EINTR) continue;
    if (w <= 0) break;
    done += static_cast<size_t>(w);
  }
  const bool ok = done == text.size() && fsync(fd) == 0;
  const int e = errno;
  close(fd);
  std::fill(text.begin(), text.end(), '\0');
  if (!ok) {
    unlink(path.c_str());
    return Internal("cannot write key file " + path + ": " + std::strerror(e));
  }
  return SealKey(key);
}

Result<std::string> SealKey::Seal(std::string_view plain, std::string_view associated) const {
  std::string out(kNonceBytes + plain.size() + kTagBytes, '\0');
  auto* p = reinterpret_cast<unsigned char*>(out.data());
  GPUAAS_RETURN_IF_ERROR(RandomBytes(p, kNonceBytes));
  Ctx ctx(EVP_CIPHER_CTX_new());
  int len = 0;
  const bool ok = ctx &&
                  EVP_EncryptInit_ex(ctx.get(), EVP_aes_256_gcm(), nullptr, key_.data(), p) == 1 &&
                  EVP_EncryptUpdate(ctx.get(), nullptr, &len, Bytes(associated),
                                    static_cast<int>(associated.size())) == 1 &&
                  EVP_EncryptUpdate(ctx.get(), p + kNonceBytes, &len, Bytes(plain),
                                    static_cast<int>(plain.size())) == 1 &&
                  EVP_EncryptFinal_ex(ctx.get(), p + kNonceBytes + len, &len) == 1 &&
                  EVP_CIPHER_CTX_ctrl(ctx.get(), EVP_CTRL_GCM_GET_TAG, static_cast<int>(kTagBytes),
                                      p + kNonceBytes + plain.size()) == 1;
  if (!ok) return Internal("AES-256-GCM sealing failed");
  return out;
}

Result<std::string> SealKey::Open(std::string_view sealed, std::string_view associated) const {
  if (sealed.size() < kNonceBytes + kTagBytes) {
    return FailedPrecondition("a sealed value is too short");
  }
  const size_t n = sealed.size() - kNonceBytes - kTagBytes;
  std::string out(n, '\0');
  auto* o = reinterpret_cast<unsigned char*>(out.data());
  const unsigned char* s = Bytes(sealed);
  std::array<unsigned char, kTagBytes> tag{};
  std::memcpy(tag.data(), s + kNonceBytes + n, kTagBytes);
  Ctx ctx(EVP_CIPHER_CTX_new());
  int len = 0;
  if (!ctx || EVP_DecryptInit_ex(ctx.get(), EVP_aes_256_gcm(), nullptr, key_.data(), s) != 1 ||
      EVP_DecryptUpdate(ctx.get(), nullptr, &len, Bytes(associated),
                        static_cast<int>(associated.size())) != 1 ||
      EVP_DecryptUpdate(ctx.get(), o, &len, s + kNonceBytes, static_cast<int>(n)) != 1 ||
      EVP_CIPHER_CTX_ctrl(ctx.get(), EVP_CTRL_GCM_SET_TAG, static_cast<int>(kTagBytes),
                          tag.data()) != 1) {
    return Internal("AES-256-GCM opening failed");
  }
  if (EVP_DecryptFinal_ex(ctx.get(), o + len, &len) != 1) {
    std::fill(out.begin(), out.end(), '\0');
    return FailedPrecondition("a sealed value does not open with key " + id_ +
                              ": sealed with another key, for another place, or altered since");
  }
  return out;
}

}  // namespace gpuaas
