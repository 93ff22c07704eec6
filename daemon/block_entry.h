// What the daemon keeps for one block: its identity (key, parent, namespace,
// tokens: what a verified hit compares), where its copies are (Residency and
// the slots), its pins and its places in the LRU lists.
//
// Entries are owned by the BlockIndex (daemon/block_index.h) and keep their
// address from insertion to erasure, so the store's parts, leases and
// reservations refer to them by pointer.
#pragma once

#include <cstdint>
#include <span>
#include <vector>

#include "daemon/lru_list.h"
#include "daemon/residency.h"
#include "tierkv/keys.h"
#include "tierkv/tier_kind.h"
#include "tiers/tier_slot.h"

namespace tierkv {

// Links a block into its GPU size class's LRU. The default hook (LruHook)
// links it into its host size class's LRU while it has a host copy, and into
// the NVMe LRU while it has none.
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

  Residency residency = Residency::Reserved();
  uint32_t pins = 0;
  TierSlot host_slot;  // valid while the host copy is reserved, resident or promoting
  TierSlot gpu_slot;   // valid while the GPU copy is filling or resident

  // The fastest tier holding a readable copy.
  TierKind tier() const { return residency.fastest(); }

 private:
  friend class BlockIndex;
  // Only the index makes entries, each in a record with room for its tokens.
  BlockEntry() = default;
  ~BlockEntry() = default;
  uint32_t token_count_ = 0;
};
static_assert(sizeof(BlockEntry) % alignof(TokenId) == 0, "tokens follow the entry");

}  // namespace tierkv
