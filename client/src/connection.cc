#include "client/src/connection.h"

#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <utility>

#include "base/address.h"
#include "protocol/messages.h"

namespace tierkv {
namespace {

// What a failed connect means to the person who asked: only a missing or
// refusing socket suggests the daemon is down.
Status ConnectError(const std::string& address, int err) {
  std::string hint;
  if (err == ENOENT || err == ECONNREFUSED) {
    hint = " (is the daemon running?)";
  } else if (err == EACCES || err == EPERM) {
    hint =
        " (the daemon runs, but this user may not use its socket: it is for the daemon's "
        "user and group)";
    return Status::PermissionDenied("cannot reach tierkvd at " + address + ": " +
                                    std::strerror(err) + hint);
  }
  return Status::Unavailable("cannot reach tierkvd at " + address + ": " + std::strerror(err) +
                             hint);
}

Result<int> ConnectUnix(const std::string& path) {
  sockaddr_un addr{};
  if (path.size() >= sizeof(addr.sun_path)) {
    return Status::InvalidArgument("socket path is too long: " + path);
  }
  int fd = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return Status::FromErrno(errno, "socket");
  addr.sun_family = AF_UNIX;
  std::memcpy(addr.sun_path, path.data(), path.size());
  if (::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) != 0) {
    const int err = errno;
    ::close(fd);
    return ConnectError("unix:" + path, err);
  }
  return fd;
}

Result<int> ConnectTcp(const std::string& host, uint16_t port_number) {
  const std::string host_port = host + ":" + std::to_string(port_number);
  const std::string port = std::to_string(port_number);
  addrinfo hints{};
  hints.ai_socktype = SOCK_STREAM;
  addrinfo* res = nullptr;
  if (int rc = ::getaddrinfo(host.c_str(), port.c_str(), &hints, &res); rc != 0) {
    return Status::InvalidArgument("cannot resolve " + host_port + ": " + gai_strerror(rc));
  }
  Status last = Status::Unavailable("no address for " + host_port);
  for (addrinfo* ai = res; ai; ai = ai->ai_next) {
    int fd = ::socket(ai->ai_family, ai->ai_socktype | SOCK_CLOEXEC, ai->ai_protocol);
    if (fd < 0) continue;
    if (::connect(fd, ai->ai_addr, ai->ai_addrlen) == 0) {
      int one = 1;
      ::setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
      ::freeaddrinfo(res);
      return fd;
    }
    last = ConnectError("tcp:" + host_port, errno);
    ::close(fd);
  }
  ::freeaddrinfo(res);
  return last;
}

}  // namespace

