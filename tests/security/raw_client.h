// A protocol client written from protocol/ alone, for frames the C++ client
// would never send: partial frames, oversized headers, requests on handles it
// did not open, any parent, any flags. Over the Unix socket or TCP, blocking,
// with a receive timeout.
//
// Thread safety: none; one test thread uses one RawClient.
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <string>
#include <vector>

#include "protocol/messages.h"
#include "protocol/wire.h"
#include "tierkv/status.h"

namespace tierkv::testing {

struct RawReply {
  wire::FrameHeader header;
  Status status;                // the reply's status; Unavailable when the daemon closed
  std::vector<uint8_t> body;    // the whole body, status included
  std::vector<uint8_t> fields;  // the body after the status
  std::vector<int> fds;         // descriptors that came with it (owned by the RawClient)
};

class RawClient {
 public:
  // `address` is a Unix socket path, or "tcp:HOST:PORT".
  explicit RawClient(const std::string& address);
  ~RawClient();
  RawClient(const RawClient&) = delete;
  RawClient& operator=(const RawClient&) = delete;

  bool connected() const { return fd_ >= 0; }
  // Sends every byte; false when the daemon has closed the connection.
  bool Send(const std::vector<uint8_t>& bytes);
  // A frame header claiming `body_bytes`, followed by `body` (which may be
  // shorter: a partial frame).
  bool SendFrame(wire::MessageType type, const std::vector<uint8_t>& body, uint32_t body_bytes);
  bool SendFrame(wire::MessageType type, const std::vector<uint8_t>& body) {
    return SendFrame(type, body, static_cast<uint32_t>(body.size()));
  }
  RawReply ReadReply();

  // One whole request frame and its reply.
  RawReply Call(wire::MessageType type, const std::vector<uint8_t>& body);
  template <class Request>
  RawReply Call(wire::MessageType type, const Request& request) {
    std::vector<uint8_t> body;
    wire::Writer w(&body);
    request.Encode(w);
    return Call(type, body);
  }

  // The first request, with these credentials (none: the default tenant's
  // client). What came with the reply (the pool's memfd on a Unix socket) is
  // kept in hello_fds().
  Status Hello(const std::string& tenant_token = "", const std::string& admin_token = "");
  const std::vector<int>& hello_fds() const { return hello_fds_; }
  // Every descriptor any reply brought so far.
  const std::vector<int>& received_fds() const { return received_fds_; }
  Result<wire::OpenNamespaceReply> Open(const wire::OpenNamespaceRequest& spec);
  // The stats document's text.
  Result<std::string> StatsText();

  // Waits up to `timeout_ms` for the daemon to close the connection (true)
  // rather than send anything or keep it open (false).
  bool ClosedByPeerWithin(int timeout_ms);
  // The peer's process id (SO_PEERCRED, Unix socket only); -1 otherwise.
  pid_t PeerPid() const;

 private:
  // Reads exactly `n` bytes; descriptors passed with them go to *fds and to
  // received_fds_ (closed by the destructor).
  bool ReadAll(uint8_t* out, size_t n, std::vector<int>* fds);

  int fd_ = -1;
  uint64_t next_request_id_ = 1;
  std::vector<int> hello_fds_;
  std::vector<int> received_fds_;
};

}  // namespace tierkv::testing
