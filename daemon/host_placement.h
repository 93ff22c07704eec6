// The host tier as the store sees it: slots in the shared pool, one LRU list
// per size class of the host copies that may leave, and the payload bytes of
// those slots.
//
// A block is in its class's list while it is ready, unpinned, resident on the
// host and not the source of a GPU copy in flight (BlockStore::Relink decides,
// this class only keeps the lists). The back of a list is the least recently
// used host copy: the next to leave when room is needed.
//
// Thread safety: none; the event-loop thread only.
#pragma once

#include <cstdint>
#include <memory>
#include <span>
#include <vector>

#include "daemon/block_entry.h"
#include "daemon/lru_list.h"
#include "tiers/host/host_tier.h"

namespace tierkv {

class HostPlacement {
 public:
  explicit HostPlacement(HostTier* host) : host_(host) {}
  HostPlacement(const HostPlacement&) = delete;
  HostPlacement& operator=(const HostPlacement&) = delete;

  // A free slot for a block of `bytes`, or ResourceExhausted; makes no room.
  Result<TierSlot> Allocate(uint64_t bytes) { return host_->Allocate(bytes); }
  void Free(const TierSlot& slot) { host_->Free(slot); }
  uint32_t SizeClassFor(uint64_t bytes) { return host_->SizeClassFor(bytes); }
  bool HasFreeSlab() const { return host_->HasFreeSlab(); }

  void Link(BlockEntry* e) { Lru(e->host_slot.size_class).PushFront(e); }
  void Unlink(BlockEntry* e) { Lru(e->host_slot.size_class).Unlink(e); }
  // The size classes that have had a list so far, and each one's list.
  size_t size_classes() const { return lru_by_class_.size(); }
  LruList<BlockEntry>& Lru(uint32_t size_class);

  // A block's host copy (reserved, resident or being promoted into).
  std::span<std::byte> Payload(const BlockEntry& e) const {
    return {host_->At(e.host_slot.offset), e.bytes};
  }
  // Copies `src` (e->bytes long) into a reserved block's slot.
  void CopyIn(const BlockEntry& e, std::span<const uint8_t> src) const;
  // Copies each block's host copy to `out`, one after another.
  void CopyOut(std::span<const BlockEntry* const> entries, uint8_t* out) const;

  HostTier& tier() { return *host_; }
  const HostTier& tier() const { return *host_; }

 private:
  HostTier* host_;
  std::vector<std::unique_ptr<LruList<BlockEntry>>> lru_by_class_;
};

}  // namespace tierkv
