// NvmeStore: the NVMe tier's storage engine. Block payloads live in slab files
// (slab_set.h) written and read through io_uring (uring_engine.h); a RocksDB
// index (block_index.h) beside them makes the tier survive restarts.
//
// Layout of the data directory: <dir>/slabs/slab-<slot_bytes>-<n>.dat and
// <dir>/index/ (RocksDB).
//
// Write path: the payload is checksummed (XXH3-64), written to a free slot and
// made durable (by default one fdatasync per slab file for all the writes that
// completed together: group commit); only then is its record put in the index,
// and only then does the write's callback say OK. A crash at any point
// therefore leaves either no record (the slot is simply free again) or a record
// whose bytes are on disk. Records completed in the same reap share one index
// write.
//
// Read path: the payload is read and its checksum verified before the callback
// says OK. A mismatch drops the block (index record deleted, slot freed) and
// the callback gets Corruption: a corrupt block is never served.
//
// Driving it: the store is single-threaded and never blocks on payload IO.
// The owner calls Write/Read/Remove/ReapCompletions from one thread (the
// daemon's io_context thread). Callbacks run only inside ReapCompletions() or
// Drain(), on that thread; they may call Write, Read and Remove but not
// ReapCompletions() or Drain(). event_fd() turns readable when completions are
// ready: wrap a dup() of it in a boost::asio::posix::stream_descriptor,
// async_wait(wait_read), call ReapCompletions() (which clears it) and wait
// again (nvme_store_asio_test.cc does exactly that). Synchronous disk work on
// that thread is limited to index writes (a RocksDB WAL append per reap, plus
// an fsync with sync_index) and creating a slab file when a write needs new
// space (fallocate and a directory fsync, once per slab_bytes). A block's
// last_access is the one its write stored: a restart orders the LRU by when
// blocks were written to this tier.
//
// Start-up: Open() scans the index once, claiming each record's slot. A record
// that points outside every slab file, or at a slot another record claimed
// first, is deleted and counted (NvmeStats::dropped_at_load); malformed records
// likewise. Every surviving record is handed to `LoadCallbacks::visit` so the
// owner can rebuild its in-memory index and LRU (by last_access).
//
// Thread safety: not thread-safe; see "Driving it".
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <span>
#include <string>
#include <unordered_map>
#include <unordered_set>
#include <vector>

#include "tierkv/keys.h"
#include "tierkv/status.h"
#include "tiers/nvme/block_index.h"
#include "tiers/nvme/file_system.h"
#include "tiers/nvme/index_record.h"
#include "tiers/nvme/io_engine.h"
#include "tiers/nvme/rate_meter.h"
#include "tiers/nvme/slab_set.h"
#include "tiers/nvme/uring_engine.h"

