// One blocking socket to tierkvd that sends request frames and reads replies,
// plus the daemon's shared pool mapped into this process (Unix sockets only).
// Internal to libtierkv.
#pragma once

#include <sys/uio.h>

#include <cstdint>
#include <memory>
#include <mutex>
#include <span>
#include <string>
#include <vector>

#include "base/shared_memory.h"
#include "protocol/wire.h"
#include "tierkv/client.h"

namespace tierkv {

// A reply body; fields() are the bytes after the status.
struct ReplyBuffer {
  std::vector<uint8_t> body;
  size_t fields_at = 0;
  std::span<const uint8_t> fields() const {
    return std::span<const uint8_t>(body).subspan(fields_at);
  }
};

class Connection {
 public:
  // Connects to "unix:PATH", "tcp:HOST:PORT" or a bare path.
  static Result<std::unique_ptr<Connection>> Open(const ConnectOptions& options);
  ~Connection();

  bool local() const { return local_; }
  std::byte* pool() const { return pool_.data(); }
  uint64_t pool_bytes() const { return pool_.size(); }

  // Most spans a request body may be sent from.
  static constexpr size_t kMaxBodyParts = 4;

  // Sends one request and waits for its reply; returns the reply's status. On
  // success reply->fields() is what follows the status, for the caller to
  // decode. A transport failure closes the connection (later calls fail
  // Unavailable).
  Status Call(wire::MessageType type, std::span<const uint8_t> body, ReplyBuffer* reply) {
    return Call(type, body, {}, reply);
  }
  // As Call, with the body made of `head` and then each span of `tail` (at
  // most kMaxBodyParts - 1), which go to the socket as they are, uncopied:
  // a chain's keys and tokens, inline payloads.
  Status Call(wire::MessageType type, std::span<const uint8_t> head,
              std::span<const std::span<const std::byte>> tail, ReplyBuffer* reply);

  // Says hello; on a Unix socket receives and maps the shared pool.
  Status Hello(const ConnectOptions& options);

 private:
  Connection(int fd, bool local) : fd_(fd), local_(local) {}
  // Sends every byte of iov[0..count) (modifying the entries as it goes).
  Status SendAll(iovec* iov, size_t count);
  // One recv of up to n bytes (at least one); may also collect a passed fd.
  Status RecvSome(uint8_t* out, size_t n, size_t* got, int* received_fd);
  // Reads the reply frame to `request` into `body` (the bytes after the header).
  Status RecvReply(const wire::FrameHeader& request, std::vector<uint8_t>* body,
                   int* received_fd);
  void Fail();

  std::mutex mu_;
  int fd_;
  bool local_;
  uint32_t next_request_id_ = 1;
  std::vector<uint8_t> send_buf_;
  std::vector<uint8_t> recv_buf_ = std::vector<uint8_t>(64 * 1024);
  int received_fd_ = -1;  // the pool fd that came with the hello reply
  SharedMemory pool_;
};

}  // namespace tierkv
