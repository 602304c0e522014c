#include "auth/device_login.h"

#include <algorithm>
#include <utility>

#include "auth/bytes.h"
#include "base/base64.h"

namespace gpuaas {
namespace {

// RFC 8628 §6.1: consonants only (no words, no 0/O or 1/I confusion); 20^8 codes.
constexpr std::string_view kLetters = "BCDFGHJKLMNPQRSTVWXZ";
constexpr size_t kClientMax = 120;
// An approved grant may be collected for at least this long, even past its expiry.
constexpr Millis kCollectGraceMs = 60'000;

Result<std::string> RandomUserCode() {
  std::string code;
  while (code.size() < 8) {
    unsigned char buf[16];
    GPUAAS_RETURN_IF_ERROR(RandomBytes(buf, sizeof buf));
    for (unsigned char b : buf) {
      // 240 = 12 × 20: bytes above it would favour the first letters.
      if (b < 240 && code.size() < 8) code += kLetters[b % kLetters.size()];
    }
  }
  return code.substr(0, 4) + "-" + code.substr(4);
}

Result<std::string> RandomDeviceCode() {
  unsigned char buf[32];
  GPUAAS_RETURN_IF_ERROR(RandomBytes(buf, sizeof buf));
  return Base64UrlEncode(std::string_view(reinterpret_cast<const char*>(buf), sizeof buf));
}

// Printable text only (control characters become spaces), at most kClientMax bytes, cut on a
// UTF-8 character boundary.
std::string CleanClient(std::string_view s) {
  std::string out;
  for (unsigned char c : s) out += c < 0x20 || c == 0x7f ? ' ' : static_cast<char>(c);
  if (out.size() > kClientMax) {
    size_t cut = kClientMax;
    while (cut > 0 && (static_cast<unsigned char>(out[cut]) & 0xC0) == 0x80) --cut;
    out.resize(cut);
  }
  return out.empty() ? "an unnamed client" : out;
}

}  // namespace

Result<std::string> NormalizeUserCode(std::string_view typed) {
  std::string letters;
  for (char c : typed) {
    if (c == '-' || c == ' ') continue;
    const char up = c >= 'a' && c <= 'z' ? static_cast<char>(c - 'a' + 'A') : c;
    if (kLetters.find(up) == std::string_view::npos || letters.size() == 8) {
      return InvalidArgument("a code is 8 letters, as the CLI shows it (e.g. WDJB-MJHT)");
    }
    letters += up;
  }
  if (letters.size() != 8) {
    return InvalidArgument("a code is 8 letters, as the CLI shows it (e.g. WDJB-MJHT)");
  }
  return letters.substr(0, 4) + "-" + letters.substr(4);
}

void DeviceGrantStore::DropExpired(Millis now) {
  for (auto it = by_device_.begin(); it != by_device_.end();) {
    if (now >= it->second.expires_at) {
      device_by_user_code_.erase(it->second.user_code);
      it = by_device_.erase(it);
    } else {
      ++it;
    }
  }
}

Result<DeviceGrant> DeviceGrantStore::Begin(std::string_view client, std::string from, Millis now) {
  DropExpired(now);
  if (by_device_.size() >= max_pending_) {
    return ResourceExhausted("too many logins under way; try again in a few minutes");
  }
  size_t from_there = 0;
  for (const auto& [code, g] : by_device_) from_there += g.from == from ? 1 : 0;
  if (from_there >= max_per_address_) {
    return ResourceExhausted("too many logins under way from " + from +
                             "; finish or let them expire (10 minutes)");
  }
  DeviceGrant g;
  GPUAAS_ASSIGN_OR_RETURN(g.device_code, RandomDeviceCode());
  do {
    GPUAAS_ASSIGN_OR_RETURN(g.user_code, RandomUserCode());
  } while (device_by_user_code_.count(g.user_code) > 0);
  g.client = CleanClient(client);
  g.from = std::move(from);
  g.created_at = now;
  g.expires_at = now + lifetime_ms_;
  device_by_user_code_[g.user_code] = g.device_code;
  by_device_[g.device_code] = g;
  return g;
}

DeviceGrant* DeviceGrantStore::FindPending(std::string_view user_code, Millis now, Status* why) {
  auto code = NormalizeUserCode(user_code);
  if (!code.ok()) {
    *why = code.status();
    return nullptr;
  }
  DropExpired(now);
  auto it = device_by_user_code_.find(*code);
  DeviceGrant* g = it == device_by_user_code_.end() ? nullptr : &by_device_.at(it->second);
  if (g == nullptr || g->state != DeviceGrant::State::kPending) {
    *why = NotFound("no login waits for the code " + *code + ": it expired (after " +
                    std::to_string(lifetime_ms_ / 60000) +
                    " minutes) or was already answered; run `gpuaas login` again");
    return nullptr;
  }
  return g;
}

Result<DeviceGrant> DeviceGrantStore::Pending(std::string_view user_code, Millis now) {
  Status why;
  DeviceGrant* g = FindPending(user_code, now, &why);
  if (g == nullptr) return why;
  return *g;
}

Result<std::string> DeviceGrantStore::Approve(std::string_view user_code, const std::string& user,
                                              Millis now) {
  Status why;
  DeviceGrant* g = FindPending(user_code, now, &why);
  if (g == nullptr) return why;
  g->state = DeviceGrant::State::kApproving;
  g->user = user;
  g->expires_at = std::max(g->expires_at, now + kCollectGraceMs);
  return g->device_code;
}

Status DeviceGrantStore::Deny(std::string_view user_code, const std::string& user, Millis now) {
  Status why;
  DeviceGrant* g = FindPending(user_code, now, &why);
  if (g == nullptr) return why;
  g->state = DeviceGrant::State::kDenied;
  g->user = user;
  g->denied_because = user + " refused this login in the portal";
  return Status::Ok();
}

void DeviceGrantStore::Complete(const std::string& device_code,
                                Result<std::pair<std::string, Millis>> token) {
  auto it = by_device_.find(device_code);
  if (it == by_device_.end() || it->second.state != DeviceGrant::State::kApproving) return;
  DeviceGrant& g = it->second;
  if (token.ok()) {
    g.state = DeviceGrant::State::kApproved;
    g.token = token->first;
    g.token_expires_at = token->second;
  } else {
    g.state = DeviceGrant::State::kDenied;
    g.denied_because = "no token could be made for " + g.user + ": " + token.status().message();
  }
}

Result<DevicePoll> DeviceGrantStore::Poll(const std::string& device_code, Millis now) {
  DropExpired(now);
  auto it = by_device_.find(device_code);
  if (it == by_device_.end()) {
    return NotFound("this login is unknown, expired or already done: run `gpuaas login` again");
  }
  DeviceGrant& g = it->second;
  if (g.last_poll != 0 && now - g.last_poll < interval_ms_) {
    g.last_poll = now;
    return ResourceExhausted("slow down: ask at most every " + std::to_string(interval_ms_ / 1000) +
                             " s");
  }
  g.last_poll = now;
  if (g.state == DeviceGrant::State::kDenied) {
    Status denied = PermissionDenied(g.denied_because);
    device_by_user_code_.erase(g.user_code);
    by_device_.erase(it);
    return denied;
  }
  DevicePoll out;
  if (g.state == DeviceGrant::State::kApproved) {
    out = {true, std::move(g.token), g.user, g.token_expires_at};
    device_by_user_code_.erase(g.user_code);
    by_device_.erase(it);
  }
  return out;
}

}  // namespace gpuaas
