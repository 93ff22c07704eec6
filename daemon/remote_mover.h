// The remote tier as the store sees it: writing blocks to the shared remote
// store (tiers/remote/, Redis or a Redis Cluster), asking it whether it holds
// the blocks of a chain that the local tiers do not, and reading them back
// for promotion. The remote tier is shared by every daemon that names the
// same cluster and secret, and Redis may evict from it at any time, so the
// store keeps no entry for what is only there: it asks.
//
// Every movement is asynchronous: a call submits a batch to the remote
// store's own I/O thread and returns; its completion runs later, from Reap()
// (the event loop's remote pump) or Drain(), never inside the call that
// started it. Nothing waits on the network on the event loop.
//
// Writes copy the block's payload when they start, so a block can leave the
// host at once whatever its remote write does (one memcpy per written block;
// the write queue's byte bound caps what they cost the loop). A write that
// would pass the bound is not started and is counted: the remote tier is a
// cache, and a put is never held back for it.
//
// Reads verify every value (value_codec.h): a value that fails is deleted by
// the remote store, counted, and is a miss. A read or probe answers the
// leading run of blocks that came back whole: a chain's blocks are only
// useful from its start.
//
// Thread safety: none; the event-loop thread only.
#pragma once

#include <cstdint>
#include <functional>
#include <string_view>
#include <unordered_set>
#include <vector>

#include "daemon/block_entry.h"
#include "daemon/block_index.h"
#include "daemon/host_placement.h"
#include "daemon/store_counters.h"
#include "protocol/messages.h"
#include "tiers/remote/remote_store.h"

namespace tierkv {

// When blocks reach the remote tier.
enum class RemoteWritePolicy : uint8_t {
  kThrough,  // every committed block, at once, so other nodes can hit it soon
  kEvict,    // a block whose host copy leaves (demoted to NVMe, or dropped)
};
// "through", "evict".
std::string_view RemoteWritePolicyName(RemoteWritePolicy policy);
Result<RemoteWritePolicy> ParseRemoteWritePolicy(std::string_view text);

struct RemoteMoverOptions {
  RemoteWritePolicy write = RemoteWritePolicy::kThrough;
  // Payload bytes of remote writes in flight, at most.
  uint64_t max_write_bytes = uint64_t{256} << 20;
  // Blocks one lookup or acquire asks the remote tier for, at most.
  uint32_t max_read_blocks = 1024;
};

// Blocks [from, to) of `chain`, in a namespace with these sizes.
struct RemoteRange {
  Key128 ns_id;
  uint32_t block_tokens = 0;
  uint64_t block_bytes = 0;
  const wire::BlockChain* chain = nullptr;
  size_t from = 0;
  size_t to = 0;
};

class RemoteMover {
 public:
  // `n`: how many blocks of the range, from its first, are there.
  using Probed = std::function<void(size_t n)>;
  // `payload`: those n blocks' verified payloads, one after another.
  using Fetched = std::function<void(size_t n, std::vector<uint8_t> payload)>;

  // None of the pointers is owned; all must outlive the mover.
  RemoteMover(remote::RemoteStore* remote, BlockIndex* index, HostPlacement* host,
              StoreCounters* counters, RemoteMoverOptions options);
  RemoteMover(const RemoteMover&) = delete;
  RemoteMover& operator=(const RemoteMover&) = delete;

  const RemoteMoverOptions& options() const { return options_; }

  // Starts writing e's host copy (which must be resident) to the remote tier,
  // unless the block is there already or being written, or the write queue
  // is full (counted).
  void StartWrite(BlockEntry* e);
  // Asks for the headers of `range`'s blocks (GETRANGE: no payload moves).
  void Probe(const RemoteRange& range, Probed done);
  // Reads `range`'s blocks.
  void Fetch(const RemoteRange& range, Fetched done);

  // Runs remote completions (the event loop calls this when event_fd() is readable).
  void Reap() { remote_->ReapCompletions(); }
  // Waits for every remote operation and runs its completion.
  void Drain() { remote_->Drain(); }
  int event_fd() const { return remote_->event_fd(); }
  remote::RemoteStats Stats() const { return remote_->Stats(); }
  uint64_t write_bytes_in_flight() const { return write_bytes_in_flight_; }

 private:
  // What the remote store is told of block i of `range`'s chain.
  static remote::RemoteBlock Describe(const RemoteRange& range, size_t i);
  void OnWritten(const Key128& key, uint64_t bytes, const Status& s);

  remote::RemoteStore* remote_;
  BlockIndex* index_;
  HostPlacement* host_;
  StoreCounters* counters_;
  RemoteMoverOptions options_;
  // Keys whose write is in flight: a block is written once at a time.
  std::unordered_set<Key128, Key128Hash> writing_;
  uint64_t write_bytes_in_flight_ = 0;
};

}  // namespace tierkv
