// The GPU tier as the store sees it: copies of host blocks in device memory
// for the clients that read it, each size class with its own LRU list.
//
// Inclusive above the host tier: a GPU copy is only ever made from, and never
// outlives, the block's host copy. Leaving the GPU tier drops the device copy
// and the block stays on the host; leaving the host tier drops the GPU copy
// first (the store calls DropCopy). A block whose host copy is being copied up
// is in no host list, so nothing frees the copy's source while it is read.
//
// Copies run on the GPU tier's stream; their completions run from Reap() (the
// event loop's GPU pump) or Drain(), never inside the call that started them.
//
// Thread safety: none; the event-loop thread only.
#pragma once

#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <vector>

#include "daemon/block_entry.h"
#include "daemon/block_index.h"
#include "daemon/block_lifecycle.h"
#include "daemon/host_placement.h"
#include "daemon/lru_list.h"
#include "daemon/store_counters.h"
#include "daemon/store_observer.h"
#include "tiers/gpu/gpu_tier.h"

namespace tierkv {

// What an engine on the same GPU needs to open the tier's pool.
struct GpuPoolExport {
  DevicePoolExport pool;
  std::string description;
};

class GpuMirror {
 public:
  // None of the pointers is owned; all must outlive the mirror.
  GpuMirror(GpuTier* gpu, BlockIndex* index, HostPlacement* host, StoreCounters* counters,
            const StoreEvents* events, BlockLifecycle* store);
  GpuMirror(const GpuMirror&) = delete;
  GpuMirror& operator=(const GpuMirror&) = delete;

  void Link(BlockEntry* e) { Lru(e->gpu_slot.size_class).PushFront(e); }
  void Unlink(BlockEntry* e) { Lru(e->gpu_slot.size_class).Unlink(e); }

  // Starts GPU copies of the host-resident blocks among `entries` that have
  // none; room is made by dropping least recently used GPU copies. A block
  // that cannot get one stays on the host.
  void StartFills(std::span<BlockEntry* const> entries);
  // Drops a block's GPU copy (it must have one); the block stays on the host.
  void DropCopy(BlockEntry* e);
  // Part of dropping `e` everywhere: drops its GPU copy; a copy in flight
  // frees its own slot when it completes.
  void Forget(BlockEntry* e);

  // Runs copy completions (the event loop calls this when event_fd() is readable).
  void Reap() { gpu_->memory().ReapCompletions(); }
  // Waits for every copy in flight and runs its completion.
  void Drain() { gpu_->memory().Drain(); }
  int event_fd() const { return gpu_->memory().event_fd(); }

  Result<GpuPoolExport> Export() const;
  const GpuTier& tier() const { return *gpu_; }
  std::string description() const { return gpu_->memory().description(); }
  size_t copies_in_flight() const { return gpu_->memory().copies_in_flight(); }

 private:
  LruList<BlockEntry, GpuLruHook>& Lru(uint32_t size_class);
  bool StartFill(BlockEntry* e);
  void OnFilled(const Key128& key, const TierSlot& slot, const Status& s);
  // Frees room for one block of `size_class` by dropping GPU copies, least
  // recently used first; false when none can go.
  bool MakeRoom(uint32_t size_class);

  GpuTier* gpu_;
  BlockIndex* index_;
  HostPlacement* host_;
  StoreCounters* counters_;
  const StoreEvents* events_;
  BlockLifecycle* store_;
  std::vector<std::unique_ptr<LruList<BlockEntry, GpuLruHook>>> lru_by_class_;
};

}  // namespace tierkv
