// A protocol client written from protocol/ alone, for frames the C++ client
// would never send: partial frames, oversized headers, requests on handles it
// did not open. Over the Unix socket or TCP, blocking, with a receive timeout.
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <string>
#include <vector>

#include "protocol/wire.h"
#include "tierkv/status.h"

namespace tierkv::testing {

struct RawReply {
  wire::FrameHeader header;
  Status status;              // the reply's status; Unavailable when the daemon closed
  std::vector<uint8_t> body;  // the whole body, status included
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
  // A hello with no credentials, as the default tenant's client sends it.
  Status Hello();
  // Waits up to `timeout_ms` for the daemon to close the connection (true)
  // rather than send anything or keep it open (false).
  bool ClosedByPeerWithin(int timeout_ms);
  // The peer's process id (SO_PEERCRED, Unix socket only); -1 otherwise.
  pid_t PeerPid() const;

 private:
  bool ReadAll(uint8_t* out, size_t n);
  int fd_ = -1;
  uint64_t next_request_id_ = 1;
};

}  // namespace tierkv::testing
