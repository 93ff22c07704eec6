// Status and Result<T>: how every tierkv operation reports success or failure.
//
// A Status is returned, never thrown. It is cheap when OK (no allocation) and
// carries a code from a closed enum plus a human-readable message otherwise.
// The mapping between codes and wire status codes lives in protocol/status_codes.cc
// and nowhere else.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <variant>

namespace tierkv {

enum class StatusCode : uint16_t {
  kOk = 0,
  kInvalidArgument = 1,    // the request is malformed or names something impossible
  kNotFound = 2,           // an unknown key, namespace, lease or reservation
  kResourceExhausted = 3,  // a tier is full (every block pinned) or a limit is hit
  kCorruption = 4,         // stored bytes failed their checksum; they are dropped
  kIOError = 5,            // the OS refused a read or write
  kPermissionDenied = 6,   // credentials do not allow this operation
  kUnavailable = 7,        // the daemon cannot be reached or is shutting down
  kProtocolError = 8,      // a frame could not be decoded
  kInternal = 9,           // a bug: an invariant did not hold
  kAlreadyExists = 10,     // the block is already stored (put is idempotent)
  kUnsupported = 11,       // a version or feature this build does not have
};

// Returns a stable, lower-case name for `code` ("ok", "not_found", ...).
std::string_view StatusCodeName(StatusCode code);

class [[nodiscard]] Status {
 public:
  Status() = default;  // OK
  Status(StatusCode code, std::string_view message);

  static Status Ok() { return Status(); }
  static Status InvalidArgument(std::string_view msg) { return {StatusCode::kInvalidArgument, msg}; }
  static Status NotFound(std::string_view msg) { return {StatusCode::kNotFound, msg}; }
  static Status ResourceExhausted(std::string_view msg) {
    return {StatusCode::kResourceExhausted, msg};
  }
  static Status Corruption(std::string_view msg) { return {StatusCode::kCorruption, msg}; }
  static Status IOError(std::string_view msg) { return {StatusCode::kIOError, msg}; }
  static Status PermissionDenied(std::string_view msg) {
    return {StatusCode::kPermissionDenied, msg};
  }
  static Status Unavailable(std::string_view msg) { return {StatusCode::kUnavailable, msg}; }
  static Status ProtocolError(std::string_view msg) { return {StatusCode::kProtocolError, msg}; }
  static Status Internal(std::string_view msg) { return {StatusCode::kInternal, msg}; }
  static Status AlreadyExists(std::string_view msg) { return {StatusCode::kAlreadyExists, msg}; }
  static Status Unsupported(std::string_view msg) { return {StatusCode::kUnsupported, msg}; }
  // errno is turned into a Status here and nowhere else. `context` names the
  // operation ("open /data/slab.0").
  static Status FromErrno(int err, std::string_view context);

  bool ok() const { return state_ == nullptr; }
  StatusCode code() const { return state_ ? state_->code : StatusCode::kOk; }
  std::string_view message() const { return state_ ? std::string_view(state_->message) : ""; }
  bool IsNotFound() const { return code() == StatusCode::kNotFound; }
  bool IsResourceExhausted() const { return code() == StatusCode::kResourceExhausted; }
  bool IsCorruption() const { return code() == StatusCode::kCorruption; }
  bool IsIOError() const { return code() == StatusCode::kIOError; }
  bool IsInvalidArgument() const { return code() == StatusCode::kInvalidArgument; }

  // "not_found: no such namespace" or "ok".
  std::string ToString() const;

 private:
  struct State {
    StatusCode code;
    std::string message;
  };
  std::shared_ptr<const State> state_;  // null when OK
};

// Result<T> holds either a value or a non-OK Status.
template <typename T>
class [[nodiscard]] Result {
 public:
  Result(T value) : value_(std::move(value)) {}  // NOLINT: implicit by design
  Result(Status status) : status_(std::move(status)) {}  // NOLINT: implicit by design

  bool ok() const { return status_.ok(); }
  const Status& status() const { return status_; }
  T& value() & { return *value_; }
  const T& value() const& { return *value_; }
  T&& value() && { return std::move(*value_); }
  T* operator->() { return &*value_; }
  const T* operator->() const { return &*value_; }
  T& operator*() & { return *value_; }
  const T& operator*() const& { return *value_; }

 private:
  Status status_;
  std::optional<T> value_;
};

}  // namespace tierkv

// Returns early from the enclosing function with the status of `expr` if it is not OK.
#define TIERKV_RETURN_IF_ERROR(expr)          \
  do {                                        \
    ::tierkv::Status tierkv_status_ = (expr); \
    if (!tierkv_status_.ok()) return tierkv_status_; \
  } while (0)

#define TIERKV_CONCAT_INNER_(a, b) a##b
#define TIERKV_CONCAT_(a, b) TIERKV_CONCAT_INNER_(a, b)
// Assigns the value of a Result expression to `lhs`, or returns its status.
#define TIERKV_ASSIGN_OR_RETURN(lhs, expr)                                      \
  auto TIERKV_CONCAT_(tierkv_result_, __LINE__) = (expr);                       \
  if (!TIERKV_CONCAT_(tierkv_result_, __LINE__).ok())                           \
    return TIERKV_CONCAT_(tierkv_result_, __LINE__).status();                   \
  lhs = std::move(TIERKV_CONCAT_(tierkv_result_, __LINE__)).value()
