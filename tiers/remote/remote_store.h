// RemoteStore: the remote tier's client. Block values (value_codec.h) in one
// Redis server or a Redis Cluster, read and written asynchronously.
//
// Contract, in the manner of nvme::IoEngine / nvme::NvmeStore:
//  - Submit() never blocks on the network and never runs a callback itself:
//    it hands the batch to the store's own I/O thread and returns.
//  - Callbacks run only inside ReapCompletions() or Drain(), on the thread that
//    calls them, exactly once per operation, with OK or the reason it failed.
//    They may Submit() more; they may not call ReapCompletions() or Drain().
//  - Every operation completes within RemoteOptions::op_timeout of its
//    Submit(), whatever the servers do (unreachable, stopped, slow, refusing).
//  - Buffers are borrowed: a Put's payload must stay valid and unchanged, and
//    a Get's `dst` valid, until the operation's callback has run. `dst` is
//    written only for a Get that completes OK.
//  - event_fd() becomes readable whenever a completion is ready to be reaped;
//    ReapCompletions() clears it. A daemon waits on a dup() of it with its
//    event loop (boost::asio::posix::stream_descriptor, as for NvmeStore).
//
// Completions:
//   Get      OK: dst holds the verified payload. NotFound: a miss (no such key,
//            evicted by Redis, or a sound value that is not the block asked:
//            value_codec.h). Corruption: the value failed verification; it
//            has been deleted from Redis and counted. Unavailable: the node
//            serving the key is down, timed out or the cluster is down.
//            PermissionDenied: AUTH is missing or refused. IOError: any other
//            error reply.
//   Probe    as Get, but reads only the value's header and token ids
//            (GETRANGE): OK means the block is there, with that length.
//   Put      OK: stored (SET). ResourceExhausted: the server refuses writes
//            (OOM under maxmemory). Unavailable, PermissionDenied, IOError
//            as for Get. InvalidArgument: an empty payload, or one larger than
//            max_payload_bytes, or more than kMaxRemoteBlockTokens tokens.
//   Delete   OK: deleted. NotFound: there was no such key.
//
// Cluster behaviour: slot of a key by CRC16 (key_slot.h); the slot map comes
// from CLUSTER SLOTS at start and again after MOVED (which also patches the
// map at once), while a master is down, and while slots are uncovered; ASK is
// followed once with ASKING without changing the map; TRYAGAIN, CLUSTERDOWN,
// LOADING and MASTERDOWN are retried with exponential backoff until the
// operation's deadline. An operation routed to a node whose connection is
// down fails at once (Unavailable, with the reason): the remote tier is a
// cache, and the caller serves its local tiers instead. Connections reconnect
// on their own with backoff. All operations are idempotent; none is retried
// after its node's connection failed.
//
// Thread safety: Submit(), Stats() and event_fd() may be called from any
// thread; ReapCompletions() and Drain() from one thread at a time.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "tierkv/keys.h"
#include "tierkv/status.h"
#include "tiers/remote/value_codec.h"

namespace tierkv::remote {

struct RemoteOp;
class RemoteStoreImpl;

struct RemoteOptions {
  // redis://... or redis-cluster://... (remote_url.h). Required.
  std::string url;
  // Override the URL's credentials when not empty (a key of their own, or a
  // secret file, in the daemon's config).
  std::string user;
  std::string password;
  // Connecting (TCP and AUTH) may take this long. Default 1 s.
  std::chrono::milliseconds connect_timeout{1000};
  // A connection with requests outstanding that neither sends nor receives a
  // byte for this long is closed, failing its operations. Default 1 s.
  std::chrono::milliseconds io_timeout{1000};
  // Every operation completes within this of its Submit(). Default 3 s.
  std::chrono::milliseconds op_timeout{3000};
  // Requests sent to one node and not yet answered, at most. Default 128.
  uint32_t max_in_flight_per_node = 128;
  // Request bytes sent to one node and not yet answered, at most (at least one
  // request is always let through). Default 64 MiB.
  uint64_t max_in_flight_bytes_per_node = uint64_t{64} << 20;
  // Redirects (MOVED, ASK) one operation may follow; after the second, each
  // waits like a retry, so nodes that disagree for a moment can settle.
  // Default 16.
  uint32_t max_redirects = 16;
  // The largest payload accepted by Put or read by Get. Default 64 MiB.
  uint64_t max_payload_bytes = uint64_t{64} << 20;
};

enum class RemoteHealth { kUp, kDegraded, kDown };
// "up", "degraded", "down".
std::string_view RemoteHealthName(RemoteHealth health);

struct RemoteNodeStatus {
  std::string address;  // host:port
  RemoteHealth health = RemoteHealth::kDown;
  // Why it is degraded or down ("connect: Connection refused", "OOM command
  // not allowed ...", "no reply in 1000 ms"); empty when up.
  std::string reason;
  uint32_t slots = 0;  // cluster slots it serves (16384 for one server)
};

struct RemoteStats {
  // The tier as a whole: up when every master is up and every slot served;
  // down when no node can serve; degraded in between, or while a node
  // refuses requests.
  RemoteHealth health = RemoteHealth::kDown;
  std::string reason;
  std::vector<RemoteNodeStatus> nodes;  // the masters (the server, or the seeds before a map)

