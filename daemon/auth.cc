#include "daemon/auth.h"

#include <spdlog/spdlog.h>

namespace tierkv {

bool ConstantTimeEquals(std::string_view given, std::string_view expected) {
  // Every byte of `expected` is compared whatever the lengths; a length
  // mismatch is folded into the same accumulator instead of returning early.
  unsigned diff = given.size() != expected.size();
  for (size_t i = 0; i < expected.size(); ++i) {
    const unsigned char g = i < given.size() ? static_cast<unsigned char>(given[i]) : 0;
    diff |= g ^ static_cast<unsigned char>(expected[i]);
  }
  return diff == 0;
}

bool IsAdmin(const AdminPolicy& policy, std::string_view offered_token,
             std::optional<uid_t> peer_uid, bool* wrong_token) {
  bool admin = false;
  *wrong_token = false;
  if (!offered_token.empty()) {
    admin = !policy.admin_token.empty() && ConstantTimeEquals(offered_token, policy.admin_token);
    *wrong_token = !admin;
  }
  if (peer_uid && (*peer_uid == 0 || *peer_uid == policy.daemon_uid)) admin = true;
  return admin;
}

void AuthFailures::Record(std::string_view what) {
  ++count_;
  uint64_t unlogged = 0;
  if (!log_.ShouldLog(&unlogged)) return;
  if (unlogged > 0) {
    spdlog::warn("credentials refused: {} ({} more refusals not logged)", what, unlogged);
  } else {
    spdlog::warn("credentials refused: {}", what);
  }
}

}  // namespace tierkv
