// The attack suite's fixture (tests/security/): a real tierkvd with two
// tenants that hold tokens (acme and globex), an admin token unless a test
// asks for none, a TCP listener and the flags a test's attack needs; blocks
// each tenant stored before the attack; and the check every attack test ends
// with, in TearDown: each of those blocks is still found byte-exact by its
// owner, and the daemon still serves.
//
// An attack test calls StartDaemon first, uses a RawClient
// (tests/security/raw_client.h) for frames the C++ client would never send,
// asserts that the attack fails, and leaves the rest to TearDown.
#pragma once

#include <gtest/gtest.h>

#include <memory>
#include <string>
#include <vector>

#include "protocol/messages.h"
#include "tests/integration/daemon_process.h"
#include "tests/security/raw_client.h"

namespace tierkv::testing {

inline constexpr char kAcmeToken[] = "acme-secret-token";
inline constexpr char kGlobexToken[] = "globex-secret-token";
inline constexpr char kAdminToken[] = "admin-secret-token";

class SecurityTest : public ::testing::Test {
 protected:
  static constexpr uint64_t kBlockBytes = 64 * 1024;
  static constexpr uint32_t kBlockTokens = 16;
  static constexpr size_t kStoredBlocks = 4;

  // A tenant whose blocks were stored before the attack.
  struct Victim {
    std::string tenant;
    std::string token;
    std::unique_ptr<Client> client;  // the connection that stored them
    Namespace ns;                    // its handle is that connection's
    Prompt prompt;
    std::vector<std::byte> payload;
    bool stored = false;
  };

  enum class AdminToken { kConfigured, kNone };

  // Starts the daemon with `flags` added to the suite's (tenants, TCP, and
  // the admin token unless kNone: the shipped config has none) and stores
  // each victim's blocks.
  void StartDaemon(std::vector<std::string> flags = {}, AdminToken admin = AdminToken::kConfigured);
  void TearDown() override;
  // Every block stored by StartDaemon is found byte-exact by its owner, on a
  // fresh connection (the owner's own may have been the attack's target).
  void ExpectStoredBlocksIntact();
  // Closes the victims' connections, for attacks that count connections.
  void CloseVictimConnections();

  // A client of the C++ library with these credentials (Unix socket, or TCP).
  std::unique_ptr<Client> ConnectAs(const std::string& tenant_token,
                                    const std::string& admin_token = "", bool tcp = false) const;
  // A raw client, connected and greeted with these credentials.
  std::unique_ptr<RawClient> RawAs(const std::string& tenant_token,
                                   const std::string& admin_token = "", bool tcp = false) const;
  // A raw client, connected and not greeted.
  std::unique_ptr<RawClient> RawUnix() const {
    return std::make_unique<RawClient>(daemon_->socket_path());
  }
  std::unique_ptr<RawClient> RawTcp() const {
    return std::make_unique<RawClient>(daemon_->tcp_address());
  }
  // The open_namespace request for a tenant's test namespace.
  static wire::OpenNamespaceRequest SpecFor(const std::string& tenant);
  // The chain of `prompt`'s blocks under `parent` (for lookup, acquire, reserve).
  static wire::BlockChain ChainOf(const Prompt& prompt, const Key128& parent);

  DaemonProcess& daemon() { return *daemon_; }

  std::unique_ptr<DaemonProcess> daemon_;
  Victim acme_;
  Victim globex_;

 private:
  void StoreVictim(Victim* v, uint64_t seed);
  std::string config_path_;
};

}  // namespace tierkv::testing
