// Status and Result<T>: the one error currency of GPUaaS (LevelDB style).
// No exceptions cross module boundaries. An expected outcome ("unschedulable", "over quota") is a
// value with a reason, not an error. Thread-safety: plain values, safe to copy across threads.
#pragma once

#include <cassert>
#include <optional>
#include <string>
#include <utility>
#include <variant>

namespace gpuaas {

// Error codes map 1:1 to the contract's error codes and HTTP statuses (see HttpStatusOf).
enum class Code {
  kOk,
  kInvalidArgument,     // 400 bad_request
  kUnauthenticated,     // 401 unauthenticated
  kPermissionDenied,    // 403 forbidden
  kNotFound,            // 404 not_found
  kConflict,            // 409 conflict
  kTooLarge,            // 413 too_large
  kFailedPrecondition,  // 422 unprocessable (valid JSON that breaks a rule)
  kResourceExhausted,   // 429 rate_limited
  kUnavailable,         // 503 unavailable
  kInternal,            // 500 internal
};

class [[nodiscard]] Status {
 public:
  Status() = default;
  Status(Code code, std::string message) : code_(code), message_(std::move(message)) {}

  static Status Ok() { return {}; }
  bool ok() const { return code_ == Code::kOk; }
  Code code() const { return code_; }
  const std::string& message() const { return message_; }
  std::string ToString() const;

 private:
  Code code_ = Code::kOk;
  std::string message_;
};

inline Status InvalidArgument(std::string m) { return {Code::kInvalidArgument, std::move(m)}; }
inline Status Unauthenticated(std::string m) { return {Code::kUnauthenticated, std::move(m)}; }
inline Status PermissionDenied(std::string m) { return {Code::kPermissionDenied, std::move(m)}; }
inline Status NotFound(std::string m) { return {Code::kNotFound, std::move(m)}; }
inline Status Conflict(std::string m) { return {Code::kConflict, std::move(m)}; }
inline Status TooLarge(std::string m) { return {Code::kTooLarge, std::move(m)}; }
inline Status FailedPrecondition(std::string m) {
  return {Code::kFailedPrecondition, std::move(m)};
}
inline Status ResourceExhausted(std::string m) { return {Code::kResourceExhausted, std::move(m)}; }
inline Status Unavailable(std::string m) { return {Code::kUnavailable, std::move(m)}; }
inline Status Internal(std::string m) { return {Code::kInternal, std::move(m)}; }

// The contract's machine-readable code ("not_found") and HTTP status (404) of an error code.
const char* CodeName(Code code);
int HttpStatusOf(Code code);

// Result<T>: a T or a non-OK Status.
template <typename T>
class [[nodiscard]] Result {
 public:
  Result(T value) : v_(std::move(value)) {}        // NOLINT: implicit by design
  Result(Status status) : v_(std::move(status)) {  // NOLINT
    assert(!std::get<Status>(v_).ok());
  }

  bool ok() const { return std::holds_alternative<T>(v_); }
  const Status& status() const {
    static const Status kOk;
    return ok() ? kOk : std::get<Status>(v_);
  }
  T& value() & { return std::get<T>(v_); }
  const T& value() const& { return std::get<T>(v_); }
  T&& value() && { return std::get<T>(std::move(v_)); }
  T* operator->() { return &value(); }
  const T* operator->() const { return &value(); }
  T& operator*() & { return value(); }
  const T& operator*() const& { return value(); }

 private:
  std::variant<T, Status> v_;
};

}  // namespace gpuaas

// Propagates a non-OK Status from an expression returning Status.
#define GPUAAS_RETURN_IF_ERROR(expr) \
  do {                               \
    ::gpuaas::Status _st = (expr);   \
    if (!_st.ok()) return _st;       \
  } while (0)

#define GPUAAS_CONCAT_INNER(a, b) a##b
#define GPUAAS_CONCAT(a, b) GPUAAS_CONCAT_INNER(a, b)
// Declares `lhs` from a Result-returning expression, or returns its Status.
#define GPUAAS_ASSIGN_OR_RETURN(lhs, expr)                                                  \
  auto GPUAAS_CONCAT(_res_, __LINE__) = (expr);                                             \
  if (!GPUAAS_CONCAT(_res_, __LINE__).ok()) return GPUAAS_CONCAT(_res_, __LINE__).status(); \
  lhs = std::move(GPUAAS_CONCAT(_res_, __LINE__)).value()