  uint64_t gets = 0;
  uint64_t probes = 0;
  uint64_t puts = 0;
  uint64_t deletes = 0;
  uint64_t hits = 0;             // Gets and Probes that completed OK
  uint64_t misses = 0;           // Gets and Probes that completed NotFound
  uint64_t blocks_read = 0;      // Gets that completed OK
  uint64_t blocks_written = 0;   // Puts that completed OK
  uint64_t bytes_read = 0;       // payload bytes of those Gets
  uint64_t bytes_written = 0;    // payload bytes of those Puts
  uint64_t errors = 0;           // operations that completed with any other failure
  uint64_t corrupt_dropped = 0;  // values that failed verification and were deleted
  uint64_t moved = 0;            // MOVED redirects followed
  uint64_t asked = 0;            // ASK redirects followed
  uint64_t retried = 0;          // TRYAGAIN/CLUSTERDOWN/LOADING/MASTERDOWN retries
  uint64_t timeouts = 0;         // operations failed by their deadline
  uint64_t reconnects = 0;       // connections made after the first to a node
  uint64_t slot_map_refreshes = 0;
  uint64_t queue_depth = 0;  // operations submitted and not yet reaped
};

class RemoteStore {
 public:
  using Callback = std::function<void(Status)>;

  // Operations submitted together: the I/O thread sends each node its share
  // in one pipelined write.
  class Batch {
   public:
    Batch();
    Batch(Batch&&) noexcept;
    Batch& operator=(Batch&&) noexcept;
    ~Batch();

    // Reads `block` into dst; dst.size() is the payload length expected.
    void Get(const RemoteBlock& block, std::span<std::byte> dst, Callback done);
    // Checks that `block` is stored with a payload of `payload_bytes`.
    void Probe(const RemoteBlock& block, uint64_t payload_bytes, Callback done);
    void Put(const RemoteBlock& block, std::span<const std::byte> payload, Callback done);
    void Delete(const Key128& namespace_id, const Key128& key, Callback done);

    size_t size() const { return ops_.size(); }
    bool empty() const { return ops_.empty(); }

   private:
    friend class RemoteStore;
    std::vector<std::unique_ptr<RemoteOp>> ops_;
  };

  // Parses the URL and starts the I/O thread, which starts connecting; returns
  // without waiting for any server. InvalidArgument for a bad URL or options.
  static Result<std::unique_ptr<RemoteStore>> Open(const RemoteOptions& options);
  // Stops the I/O thread and closes every connection. Operations not yet
  // reaped are abandoned: their callbacks never run (Drain() first).
  ~RemoteStore();

  void Submit(Batch batch);

  // Runs the callbacks of every operation completed so far, without blocking.
  // Returns how many ran.
  size_t ReapCompletions();
  // Blocks until every operation submitted so far has completed and its
  // callback run (at most op_timeout after the last Submit).
  void Drain();

  // Readable when ReapCompletions() has work. Owned by the store.
  int event_fd() const;

  RemoteStats Stats() const;

 private:
  explicit RemoteStore(std::unique_ptr<RemoteStoreImpl> impl);
  std::unique_ptr<RemoteStoreImpl> impl_;
};

// Blocking conveniences for tests and tools: submit one operation, then reap
// until its callback ran (other operations' callbacks run too).
Status GetBlocking(RemoteStore& store, const RemoteBlock& block, std::span<std::byte> dst);
Status ProbeBlocking(RemoteStore& store, const RemoteBlock& block, uint64_t payload_bytes);
Status PutBlocking(RemoteStore& store, const RemoteBlock& block,
                   std::span<const std::byte> payload);
Status DeleteBlocking(RemoteStore& store, const Key128& namespace_id, const Key128& key);

}  // namespace tierkv::remote
