// Device login: how the CLI (`gpuaas login`) gets a token of its user without the user copying
// one, the shape of OAuth's device authorization grant (RFC 8628) with GPUaaS as its own
// authorization server (docs/adr/0023). The CLI asks for a grant and shows its user code; the
// user opens the portal's /device page, signed in as usual (single sign-on or a token), checks
// the code and approves; the CLI, polling with the device code, then receives a session token of
// that user (revoked by `gpuaas logout`, listed and revocable like any token).
// This file holds the grants under way (in memory, bounded, expiring); the routes are
// api/routes_device.cc. Time is an input.
// Thread-safety: not thread-safe (the server keeps it on its event loop).
#pragma once

#include <cstddef>
#include <map>
#include <string>
#include <string_view>

#include "base/status.h"
#include "base/time.h"

namespace gpuaas {

struct DeviceGrant {
  enum class State { kPending, kApproving, kApproved, kDenied };
  std::string device_code;  // the CLI's secret: it polls with it
  std::string user_code;    // "WDJB-MJHT": what the user checks and confirms in the portal
  std::string client;       // what asked, in its own words ("gpuaas CLI on host h")
  std::string from;         // the address it asked from
  Millis created_at = 0;
  Millis expires_at = 0;
  State state = State::kPending;
  std::string user;   // who approved or denied
  std::string token;  // once approved: handed to the CLI once
  Millis token_expires_at = 0;
  std::string denied_because;  // once denied
  Millis last_poll = 0;
};

// What a poll learns: approved (token set) or still pending.
struct DevicePoll {
  bool approved = false;
  std::string token, user;
  Millis token_expires_at = 0;
};

// "wdjb mjht", "WDJBMJHT", "wdjb-mjht" -> "WDJB-MJHT"; InvalidArgument when it cannot be a code.
Result<std::string> NormalizeUserCode(std::string_view typed);

class DeviceGrantStore {
 public:
  // At most `max_pending` grants under way, `max_per_address` of them from one address (so that
  // one client cannot take every slot: the grant needs no credentials).
  DeviceGrantStore(size_t max_pending, size_t max_per_address, Millis lifetime_ms,
                   Millis interval_ms)
      : max_pending_(max_pending),
        max_per_address_(max_per_address),
        lifetime_ms_(lifetime_ms),
        interval_ms_(interval_ms) {}

  // A new grant (random device code, user code of 8 letters without vowels). `client` is cut to
  // 120 bytes of printable text. ResourceExhausted when max_pending are under way, or
  // max_per_address from `from`.
  Result<DeviceGrant> Begin(std::string_view client, std::string from, Millis now);

  // The grant waiting for its user's answer (pending), by the code the user typed; NotFound when
  // unknown, expired or already answered.
  Result<DeviceGrant> Pending(std::string_view user_code, Millis now);
  // The user's answer. Approve moves the grant to kApproving (its token is being made) and
  // returns its device code for Complete(); Deny ends it. NotFound as Pending().
  Result<std::string> Approve(std::string_view user_code, const std::string& user, Millis now);
  Status Deny(std::string_view user_code, const std::string& user, Millis now);
  // The token made for an approving grant (or why none could be made: the grant is denied).
  void Complete(const std::string& device_code, Result<std::pair<std::string, Millis>> token);

  // The CLI's poll. NotFound: unknown, expired or already collected; ResourceExhausted: asked
  // again sooner than the interval; PermissionDenied: the user denied it (the grant ends).
  // An approved grant hands its token over once and ends.
  Result<DevicePoll> Poll(const std::string& device_code, Millis now);

  Millis interval_ms() const { return interval_ms_; }
  Millis lifetime_ms() const { return lifetime_ms_; }
  size_t size() const { return by_device_.size(); }

 private:
  void DropExpired(Millis now);
  // The grant of a user code, if pending and not expired.
  DeviceGrant* FindPending(std::string_view user_code, Millis now, Status* why);

  const size_t max_pending_;
  const size_t max_per_address_;
  const Millis lifetime_ms_;
  const Millis interval_ms_;
  std::map<std::string, DeviceGrant> by_device_;
  std::map<std::string, std::string> device_by_user_code_;
};

}  // namespace gpuaas
