// The checks that decide who a connection is (its Credentials,
// daemon/namespace_registry.h).
//
// A connection proves a tenant with its hello's tenant token and admin rights
// with the admin token or, on the Unix socket only, with its peer's uid (the
// daemon's own uid, or root). Tokens are compared in constant time. Every
// failed check is counted, and logged at most once per interval so that a
// client that guesses in a loop cannot flood the log.
//
// Thread safety: none; used from the daemon's event-loop thread only.
#pragma once

#include <sys/types.h>

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "daemon/rate_limited_log.h"

namespace tierkv {

// True when `given` equals `expected`, in a time that depends on the length
// of `expected` only, never on where the two first differ.
bool ConstantTimeEquals(std::string_view given, std::string_view expected);

// What decides admin rights at hello.
struct AdminPolicy {
  std::string admin_token;  // empty: no token makes a connection admin
  uid_t daemon_uid = 0;     // a local peer with this uid (or root) is admin
};

// The admin check of one hello. `peer_uid` is known on the Unix socket only
// (SO_PEERCRED); a TCP connection is admin only with the admin token.
// *wrong_token is set when the client offered an admin token that did not
// match (a failure to count and log, even if the uid makes it admin).
bool IsAdmin(const AdminPolicy& policy, std::string_view offered_token,
             std::optional<uid_t> peer_uid, bool* wrong_token);

// Counts failed credential checks and logs them at most once per interval
// (with how many were not logged since the last line).
class AuthFailures {
 public:
  static constexpr std::chrono::seconds kLogInterval{1};

  // Counts one failure; logs `what` unless a line was logged less than
  // kLogInterval ago.
  void Record(std::string_view what);
  uint64_t count() const { return count_; }

 private:
  uint64_t count_ = 0;
  RateLimitedLog log_{kLogInterval};
};

}  // namespace tierkv
