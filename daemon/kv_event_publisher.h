// Publishes KV event batches to routers over ZeroMQ, in the shape of vLLM's
// ZmqEventPublisher (docs/events.md):
//   - a PUB socket, bound at `endpoint`, sends each batch as three frames:
//     [topic, 8-byte big-endian sequence number, msgpack payload];
//   - a ROUTER socket, bound at `replay_endpoint`, answers a request
//     [8-byte big-endian sequence number] (sent from a DEALER as
//     ["", seq], or a REQ) with every batch still kept from that number on,
//     each as ["", seq, payload], then ["", -1 as 8 bytes, ""].
// Sequence numbers start at 0 and grow by one per batch, so a subscriber sees
// a gap as a jump and can ask the replay socket for what it missed; the last
// kReplayBatches batches (at most kReplayBytes) are kept for that.
//
// Publish() hands the batch to the publisher's own thread, which encodes and
// sends it: the event loop never waits on the network or on encoding.
// Thread safety: Publish() and the counters may be called from any thread.
#pragma once

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "daemon/kv_event.h"
#include "tierkv/status.h"

namespace tierkv {

class KvEventPublisher {
 public:
  static constexpr size_t kReplayBatches = 10000;
  static constexpr size_t kReplayBytes = 64ull << 20;
  // Batches waiting for the publisher thread beyond this are dropped (their
  // sequence numbers with them: a gap that replay cannot fill).
  static constexpr size_t kMaxQueuedBatches = 100000;

  struct Options {
    std::string endpoint;         // e.g. tcp://127.0.0.1:5557; tcp://127.0.0.1:* picks a port
    std::string replay_endpoint;  // empty: no replay socket
    std::string topic;            // kv@<node>@<model>
  };

  // Binds both sockets (errors name the endpoint) and starts the thread.
  static Result<std::unique_ptr<KvEventPublisher>> Start(const Options& options);
  // Sends what is still queued, then closes the sockets.
  ~KvEventPublisher();

  // Queues one batch under the next sequence number; never blocks.
  void Publish(std::vector<KvEvent> events);

  // The endpoints as bound (with the port the kernel chose for "*").
  const std::string& endpoint() const { return endpoint_; }
  const std::string& replay_endpoint() const { return replay_endpoint_; }
  uint64_t published_batches() const { return published_.load(); }
  uint64_t dropped_batches() const { return dropped_.load(); }

 private:
  struct Queued {
    uint64_t seq;
    double unix_seconds;
    std::vector<KvEvent> events;
  };
  struct Kept {
    uint64_t seq;
    std::string payload;
  };

  KvEventPublisher() = default;
  void Run();
  void Send(const Queued& batch);
  void ServeReplay();

  std::string topic_;
  std::string endpoint_;
  std::string replay_endpoint_;
  void* context_ = nullptr;
  void* pub_ = nullptr;
  void* replay_ = nullptr;

  std::mutex mu_;
  std::condition_variable wake_;
  std::deque<Queued> queue_;  // guarded by mu_
  uint64_t next_seq_ = 0;     // guarded by mu_
  bool stop_ = false;         // guarded by mu_

  // The publisher thread's own.
  std::deque<Kept> kept_;
  size_t kept_bytes_ = 0;

  std::atomic<uint64_t> published_{0};
  std::atomic<uint64_t> dropped_{0};
  std::thread thread_;
};

}  // namespace tierkv
