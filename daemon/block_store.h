// The daemon's block store: every block it knows, on which tier, in which LRU
// order, pinned by whom; and the operations the request handler and the
// connections use. It is made of parts with one job each, which it owns and
// wires together:
//
//   BlockIndex      the entries by key, and the checks behind verified hits
//   StoreCounters   every count the store keeps (stats and metrics read it)
//   HostPlacement   host slots, the host LRU lists, payload bytes in the pool
//   NvmeMover       demotion, promotion, cleaning, flush, start-up replay
//   GpuMirror       GPU copies of host blocks and their LRU lists
//   RemoteMover     writes to the shared remote tier, probes and reads of it
//
// The store itself does what spans tiers: matching and touching a prefix,
// pins, reserve / commit / abort, making room on the host, dropping a block
// everywhere, and placing a block in the LRU lists its Residency calls for
// (Relink). A ready, unpinned block is in its host size class's list while it
// has a host copy (unless that copy is the source of a GPU copy in flight),
// in the NVMe list while it is on NVMe only, and also in its GPU size class's
// list while it has a GPU copy. A pinned block, a reserved one, and one being
// promoted are in no list, so nothing can evict them.
//
// Touch order: lookups touch matched blocks from last to first, and commit and
// unpin link them the same way, so a prefix's tail is older than its head and
// is evicted first.
//
// Making room on the host drops the host copy of the least recently used
// block of the size class when it is clean (NVMe holds it), or drops the block
// when there is no NVMe tier. When that block is not on NVMe yet, its write is
// started (or joined) and the reserve or promotion that needs the room waits
// for it: it is queued, and retried in order after each batch of NVMe
// completions. The event loop never waits on the disk.
//
// The remote tier lies below the local ones and holds no entries: a block
// only there is found by asking it (ProbeRemote), and read from it into a
// host slot as a newly committed block (WhenFetched), which is then local
// like any other. Blocks are written to it when committed (write-through) or
// when their host copy leaves (write on evict), as RemoteMoverOptions says.
//
// Asynchrony: an operation that may wait (Reserve, WhenOnHost, WhenFetched,
// ProbeRemote, Flush) either finishes before it returns, or says it will and
// calls back later, from ReapNvme(), ReapGpu() or ReapRemote() (the event
// loop's pumps) or the Drain*() calls;
// never from inside another call into the store (daemon/loop_phase.h checks
// that no completion runs inside a request).
//
// Thread safety: none; the daemon drives a BlockStore from its one
// event-loop thread, which also runs every completion.
#pragma once

#include <cstdint>
#include <deque>
#include <functional>
#include <memory>
#include <optional>
#include <span>
#include <unordered_map>
#include <vector>

#include "daemon/block_entry.h"
#include "daemon/block_index.h"
#include "daemon/block_lifecycle.h"
#include "daemon/gpu_mirror.h"
#include "daemon/host_placement.h"
#include "daemon/namespace_registry.h"
#include "daemon/nvme_mover.h"
#include "daemon/remote_mover.h"
#include "daemon/store_counters.h"
#include "daemon/store_observer.h"
#include "protocol/messages.h"
#include "tiers/gpu/gpu_tier.h"
#include "tiers/host/host_tier.h"
#include "tiers/nvme/nvme_store.h"

namespace tierkv {

class BlockStore final : private BlockLifecycle {
 public:
  // The blocks of one reserve, one per chain block: nullptr for a block that
  // is already stored or being written by another reservation.
  using Reserved = std::vector<BlockEntry*>;
  using ReserveDone = std::function<void(Result<Reserved>)>;

  explicit BlockStore(HostTier* host, CleaningOptions cleaning = {});
  ~BlockStore();
  BlockStore(const BlockStore&) = delete;
  BlockStore& operator=(const BlockStore&) = delete;

  // Attaches the NVMe tier (not owned) and adds the blocks of its index,
  // which must come oldest first so that the LRU order survives a restart.
  void AttachNvme(nvme::NvmeStore* nvme, std::span<const nvme::BlockRecord> oldest_first);
  // Attaches the GPU tier. Not owned; it must outlive the store.
  void AttachGpu(GpuTier* gpu);
  // Attaches the remote tier. Not owned; it must outlive the store.
  void AttachRemote(remote::RemoteStore* remote, RemoteMoverOptions options);

