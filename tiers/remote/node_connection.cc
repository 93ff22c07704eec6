#include "tiers/remote/node_connection.h"

#include <hiredis/hiredis.h>
#include <sys/socket.h>
#include <sys/uio.h>

#include <algorithm>
#include <cerrno>
#include <cstring>

#include "tiers/remote/reply_reader.h"

namespace tierkv::remote {
namespace {

using std::chrono::duration_cast;
using std::chrono::milliseconds;

constexpr milliseconds kMinBackoff{50};
constexpr milliseconds kMaxBackoff{2000};
// A refusal (OOM, TRYAGAIN, ...) keeps a node degraded this long.
constexpr milliseconds kDegradedHold{5000};
constexpr size_t kReadChunk = size_t{256} << 10;
// Bounds one wake-up's reading so that other nodes get their turn.
constexpr size_t kMaxReadPerWake = size_t{16} << 20;
constexpr int kMaxIovecs = 64;
constexpr char kCrlf[] = "\r\n";

std::string Millis(milliseconds ms) { return std::to_string(ms.count()) + " ms"; }

// The iovecs of `request` from byte `offset` on, appended to `iov`.
void AppendIovecs(const Command& command, size_t offset, std::vector<iovec>& iov) {
  auto add = [&](const void* data, size_t len) {
    if (offset >= len) {
      offset -= len;
      return;
    }
    iov.push_back({const_cast<char*>(static_cast<const char*>(data)) + offset, len - offset});
    offset = 0;
  };
  add(command.head.data(), command.head.size());
  if (!command.body.empty()) {
    add(command.body.data(), command.body.size());
    add(kCrlf, 2);
  }
}

}  // namespace

void NodeConnection::ContextFree::operator()(redisContext* context) const { redisFree(context); }

NodeConnection::NodeConnection(HostPort address, const ConnectionOptions& options,
                               ConnectionOwner& owner, Clock::time_point now)
    : address_(std::move(address)),
      name_(ToString(address_)),
      options_(options),
      owner_(owner),
      backoff_(kMinBackoff),
      read_buffer_(kReadChunk) {
  StartConnect(now);
}

NodeConnection::~NodeConnection() = default;

void NodeConnection::StartConnect(Clock::time_point now) {
  ++connects_;
  ++health_epoch_;
  state_ = State::kConnecting;
  connect_deadline_ = now + options_.connect_timeout;
  want_write_ = false;
  context_.reset(redisConnectNonBlock(address_.host.c_str(), address_.port));
  if (context_ == nullptr) {
    Fail(Status::Unavailable("connect: out of memory"), now);
    return;
  }
  if (context_->err != 0) {
    Fail(Status::Unavailable(std::string("connect: ") + context_->errstr), now);
    return;
  }
  // Keep the reader's buffer between replies instead of freeing it each time
  // it empties: values are large and arrive back to back.
  context_->reader->maxbuf = 0;
  BoundReplies(context_->reader);
}

void NodeConnection::OnConnected(Clock::time_point now) {
  ++health_epoch_;
  state_ = State::kHandshaking;
  last_progress_ = now;
  handshake_left_ = 0;
  if (!options_.password.empty()) {
    Request auth;
    auth.kind = RequestKind::kHandshake;
    auth.command = options_.user.empty() ? MakeCommand({"AUTH", options_.password})
                                         : MakeCommand({"AUTH", options_.user, options_.password});
    PushRequest(std::move(auth));
    ++handshake_left_;
  }
  if (options_.database != 0) {
    Request select;
    select.kind = RequestKind::kHandshake;
    select.command = MakeCommand({"SELECT", std::to_string(options_.database)});
    PushRequest(std::move(select));
    ++handshake_left_;
  }
  if (handshake_left_ == 0) {
    state_ = State::kReady;
    backoff_ = kMinBackoff;
  }
}

void NodeConnection::Fail(const Status& why, Clock::time_point now) {
  ++health_epoch_;
  context_.reset();
  state_ = State::kBackoff;
  reconnect_at_ = now + backoff_;
  backoff_ = std::min(backoff_ * 2, kMaxBackoff);
  last_error_ = std::string(why.message());
  want_write_ = false;
  slots_wanted_ = false;
  std::deque<Request> requests = std::move(requests_);
  std::deque<std::unique_ptr<RemoteOp>> waiting = std::move(waiting_);
  requests_.clear();
  waiting_.clear();
  next_write_ = 0;
  window_bytes_ = 0;
  const Status lost = Status::Unavailable(name_ + ": " + last_error_);
  for (Request& request : requests) {
    if (request.kind == RequestKind::kSlots) owner_.OnSlotsFailed(*this, lost);
    if (request.kind == RequestKind::kOp && !request.op->completed) {
      owner_.OnOpFailed(*this, std::move(request.op), lost);
    }
  }
  for (auto& op : waiting) owner_.OnOpFailed(*this, std::move(op), lost);
}

void NodeConnection::Enqueue(std::unique_ptr<RemoteOp> op) { waiting_.push_back(std::move(op)); }

void NodeConnection::RequestSlots() { slots_wanted_ = true; }

bool NodeConnection::idle() const {
  return waiting_.empty() && requests_.empty() && !slots_wanted_;
}

int NodeConnection::fd() const { return context_ != nullptr ? context_->fd : -1; }

short NodeConnection::poll_events() const {
  switch (state_) {
    case State::kConnecting:
      return POLLOUT;
    case State::kHandshaking:
    case State::kReady:
      return static_cast<short>(POLLIN | (want_write_ ? POLLOUT : 0));
    case State::kBackoff:
      return 0;
  }
  return 0;
}

void NodeConnection::PushRequest(Request request) {
  if (requests_.empty()) last_progress_ = Clock::now();
  window_bytes_ += request.command.size();
  requests_.push_back(std::move(request));
}

void NodeConnection::Flush(Clock::time_point now) {
  if (state_ != State::kHandshaking && state_ != State::kReady) return;
  if (slots_wanted_) {
    slots_wanted_ = false;
    Request slots;
    slots.kind = RequestKind::kSlots;
    slots.command = MakeCommand({"CLUSTER", "SLOTS"});
    PushRequest(std::move(slots));
  }
  while (!waiting_.empty() && requests_.size() < options_.max_in_flight &&
         (window_bytes_ < options_.max_in_flight_bytes || requests_.empty())) {
    std::unique_ptr<RemoteOp> op = std::move(waiting_.front());
    waiting_.pop_front();
    const bool asking = op->ask_target.has_value() && *op->ask_target == address_;
    op->ask_target.reset();
    Request request;
    request.command = FormatOp(*op, asking);
    request.op = std::move(op);
    PushRequest(std::move(request));
  }
  if (!want_write_) Write(now);
}

void NodeConnection::Write(Clock::time_point now) {
  std::vector<iovec> iov;
  while (next_write_ < requests_.size()) {
    iov.clear();
    for (size_t i = next_write_; i < requests_.size() && iov.size() + 3 <= kMaxIovecs; ++i) {
      AppendIovecs(requests_[i].command, requests_[i].written, iov);
    }
    msghdr message{};
    message.msg_iov = iov.data();
    message.msg_iovlen = iov.size();
    const ssize_t n = ::sendmsg(context_->fd, &message, MSG_NOSIGNAL | MSG_DONTWAIT);
    if (n < 0) {
      if (errno == EINTR) continue;
      if (errno == EAGAIN || errno == EWOULDBLOCK) {
        want_write_ = true;
        return;
      }
      Fail(Status::Unavailable(std::string("send: ") + std::strerror(errno)), now);
      return;
    }
    last_progress_ = now;
    size_t left = static_cast<size_t>(n);
    while (left > 0 && next_write_ < requests_.size()) {
      Request& request = requests_[next_write_];
      const size_t take = std::min(left, request.command.size() - request.written);
      request.written += take;
      left -= take;
      if (request.sent()) ++next_write_;
    }
  }
  want_write_ = false;
}

void NodeConnection::OnPollEvents(short revents, Clock::time_point now) {
  if (revents == 0) return;
  if (state_ == State::kConnecting) {
    int error = 0;
    socklen_t len = sizeof(error);
    if (::getsockopt(context_->fd, SOL_SOCKET, SO_ERROR, &error, &len) != 0) error = errno;
    if (error != 0) {
      Fail(Status::Unavailable(std::string("connect: ") + std::strerror(error)), now);
      return;
    }
    OnConnected(now);
    Flush(now);
    return;
  }
  if (state_ == State::kBackoff) return;
  if (revents & (POLLIN | POLLHUP | POLLERR)) {
    Read(now);
    if (state_ == State::kBackoff) return;
  }
  if (revents & POLLOUT) {
    want_write_ = false;
    Write(now);
  }
}

void NodeConnection::Read(Clock::time_point now) {
  size_t total = 0;
  while (total < kMaxReadPerWake) {
    const ssize_t n = ::recv(context_->fd, read_buffer_.data(), read_buffer_.size(), MSG_DONTWAIT);
    if (n == 0) {
      Fail(Status::Unavailable("server closed the connection"), now);
      return;
    }
    if (n < 0) {
      if (errno == EINTR) continue;
      if (errno == EAGAIN || errno == EWOULDBLOCK) return;
      Fail(Status::Unavailable(std::string("recv: ") + std::strerror(errno)), now);
      return;
    }
    last_progress_ = now;
    total += static_cast<size_t>(n);
    if (redisReaderFeed(context_->reader, read_buffer_.data(), static_cast<size_t>(n)) !=
        REDIS_OK) {
      Fail(Status::Unavailable("reader: out of memory"), now);
      return;
    }
    if (!DispatchReplies(now)) return;
    const redisReader* reader = context_->reader;
    if (reader->len - reader->pos > options_.max_reply_bytes) {
      Fail(Status::Unavailable("protocol error: a reply larger than " +
                               std::to_string(options_.max_reply_bytes) + " bytes"),
           now);
      return;
    }
    if (static_cast<size_t>(n) < read_buffer_.size()) return;
  }
}

bool NodeConnection::DispatchReplies(Clock::time_point now) {
  while (state_ != State::kBackoff) {
    void* raw = nullptr;
    if (redisReaderGetReply(context_->reader, &raw) != REDIS_OK) {
      Fail(Status::Unavailable(std::string("protocol error: ") + context_->reader->errstr), now);
      return false;
    }
    if (raw == nullptr) return true;
    std::unique_ptr<redisReply, void (*)(void*)> reply(static_cast<redisReply*>(raw),
                                                       freeReplyObject);
    if (next_write_ == 0) {
      Fail(Status::Unavailable("protocol error: a reply to no request"), now);
      return false;
    }
    Request& front = requests_.front();
    if (front.command.replies > 1) {
      --front.command.replies;  // the reply to ASKING; the command's own follows
      continue;
    }
    Request request = std::move(front);
    requests_.pop_front();
    --next_write_;
    window_bytes_ -= request.command.size();
    if (!requests_.empty()) last_progress_ = now;
    switch (request.kind) {
      case RequestKind::kHandshake:
        if (reply->type == REDIS_REPLY_ERROR) {
          Fail(
              Status::PermissionDenied("handshake refused: " + std::string(reply->str, reply->len)),
              now);
          return false;
        }
        if (--handshake_left_ == 0) {
          ++health_epoch_;
          state_ = State::kReady;
          backoff_ = kMinBackoff;
        }
        break;
      case RequestKind::kSlots:
        owner_.OnSlotsReply(*this, *reply);
        break;
      case RequestKind::kOp:
        if (!request.op->completed) owner_.OnOpReply(*this, std::move(request.op), *reply);
        break;
    }
  }
  return false;
}

Clock::time_point NodeConnection::next_timer() const {
  switch (state_) {
    case State::kConnecting:
      return connect_deadline_;
    case State::kHandshaking:
    case State::kReady:
      return requests_.empty() ? Clock::time_point::max() : last_progress_ + options_.io_timeout;
    case State::kBackoff:
      return reconnect_at_;
  }
  return Clock::time_point::max();
}

void NodeConnection::OnTimers(Clock::time_point now) {
  switch (state_) {
    case State::kConnecting:
      if (now >= connect_deadline_) {
        Fail(Status::Unavailable("connect: no answer in " + Millis(options_.connect_timeout)), now);
      }
      break;
    case State::kHandshaking:
    case State::kReady:
      if (!requests_.empty() && now >= last_progress_ + options_.io_timeout) {
        Fail(Status::Unavailable("no reply in " + Millis(options_.io_timeout)), now);
      }
      break;
    case State::kBackoff:
      if (now >= reconnect_at_) StartConnect(now);
      break;
  }
}

Clock::time_point NodeConnection::ExpireOps(Clock::time_point now,
                                            const std::function<void(RemoteOp&)>& expire) {
  Clock::time_point earliest = Clock::time_point::max();
  for (auto it = waiting_.begin(); it != waiting_.end();) {
    if ((*it)->deadline <= now) {
      expire(**it);
      it = waiting_.erase(it);
    } else {
      earliest = std::min(earliest, (*it)->deadline);
      ++it;
    }
  }
  for (size_t i = 0; i < requests_.size();) {
    Request& request = requests_[i];
    if (request.kind != RequestKind::kOp || request.op->completed) {
      ++i;
      continue;
    }
    RemoteOp& op = *request.op;
    if (op.deadline > now) {
      earliest = std::min(earliest, op.deadline);
      ++i;
      continue;
    }
    if (request.written == 0 && i >= next_write_) {
      expire(op);
      window_bytes_ -= request.command.size();
      requests_.erase(requests_.begin() + static_cast<std::ptrdiff_t>(i));
      continue;
    }
    if (!request.sent() && op.kind == OpKind::kPut) {
      // Its payload is still being read from the caller's buffer.
      Fail(Status::Unavailable("a write passed its deadline half sent"), now);
      return earliest;
    }
    expire(op);
    op.completed = true;
    ++i;
  }
  return earliest;
}

void NodeConnection::NoteRefusal(std::string reason, Clock::time_point now) {
  if (refusal_ != reason || now >= degraded_until_) ++health_epoch_;
  refusal_ = std::move(reason);
  degraded_until_ = now + kDegradedHold;
}

RemoteHealth NodeConnection::health(Clock::time_point now) const {
  if (state_ != State::kReady) return RemoteHealth::kDown;
  return now < degraded_until_ ? RemoteHealth::kDegraded : RemoteHealth::kUp;
}

std::string NodeConnection::reason(Clock::time_point now) const {
  switch (state_) {
    case State::kConnecting:
      return connects_ <= 1 ? "connecting" : "reconnecting after: " + last_error_;
    case State::kHandshaking:
      return "authenticating";
    case State::kReady:
      return now < degraded_until_ ? refusal_ : "";
    case State::kBackoff:
      return last_error_;
  }
  return "";
}

}  // namespace tierkv::remote
