#include "tests/security/raw_client.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <cstring>

namespace tierkv::testing {
namespace {

constexpr char kTcpPrefix[] = "tcp:";
constexpr int kReceiveTimeoutSeconds = 10;
constexpr size_t kMaxFdsPerMessage = 8;

int ConnectUnix(const std::string& path) {
  const int fd = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  std::strncpy(addr.sun_path, path.c_str(), sizeof(addr.sun_path) - 1);
  if (fd >= 0 && ::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) != 0) {
    ::close(fd);
    return -1;
  }
  return fd;
}

int ConnectTcp(const std::string& host_port) {
  const size_t colon = host_port.rfind(':');
  if (colon == std::string::npos) return -1;
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(static_cast<uint16_t>(std::stoi(host_port.substr(colon + 1))));
  if (::inet_pton(AF_INET, host_port.substr(0, colon).c_str(), &addr.sin_addr) != 1) return -1;
  const int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd >= 0 && ::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) != 0) {
    ::close(fd);
    return -1;
  }
  return fd;
}

}  // namespace

RawClient::RawClient(const std::string& address) {
  const std::string tcp_prefix = kTcpPrefix;
  fd_ = address.rfind(tcp_prefix, 0) == 0 ? ConnectTcp(address.substr(tcp_prefix.size()))
                                          : ConnectUnix(address);
  if (fd_ < 0) return;
  timeval tv{kReceiveTimeoutSeconds, 0};
  ::setsockopt(fd_, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
}

RawClient::~RawClient() {
  for (int fd : received_fds_) ::close(fd);
  if (fd_ >= 0) ::close(fd_);
}

bool RawClient::Send(const std::vector<uint8_t>& bytes) {
  size_t sent = 0;
  while (sent < bytes.size()) {
    const ssize_t n = ::send(fd_, bytes.data() + sent, bytes.size() - sent, MSG_NOSIGNAL);
    if (n <= 0) return false;
    sent += static_cast<size_t>(n);
  }
  return true;
}

bool RawClient::SendFrame(wire::MessageType type, const std::vector<uint8_t>& body,
                          uint32_t body_bytes) {
  wire::FrameHeader h;
  h.type = static_cast<uint16_t>(type);
  h.request_id = next_request_id_++;
  h.body_bytes = body_bytes;
  std::vector<uint8_t> frame(wire::kHeaderBytes);
  wire::EncodeHeader(h, frame.data());
  frame.insert(frame.end(), body.begin(), body.end());
  return Send(frame);
}

RawReply RawClient::ReadReply() {
  RawReply reply;
  uint8_t header[wire::kHeaderBytes];
  if (!ReadAll(header, sizeof header, &reply.fds)) {
    reply.status = Status::Unavailable("the daemon closed the connection");
    return reply;
  }
  reply.header = wire::DecodeHeader(header);
  reply.body.resize(reply.header.body_bytes);
  if (!ReadAll(reply.body.data(), reply.body.size(), &reply.fds)) {
    reply.status = Status::Unavailable("the daemon closed the connection mid-reply");
    return reply;
  }
  wire::Reader r(reply.body);
  reply.status = wire::DecodeStatus(r);
  reply.fields.assign(reply.body.end() - static_cast<ptrdiff_t>(r.remaining()), reply.body.end());
  return reply;
}

RawReply RawClient::Call(wire::MessageType type, const std::vector<uint8_t>& body) {
  if (!SendFrame(type, body)) {
    RawReply reply;
    reply.status = Status::Unavailable("the daemon closed the connection");
    return reply;
  }
  return ReadReply();
}

Status RawClient::Hello(const std::string& tenant_token, const std::string& admin_token) {
  wire::HelloRequest req;
  req.client_name = "raw-client";
  req.tenant_token = tenant_token;
  req.admin_token = admin_token;
  RawReply reply = Call(wire::MessageType::kHello, req);
  hello_fds_.insert(hello_fds_.end(), reply.fds.begin(), reply.fds.end());
  return reply.status;
}

Result<wire::OpenNamespaceReply> RawClient::Open(const wire::OpenNamespaceRequest& spec) {
  RawReply reply = Call(wire::MessageType::kOpenNamespace, spec);
  TIERKV_RETURN_IF_ERROR(reply.status);
  wire::OpenNamespaceReply out;
  wire::Reader r(reply.fields);
  if (!wire::OpenNamespaceReply::Decode(r, &out)) {
    return Status::ProtocolError("malformed open_namespace reply");
  }
  return out;
}

Result<std::string> RawClient::StatsText() {
  RawReply reply = Call(wire::MessageType::kStats, std::vector<uint8_t>{});
  TIERKV_RETURN_IF_ERROR(reply.status);
  wire::TextReply out;
  wire::Reader r(reply.fields);
  if (!wire::TextReply::Decode(r, &out)) return Status::ProtocolError("malformed stats reply");
  return out.text;
}

bool RawClient::ClosedByPeerWithin(int timeout_ms) {
  pollfd p{fd_, POLLIN, 0};
  if (::poll(&p, 1, timeout_ms) <= 0) return false;
  uint8_t byte;
  return ::recv(fd_, &byte, 1, MSG_DONTWAIT) == 0;
}

pid_t RawClient::PeerPid() const {
  ucred cred{};
  socklen_t len = sizeof(cred);
  if (::getsockopt(fd_, SOL_SOCKET, SO_PEERCRED, &cred, &len) != 0) return -1;
  return cred.pid;
}

bool RawClient::ReadAll(uint8_t* out, size_t n, std::vector<int>* fds) {
  size_t got = 0;
  while (got < n) {
    iovec iov{out + got, n - got};
    alignas(cmsghdr) char control[CMSG_SPACE(sizeof(int) * kMaxFdsPerMessage)];
    msghdr msg{};
    msg.msg_iov = &iov;
    msg.msg_iovlen = 1;
    msg.msg_control = control;
    msg.msg_controllen = sizeof control;
    const ssize_t r = ::recvmsg(fd_, &msg, MSG_CMSG_CLOEXEC);
    if (r <= 0) return false;
    for (cmsghdr* c = CMSG_FIRSTHDR(&msg); c; c = CMSG_NXTHDR(&msg, c)) {
      if (c->cmsg_level != SOL_SOCKET || c->cmsg_type != SCM_RIGHTS) continue;
      const size_t count = (c->cmsg_len - CMSG_LEN(0)) / sizeof(int);
      for (size_t i = 0; i < count; ++i) {
        int fd;
        std::memcpy(&fd, CMSG_DATA(c) + i * sizeof(int), sizeof fd);
        fds->push_back(fd);
        received_fds_.push_back(fd);
      }
    }
    got += static_cast<size_t>(r);
  }
  return true;
}

}  // namespace tierkv::testing
