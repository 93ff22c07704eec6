// The NVMe tier as the store sees it: moving host copies down (demotion, in
// the background or to make room), NVMe copies up (promotion), flushing, and
// replaying the tier's index at start-up. It keeps the LRU list of the blocks
// that are on NVMe only.
//
// Every movement is asynchronous: a Start* call submits the IO and returns;
// its completion runs later, from Reap() (the event loop's NVMe pump) or
// Drain(), never inside the call that started it. A block being moved stays
// readable from where it was: a demoted block keeps its host copy until it is
// made to leave (its copy is then clean), a promoted block is in no LRU list
// until its read completes, so nothing can free the slot being read into.
//
// Cleaning: when host use passes `clean_above`, Clean() starts demotions of
// LRU-tail host blocks (at most `max_cleaning_writes` NVMe writes in flight),
// so that making room later finds clean blocks. A full NVMe tier drops its own
// least recently used NVMe-only blocks to fit a write.
//
// Thread safety: none; the event-loop thread only.
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <span>
#include <unordered_map>
#include <vector>

#include "daemon/block_entry.h"
#include "daemon/block_index.h"
#include "daemon/block_lifecycle.h"
#include "daemon/host_placement.h"
#include "daemon/lru_list.h"
#include "daemon/store_counters.h"
#include "daemon/store_observer.h"
#include "tiers/nvme/nvme_store.h"

namespace tierkv {

struct CleaningOptions {
  // Background cleaning (writing host blocks to NVMe) starts above this
  // fraction of host capacity in use.
  double clean_above = 0.75;
  // Background cleaning starts no write while this many NVMe writes (of any
  // kind) are in flight.
  uint32_t max_cleaning_writes = 16;
};

// What a flush did: how many blocks it wrote, and the first error.
struct FlushResult {
  uint64_t written = 0;
  Status first_error;
};

class NvmeMover {
 public:
  // None of the pointers is owned; all must outlive the mover.
  NvmeMover(nvme::NvmeStore* nvme, BlockIndex* index, HostPlacement* host, StoreCounters* counters,
            const StoreEvents* events, BlockLifecycle* store, CleaningOptions options);
  NvmeMover(const NvmeMover&) = delete;
  NvmeMover& operator=(const NvmeMover&) = delete;

  // Adds a block found in the NVMe index at start-up. Replaying records
  // oldest first rebuilds the LRU order.
  void Replay(const nvme::BlockRecord& record);

  // The LRU list of blocks on NVMe only.
  void Link(BlockEntry* e) { lru_.PushFront(e); }
  void Unlink(BlockEntry* e) { lru_.Unlink(e); }

  // Starts demotions of LRU-tail host blocks when host use is above the
  // cleaning mark.
  void Clean();
  // What a host copy that must leave (to make room) needs first.
  enum class Leave {
    kNow,      // it is clean: drop the host copy
    kWaiting,  // its NVMe write is in flight: retry after the next completions
    kDrop,     // no write can be in flight (too large, a write error): drop the block
  };
  // Makes a host copy that must leave clean: starts its NVMe write unless one
  // is in flight. If that write fails, its completion drops the block (which
  // can then neither stay nor go), unless the block was pinned or touched meanwhile.
  Leave PrepareToLeave(BlockEntry* e);
  // Starts reading an NVMe-only, unpinned block into `slot` (a free host slot
  // of its size). False when it cannot start: the slot is freed, and a block
  // NVMe no longer has is dropped.
  bool StartPromotion(BlockEntry* e, const TierSlot& slot);
  // Runs `waiter` when the movement in flight for `key` (a promotion or a
  // demotion) ends, from the completion. False, and `waiter` is dropped, when
  // none is in flight.
  bool WhenSettled(const Key128& key, std::function<void()> waiter);

  // Writes every ready host block without an NVMe copy and waits for the
  // writes in flight. The result comes at once when nothing had to be waited
  // for; otherwise nullopt, and `done` gets it from the last completion.
  std::optional<FlushResult> Flush(std::function<void(FlushResult)> done);

  // Part of dropping `e` everywhere: removes its NVMe copy, or abandons its
  // write in flight (whose completion then finds no block).
  void Forget(const BlockEntry& e);

  // Runs NVMe completions (the event loop calls this when event_fd() is readable).
  void Reap() { nvme_->ReapCompletions(); }
  // Waits for every NVMe request and runs its completion.
  void Drain() { nvme_->Drain(); }
  int event_fd() const { return nvme_->event_fd(); }
  nvme::NvmeStats Stats() const { return nvme_->Stats(); }
  uint64_t writes_in_flight() const { return writes_in_flight_; }

 private:
  struct Movement {
    std::vector<std::function<void()>> waiters;
    bool drop_if_failed = false;  // a demotion of a block that must leave
  };

  // Starts writing e's host copy, dropping NVMe LRU blocks to fit; `done`
  // (may be empty) runs after the mover's own bookkeeping (OnWritten).
  Status StartWrite(BlockEntry* e, std::function<void(Status)> done);
  void OnWritten(const Key128& key, const Status& s);
  void OnPromoted(const Key128& key, const Status& s);
  // Runs and forgets the waiters of `key`'s movement.
  void Settle(const Key128& key);
  // Drops the least recently used NVMe-only block; false if none.
  bool DropLru();

  nvme::NvmeStore* nvme_;
  BlockIndex* index_;
  HostPlacement* host_;
  StoreCounters* counters_;
  const StoreEvents* events_;
  BlockLifecycle* store_;
  CleaningOptions options_;
  LruList<BlockEntry> lru_;
  std::unordered_map<Key128, Movement, Key128Hash> moving_;
  uint64_t writes_in_flight_ = 0;
};

}  // namespace tierkv
