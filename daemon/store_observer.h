// What the block store tells observers (the KV event stream) about where
// blocks are: each copy a block gains or loses on a medium, as it happens, on
// the daemon's event-loop thread. A block moving between tiers is a copy
// added on one medium and, when the old one goes, a copy removed on the other.
//
// The store calls an observer only when one is attached (StoreEvents: one
// null check per transition otherwise); calls must return at once (append to
// a batch), since they run inside the store's hot paths.
#pragma once

#include <cstdint>
#include <string_view>

#include "daemon/block_entry.h"

namespace tierkv {

// Where a copy lives, in the names vLLM's KV events use for media.
enum class Medium : uint8_t { kGpu, kCpu, kDisk };

// "GPU", "CPU", "DISK".
std::string_view MediumName(Medium medium);

class StoreObserver {
 public:
  // `e` has a readable copy on `medium` now: committed or promoted to the host,
  // durable on NVMe (written, or found there at start-up), copied up to the GPU.
  virtual void OnCopyAdded(const BlockEntry& e, Medium medium) = 0;
  // `e`'s copy on `medium` is gone: dropped to make room, evicted, demoted,
  // or failed its checksum. Called before the entry is erased.
  virtual void OnCopyRemoved(const BlockEntry& e, Medium medium) = 0;
  // Nothing an earlier run of this daemon published holds any more (start-up).
  virtual void OnAllCleared() = 0;

 protected:
  ~StoreObserver() = default;
};

// The observer the store and its parts (NvmeMover, GpuMirror) share; the
// store owns it, so one attached later is seen by every part.
class StoreEvents {
 public:
  void set_observer(StoreObserver* observer) { observer_ = observer; }
  StoreObserver* observer() const { return observer_; }

  void Added(const BlockEntry& e, Medium medium) const {
    if (observer_) observer_->OnCopyAdded(e, medium);
  }
  void Removed(const BlockEntry& e, Medium medium) const {
    if (observer_) observer_->OnCopyRemoved(e, medium);
  }

 private:
  StoreObserver* observer_ = nullptr;
};

}  // namespace tierkv