namespace tierkv::nvme {

struct NvmeStoreOptions {
  // The most bytes the slab files may take (--nvme-bytes). Required.
  uint64_t capacity_bytes = 0;
  // Size of one slab file. Default 256 MiB. Applies to files created from now on.
  uint64_t slab_bytes = uint64_t{256} << 20;
  // The largest block payload. Default 4 MiB. Sizes each staging buffer.
  size_t max_block_bytes = size_t{4} << 20;
  // Most payload requests in the kernel at once. Default 32.
  uint32_t queue_depth = 32;
  // How a payload write is made durable. Default kGroupSync: the writes that
  // complete together share one fdatasync per slab file (group commit).
  WriteDurability durability = WriteDurability::kGroupSync;
  // Let page-aligned payload buffers (of whole pages) skip the staging copy.
  // Default true.
  bool direct_aligned_buffers = true;
  // fsync the index WAL on each index write, so acknowledged blocks survive
  // power loss and not only process crashes. Default false.
  bool sync_index = false;
  // Where slab files are created. Default: the POSIX file system. Not owned.
  FileSystem* file_system = nullptr;
  // After the disk refused a new slab file, how long no new one is tried
  // (SlabOptions::disk_full_retry). Default 10 s.
  std::chrono::milliseconds disk_full_retry{10000};
};

// What the owner says about a block it writes.
struct BlockMeta {
  Key128 key;
  Key128 parent;
  Key128 namespace_id;
  std::vector<TokenId> tokens;
  uint64_t last_access = 0;  // the owner's clock (e.g. unix ms); stored, never interpreted
};

struct LoadCallbacks {
  // Called once per block found in the index at Open, in key order.
  std::function<void(const BlockRecord&)> visit;
  // Called with the number of index entries scanned so far, every
  // `progress_every` entries and once at the end.
  std::function<void(uint64_t scanned)> progress;
  uint64_t progress_every = 100'000;
};

struct NvmeStats {
  uint64_t capacity_bytes = 0;
  uint64_t file_bytes = 0;  // bytes reserved by slab files
  uint64_t used_bytes = 0;  // bytes of slots holding blocks
  uint64_t blocks = 0;      // indexed blocks
  uint64_t bytes_read = 0;
  uint64_t bytes_written = 0;
  uint64_t reads = 0;
  uint64_t writes = 0;
  uint64_t read_errors = 0;
  uint64_t write_errors = 0;
  uint64_t corrupt_dropped = 0;    // blocks dropped because their checksum failed
  uint64_t queue_depth = 0;        // payload requests in the kernel now
  uint64_t queued = 0;             // payload requests waiting for a staging buffer
  double read_bytes_per_sec = 0;   // over the last second
  double write_bytes_per_sec = 0;  // over the last second
  uint64_t loaded_blocks = 0;      // blocks found at Open
  uint64_t dropped_at_load = 0;    // records deleted at Open (see the class comment)
};

class NvmeStore {
 public:
  using Callback = std::function<void(Status)>;

  // Opens or creates the tier in `dir` with the default io_uring engine.
  static Result<std::unique_ptr<NvmeStore>> Open(const std::string& dir,
                                                 const NvmeStoreOptions& options,
                                                 const LoadCallbacks& load = {});
  // Same with a caller-made engine, whose max_io_bytes() must be at least
  // RoundUpToIo(options.max_block_bytes).
  static Result<std::unique_ptr<NvmeStore>> Open(const std::string& dir,
                                                 const NvmeStoreOptions& options,
                                                 const LoadCallbacks& load,
                                                 std::unique_ptr<IoEngine> engine);
  // For a tier whose Open failed with Corruption from its index (RocksDB
  // damaged): keeps a copy of the damaged index in `*kept_aside` (under `dir`)
  // and repairs it (BlockIndex::Repair); Open again then loads what was
  // recovered. Corruption when the index could not be repaired and starts
  // empty. Every payload read is still checked against its record's checksum,
  // so a recovered record whose bytes were reused is dropped, never served.
  static Status RepairIndex(const std::string& dir, const NvmeStoreOptions& options,
                            std::string* kept_aside);
  // Waits for payload requests in the kernel without running their callbacks;
  // unfinished writes are simply not indexed. Call Drain() first to finish them.
  ~NvmeStore();

  // Starts storing `payload` under meta.key. On OK, `done` runs exactly once
  // later: OK when the block is durable and indexed, otherwise the reason
  // (IOError, ResourceExhausted for ENOSPC, NotFound if Remove()d meanwhile),
  // and then nothing is stored. `payload` must stay valid and unchanged until
  // then. Returns without calling `done`: AlreadyExists (key stored or being
  // written), ResourceExhausted (tier full: free space with Remove and retry),
  // InvalidArgument (empty or larger than max_block_bytes).
  Status Write(const BlockMeta& meta, std::span<const std::byte> payload, Callback done);

  // Starts reading the block `key` into dst[0, length). On OK, `done` runs
  // exactly once later: OK with the verified bytes in `dst`, Corruption (the
  // block is dropped, treat as a miss), or IOError (the block is kept). `dst`
  // must stay valid until then. Returns without calling `done`: NotFound (not
  // stored, or not indexed yet), InvalidArgument (`dst` shorter than the block).
  Status Read(const Key128& key, std::span<std::byte> dst, Callback done);

  // Deletes the block `key` from the index and frees its slot (once reads of
  // it in flight are done). A write in flight for `key` is abandoned: its
  // callback gets NotFound. NotFound if the key is neither stored nor being
  // written; an index error leaves the block stored.
  Status Remove(const Key128& key);

