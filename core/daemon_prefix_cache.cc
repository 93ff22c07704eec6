#include "core/daemon_prefix_cache.h"

#include <cstring>
#include <span>
#include <string>
#include <utility>
#include <vector>

#include "base/shared_memory.h"

namespace tierkv::core {
namespace {

// A borrow's hold on its blocks: the lease that pins them in the daemon.
class LeaseHold : public BorrowedBlocks::Hold {
 public:
  explicit LeaseHold(Lease lease) : lease_(std::move(lease)) {}

 private:
  Lease lease_;
};

// Faults in the pages of the blocks of a lease (or reservation) in one call
// per run of adjacent blocks, rather than one fault per page as the copy
// reaches it. Empty payloads (GPU blocks, slots already stored) are skipped.
template <typename PayloadAt>
void PrefaultBlocks(size_t n, PayloadAt payload_at, bool for_write) {
  const std::byte* run_begin = nullptr;
  const std::byte* run_end = nullptr;
  for (size_t i = 0; i <= n; ++i) {
    std::span<const std::byte> p;
    if (i < n) p = payload_at(i);
    if (i < n && !p.empty() && p.data() == run_end) {
      run_end += p.size();
      continue;
    }
    if (run_begin != nullptr) {
      SharedMemory::PrefaultRange({run_begin, static_cast<size_t>(run_end - run_begin)}, for_write);
    }
    run_begin = p.empty() ? nullptr : p.data();
    run_end = p.empty() ? nullptr : p.data() + p.size();
  }
}

}  // namespace

Result<std::unique_ptr<DaemonPrefixCache>> DaemonPrefixCache::Open(const ConnectOptions& options,
                                                                   const NamespaceSpec& spec) {
  // An engine reads a few prefixes of what may be a large pool: it maps only
  // the pages of the blocks it reads or writes (PrefaultRange on each lease
  // and reservation), not the whole pool at connect.
  ConnectOptions engine_options = options;
  engine_options.map_pool_lazily = true;
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
  if (client_->is_local()) {
    PrefaultBlocks(
        n, [&](size_t i) { return lease->payload(i); }, /*for_write=*/false);
  }
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
  if (client_->is_local()) {
    PrefaultBlocks(
        lease.size(), [&](size_t i) { return lease.payload(i); }, /*for_write=*/false);
  }
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
  if (client_->is_local()) {
    PrefaultBlocks(
        res->size(), [&](size_t i) -> std::span<const std::byte> { return res->payload(i); },
        /*for_write=*/true);
  }
  for (size_t i = 0; i < res->size(); ++i) {
    const std::span<std::byte> slot = res->payload(i);
    if (slot.empty()) continue;  // already stored
    if (slot.size() != src[i].size()) return Status::Internal("reserved slot of the wrong size");
    std::memcpy(slot.data(), src[i].data(), slot.size());
  }
  return res->Commit();
}

}  // namespace tierkv::core
