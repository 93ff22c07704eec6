// ClusterClient: routes block operations to the node connections of one Redis
// server or one Redis Cluster, and follows what the cluster answers (MOVED,
// ASK, TRYAGAIN, ...). Everything here runs on the remote store's I/O thread;
// RemoteStoreImpl (remote_store.cc) feeds it operations and poll results.
//
// Routing: slot = KeySlot(name); the slot map names the master; the
// operation goes to that master's connection, or fails at once with
// Unavailable if that connection is backing off after a failure. Before the
// first slot map arrives, operations wait for it (until their deadline, or
// until every candidate node has failed).
//
// Slot map refresh (cluster only): CLUSTER SLOTS asked of one candidate at a
// time (the masters, then the seeds, then the replicas the last map named),
// moving to the next candidate when one fails. Wanted at start, after MOVED,
// after a connection failure, and every kDegradedRefreshInterval while a
// master is down or a slot has no master. Connections to nodes that are no
// longer masters are closed once idle.
//
// Thread safety: not thread-safe; the I/O thread owns it.
#pragma once

#include <sys/poll.h>

#include <atomic>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "tiers/remote/node_connection.h"
#include "tiers/remote/remote_op.h"
#include "tiers/remote/remote_store.h"
#include "tiers/remote/remote_url.h"
#include "tiers/remote/slot_map.h"

namespace tierkv::remote {

// The store's counters, written by the I/O thread and read by Stats().
struct RemoteCounters {
  std::atomic<uint64_t> gets{0}, probes{0}, puts{0}, deletes{0}, hits{0}, misses{0}, blocks_read{0},
      blocks_written{0}, bytes_read{0}, bytes_written{0}, errors{0}, corrupt_dropped{0}, moved{0},
      asked{0}, retried{0}, timeouts{0}, slot_map_refreshes{0};
};

// Hands a finished operation's callback and status to the reaping thread.
using CompletionSink = std::function<void(std::function<void(Status)> done, Status status)>;

class ClusterClient : public ConnectionOwner {
 public:
  ClusterClient(RemoteUrl url, const RemoteOptions& options, RemoteCounters& counters,
                CompletionSink sink, Clock::time_point now);
  ~ClusterClient() override;

  // Takes a newly submitted operation.
  void Submit(std::unique_ptr<RemoteOp> op, Clock::time_point now);

  // One turn of the event loop: Prepare() (timers, deadlines, refreshes,
  // writes) and the poll timeout it asks for; the descriptors to poll,
  // appended to `fds`; then what poll returned for them.
  Clock::time_point Prepare(Clock::time_point now);
  void AppendPollFds(std::vector<pollfd>& fds);
  void OnPollResults(const pollfd* fds, size_t count, Clock::time_point now);

  // The tier's health and its masters', for Stats().
  void FillHealth(RemoteStats& stats, Clock::time_point now) const;
  uint64_t reconnects() const;
  // Changes whenever FillHealth() may give another answer, but for the end of
  // a refusal's hold (which takes the passing of time).
  uint64_t health_epoch() const;

  // ConnectionOwner
  void OnOpReply(NodeConnection& from, std::unique_ptr<RemoteOp> op,
                 const redisReply& reply) override;
  void OnOpFailed(NodeConnection& from, std::unique_ptr<RemoteOp> op, const Status& why) override;
  void OnSlotsReply(NodeConnection& from, const redisReply& reply) override;
  void OnSlotsFailed(NodeConnection& from, const Status& why) override;

 private:
  bool cluster() const { return url_.mode == RemoteMode::kCluster; }
  NodeConnection& ConnectionTo(const HostPort& node, Clock::time_point now);
  void Route(std::unique_ptr<RemoteOp> op, Clock::time_point now);
  // Runs the callback (if any) with `status` and counts it.
  void Complete(RemoteOp& op, const Status& status);
  void OnErrorReply(NodeConnection& from, std::unique_ptr<RemoteOp> op, std::string_view error);
  void OnValueReply(std::unique_ptr<RemoteOp> op, const redisReply& reply);
  // Deletes the value `op` read, which failed verification.
  void DropCorrupt(const RemoteOp& op, const Status& why);
  void ScheduleRetry(std::unique_ptr<RemoteOp> op, const Status& why);
  void MaybeStartRefresh(Clock::time_point now);
  void ApplySlotMap(SlotMap map, Clock::time_point now);
  // Fails the operations waiting for a first slot map.
  void FailUnrouted(const Status& why);
  Clock::time_point ExpireOps(Clock::time_point now);
  void CloseRetired();
  std::vector<HostPort> RefreshCandidates() const;

  const RemoteUrl url_;
  const RemoteOptions options_;
  const ConnectionOptions connection_options_;
  RemoteCounters& counters_;
  CompletionSink sink_;
  Clock::time_point now_;  // the time of the turn being handled

  std::map<std::string, std::unique_ptr<NodeConnection>> connections_;  // by host:port
  std::optional<SlotMap> map_;

  // Slot map refresh.
  bool refresh_wanted_ = false;
  NodeConnection* refreshing_ = nullptr;  // whose CLUSTER SLOTS is outstanding
  Clock::time_point next_refresh_at_;
  Clock::time_point next_degraded_check_;  // is a master down or a slot uncovered?
  size_t refresh_cursor_ = 0;  // which candidate to ask next
  std::string refresh_error_;  // why the last refresh failed

  std::vector<std::unique_ptr<RemoteOp>> unrouted_;  // waiting for a first slot map
  std::vector<std::unique_ptr<RemoteOp>> retrying_;  // waiting for retry_at
  Clock::time_point next_expiry_ = Clock::time_point::max();
  std::vector<NodeConnection*> polled_;  // the connections behind AppendPollFds' fds
  uint64_t retired_reconnects_ = 0;  // reconnects of connections closed since
  uint64_t map_epoch_ = 0;           // slot maps applied, connections closed, refresh errors
};

}  // namespace tierkv::remote
