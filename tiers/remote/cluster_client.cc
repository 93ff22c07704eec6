#include "tiers/remote/cluster_client.h"

#include <hiredis/hiredis.h>

#include <algorithm>
#include <cstring>

namespace tierkv::remote {
namespace {

using std::chrono::milliseconds;

// Between two refreshes after a successful one, at least this long.
constexpr milliseconds kMinRefreshInterval{100};
// After a refresh that got an error reply (not a lost connection).
constexpr milliseconds kRefreshRetryInterval{200};
// While a master is down or a slot uncovered, refresh this often.
constexpr milliseconds kDegradedRefreshInterval{500};
constexpr milliseconds kFirstRetryDelay{10};
constexpr milliseconds kMaxRetryDelay{320};
// Redirects followed at once; later ones wait like a retry.
constexpr uint32_t kImmediateRedirects = 2;

ConnectionOptions ConnectionOptionsFor(const RemoteUrl& url, const RemoteOptions& options) {
  ConnectionOptions out;
  out.user = options.user.empty() ? url.user : options.user;
  out.password = options.password.empty() ? url.password : options.password;
  out.database = url.database;
  out.connect_timeout = options.connect_timeout;
  out.io_timeout = options.io_timeout;
  out.max_in_flight = options.max_in_flight_per_node;
  out.max_in_flight_bytes = options.max_in_flight_bytes_per_node;
  out.max_reply_bytes =
      options.max_payload_bytes + RemotePrefixBytes(kMaxRemoteBlockTokens) + (size_t{1} << 20);
  return out;
}

std::string ReplyText(const redisReply& reply) { return std::string(reply.str, reply.len); }

}  // namespace

ClusterClient::ClusterClient(RemoteUrl url, const RemoteOptions& options, RemoteCounters& counters,
                             CompletionSink sink, Clock::time_point now)
    : url_(std::move(url)),
      options_(options),
      connection_options_(ConnectionOptionsFor(url_, options)),
      counters_(counters),
      sink_(std::move(sink)),
      now_(now) {
  if (cluster()) {
    refresh_wanted_ = true;
    next_refresh_at_ = now;
  } else {
    map_ = SlotMap::SingleNode(url_.nodes.front());
    ConnectionTo(url_.nodes.front(), now);
  }
}

ClusterClient::~ClusterClient() = default;

NodeConnection& ClusterClient::ConnectionTo(const HostPort& node, Clock::time_point now) {
  const std::string name = ToString(node);
  auto it = connections_.find(name);
  if (it == connections_.end()) {
    it = connections_
             .emplace(name, std::make_unique<NodeConnection>(node, connection_options_, *this, now))
             .first;
  }
  return *it->second;
}

void ClusterClient::Submit(std::unique_ptr<RemoteOp> op, Clock::time_point now) {
  now_ = now;
  if (!op->invalid.ok()) {
    Complete(*op, op->invalid);
    return;
  }
  next_expiry_ = std::min(next_expiry_, op->deadline);
  Route(std::move(op), now);
}

void ClusterClient::Route(std::unique_ptr<RemoteOp> op, Clock::time_point now) {
  const HostPort* target = nullptr;
  if (op->ask_target.has_value()) {
    target = &*op->ask_target;
  } else if (!map_.has_value()) {
    unrouted_.push_back(std::move(op));
    return;
  } else {
    target = map_->MasterOf(op->slot);
    if (target == nullptr) {
      refresh_wanted_ = true;
      Complete(*op, Status::Unavailable("slot " + std::to_string(op->slot) +
                                        " has no master in the slot map"));
      return;
    }
  }
  NodeConnection& connection = ConnectionTo(*target, now);
  if (!connection.accepting()) {
    Complete(*op, Status::Unavailable(connection.name() + " is down: " + connection.reason(now)));
    return;
  }
  connection.Enqueue(std::move(op));
}

void ClusterClient::Complete(RemoteOp& op, const Status& status) {
  op.completed = true;
  if (!op.done) return;  // the store's own (deleting a corrupt value): not counted
  switch (op.kind) {
    case OpKind::kGet:
    case OpKind::kProbe:
      if (status.ok()) {
        counters_.hits.fetch_add(1, std::memory_order_relaxed);
        if (op.kind == OpKind::kGet) {
          counters_.blocks_read.fetch_add(1, std::memory_order_relaxed);
          counters_.bytes_read.fetch_add(op.payload_bytes, std::memory_order_relaxed);
        }
      } else if (status.IsNotFound() || status.IsCorruption()) {
        counters_.misses.fetch_add(1, std::memory_order_relaxed);
      } else {
        counters_.errors.fetch_add(1, std::memory_order_relaxed);
      }
      break;
    case OpKind::kPut:
      if (status.ok()) {
        counters_.blocks_written.fetch_add(1, std::memory_order_relaxed);
        counters_.bytes_written.fetch_add(op.payload_bytes, std::memory_order_relaxed);
      } else {
        counters_.errors.fetch_add(1, std::memory_order_relaxed);
      }
      break;
    case OpKind::kDelete:
      if (!status.ok() && !status.IsNotFound()) {
        counters_.errors.fetch_add(1, std::memory_order_relaxed);
      }
      break;
  }
  sink_(std::move(op.done), status);
  op.done = nullptr;
}

void ClusterClient::OnOpReply(NodeConnection& from, std::unique_ptr<RemoteOp> op,
                              const redisReply& reply) {
  if (reply.type == REDIS_REPLY_ERROR) {
    OnErrorReply(from, std::move(op), std::string_view(reply.str, reply.len));
    return;
  }
  OnValueReply(std::move(op), reply);
}

void ClusterClient::OnErrorReply(NodeConnection& from, std::unique_ptr<RemoteOp> op,
                                 std::string_view error) {
  const std::string text = from.name() + ": " + std::string(error);
  switch (ClassifyError(error)) {
    case ErrorKind::kMoved:
    case ErrorKind::kAsk: {
      const bool moved = ClassifyError(error) == ErrorKind::kMoved;
      if (!cluster()) {
        Complete(*op,
                 Status::IOError(text + " (the server is a cluster node: use redis-cluster://)"));
        return;
      }
      auto redirect = ParseRedirect(error);
      if (!redirect.ok()) {
        Complete(*op, Status::IOError(text));
        return;
      }
      if (++op->redirects > options_.max_redirects) {
        Complete(*op, Status::IOError(text + " (more than " +
                                      std::to_string(options_.max_redirects) + " redirects)"));
        return;
      }
      if (moved) {
        counters_.moved.fetch_add(1, std::memory_order_relaxed);
        if (map_.has_value()) map_->Assign(redirect->slot, redirect->target);
        refresh_wanted_ = true;
      } else {
        counters_.asked.fetch_add(1, std::memory_order_relaxed);
        op->ask_target = redirect->target;
      }
      if (op->redirects > kImmediateRedirects) {
        // Nodes disagree for now (a slot handed over to one but not yet the
        // other): give the cluster time to settle.
        ScheduleRetry(std::move(op), Status::IOError(text));
        return;
      }
      Route(std::move(op), now_);
      return;
    }
    case ErrorKind::kRetry:
      from.NoteRefusal(std::string(error), now_);
      if (error.starts_with("CLUSTERDOWN")) refresh_wanted_ = true;
      ScheduleRetry(std::move(op), Status::Unavailable(text));
      return;
    case ErrorKind::kReadOnly:
      refresh_wanted_ = true;
      ScheduleRetry(std::move(op), Status::Unavailable(text));
      return;
    case ErrorKind::kOutOfMemory:
      from.NoteRefusal(std::string(error), now_);
      Complete(*op, Status::ResourceExhausted(text));
      return;
    case ErrorKind::kAuth:
      from.NoteRefusal(std::string(error), now_);
      Complete(*op, Status::PermissionDenied(text));
      return;
    case ErrorKind::kWrongType:
      if (op->kind == OpKind::kGet || op->kind == OpKind::kProbe) {
        const Status corrupt = Status::Corruption(text);
        DropCorrupt(*op, corrupt);
        Complete(*op, corrupt);
        return;
      }
      Complete(*op, Status::IOError(text));
      return;
    case ErrorKind::kOther:
      Complete(*op, Status::IOError(text));
      return;
  }
}

void ClusterClient::OnValueReply(std::unique_ptr<RemoteOp> op, const redisReply& reply) {
  auto unexpected = [&] {
    Complete(*op, Status::IOError("unexpected reply of type " + std::to_string(reply.type) +
                                  " to " + op->name));
  };
  switch (op->kind) {
    case OpKind::kGet: {
      if (reply.type == REDIS_REPLY_NIL) {
        Complete(*op, Status::NotFound("no such block in the remote tier"));
        return;
      }
      if (reply.type != REDIS_REPLY_STRING) return unexpected();
      const std::string_view value(reply.str, reply.len);
      Status verified = VerifyValue(op->block, value, op->dst.size());
      if (verified.IsCorruption()) DropCorrupt(*op, verified);
      if (verified.ok()) {
        std::memcpy(op->dst.data(), value.data() + RemotePrefixBytes(op->block.tokens.size()),
                    op->dst.size());
      }
      Complete(*op, verified);
      return;
    }
    case OpKind::kProbe: {
      if (reply.type != REDIS_REPLY_STRING) return unexpected();
      if (reply.len == 0) {  // GETRANGE of a missing key
        Complete(*op, Status::NotFound("no such block in the remote tier"));
        return;
      }
      Status verified = VerifyValuePrefix(op->block, ReplyText(reply), op->payload_bytes);
      if (verified.IsCorruption()) DropCorrupt(*op, verified);
      Complete(*op, verified);
      return;
    }
    case OpKind::kPut:
      if (reply.type != REDIS_REPLY_STATUS) return unexpected();
      Complete(*op, Status::Ok());
      return;
    case OpKind::kDelete:
      if (reply.type != REDIS_REPLY_INTEGER) return unexpected();
      Complete(*op, reply.integer > 0 ? Status::Ok() : Status::NotFound("no such block"));
      return;
  }
}

void ClusterClient::DropCorrupt(const RemoteOp& op, const Status& why) {
  counters_.corrupt_dropped.fetch_add(1, std::memory_order_relaxed);
  auto drop = std::make_unique<RemoteOp>();
  drop->kind = OpKind::kDelete;
  drop->block.namespace_id = op.block.namespace_id;
  drop->block.key = op.block.key;
  drop->name = op.name;
  drop->slot = op.slot;
  drop->deadline = now_ + options_.op_timeout;
  next_expiry_ = std::min(next_expiry_, drop->deadline);
  Route(std::move(drop), now_);
}

void ClusterClient::ScheduleRetry(std::unique_ptr<RemoteOp> op, const Status& why) {
  const milliseconds delay =
      std::min(kMaxRetryDelay, kFirstRetryDelay * (1u << std::min(op->retries, 5u)));
  ++op->retries;
  if (now_ + delay >= op->deadline) {
    Complete(*op, why);
    return;
  }
  counters_.retried.fetch_add(1, std::memory_order_relaxed);
  op->retry_at = now_ + delay;
  retrying_.push_back(std::move(op));
}

void ClusterClient::OnOpFailed(NodeConnection& from, std::unique_ptr<RemoteOp> op,
                               const Status& why) {
  if (cluster()) refresh_wanted_ = true;
  Complete(*op, why);
}

void ClusterClient::OnSlotsReply(NodeConnection& from, const redisReply& reply) {
  if (refreshing_ == &from) refreshing_ = nullptr;
  auto map = SlotMap::FromClusterSlots(reply, from.address());
  if (!map.ok()) {
    refresh_error_ = from.name() + ": " + std::string(map.status().message());
    ++map_epoch_;
    ++refresh_cursor_;
    refresh_wanted_ = true;
    next_refresh_at_ = now_ + kRefreshRetryInterval;
    FailUnrouted(Status::Unavailable("no slot map: " + refresh_error_));
    return;
  }
  ApplySlotMap(std::move(*map), now_);
}

void ClusterClient::OnSlotsFailed(NodeConnection& from, const Status& why) {
  if (refreshing_ == &from) refreshing_ = nullptr;
  refresh_error_ = std::string(why.message());
  ++refresh_cursor_;
  refresh_wanted_ = true;
}

void ClusterClient::ApplySlotMap(SlotMap map, Clock::time_point now) {
  counters_.slot_map_refreshes.fetch_add(1, std::memory_order_relaxed);
  ++map_epoch_;
  refresh_error_.clear();
  map_ = std::move(map);
  for (const HostPort& master : map_->masters()) ConnectionTo(master, now);
  std::vector<std::unique_ptr<RemoteOp>> waiting = std::move(unrouted_);
  unrouted_.clear();
  for (auto& op : waiting) Route(std::move(op), now);
}

void ClusterClient::FailUnrouted(const Status& why) {
  std::vector<std::unique_ptr<RemoteOp>> waiting = std::move(unrouted_);
  unrouted_.clear();
  for (auto& op : waiting) Complete(*op, why);
}

std::vector<HostPort> ClusterClient::RefreshCandidates() const {
  std::vector<HostPort> candidates;
  auto add = [&](const HostPort& node) {
    if (std::find(candidates.begin(), candidates.end(), node) == candidates.end()) {
      candidates.push_back(node);
    }
  };
  if (map_.has_value()) {
    for (const HostPort& master : map_->masters()) add(master);
  }
  for (const HostPort& seed : url_.nodes) add(seed);
  if (map_.has_value()) {
    for (const HostPort& replica : map_->replicas()) add(replica);
  }
  return candidates;
}

void ClusterClient::MaybeStartRefresh(Clock::time_point now) {
  if (!cluster()) return;
  if (map_.has_value() && now >= next_degraded_check_) {
    next_degraded_check_ = now + kDegradedRefreshInterval;
    bool degraded = map_->covered_slots() < kClusterSlots;
    for (const HostPort& master : map_->masters()) {
      auto it = connections_.find(ToString(master));
      if (it == connections_.end() || it->second->health(now) == RemoteHealth::kDown) {
        degraded = true;
      }
    }
    if (degraded) refresh_wanted_ = true;
  }
  if (!refresh_wanted_ || refreshing_ != nullptr || now < next_refresh_at_) return;
  const std::vector<HostPort> candidates = RefreshCandidates();
  for (size_t i = 0; i < candidates.size(); ++i) {
    const HostPort& candidate = candidates[(refresh_cursor_ + i) % candidates.size()];
    NodeConnection& connection = ConnectionTo(candidate, now);
    if (!connection.accepting()) continue;
    refresh_cursor_ = (refresh_cursor_ + i) % candidates.size();
    connection.RequestSlots();
    refreshing_ = &connection;
    refresh_wanted_ = false;
    next_refresh_at_ = now + kMinRefreshInterval;
    return;
  }
  // Every candidate is backing off after a failure: nothing can route now.
  // Look again later (a reconnect may have succeeded by then).
  next_refresh_at_ = now + kMinRefreshInterval;
  if (!map_.has_value()) {
    std::string why = "no cluster node reachable";
    for (const HostPort& candidate : candidates) {
      why += "; " + ToString(candidate) + ": " + ConnectionTo(candidate, now).reason(now);
    }
    if (refresh_error_ != why) ++map_epoch_;
    refresh_error_ = why;
    FailUnrouted(Status::Unavailable(why));
  }
}

Clock::time_point ClusterClient::ExpireOps(Clock::time_point now) {
  Clock::time_point earliest = Clock::time_point::max();
  auto expire = [&](RemoteOp& op) {
    counters_.timeouts.fetch_add(1, std::memory_order_relaxed);
    Complete(op, Status::Unavailable("remote " + std::string(op.name) + ": no answer in " +
                                     std::to_string(options_.op_timeout.count()) + " ms"));
  };
  auto sweep = [&](std::vector<std::unique_ptr<RemoteOp>>& ops) {
    std::erase_if(ops, [&](const std::unique_ptr<RemoteOp>& op) {
      if (op->deadline <= now) {
        expire(*op);
        return true;
      }
      earliest = std::min(earliest, op->deadline);
      return false;
    });
  };
  sweep(unrouted_);
  sweep(retrying_);
  for (auto& [name, connection] : connections_) {
    earliest = std::min(earliest, connection->ExpireOps(now, expire));
  }
  return earliest;
}

void ClusterClient::CloseRetired() {
  if (!cluster() || !map_.has_value()) return;
  const auto& masters = map_->masters();
  std::erase_if(connections_, [&](const auto& entry) {
    const NodeConnection& connection = *entry.second;
    const bool master =
        std::find(masters.begin(), masters.end(), connection.address()) != masters.end();
    const bool retire = !master && &connection != refreshing_ && connection.idle();
    if (retire) {
      retired_reconnects_ += connection.reconnects();
      ++map_epoch_;
    }
    return retire;
  });
}

Clock::time_point ClusterClient::Prepare(Clock::time_point now) {
  now_ = now;
  for (auto& [name, connection] : connections_) connection->OnTimers(now);
  if (!retrying_.empty()) {
    std::vector<std::unique_ptr<RemoteOp>> due;
    std::erase_if(retrying_, [&](std::unique_ptr<RemoteOp>& op) {
      if (op->retry_at > now) return false;
      due.push_back(std::move(op));
      return true;
    });
    for (auto& op : due) Route(std::move(op), now);
  }
  if (now >= next_expiry_) next_expiry_ = ExpireOps(now);
  MaybeStartRefresh(now);
  CloseRetired();
  for (auto& [name, connection] : connections_) connection->Flush(now);

  Clock::time_point wake = next_expiry_;
  for (auto& [name, connection] : connections_) wake = std::min(wake, connection->next_timer());
  for (const auto& op : retrying_) wake = std::min(wake, op->retry_at);
  if (cluster()) {
    wake = std::min(wake, next_degraded_check_);
    if (refresh_wanted_ && refreshing_ == nullptr) wake = std::min(wake, next_refresh_at_);
  }
  return wake;
}

void ClusterClient::AppendPollFds(std::vector<pollfd>& fds) {
  polled_.clear();
  for (auto& [name, connection] : connections_) {
    const short events = connection->poll_events();
    if (connection->fd() < 0 || events == 0) continue;
    fds.push_back({connection->fd(), events, 0});
    polled_.push_back(connection.get());
  }
}

void ClusterClient::OnPollResults(const pollfd* fds, size_t count, Clock::time_point now) {
  now_ = now;
  for (size_t i = 0; i < count && i < polled_.size(); ++i) {
    polled_[i]->OnPollEvents(fds[i].revents, now);
  }
}

void ClusterClient::FillHealth(RemoteStats& stats, Clock::time_point now) const {
  std::vector<HostPort> nodes = map_.has_value() ? map_->masters() : url_.nodes;
  stats.nodes.clear();
  size_t up = 0;
  std::string first_problem;
  for (const HostPort& node : nodes) {
    RemoteNodeStatus status;
    status.address = ToString(node);
    status.slots = map_.has_value() ? map_->SlotsOf(node) : 0;
    if (map_.has_value() && status.slots == 0) continue;  // a master that lost all its slots
    auto it = connections_.find(status.address);
    if (it == connections_.end()) {
      status.health = RemoteHealth::kDown;
      status.reason = "not connected";
    } else {
      status.health = it->second->health(now);
      status.reason = it->second->reason(now);
    }
    if (status.health != RemoteHealth::kDown) ++up;
    if (status.health != RemoteHealth::kUp && first_problem.empty()) {
      first_problem = status.address + ": " + status.reason;
    }
    stats.nodes.push_back(std::move(status));
  }
  if (!map_.has_value()) {
    stats.health = RemoteHealth::kDown;
    stats.reason = refresh_error_.empty() ? "no slot map yet" : "no slot map: " + refresh_error_;
  } else if (up == 0) {
    stats.health = RemoteHealth::kDown;
    stats.reason = first_problem;
  } else if (map_->covered_slots() < kClusterSlots) {
    stats.health = RemoteHealth::kDegraded;
    stats.reason = std::to_string(kClusterSlots - map_->covered_slots()) + " slots have no master";
  } else if (!first_problem.empty()) {
    stats.health = RemoteHealth::kDegraded;
    stats.reason = first_problem;
  } else {
    stats.health = RemoteHealth::kUp;
    stats.reason.clear();
  }
}

uint64_t ClusterClient::reconnects() const {
  uint64_t total = retired_reconnects_;
  for (const auto& [name, connection] : connections_) total += connection->reconnects();
  return total;
}

}  // namespace tierkv::remote

namespace tierkv::remote {

uint64_t ClusterClient::health_epoch() const {
  uint64_t epoch = map_epoch_;
  for (const auto& [name, connection] : connections_) epoch += connection->health_epoch();
  return epoch;
}

}  // namespace tierkv::remote
