// The interface every storage tier implements: fixed-size slots that hold one
// block payload each. Placement, LRU order, pins and movement between tiers
// live in the daemon (daemon/block_store.h), not here.
//
// Thread safety: tiers are driven from the daemon's single event-loop thread;
// implementations need no locking unless they say otherwise.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <string_view>

#include "tierkv/status.h"

namespace tierkv {

// Where one block lives inside a tier. `size_class` is the tier's own id for
// the slot size; `offset` is a byte offset in the tier's address space.
struct TierSlot {
  uint32_t size_class = 0;
  uint64_t offset = 0;
};

class Tier {
 public:
  virtual ~Tier() = default;

  virtual std::string_view name() const = 0;
  // A slot for a block of `block_bytes`; ResourceExhausted when none is free.
  virtual Result<TierSlot> Allocate(uint64_t block_bytes) = 0;
  // Returns a slot from Allocate. The slot's bytes may be reused at once.
  virtual void Free(const TierSlot& slot) = 0;
  // Copies a slot's first out.size() bytes out / in.size() bytes in.
  virtual Status Read(const TierSlot& slot, std::span<std::byte> out) = 0;
  virtual Status Write(const TierSlot& slot, std::span<const std::byte> in) = 0;

  virtual uint64_t capacity_bytes() const = 0;
  virtual uint64_t used_bytes() const = 0;
};

}  // namespace tierkv