  const HostPlacement& host() const { return host_; }
  const NvmeMover* nvme() const { return mover_.get(); }  // null without the tier
  const GpuMirror* gpu() const { return gpu_.get(); }     // null without the tier
  const RemoteMover* remote() const { return remote_.get(); }  // null without the tier
  const StoreCounters& counters() const { return counters_; }
  // Tells `observer` (null: nobody) of every copy a block gains or loses on a
  // medium from now on (daemon/store_observer.h). Not owned.
  void set_observer(StoreObserver* observer) { events_.set_observer(observer); }
  size_t indexed_blocks() const { return index_.size(); }

  // The longest verified prefix of `chain` (at most max_blocks), touched last
  // to first. Counts hits and misses in blocks when `count_stats`.
  std::vector<BlockEntry*> Match(const NamespaceInfo& ns, const wire::BlockChain& chain,
                                 uint32_t max_blocks, bool count_stats = true);
  // Promotes the NVMe-only blocks among `keys` (a prefix, first to last) into
  // host slots, making room as needed. Returns false when there is nothing to
  // wait for (`ready` is dropped, never called); otherwise `ready` runs once
  // every promotion has ended, from a completion. A block that failed to
  // promote is then not on the host (or gone): the caller matches again.
  bool WhenOnHost(std::span<const Key128> keys, std::function<void()> ready);

  // Asks the remote tier for blocks [from, end) of `chain` (at most the
  // mover's max_read_blocks), headers only, and counts the answer as the
  // remote tier's hits and misses. False, and `done` dropped, without a
  // remote tier or when from >= end; otherwise `done(n)` gets how many blocks
  // from `from` on the remote tier holds, from a completion.
  bool ProbeRemote(const NamespaceInfo& ns, const wire::BlockChain& chain, size_t from, size_t end,
                   std::function<void(size_t)> done);
  // Reads blocks [from, end) of `chain` (at most max_read_blocks) from the
  // remote tier into host slots, as committed blocks, the leading run that
  // the remote tier holds; `from` must continue a stored block (or be 0).
  // False, and `ready` dropped, without a remote tier or when from >= end;
  // otherwise `ready` runs from a completion once they are placed (or not:
  // the caller matches again). A read that starts at the same block as one in
  // flight joins it.
  bool WhenFetched(const NamespaceInfo& ns, const wire::BlockChain& chain, size_t from, size_t end,
                   std::function<void()> ready);

  // Pins host-resident entries. Pinned blocks are never evicted or moved.
  void Pin(std::span<BlockEntry* const> entries);
  // Unpins, relinking last to first so the prefix head stays the most recent.
  void Unpin(std::span<BlockEntry* const> entries);
  // Starts GPU copies of the host-resident blocks among `entries` that have
  // none (no-op without a GPU tier).
  void StartGpuFills(std::span<BlockEntry* const> entries);
  // Copies the host copies of `entries` to `out`, one after another.
  void CopyOut(std::span<const BlockEntry* const> entries, uint8_t* out) const {
    host_.CopyOut(entries, out);
  }

  // Reserves a host slot for each block of the chain that is not stored yet,
  // making room as needed; all or nothing. The chain is checked first
  // (BlockIndex::CheckChain). With `inline_payload` (keys * block_bytes), the
  // payloads are copied in and the blocks committed before the result is
  // given. The result comes at once when there is room or room can be made at
  // once; nullopt when room waits for an NVMe write, and then `done` gets it
  // from a completion. ResourceExhausted when nothing can leave the host.
  std::optional<Result<Reserved>> Reserve(const NamespaceInfo& ns, const wire::BlockChain& chain,
                                          std::span<const uint8_t> inline_payload,
                                          ReserveDone done);
  // Makes reserved blocks visible. Payloads are not checksummed here: local
  // clients can write the shared pool at any time, so a host-tier checksum
  // proves nothing; the NVMe tier checksums a block when it writes it.
  void Commit(std::span<BlockEntry* const> entries);
  // Drops reserved blocks and frees their slots.
  void Abort(std::span<BlockEntry* const> entries);

