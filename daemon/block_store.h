// The daemon's index of blocks: placement, LRU order, pins, verification and
// movement between the GPU tier, the host (CPU) tier and the NVMe tier.
//
// Every block the daemon knows has one BlockEntry in `index_`, keyed by its
// block key. An entry is kWriting from reserve until commit (invisible to
// lookups) and kReady after. A ready block lives on the host tier, the NVMe
// tier, or both (`on_host`, `on_nvme`); a host copy that also has a durable
// NVMe copy is "clean" and can leave the host at once.
//
// LRU lists (intrusive, O(1)): a ready, unpinned block whose payload is on
// the host sits in the LRU list of its host size class; one that is only on
// NVMe sits in the NVMe list. Pinning unlinks a block and unpinning links it
// back as the most recent, so eviction never skips pinned blocks. A block
// being promoted is in no list, so nothing can drop it mid-read.
//
// Verified hits: each entry keeps its parent key and tokens, and a lookup
// matches a block only when both equal what the client sent. Reserve checks
// that every key is the hash of its parent and tokens.
//
// Touch order: lookups touch matched blocks from last to first, and commit and
// unpin link them the same way, so a prefix's tail is older than its head and
// is evicted first.
//
// Movement (block_store_movement.cc): when host usage passes the cleaning
// mark, LRU-tail blocks are written to NVMe in the background (still readable
// from the host meanwhile). Making room on the host drops the host copy of the
// least recently used clean block; if the tail is not clean yet, it waits for
// that block's NVMe write (backpressure, never a drop while NVMe has room).
// Acquire of an NVMe-only block promotes it into a host slot first; lookup
// with prefetch starts those promotions at once. A block whose NVMe checksum
// fails is dropped and becomes a miss. When NVMe is full, its LRU blocks are
// dropped.
//
// GPU tier (block_store_gpu.cc), when a device is present: inclusive above
// the host tier. A block gets a GPU copy when a client that can read device
// memory acquires it (the copy runs on the GPU tier's stream; this acquire is
// answered from the host, later ones from the GPU); a GPU copy is only ever
// made from, and never outlives, the block's host copy, so leaving the GPU tier
// (its own LRU, per size class) drops the device copy and the block stays on
// the host, and leaving the host tier drops the GPU copy first. A block whose
// host copy is being copied up is in no host list, so nothing frees the source.
//
// Thread safety: none; the daemon drives a BlockStore from its one event-loop
// thread. NVMe and GPU completion callbacks run on that thread too
// (ReapNvme(), ReapGpu()).
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <span>
#include <vector>

#include "daemon/block_entry.h"
#include "daemon/block_index.h"
#include "daemon/lru_list.h"
#include "daemon/namespace_registry.h"
#include "daemon/store_counters.h"
#include "protocol/messages.h"
#include "tierkv/tier_kind.h"
#include "tiers/gpu/gpu_tier.h"
#include "tiers/host/host_tier.h"
#include "tiers/nvme/nvme_store.h"

namespace tierkv {

struct BlockStoreOptions {
  // Background cleaning (writing host blocks to NVMe) starts above this
  // fraction of host capacity in use.
  double clean_above = 0.75;
  // Background cleaning starts no write while this many NVMe writes (of any
  // kind) are in flight.
  uint32_t max_cleaning_writes = 16;
};

class BlockStore {
 public:
  BlockStore(HostTier* host, BlockStoreOptions options = {});
  ~BlockStore();
  BlockStore(const BlockStore&) = delete;
  BlockStore& operator=(const BlockStore&) = delete;

  // Adds a block found in the NVMe index at start-up (NvmeStore::Open's visit).
  void AddNvmeBlock(const nvme::BlockRecord& record);
  // Attaches the NVMe tier (after Open has replayed its blocks). Not owned.
  void AttachNvme(nvme::NvmeStore* nvme);
  nvme::NvmeStore* nvme() const { return nvme_; }
  // Attaches the GPU tier. Not owned; it must outlive the store.
  void AttachGpu(GpuTier* gpu);
  GpuTier* gpu() const { return gpu_; }

  // The longest verified prefix of `chain` (at most max_blocks), touched last
  // to first. Counts hits and misses in blocks.
  std::vector<BlockEntry*> Match(const NamespaceInfo& ns, const wire::BlockChain& chain,
                                 uint32_t max_blocks, bool count_stats = true);
  // Promotes the NVMe-only blocks among `keys`, then calls `ready` once none
  // of them is promoting (at once when none is). A block that failed to
  // promote is then not on the host (or gone); the caller re-matches.
  void WhenOnHost(std::span<const Key128> keys, std::function<void()> ready);

  // Pins host-resident entries. Pinned blocks are never evicted or moved.
  void Pin(std::span<BlockEntry* const> entries);
  // Unpins, relinking last to first so the prefix head stays the most recent.
  void Unpin(std::span<BlockEntry* const> entries);

