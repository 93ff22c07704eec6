// A PrefixCache backed by tierkvd through libtierkv.
//
// Lookup asks with prefetch (NVMe-resident blocks start moving up at once);
// Load pins the prefix with a lease and copies each block straight from the
// daemon's shared pool (or the TCP reply) into its KV page, then unpins;
// Borrow pins it with a lease and lends the leased bytes in place (the shared
// pool's slots; over TCP the reply's bytes) until the borrow is destroyed;
// Store reserves slots for the chain, writes only the blocks the daemon does
// not have yet, and commits; once the engine has borrowed from the daemon's
// GPU tier, stored blocks are copied up to it as well.
//
// Thread safety: libtierkv's Client serializes requests, so Store() may run on
// the engine's background thread.
#pragma once

#include <atomic>
#include <memory>

#include "core/prefix_cache.h"
#include "tierkv/client.h"

namespace tierkv::core {

class DaemonPrefixCache : public PrefixCache {
 public:
  // Connects and opens the namespace; Unavailable when the daemon cannot be reached.
  static Result<std::unique_ptr<DaemonPrefixCache>> Open(const ConnectOptions& options,
                                                         const NamespaceSpec& spec);

  Key128 namespace_id() const override { return ns_.id; }
  Result<uint32_t> Lookup(std::span<const Key128> keys, std::span<const TokenId> tokens) override;
  Result<uint32_t> Load(std::span<const Key128> keys, std::span<const TokenId> tokens,
                        std::span<const std::span<std::byte>> dst) override;
  // With options.device_pool, blocks on the daemon's GPU tier are lent from
  // it, and the daemon starts copying the others up for the next borrow.
  Result<BorrowedBlocks> Borrow(std::span<const Key128> keys, std::span<const TokenId> tokens,
                                const BorrowOptions& options) override;
  // The daemon's GPU tier (Client::GpuPool); Unavailable with the daemon's
  // reason when it runs without one.
  Result<SharedDevicePool> shared_device_pool() override;
  // The daemon's shared pool mapped here (empty over TCP).
  std::span<std::byte> shared_host_region() const override { return client_->shared_pool(); }
  Status Store(std::span<const Key128> keys, std::span<const TokenId> tokens,
               std::span<const std::span<const std::byte>> src) override;

  Client& client() { return *client_; }
  const Namespace& ns() const { return ns_; }

 private:
  DaemonPrefixCache(std::unique_ptr<Client> client, Namespace ns)
      : client_(std::move(client)), ns_(ns) {}

  std::unique_ptr<Client> client_;
  Namespace ns_;
  // Set by the first Borrow that reads the device pool; read by Store, which
  // the engine runs on its background thread.
  std::atomic<bool> stores_to_device_pool_{false};
};

}  // namespace tierkv::core
