#include "tests/security/raw_client.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <cstring>

#include "protocol/messages.h"

namespace tierkv::testing {
namespace {

constexpr int kReceiveTimeoutSeconds = 10;

int ConnectUnix(const std::string& path) {
  const int fd = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  std::strncpy(addr.sun_path, path.c_str(), sizeof(addr.sun_path) - 1);
  if (::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) != 0) {
    ::close(fd);
    return -1;
  }
  return fd;
}

int ConnectTcp(const std::string& host_port) {
  const size_t colon = host_port.rfind(':');
  const int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(static_cast<uint16_t>(std::stoi(host_port.substr(colon + 1))));
  ::inet_pton(AF_INET, host_port.substr(0, colon).c_str(), &addr.sin_addr);
  if (::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) != 0) {
    ::close(fd);
    return -1;
  }
  return fd;
}

}  // namespace

RawClient::RawClient(const std::string& address) {
  const std::string tcp_prefix = "tcp:";
  fd_ = address.rfind(tcp_prefix, 0) == 0 ? ConnectTcp(address.substr(tcp_prefix.size()))
                                          : ConnectUnix(address);
  if (fd_ < 0) return;
  timeval tv{kReceiveTimeoutSeconds, 0};
  ::setsockopt(fd_, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
}

RawClient::~RawClient() {
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
  if (!ReadAll(header, sizeof header)) {
    reply.status = Status::Unavailable("the daemon closed the connection");
    return reply;
  }
  reply.header = wire::DecodeHeader(header);
  reply.body.resize(reply.header.body_bytes);
  if (!ReadAll(reply.body.data(), reply.body.size())) {
    reply.status = Status::Unavailable("the daemon closed the connection mid-reply");
    return reply;
  }
  wire::Reader r(reply.body);
  reply.status = wire::DecodeStatus(r);
  return reply;
}

Status RawClient::Hello() {
  wire::HelloRequest req;
  req.client_name = "raw-client";
  std::vector<uint8_t> body;
  wire::Writer w(&body);
  req.Encode(w);
  if (!SendFrame(wire::MessageType::kHello, body)) return Status::Unavailable("send failed");
  // A passed pool fd (Unix socket) is dropped with the message's ancillary data.
  return ReadReply().status;
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

bool RawClient::ReadAll(uint8_t* out, size_t n) {
  size_t got = 0;
  while (got < n) {
    const ssize_t r = ::recv(fd_, out + got, n - got, 0);
    if (r <= 0) return false;
    got += static_cast<size_t>(r);
  }
  return true;
}

}  // namespace tierkv::testing
