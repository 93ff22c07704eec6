#include "core/daemon_prefix_cache.h"

#include <cstring>
#include <string>
#include <utility>
#include <vector>

namespace tierkv::core {
namespace {

// A borrow's hold on its blocks: the lease that pins them in the daemon.
class LeaseHold : public BorrowedBlocks::Hold {
 public:
  explicit LeaseHold(Lease lease) : lease_(std::move(lease)) {}

 private:
  Lease lease_;
};

}  // namespace

Result<std::unique_ptr<DaemonPrefixCache>> DaemonPrefixCache::Open(const ConnectOptions& options,
                                                                   const NamespaceSpec& spec) {
  // An engine reads cached prefixes on its first request: pay the pool's
  // first-touch cost at start-up instead (ConnectOptions::touch_pool).
  ConnectOptions engine_options = options;
  engine_options.touch_pool = true;
  auto client = Client::Connect(engine_options);
  if (!client.ok()) return client.status();
  auto ns = (*client)->OpenNamespace(spec);
  if (!ns.ok()) return ns.status();
  if (ns->block_bytes != spec.block_bytes || ns->block_tokens != spec.block_tokens) {
    return Status::Internal("daemon opened the namespace with another block size");
  }
  return std::unique_ptr<DaemonPrefixCache>(new DaemonPrefixCache(std::move(client).value(), *ns));
}

Result<uint32_t> DaemonPrefixCache::Lookup(std::span<const Key128> keys,
                                           std::span<const TokenId> tokens) {
  auto hit = client_->Lookup(ns_, keys, tokens, {.prefetch = true});
  if (!hit.ok()) return hit.status();
  return hit->matched_blocks;
}

Result<uint32_t> DaemonPrefixCache::Load(std::span<const Key128> keys,
                                         std::span<const TokenId> tokens,
                                         std::span<const std::span<std::byte>> dst) {
  auto lease = client_->Acquire(ns_, keys, tokens, static_cast<uint32_t>(dst.size()));
  if (!lease.ok()) return lease.status();
  const size_t n = std::min(lease->size(), dst.size());
  for (size_t i = 0; i < n; ++i) {
    const std::span<const std::byte> p = lease->payload(i);
    if (p.size() != dst[i].size()) {
      return Status::Internal("lease block of " + std::to_string(p.size()) + " bytes, page of " +
                              std::to_string(dst[i].size()));
    }
    std::memcpy(dst[i].data(), p.data(), p.size());
  }
  TIERKV_RETURN_IF_ERROR(lease->Release());
  return static_cast<uint32_t>(n);
}

Result<BorrowedBlocks> DaemonPrefixCache::Borrow(std::span<const Key128> keys,
                                                 std::span<const TokenId> tokens,
                                                 const BorrowOptions& options) {
  // A reader of the device pool will read what it stores again soon: from
  // now on its stores go up to the GPU tier too.
  if (options.device_pool) stores_to_device_pool_.store(true, std::memory_order_relaxed);
  TIERKV_ASSIGN_OR_RETURN(Lease lease,
                          client_->Acquire(ns_, keys, tokens, static_cast<uint32_t>(keys.size()),
                                           AcquireOptions{.gpu = options.device_pool}));
  std::vector<BorrowedBlock> blocks(lease.size());
  for (size_t i = 0; i < lease.size(); ++i) {
    if (lease.location(i) == TierKind::kGpu) {
      blocks[i].in_device_pool = true;
      blocks[i].device_pool_offset = lease.gpu_offset(i);
      continue;
    }
    blocks[i].host_bytes = lease.payload(i);
    if (blocks[i].host_bytes.size() != ns_.block_bytes) {
      return Status::Internal("lease block of " + std::to_string(blocks[i].host_bytes.size()) +
                              " bytes in a namespace of " + std::to_string(ns_.block_bytes));
    }
  }
  // Moving the lease keeps its views valid: they point into the shared pool or
  // into the lease's own heap buffer, neither of which moves.
  return BorrowedBlocks(std::move(blocks), std::make_unique<LeaseHold>(std::move(lease)));
}

Result<SharedDevicePool> DaemonPrefixCache::shared_device_pool() {
  TIERKV_ASSIGN_OR_RETURN(GpuPoolInfo pool, client_->GpuPool());
  return SharedDevicePool{pool.device, pool.pci_bus_id, pool.ipc_handle, pool.pool_bytes};
}

Status DaemonPrefixCache::Store(std::span<const Key128> keys, std::span<const TokenId> tokens,
                                std::span<const std::span<const std::byte>> src) {
  if (src.size() != keys.size()) return Status::InvalidArgument("store: one payload per key");
  auto res = client_->Reserve(
      ns_, ns_.id, keys, tokens,
      ReserveOptions{.gpu = stores_to_device_pool_.load(std::memory_order_relaxed)});
  if (!res.ok()) return res.status();
  for (size_t i = 0; i < res->size(); ++i) {
    const std::span<std::byte> slot = res->payload(i);
    if (slot.empty()) continue;  // already stored
    if (slot.size() != src[i].size()) return Status::Internal("reserved slot of the wrong size");
    std::memcpy(slot.data(), src[i].data(), slot.size());
  }
  return res->Commit();
}

}  // namespace tierkv::core
