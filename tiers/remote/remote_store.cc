// RemoteStore's I/O thread: one thread drives every node connection with
// poll(2), so a slow or dead node never holds up another, and the caller's
// thread only queues work and reaps completions.
//
// Why this and not hiredis's own async API or a thread per node over its
// blocking API: hiredis 0.14's async API has no timeouts and no adapter for
// our loop, and its callbacks-with-deferred-free rules are harder to get right
// than one FIFO of requests per connection; blocking calls would need a thread
// per node plus locks around the slot map that redirects change. Here all
// cluster state has one owner (ClusterClient) and needs no lock; the inbox and
// the outbox are the only shared structures.
#include "tiers/remote/remote_store.h"

#include <poll.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <mutex>
#include <thread>

#include "tiers/remote/cluster_client.h"
#include "tiers/remote/key_slot.h"
#include "tiers/remote/remote_op.h"

namespace tierkv::remote {
namespace {

using std::chrono::duration_cast;
using std::chrono::milliseconds;

// Health is published to Stats() at least this often.
constexpr milliseconds kHealthPublishInterval{100};

void SignalEventFd(int fd) {
  const uint64_t one = 1;
  ssize_t ignored = ::write(fd, &one, sizeof(one));  // only fails if the counter would overflow
  (void)ignored;
}

void ClearEventFd(int fd) {
  uint64_t count = 0;
  ssize_t ignored = ::read(fd, &count, sizeof(count));  // EAGAIN when already clear
  (void)ignored;
}

std::unique_ptr<RemoteOp> NewOp(OpKind kind, const RemoteBlock& block, RemoteStore::Callback done) {
  auto op = std::make_unique<RemoteOp>();
  op->kind = kind;
  op->block = block;
  op->name = RemoteKeyName(block.namespace_id, block.key);
  op->slot = KeySlot(op->name);
  op->done = std::move(done);
  return op;
}

}  // namespace

std::string_view RemoteHealthName(RemoteHealth health) {
  switch (health) {
    case RemoteHealth::kUp:
      return "up";
    case RemoteHealth::kDegraded:
      return "degraded";
    case RemoteHealth::kDown:
      return "down";
  }
  return "down";
}

class RemoteStoreImpl {
 public:
  RemoteStoreImpl(RemoteUrl url, const RemoteOptions& options, int wake_fd, int completion_fd)
      : options_(options), wake_fd_(wake_fd), completion_fd_(completion_fd) {
    thread_ = std::thread([this, url = std::move(url)]() mutable { Run(std::move(url)); });
  }

  ~RemoteStoreImpl() {
    stop_.store(true);
    SignalEventFd(wake_fd_);
    thread_.join();
    ::close(wake_fd_);
    ::close(completion_fd_);
  }

  void Submit(std::vector<std::unique_ptr<RemoteOp>> ops) {
    if (ops.empty()) return;
    const Clock::time_point deadline = Clock::now() + options_.op_timeout;
    for (auto& op : ops) {
      op->deadline = deadline;
      Validate(*op);
      CountSubmitted(op->kind);
    }
    outstanding_.fetch_add(ops.size());
    {
      std::lock_guard lock(inbox_mutex_);
      for (auto& op : ops) inbox_.push_back(std::move(op));
    }
    SignalEventFd(wake_fd_);
  }

  size_t Reap() {
    ClearEventFd(completion_fd_);
    std::vector<Completion> ready;
    {
      std::lock_guard lock(outbox_mutex_);
      ready.swap(outbox_);
    }
    for (Completion& completion : ready) {
      completion.done(std::move(completion.status));
      outstanding_.fetch_sub(1);
    }
    return ready.size();
  }

  void Drain() {
    while (outstanding_.load() > 0) {
      pollfd fd{completion_fd_, POLLIN, 0};
      ::poll(&fd, 1, -1);
      Reap();
    }
  }

  int completion_fd() const { return completion_fd_; }
  RemoteCounters& counters() { return counters_; }
  uint64_t outstanding() const { return outstanding_.load(); }

  void FillStats(RemoteStats& stats) const {
    std::lock_guard lock(health_mutex_);
    stats.health = health_.health;
    stats.reason = health_.reason;
    stats.nodes = health_.nodes;
    stats.reconnects = reconnects_;
  }

 private:
  struct Completion {
    RemoteStore::Callback done;
    Status status;
  };

  void Validate(RemoteOp& op) const {
    if (op.kind != OpKind::kDelete &&
        (op.block.tokens.empty() || op.block.tokens.size() > kMaxRemoteBlockTokens)) {
      op.invalid =
          Status::InvalidArgument("a block of " + std::to_string(op.block.tokens.size()) +
                                  " tokens (1 to " + std::to_string(kMaxRemoteBlockTokens) + ")");
    } else if (op.kind != OpKind::kDelete &&
               (op.payload_bytes == 0 || op.payload_bytes > options_.max_payload_bytes)) {
      op.invalid = Status::InvalidArgument("payload of " + std::to_string(op.payload_bytes) +
                                           " bytes (must be 1 to " +
                                           std::to_string(options_.max_payload_bytes) + ")");
    }
  }