Result<std::unique_ptr<Connection>> Connection::Open(const ConnectOptions& options) {
  TIERKV_ASSIGN_OR_RETURN(const Address address, ParseAddress(options.address));
  const bool local = address.kind == Address::Kind::kUnix;
  Result<int> fd = local ? ConnectUnix(address.path) : ConnectTcp(address.host, address.port);
  if (!fd.ok()) return fd.status();
  if (options.timeout_ms > 0) {
    timeval tv{options.timeout_ms / 1000, (options.timeout_ms % 1000) * 1000};
    ::setsockopt(*fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
    ::setsockopt(*fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
  }
  auto conn = std::unique_ptr<Connection>(new Connection(*fd, local));
  TIERKV_RETURN_IF_ERROR(conn->Hello(options));
  return conn;
}

Connection::~Connection() {
  if (fd_ >= 0) ::close(fd_);
  if (received_fd_ >= 0) ::close(received_fd_);
}

void Connection::Fail() {
  if (fd_ >= 0) ::close(fd_);
  fd_ = -1;
}

Status Connection::SendAll(iovec* iov, size_t count) {
  size_t index = 0;
  while (index < count) {
    if (iov[index].iov_len == 0) {
      ++index;
      continue;
    }
    msghdr msg{};
    msg.msg_iov = iov + index;
    msg.msg_iovlen = count - index;
    const ssize_t n = ::sendmsg(fd_, &msg, MSG_NOSIGNAL);
    if (n < 0) {
      if (errno == EINTR) continue;
      return Status::Unavailable(std::string("send to tierkvd: ") + std::strerror(errno));
    }
    size_t left = static_cast<size_t>(n);
    while (left > 0 && index < count) {
      const size_t take = std::min(left, iov[index].iov_len);
      iov[index].iov_base = static_cast<char*>(iov[index].iov_base) + take;
      iov[index].iov_len -= take;
      left -= take;
      if (iov[index].iov_len == 0) ++index;
    }
  }
  return Status::Ok();
}

Status Connection::RecvSome(uint8_t* out, size_t n, size_t* got, int* received_fd) {
  for (;;) {
    ssize_t r;
    if (received_fd) {
      iovec iov{out, n};
      alignas(cmsghdr) char control[CMSG_SPACE(sizeof(int))];
      msghdr msg{};
      msg.msg_iov = &iov;
      msg.msg_iovlen = 1;
      msg.msg_control = control;
      msg.msg_controllen = sizeof(control);
      r = ::recvmsg(fd_, &msg, MSG_CMSG_CLOEXEC);
      if (r > 0) {
        for (cmsghdr* c = CMSG_FIRSTHDR(&msg); c; c = CMSG_NXTHDR(&msg, c)) {
          if (c->cmsg_level == SOL_SOCKET && c->cmsg_type == SCM_RIGHTS) {
            std::memcpy(received_fd, CMSG_DATA(c), sizeof(int));
          }
        }
      }
    } else {
      r = ::recv(fd_, out, n, 0);
    }
    if (r > 0) {
      *got = static_cast<size_t>(r);
      return Status::Ok();
    }
    if (r == 0) return Status::Unavailable("tierkvd closed the connection");
    if (errno == EINTR) continue;
    if (errno == EAGAIN || errno == EWOULDBLOCK) {
      return Status::Unavailable("timed out waiting for tierkvd");
    }
    return Status::Unavailable(std::string("receive from tierkvd: ") + std::strerror(errno));
  }
}

Status Connection::RecvReply(const wire::FrameHeader& request, std::vector<uint8_t>* body,
                             int* received_fd) {
  // One recv usually brings the whole reply; only a large one needs more.
  size_t got = 0;
  while (got < wire::kHeaderBytes) {
    size_t n = 0;
    TIERKV_RETURN_IF_ERROR(RecvSome(recv_buf_.data() + got, recv_buf_.size() - got, &n,
                                    got == 0 ? received_fd : nullptr));
    got += n;
  }
  const wire::FrameHeader h = wire::DecodeHeader(recv_buf_.data());
  TIERKV_RETURN_IF_ERROR(wire::ValidateHeader(h));
  if (h.type != (request.type | wire::kReplyBit) || h.request_id != request.request_id) {
    return Status::ProtocolError("reply does not match the request");
  }
  const size_t in_buffer = got - wire::kHeaderBytes;
  if (in_buffer > h.body_bytes) return Status::ProtocolError("bytes after the reply frame");
  body->resize(h.body_bytes);
  // memcpy with a null pointer is undefined even for 0 bytes (an empty body).
  if (in_buffer > 0) std::memcpy(body->data(), recv_buf_.data() + wire::kHeaderBytes, in_buffer);
  for (size_t have = in_buffer; have < h.body_bytes;) {
    size_t n = 0;
    TIERKV_RETURN_IF_ERROR(RecvSome(body->data() + have, h.body_bytes - have, &n, nullptr));
    have += n;
  }
  return Status::Ok();
}

Status Connection::Call(wire::MessageType type, std::span<const uint8_t> head,
                        std::span<const std::span<const std::byte>> tail, ReplyBuffer* reply) {
  std::lock_guard lock(mu_);
  if (fd_ < 0) return Status::Unavailable("connection to tierkvd is closed");
  if (tail.size() >= kMaxBodyParts) return Status::Internal("request body in too many parts");
  uint64_t body_bytes = head.size();
  for (const auto& part : tail) body_bytes += part.size();
  if (body_bytes > wire::kMaxBodyBytes) {
    return Status::InvalidArgument("request of " + std::to_string(body_bytes) +
                                   " bytes exceeds the frame limit");
  }
  wire::FrameHeader h;
  h.type = static_cast<uint16_t>(type);
  h.request_id = next_request_id_++;
  h.body_bytes = static_cast<uint32_t>(body_bytes);
  send_buf_.resize(wire::kHeaderBytes + head.size());
  wire::EncodeHeader(h, send_buf_.data());
  if (!head.empty()) {
    std::memcpy(send_buf_.data() + wire::kHeaderBytes, head.data(), head.size());
  }
  iovec iov[kMaxBodyParts];
  iov[0] = {send_buf_.data(), send_buf_.size()};
  for (size_t i = 0; i < tail.size(); ++i) {
    iov[i + 1] = {const_cast<std::byte*>(tail[i].data()), tail[i].size()};
  }
  Status s = SendAll(iov, tail.size() + 1);
  int passed_fd = -1;
  const bool expect_fd = type == wire::MessageType::kHello && local_;
  if (s.ok()) s = RecvReply(h, &reply->body, expect_fd ? &passed_fd : nullptr);
  if (!s.ok()) {
    if (passed_fd >= 0) ::close(passed_fd);
    Fail();
    return s;
  }
  if (passed_fd >= 0) {
    if (received_fd_ >= 0) ::close(received_fd_);
    received_fd_ = passed_fd;  // Hello() maps it
  }
  wire::Reader r(reply->body);
  Status reply_status = wire::DecodeStatus(r);
  reply->fields_at = reply->body.size() - r.remaining();
  return reply_status;
}

Status Connection::Hello(const ConnectOptions& options) {
  wire::HelloRequest req;
  req.client_name = "libtierkv";
  req.tenant_token = options.tenant_token;
  req.admin_token = options.admin_token;
  std::vector<uint8_t> body;
  wire::Writer w(&body);
  req.Encode(w);
  ReplyBuffer fields;
  TIERKV_RETURN_IF_ERROR(Call(wire::MessageType::kHello, body, &fields));
  const int fd = std::exchange(received_fd_, -1);
  wire::HelloReply reply;
  wire::Reader r(fields.fields());
  if (!wire::HelloReply::Decode(r, &reply)) {
    if (fd >= 0) ::close(fd);
    return Status::ProtocolError("malformed hello reply");
  }
  if (local_ && !options.map_pool) {
    if (fd >= 0) ::close(fd);
    local_ = false;  // payloads travel inline from here on
  } else if (local_) {
    if (!reply.pool_fd_attached || fd < 0) {
      if (fd >= 0) ::close(fd);
      return Status::ProtocolError("daemon did not pass its shared pool");
    }
    const SharedMemory::Prefault prefault = options.map_pool_lazily ? SharedMemory::Prefault::kNone
                                            : options.touch_pool
                                                ? SharedMemory::Prefault::kTouchEveryPage
                                                : SharedMemory::Prefault::kPageTables;
    auto pool = SharedMemory::Map(fd, reply.pool_bytes, prefault);
    if (!pool.ok()) {
      ::close(fd);
      return pool.status();
    }
    pool_ = std::move(pool).value();
  }
  return Status::Ok();
}

}  // namespace tierkv
