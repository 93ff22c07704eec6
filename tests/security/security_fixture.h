// The attack suite's fixture: a real tierkvd (with the flags a test's attack
// needs), blocks stored by their owner before the attack, and the check every
// attack test ends with: each of those blocks is still found byte-exact by
// its owner, and the daemon still serves.
#pragma once

#include <gtest/gtest.h>

#include <memory>
#include <string>
#include <vector>

#include "tests/integration/daemon_process.h"
#include "tests/security/raw_client.h"

namespace tierkv::testing {

class SecurityTest : public ::testing::Test {
 protected:
  static constexpr uint64_t kBlockBytes = 64 * 1024;
  static constexpr size_t kOwnerBlocks = 4;

  // Starts the daemon with `flags` added to the test defaults and stores the
  // owner's blocks (tenant "default", over the Unix socket).
  void StartDaemon(std::vector<std::string> flags = {});
  // Every block the owner stored is found by the owner, byte-exact.
  void ExpectOwnerBlocksByteExact();

  std::unique_ptr<RawClient> RawUnix() const {
    return std::make_unique<RawClient>(daemon_->socket_path());
  }
  std::unique_ptr<RawClient> RawTcp() const {
    return std::make_unique<RawClient>(daemon_->tcp_address());
  }
  DaemonProcess& daemon() { return *daemon_; }

 private:
  std::unique_ptr<DaemonProcess> daemon_;
  Prompt owner_prompt_;
  std::vector<std::byte> owner_payload_;
};

}  // namespace tierkv::testing