  void CountSubmitted(OpKind kind) {
    std::atomic<uint64_t>& counter = kind == OpKind::kGet     ? counters_.gets
                                     : kind == OpKind::kProbe ? counters_.probes
                                     : kind == OpKind::kPut   ? counters_.puts
                                                              : counters_.deletes;
    counter.fetch_add(1, std::memory_order_relaxed);
  }

  void Run(RemoteUrl url) {
    std::vector<Completion> finished;  // this turn's, handed over together
    ClusterClient client(
        std::move(url), options_, counters_,
        [&finished](RemoteStore::Callback done, Status status) {
          finished.push_back({std::move(done), std::move(status)});
        },
        Clock::now());
    std::vector<pollfd> fds;
    std::vector<std::unique_ptr<RemoteOp>> arrived;
    Clock::time_point next_publish = Clock::now();
    uint64_t published_epoch = 0;
    // Health is published before the completions of the same turn are handed
    // over, so a caller that reaped a completion sees the health it caused.
    auto publish = [&](Clock::time_point now) {
      const uint64_t epoch = client.health_epoch();
      if (epoch == published_epoch && now < next_publish) return;
      Publish(client, now);
      published_epoch = epoch;
      next_publish = now + kHealthPublishInterval;
    };
    while (!stop_.load()) {
      Clock::time_point now = Clock::now();
      const Clock::time_point wake = std::min(client.Prepare(now), next_publish);
      publish(now);
      HandOver(finished);

      fds.clear();
      fds.push_back({wake_fd_, POLLIN, 0});
      client.AppendPollFds(fds);
      const auto wait = duration_cast<milliseconds>(wake - now).count();
      ::poll(fds.data(), fds.size(), static_cast<int>(std::clamp<int64_t>(wait + 1, 0, 1000)));
      now = Clock::now();

      if (fds[0].revents & POLLIN) {
        ClearEventFd(wake_fd_);
        {
          std::lock_guard lock(inbox_mutex_);
          arrived.swap(inbox_);
        }
        for (auto& op : arrived) client.Submit(std::move(op), now);
        arrived.clear();
      }
      client.OnPollResults(fds.data() + 1, fds.size() - 1, now);
      publish(now);
      HandOver(finished);
    }
  }

  void HandOver(std::vector<Completion>& finished) {
    if (finished.empty()) return;
    {
      std::lock_guard lock(outbox_mutex_);
      for (Completion& completion : finished) outbox_.push_back(std::move(completion));
    }
    finished.clear();
    SignalEventFd(completion_fd_);
  }

  void Publish(const ClusterClient& client, Clock::time_point now) {
    RemoteStats health;
    client.FillHealth(health, now);
    std::lock_guard lock(health_mutex_);
    health_ = std::move(health);
    reconnects_ = client.reconnects();
  }

  const RemoteOptions options_;
  const int wake_fd_;
  const int completion_fd_;
  RemoteCounters counters_;
  std::atomic<bool> stop_{false};
  std::atomic<uint64_t> outstanding_{0};

  std::mutex inbox_mutex_;
  std::vector<std::unique_ptr<RemoteOp>> inbox_;  // GUARDED_BY(inbox_mutex_)
  std::mutex outbox_mutex_;
  std::vector<Completion> outbox_;  // GUARDED_BY(outbox_mutex_)
  mutable std::mutex health_mutex_;
  RemoteStats health_;       // GUARDED_BY(health_mutex_): health, reason, nodes only
  uint64_t reconnects_ = 0;  // GUARDED_BY(health_mutex_)

