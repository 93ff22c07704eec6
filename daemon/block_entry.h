// What the daemon keeps for one block: its identity (key, parent, namespace,
// tokens: what a verified hit compares), where its payload lives, its pins and
// its places in the LRU lists.
//
// Entries are owned by the BlockIndex (daemon/block_index.h) and keep their
// address from insertion to erasure, so the store's parts, leases and
// reservations refer to them by pointer.
#pragma once

#include <cstdint>
#include <functional>
#include <span>
#include <vector>

#include "daemon/lru_list.h"
#include "tierkv/keys.h"
#include "tierkv/tier_kind.h"
#include "tiers/tier.h"

namespace tierkv {

enum class BlockState : uint8_t { kWriting, kReady };

// Links a block into its GPU size class's LRU, beside its host or NVMe list.
using GpuLruHook = BasicLruHook<struct GpuLruTag>;

struct BlockEntry : LruHook, GpuLruHook {
  // Identity: set when the index creates the entry, never changed after.
  Key128 key;
  Key128 parent;
  Key128 ns_id;
  uint64_t bytes = 0;
  // The block's tokens, kept right after the entry in the same record.
  std::span<const TokenId> tokens() const {
    return {reinterpret_cast<const TokenId*>(this + 1), token_count_};
  }

  TierSlot host_slot;  // valid while on_host or promoting
  TierSlot gpu_slot;   // valid while on_gpu or gpu_filling
  BlockState state = BlockState::kWriting;
  bool on_gpu = false;       // a GPU copy exists (then on_host too)
  bool gpu_filling = false;  // the host copy is being copied into gpu_slot
  bool on_host = false;
  bool on_nvme = false;    // a durable, indexed NVMe copy exists
  bool demoting = false;   // an NVMe write of the host copy is in flight
  bool promoting = false;  // an NVMe read into host_slot is in flight
  uint32_t pins = 0;
  // Run when the movement in flight (demotion or promotion) ends, also when
  // the block is dropped meanwhile.
  std::vector<std::function<void()>> move_waiters;

  // The fastest tier holding the block.
  TierKind tier() const {
    return on_gpu ? TierKind::kGpu : on_host ? TierKind::kHost : TierKind::kNvme;
  }

 private:
  friend class BlockIndex;
  // Only the index makes entries, each in a record with room for its tokens.
  BlockEntry() = default;
  ~BlockEntry() = default;
  uint32_t token_count_ = 0;
};
static_assert(sizeof(BlockEntry) % alignof(TokenId) == 0, "tokens follow the entry");

}  // namespace tierkv