  // Drops every ready, unpinned block of namespace `ns_id` (all when null) on
  // every tier, except blocks being promoted. Returns how many.
  uint64_t Evict(const Key128* ns_id);
  // Writes every ready host block without an NVMe copy to NVMe and waits for
  // the writes already in flight; then every block committed before the call
  // is durable on NVMe (unless an error is reported). The result comes at
  // once when nothing had to be waited for (or there is no NVMe tier:
  // Unsupported); otherwise nullopt, and `done` gets it from a completion.
  std::optional<FlushResult> Flush(std::function<void(FlushResult)> done);

  // Run completions: the event loop calls these when the NVMe or GPU tier's
  // eventfd is readable. ReapNvme then retries what waits for host room.
  void ReapNvme();
  void ReapGpu();
  void ReapRemote();
  // Wait for every request in flight on the tier and run its completion.
  void DrainNvme();
  void DrainGpu();
  void DrainRemote();

  // Bytes handed to clients from each tier (acquire replies).
  void CountBytesOut(uint64_t bytes) { counters_.host.bytes_out += bytes; }
  void CountGpuBytesOut(uint64_t bytes) { counters_.gpu.bytes_out += bytes; }

 private:
  struct ReserveJob;
  struct PromotionJob;
  enum class Room { kMade, kWaiting, kNone };

  // Reserve, for blocks a client sends or (`from_remote`) the remote tier.
  std::optional<Result<Reserved>> ReserveChain(const NamespaceInfo& ns,
                                               const wire::BlockChain& chain,
                                               std::span<const uint8_t> inline_payload,
                                               bool from_remote, ReserveDone done);
  // Commits reserved blocks; `from_remote`: they were read from the remote
  // tier, which therefore has them.
  void CommitBlocks(std::span<BlockEntry* const> entries, bool from_remote);
  // A remote read of `chain` (the blocks asked, as a chain of their own)
  // ended with its first `n` blocks in `payload`: places them, then runs the
  // waiters of that read.
  void PlaceFetched(const NamespaceInfo& ns, wire::BlockChain chain, size_t n,
                    std::vector<uint8_t> payload);
  // The range of `chain` from `from` to `end` that one remote request asks.
  RemoteRange RangeOf(const NamespaceInfo& ns, const wire::BlockChain& chain, size_t from,
                      size_t end) const;

  // BlockLifecycle.
  void Relink(BlockEntry* e) override;
  void Unlink(BlockEntry* e) override;
  void Drop(BlockEntry* e) override;

  // A free host slot for a block of `bytes`, making room: the slot; nullopt
  // while room waits for an NVMe write (try again after the next NVMe
  // completions); ResourceExhausted when nothing can leave.
  Result<std::optional<TierSlot>> AllocateHostSlot(uint64_t bytes);
  // Frees room for one block of `size_class`.
  Room MakeRoom(uint32_t size_class);
  // Makes the least recently used block of `lru` leave the host.
  Room EvictOneFromHost(LruList<BlockEntry>& lru);
  void DropHostCopy(BlockEntry* e);

  // Reserves job.chain's blocks from job.next on: true when done, false when
  // waiting for room; on an error the job's reserved blocks are aborted.
  Result<bool> ContinueReserve(ReserveJob& job);
  // Starts the promotions job.keys from job.next on need: false when waiting
  // for room. Calls job.ready when it finishes a job that waited and has no
  // promotion in flight.
  bool ContinuePromotions(const std::shared_ptr<PromotionJob>& job);
  // Retries, in order, what waits for host room, until one must wait again.
  void RetryRoomWaiters();

  BlockIndex index_;
  StoreCounters counters_;
  StoreEvents events_;
  HostPlacement host_;
  CleaningOptions cleaning_;
  std::unique_ptr<NvmeMover> mover_;
  std::unique_ptr<GpuMirror> gpu_;
  std::unique_ptr<RemoteMover> remote_;
  // Remote reads in flight, by their first block: what waits for each.
  std::unordered_map<Key128, std::vector<std::function<void()>>, Key128Hash> fetches_;
  // What waits for host room, oldest first: each returns true once finished.
  std::deque<std::function<bool()>> room_waiters_;
};

}  // namespace tierkv