  std::thread thread_;  // last: starts after every member above exists
};

RemoteStore::Batch::Batch() = default;
RemoteStore::Batch::Batch(Batch&&) noexcept = default;
RemoteStore::Batch& RemoteStore::Batch::operator=(Batch&&) noexcept = default;
RemoteStore::Batch::~Batch() = default;

void RemoteStore::Batch::Get(const RemoteBlock& block, std::span<std::byte> dst, Callback done) {
  auto op = NewOp(OpKind::kGet, block, std::move(done));
  op->dst = dst;
  op->payload_bytes = dst.size();
  ops_.push_back(std::move(op));
}

void RemoteStore::Batch::Probe(const RemoteBlock& block, uint64_t payload_bytes, Callback done) {
  auto op = NewOp(OpKind::kProbe, block, std::move(done));
  op->payload_bytes = payload_bytes;
  ops_.push_back(std::move(op));
}

void RemoteStore::Batch::Put(const RemoteBlock& block, std::span<const std::byte> payload,
                             Callback done) {
  auto op = NewOp(OpKind::kPut, block, std::move(done));
  op->payload = payload;
  op->payload_bytes = payload.size();
  ops_.push_back(std::move(op));
}

void RemoteStore::Batch::Delete(const Key128& namespace_id, const Key128& key, Callback done) {
  RemoteBlock block;
  block.namespace_id = namespace_id;
  block.key = key;
  ops_.push_back(NewOp(OpKind::kDelete, block, std::move(done)));
}

Result<std::unique_ptr<RemoteStore>> RemoteStore::Open(const RemoteOptions& options) {
  TIERKV_ASSIGN_OR_RETURN(RemoteUrl url, ParseRemoteUrl(options.url));
  if (options.op_timeout.count() <= 0 || options.io_timeout.count() <= 0 ||
      options.connect_timeout.count() <= 0) {
    return Status::InvalidArgument("remote: timeouts must be positive");
  }
  if (options.max_in_flight_per_node == 0) {
    return Status::InvalidArgument("remote: max_in_flight_per_node must be at least 1");
  }
  const int wake_fd = ::eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
  const int completion_fd = ::eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
  if (wake_fd < 0 || completion_fd < 0) {
    const Status error = Status::FromErrno(errno, "eventfd");
    if (wake_fd >= 0) ::close(wake_fd);
    if (completion_fd >= 0) ::close(completion_fd);
    return error;
  }
  return std::unique_ptr<RemoteStore>(new RemoteStore(
      std::make_unique<RemoteStoreImpl>(std::move(url), options, wake_fd, completion_fd)));
}

RemoteStore::RemoteStore(std::unique_ptr<RemoteStoreImpl> impl) : impl_(std::move(impl)) {}
RemoteStore::~RemoteStore() = default;

void RemoteStore::Submit(Batch batch) { impl_->Submit(std::move(batch.ops_)); }

size_t RemoteStore::ReapCompletions() { return impl_->Reap(); }
void RemoteStore::Drain() { impl_->Drain(); }
int RemoteStore::event_fd() const { return impl_->completion_fd(); }

RemoteStats RemoteStore::Stats() const {
  RemoteStats stats;
  impl_->FillStats(stats);
  const RemoteCounters& c = impl_->counters();
  auto load = [](const std::atomic<uint64_t>& v) { return v.load(std::memory_order_relaxed); };
  stats.gets = load(c.gets);
  stats.probes = load(c.probes);
  stats.puts = load(c.puts);
  stats.deletes = load(c.deletes);
  stats.hits = load(c.hits);
  stats.misses = load(c.misses);
  stats.blocks_read = load(c.blocks_read);
  stats.blocks_written = load(c.blocks_written);
  stats.bytes_read = load(c.bytes_read);
  stats.bytes_written = load(c.bytes_written);
  stats.errors = load(c.errors);
  stats.corrupt_dropped = load(c.corrupt_dropped);
  stats.moved = load(c.moved);
  stats.asked = load(c.asked);
  stats.retried = load(c.retried);
  stats.timeouts = load(c.timeouts);
  stats.slot_map_refreshes = load(c.slot_map_refreshes);
  stats.queue_depth = impl_->outstanding();
  return stats;
}

namespace {

// Submits the one operation `add` puts in a batch and reaps until it is done.
template <typename AddOp>
Status RunBlocking(RemoteStore& store, AddOp add) {
  bool done = false;
  Status result;
  RemoteStore::Batch batch;
  add(batch, [&](Status status) {
    result = std::move(status);
    done = true;
  });
  store.Submit(std::move(batch));
  while (!done) {
    pollfd fd{store.event_fd(), POLLIN, 0};
    ::poll(&fd, 1, -1);
    store.ReapCompletions();
  }
  return result;
}

}  // namespace

Status GetBlocking(RemoteStore& store, const RemoteBlock& block, std::span<std::byte> dst) {
  return RunBlocking(store, [&](auto& batch, auto done) { batch.Get(block, dst, done); });
}

Status ProbeBlocking(RemoteStore& store, const RemoteBlock& block, uint64_t payload_bytes) {
  return RunBlocking(store,
                     [&](auto& batch, auto done) { batch.Probe(block, payload_bytes, done); });
}

Status PutBlocking(RemoteStore& store, const RemoteBlock& block,
                   std::span<const std::byte> payload) {
  return RunBlocking(store, [&](auto& batch, auto done) { batch.Put(block, payload, done); });
}

Status DeleteBlocking(RemoteStore& store, const Key128& namespace_id, const Key128& key) {
  return RunBlocking(store, [&](auto& batch, auto done) { batch.Delete(namespace_id, key, done); });
}

}  // namespace tierkv::remote