  // Reserves a host slot for each block of the chain, making room as needed.
  // A block already stored (or being written) gets nullptr. All or nothing.
  Result<std::vector<BlockEntry*>> Reserve(const NamespaceInfo& ns, const wire::BlockChain& chain);
  // Starts GPU copies of the host-resident blocks among `entries` that have
  // none (no-op without a GPU tier); room is made by dropping least recently
  // used GPU copies. A block that cannot get one stays on the host.
  void StartGpuFills(std::span<BlockEntry* const> entries);
  // Runs GPU copy completions (the event loop calls this when the GPU tier's
  // eventfd is readable).
  void ReapGpu();
  // Waits for every GPU copy in flight.
  void DrainGpu();

  // Makes reserved blocks visible. Payloads are not checksummed here: local
  // clients can write the shared pool at any time, so a host-tier checksum
  // proves nothing; the NVMe tier checksums a block when it writes it.
  void Commit(std::span<BlockEntry* const> entries);
  // Drops reserved blocks and frees their slots.
  void Abort(std::span<BlockEntry* const> entries);

  // Drops every ready, unpinned block of namespace `ns_id` (all when null),
  // on every tier.
  uint64_t Evict(const Key128* ns_id);
  // Writes every ready host block without an NVMe copy to NVMe and waits for
  // the writes already in flight; `done` gets how many were written and the
  // first error once all have finished. Every block committed before the call
  // is then durable on NVMe (unless an error is reported).
  void Flush(std::function<void(uint64_t written, Status first_error)> done);
  // Runs NVMe completion callbacks (the event loop calls this when the NVMe
  // tier's eventfd is readable).
  void ReapNvme();
  // Blocks until every NVMe request has finished.
  void DrainNvme();

  HostTier& host() { return *host_; }
  const StoreCounters& counters() const { return counters_; }
  // Bytes handed to clients from each tier (acquire replies).
  void CountBytesOut(uint64_t bytes) { counters_.host.bytes_out += bytes; }
  void CountGpuBytesOut(uint64_t bytes) { counters_.gpu.bytes_out += bytes; }
  size_t indexed_blocks() const { return index_.size(); }

 private:
  LruList<BlockEntry>& HostLru(uint32_t size_class);
  LruList<BlockEntry, GpuLruHook>& GpuLru(uint32_t size_class);
  // Links a ready, unpinned, settled entry into the list its place calls for.
  void Relink(BlockEntry* e);
  void Unlink(BlockEntry* e);
  // Frees room for one block of `size_class` on the host; false when nothing
  // can leave (everything pinned, being written or being promoted).
  bool MakeRoom(uint32_t size_class);
  // Makes the least recently used block of `lru` leave the host (dropping
  // its host copy, after demoting it when possible). False if `lru` is empty.
  bool EvictOneFromHost(LruList<BlockEntry>& lru);
  void DropHostCopy(BlockEntry* e);

  // GPU tier (block_store_gpu.cc).
  bool StartGpuFill(BlockEntry* e);
  void OnGpuFillDone(const Key128& key, const TierSlot& slot, Status s);
  // Frees room for one block of `size_class` on the GPU by dropping GPU
  // copies, least recently used first; false when none can go.
  bool MakeGpuRoom(uint32_t size_class);
  void DropGpuCopy(BlockEntry* e);
  // Forgets a block on every tier.
  void Drop(BlockEntry* e);

  // Movement (block_store_movement.cc).
  void MaybeClean();
  // Starts writing e's host copy to NVMe, dropping NVMe LRU blocks to fit.
  Status SubmitNvmeWrite(BlockEntry* e, nvme::NvmeStore::Callback done);
  // Starts a demotion write; false if it cannot start.
  bool StartDemotion(BlockEntry* e);
  void OnDemotionDone(const Key128& key, Status s);
  // Waits (running NVMe completions) until e's demotion has finished.
  void WaitForDemotion(const Key128& key);
  bool StartPromotion(BlockEntry* e);
  void OnPromotionDone(const Key128& key, Status s);
  // Drops NVMe's least recently used NVMe-only block; false if none.
  bool DropNvmeLru();

  HostTier* host_;
  nvme::NvmeStore* nvme_ = nullptr;
  GpuTier* gpu_ = nullptr;
  BlockStoreOptions options_;
  BlockIndex index_;
  std::vector<std::unique_ptr<LruList<BlockEntry>>> host_lru_by_class_;
  LruList<BlockEntry> nvme_lru_;
  std::vector<std::unique_ptr<LruList<BlockEntry, GpuLruHook>>> gpu_lru_by_class_;
  StoreCounters counters_;
  uint64_t nvme_writes_in_flight_ = 0;  // demotion and flush writes
};

}  // namespace tierkv