  bool Contains(const Key128& key) const { return blocks_.contains(key); }
  // The payload length of a stored block; NotFound if not stored.
  Result<uint32_t> Length(const Key128& key) const;

  // Runs the callbacks of every request completed so far, without waiting on
  // payload IO. Returns how many requests completed.
  size_t ReapCompletions();
  // Blocks until every request started so far has completed and its callback run.
  void Drain();
  // Readable when ReapCompletions() has work. Owned by the store.
  int event_fd() const { return engine_->event_fd(); }

  NvmeStats Stats() const;

 private:
  struct Entry {
    SlotId slot;
    uint32_t length = 0;
    uint64_t checksum = 0;
  };
  struct PendingWrite {
    BlockRecord record;
    int fd = -1;  // the slab file it goes to
    Callback done;
    bool removed = false;
  };
  // Keys come from clients; tierkv::Key128Hash folds lo and hi with a single
  // multiply, which structured keys can collide. Mix both halves fully.
  struct KeyHash {
    static uint64_t Mix(uint64_t x) {
      x ^= x >> 33;
      x *= 0xFF51AFD7ED558CCDull;
      x ^= x >> 33;
      x *= 0xC4CEB9FE1A85EC53ull;
      return x ^ (x >> 33);
    }
    size_t operator()(const Key128& k) const noexcept { return Mix(k.lo ^ Mix(k.hi)); }
  };
  struct SlotIdHash {
    size_t operator()(const SlotId& s) const noexcept {
      return KeyHash::Mix((uint64_t(s.slot_bytes) << 40) ^ (uint64_t(s.file) << 24) ^ s.index);
    }
  };

  NvmeStore(const NvmeStoreOptions& options, std::unique_ptr<SlabSet> slabs,
            std::unique_ptr<BlockIndex> index, std::unique_ptr<IoEngine> engine);
  Status Load(const LoadCallbacks& load);
  void OnWriteDone(const Key128& key, Status status);
  // Group commit: starts one fdatasync per file written by the writes in
  // unsynced_, unless the previous group's are still in flight.
  void StartGroupSync();
  void OnGroupSyncDone(Status status);
  // Ends a pending write that cannot be indexed: frees its slot, runs its callback.
  void FailPending(const Key128& key, const Status& status);
  void OnReadDone(const Key128& key, const Entry& entry, std::span<std::byte> dst, Callback done,
                  Status status);
  // Indexes the writes whose payload completed since the last call, in one
  // batch, and runs their callbacks.
  void CommitWrites();
  // Frees `slot`, or defers that until the reads of it in flight finish.
  void ReleaseSlot(const SlotId& slot);
  // Drops a stored block whose payload failed its checksum.
  void DropCorrupt(const Key128& key, const SlotId& slot);

  NvmeStoreOptions options_;
  std::unique_ptr<SlabSet> slabs_;
  std::unique_ptr<BlockIndex> index_;
  std::unique_ptr<IoEngine> engine_;

  std::unordered_map<Key128, Entry, KeyHash> blocks_;          // indexed blocks
  std::unordered_map<Key128, PendingWrite, KeyHash> pending_;  // payload in flight
  // Write pipeline: pending_ -> [unsynced_ -> syncing_ ->] written_ -> blocks_.
  std::vector<Key128> unsynced_;  // payload written, awaiting its group's fdatasync
  std::unordered_set<int> unsynced_fds_;
  std::vector<Key128> syncing_;  // payload written, group fdatasync in flight
  size_t syncs_in_flight_ = 0;
  Status sync_status_;           // first failure among syncing_'s fdatasyncs
  std::vector<Key128> written_;  // payload durable, record not yet indexed
  std::unordered_map<SlotId, uint32_t, SlotIdHash> reads_in_flight_;
  std::unordered_set<SlotId, SlotIdHash> free_after_reads_;

  NvmeStats counters_;
  RateMeter read_rate_;
  RateMeter write_rate_;
};

// Blocking conveniences for tests and tools: start one request, then reap
// until it completes. Other requests' callbacks may run meanwhile.
Status WriteBlocking(NvmeStore& store, const BlockMeta& meta, std::span<const std::byte> payload);
Status ReadBlocking(NvmeStore& store, const Key128& key, std::span<std::byte> dst);

}  // namespace tierkv::nvme
