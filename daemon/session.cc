#include "daemon/session.h"

#include <spdlog/spdlog.h>
#include <sys/socket.h>

#include <cerrno>
#include <cstring>

#include "daemon/rate_limited_log.h"

namespace tierkv {
namespace {

constexpr size_t kInitialBufferBytes = 64 * 1024;
// Buffers keep what they grew to up to this size (a 4096-block request of
// 16 tokens is 320 KiB), so that a client that sends long chains does not
// pay a reallocation and a second read for every request; anything larger
// (inline puts) is given back after its frame.
constexpr size_t kRetainedBufferBytes = 512 * 1024;

// Shared by every connection: one log line per interval for each kind.
RateLimitedLog& OversizedFrameLog() {
  static RateLimitedLog log;
  return log;
}
RateLimitedLog& IdleFrameLog() {
  static RateLimitedLog log;
  return log;
}

}  // namespace

Session::Session(Socket socket, bool local, BlockStore* store, RequestHandler* handler,
                 const ConnectionLimits& limits, std::function<void(Session*)> on_close)
    : socket_(std::move(socket)),
      resources_(std::make_shared<ConnectionResources>(store, local)),
      handler_(handler),
      limits_(limits),
      on_close_(std::move(on_close)),
      idle_timer_(socket_.get_executor()),
      in_(kInitialBufferBytes) {
  if (local) {
    // Who is on the other end decides admin rights (daemon/auth.h).
    ucred peer{};
    socklen_t len = sizeof peer;
    if (::getsockopt(socket_.native_handle(), SOL_SOCKET, SO_PEERCRED, &peer, &len) == 0) {
      resources_->set_peer_uid(peer.uid);
    }
  }
}

Session::~Session() = default;

void Session::Start() {
  std::weak_ptr<Session> weak = weak_from_this();
  resources_->set_deliver([weak](std::vector<uint8_t> reply) {
    if (auto self = weak.lock()) self->OnDeferredReply(std::move(reply));
  });
  // A refused connection gets no longer than a partial frame to say hello.
  if (!refusal_.ok()) ArmIdleTimer();
  ReadMore();
}

void Session::ArmIdleTimer() {
  idle_timer_armed_ = true;
  idle_timer_.expires_after(limits_.frame_idle_timeout);
  idle_timer_.async_wait([weak = weak_from_this()](const boost::system::error_code& ec) {
    if (ec) return;  // cancelled: bytes came, or the session ended
    if (auto self = weak.lock()) self->OnIdleTimer();
  });
}

void Session::CancelIdleTimer() {
  if (!idle_timer_armed_) return;
  idle_timer_armed_ = false;
  idle_timer_.cancel();
}

void Session::OnIdleTimer() {
  idle_timer_armed_ = false;
  if (finished_) return;
  uint64_t suppressed = 0;
  if (refusal_.ok() && IdleFrameLog().ShouldLog(&suppressed)) {
    spdlog::warn(
        "closing a connection that sent {} bytes of a frame and then nothing for {} ms "
        "(frame_idle_timeout_ms; {} more since the last such line)",
        in_end_ - in_begin_, limits_.frame_idle_timeout.count(), suppressed);
  }
  Close();
  Finish();
}

void Session::RecordRequest() {
  if (!request_metrics_) return;
  request_metrics_->Record(
      request_type_,
      std::chrono::duration<double>(std::chrono::steady_clock::now() - request_start_).count());
}

void Session::OnDeferredReply(std::vector<uint8_t> reply) {
  if (finished_ || !awaiting_reply_) return;
  awaiting_reply_ = false;
  RecordRequest();
  if (handling_) {
    // Handle() still owns out_; ProcessBuffer picks this up when it returns.
    early_reply_ = std::move(reply);
    return;
  }
  out_ = std::move(reply);
  WriteReply(/*close_after=*/false);
}

void Session::Close() {
  CancelIdleTimer();
  boost::system::error_code ignored;
  socket_.cancel(ignored);
  socket_.close(ignored);
  // With no read or write pending, nothing would end the session otherwise.
  if (awaiting_reply_) Finish();
}

void Session::ReadMore() {
  if (in_begin_ > 0) {
    std::memmove(in_.data(), in_.data() + in_begin_, in_end_ - in_begin_);
    in_end_ -= in_begin_;
    in_begin_ = 0;
  }
  if (in_end_ == in_.size()) in_.resize(in_.size() * 2);
  if (in_end_ > 0 && refusal_.ok()) ArmIdleTimer();
  socket_.async_read_some(
      boost::asio::buffer(in_.data() + in_end_, in_.size() - in_end_),
      [self = shared_from_this()](const boost::system::error_code& ec, size_t n) {
        self->OnRead(ec, n);
      });
}

void Session::OnRead(const boost::system::error_code& ec, size_t n) {
  if (ec) {
    if (in_end_ > in_begin_ && ec != boost::asio::error::operation_aborted) {
      spdlog::debug("connection closed mid-frame ({} bytes unread)", in_end_ - in_begin_);
    }
    Finish();
    return;
  }
  in_end_ += n;
  if (refusal_.ok()) CancelIdleTimer();
  ProcessBuffer();
}

void Session::ProcessBuffer() {
  // One frame per turn; a turn whose reply went out at once goes straight on
  // to the next frame (a loop, not recursion: a client may pipeline many).
  for (;;) {
    const size_t available = in_end_ - in_begin_;
    if (available < wire::kHeaderBytes) {
      ReadMore();
      return;
    }
    const wire::FrameHeader header = wire::DecodeHeader(in_.data() + in_begin_);
    if (!refusal_.ok()) {
      out_.clear();
      RequestHandler::AppendError(header, refusal_, &out_);
      WriteReply(/*close_after=*/true);
      return;
    }
    if (Status s = wire::ValidateHeader(header); !s.ok()) {
      // Framing is lost: say why, then close.
      spdlog::warn("closing connection: {}", s.ToString());
      out_.clear();
      RequestHandler::AppendError(header, s, &out_);
      WriteReply(/*close_after=*/true);
      return;
    }
    if (header.body_bytes > limits_.max_frame_bytes) {
      // Refused before its body is read, so framing is lost too.
      const Status s = Status::ResourceExhausted("a frame of " + std::to_string(header.body_bytes) +
                                                 " bytes exceeds this daemon's limit of " +
                                                 std::to_string(limits_.max_frame_bytes) +
                                                 " bytes (max_frame_bytes)");
      uint64_t suppressed = 0;
      if (OversizedFrameLog().ShouldLog(&suppressed)) {
        spdlog::warn("closing connection: {} ({} more since the last such line)", s.ToString(),
                     suppressed);
      }
      out_.clear();
      RequestHandler::AppendError(header, s, &out_);
      WriteReply(/*close_after=*/true);
      return;
    }
    const size_t frame_bytes = wire::kHeaderBytes + header.body_bytes;
    if (available < frame_bytes) {
      // The buffer grows as bytes arrive (ReadMore doubles it when full), so a
      // header that merely claims a large body costs nothing until it is sent.
      ReadMore();
      return;
    }
    out_.clear();
    int attach_fd = -1;
    handling_ = true;
    awaiting_reply_ = true;
    if (request_metrics_) {
      request_type_ = header.type;
      request_start_ = std::chrono::steady_clock::now();
    }
    const auto outcome = handler_->Handle(
        *resources_, header, {in_.data() + in_begin_ + wire::kHeaderBytes, header.body_bytes},
        &out_, &attach_fd);
    handling_ = false;
    if (outcome == RequestHandler::Outcome::kReplied) {
      awaiting_reply_ = false;
      RecordRequest();
    } else if (!awaiting_reply_) {
      out_ = std::move(early_reply_);
      early_reply_.clear();
    }
    in_begin_ += frame_bytes;
    if (in_begin_ == in_end_) in_begin_ = in_end_ = 0;
    if (in_.size() > kRetainedBufferBytes && in_end_ == 0) {
      in_.resize(kInitialBufferBytes);  // do not keep a large inline put's buffer
      in_.shrink_to_fit();
    }
    if (attach_fd >= 0) {
      if (!SendWithFd(attach_fd)) {
        Finish();
        return;
      }
      continue;
    }
    // A deferred reply that has not come yet is written when it comes.
    if (awaiting_reply_) return;
    if (!SendNow()) return;  // the rest goes out asynchronously
    if (out_.capacity() > kRetainedBufferBytes) {
      out_.clear();
      out_.shrink_to_fit();
    }
  }
}

bool Session::SendNow() {
  // Most replies fit the socket buffer: sending them here saves the event
  // loop's round (a completion and an epoll_wait) on every request, which is
  // most of a small request's cost on these VMs.
  const ssize_t n =
      ::send(socket_.native_handle(), out_.data(), out_.size(), MSG_DONTWAIT | MSG_NOSIGNAL);
  if (n == static_cast<ssize_t>(out_.size())) return true;
  if (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR) {
    Finish();
    return false;
  }
  if (n > 0) out_.erase(out_.begin(), out_.begin() + n);
  WriteReply(/*close_after=*/false);
  return false;
}

bool Session::SendWithFd(int fd) {
  // A hello reply is small and the socket is fresh, so one sendmsg sends it
  // whole; anything else means the peer is gone.
  iovec iov{out_.data(), out_.size()};
  alignas(cmsghdr) char control[CMSG_SPACE(sizeof(int))] = {};
  msghdr msg{};
  msg.msg_iov = &iov;
  msg.msg_iovlen = 1;
  msg.msg_control = control;
  msg.msg_controllen = sizeof(control);
  cmsghdr* cmsg = CMSG_FIRSTHDR(&msg);
  cmsg->cmsg_level = SOL_SOCKET;
  cmsg->cmsg_type = SCM_RIGHTS;
  cmsg->cmsg_len = CMSG_LEN(sizeof(int));
  std::memcpy(CMSG_DATA(cmsg), &fd, sizeof(int));
  const ssize_t sent = ::sendmsg(socket_.native_handle(), &msg, MSG_NOSIGNAL);
  if (sent != static_cast<ssize_t>(out_.size())) {
    spdlog::warn("could not send the pool fd to a client: {}", std::strerror(errno));
    return false;
  }
  return true;
}

void Session::WriteReply(bool close_after) {
  boost::asio::async_write(
      socket_, boost::asio::buffer(out_),
      [self = shared_from_this(), close_after](const boost::system::error_code& ec, size_t) {
        self->OnWrite(ec, close_after);
      });
}

void Session::OnWrite(const boost::system::error_code& ec, bool close_after) {
  if (ec || close_after) {
    Finish();
    return;
  }
  if (out_.capacity() > kRetainedBufferBytes) {
    out_.clear();
    out_.shrink_to_fit();
  }
  ProcessBuffer();
}

void Session::Finish() {
  if (finished_) return;
  finished_ = true;
  CancelIdleTimer();
  boost::system::error_code ignored;
  socket_.close(ignored);
  if (on_close_) on_close_(this);
}

}  // namespace tierkv
