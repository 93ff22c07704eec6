// NodeConnection: one TCP connection to one Redis node, driven without ever
// blocking by the remote store's I/O thread. hiredis connects
// (redisConnectNonBlock) and parses replies (its redisReader); requests are
// written with sendmsg straight from their buffers, so a Put's payload is
// never copied. Replies answer requests in order.
//
// States:
//
//   kConnecting --TCP up--> kHandshaking --AUTH/SELECT OK--> kReady
//        ^                        |                            |
//        |                        +--- any failure ------------+--> kBackoff
//        +------ reconnect timer (50 ms, doubling to 2 s) ---------------+
//
// A failure (connect error or timeout, reset, EOF, protocol error, refused
// AUTH, no I/O progress for io_timeout while requests are outstanding) closes
// the socket and hands every operation it held back to the owner
// (ConnectionOwner::OnOpFailed), none retried. Operations are taken in every
// state but kBackoff (accepting()); they wait, unformatted, until the window
// (max_in_flight requests / max_in_flight_bytes) has room and the connection
// is past kConnecting.
//
// Thread safety: not thread-safe; the I/O thread owns it.
#pragma once

#include <sys/poll.h>

#include <chrono>
#include <cstdint>
#include <deque>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "tierkv/status.h"
#include "tiers/remote/remote_op.h"
#include "tiers/remote/remote_store.h"
#include "tiers/remote/remote_url.h"

struct redisContext;
struct redisReply;

namespace tierkv::remote {

class NodeConnection;

// What a connection tells the cluster client. Called on the I/O thread from
// inside NodeConnection's event handlers; the owner may Enqueue() on any
// connection from them but must not destroy one.
class ConnectionOwner {
 public:
  virtual ~ConnectionOwner() = default;
  // The reply to `op` (possibly an error reply, such as MOVED).
  virtual void OnOpReply(NodeConnection& from, std::unique_ptr<RemoteOp> op,
                         const redisReply& reply) = 0;
  // `op` got no reply: the connection failed before or after sending it.
  virtual void OnOpFailed(NodeConnection& from, std::unique_ptr<RemoteOp> op,
                          const Status& why) = 0;
  virtual void OnSlotsReply(NodeConnection& from, const redisReply& reply) = 0;
  virtual void OnSlotsFailed(NodeConnection& from, const Status& why) = 0;
};

struct ConnectionOptions {
  std::string user;
  std::string password;
  uint32_t database = 0;
  std::chrono::milliseconds connect_timeout{1000};
  std::chrono::milliseconds io_timeout{1000};
  uint32_t max_in_flight = 128;
  uint64_t max_in_flight_bytes = uint64_t{64} << 20;
  // Unparsed reply bytes buffered beyond this are a protocol error.
  uint64_t max_reply_bytes = uint64_t{65} << 20;
};

class NodeConnection {
 public:
  // Starts connecting at once.
  NodeConnection(HostPort address, const ConnectionOptions& options, ConnectionOwner& owner,
                 Clock::time_point now);
  NodeConnection(const NodeConnection&) = delete;
  NodeConnection& operator=(const NodeConnection&) = delete;
  // Closes the socket; operations still held are destroyed unanswered.
  ~NodeConnection();

  const HostPort& address() const { return address_; }
  const std::string& name() const { return name_; }

  // False while backing off after a failure: new operations should fail now.
  bool accepting() const { return state_ != State::kBackoff; }
  // Queues `op`. Requires accepting().
  void Enqueue(std::unique_ptr<RemoteOp> op);
  // Queues a CLUSTER SLOTS request, answered through OnSlotsReply/OnSlotsFailed.
  void RequestSlots();
  // Nothing queued, nothing awaiting a reply.
  bool idle() const;

  // Event loop: poll `fd()` for `poll_events()` (fd() < 0: nothing to poll),
  // then pass what poll returned; call Flush() before each poll and
  // OnTimers() after it.
  int fd() const;
  short poll_events() const;
  void OnPollEvents(short revents, Clock::time_point now);
  // Moves queued operations into the window and writes what the socket takes.
  void Flush(Clock::time_point now);
  // The next time OnTimers() has something to do.
  Clock::time_point next_timer() const;
  // Connect timeout, I/O stall, reconnect.
  void OnTimers(Clock::time_point now);

  // Ends every operation whose deadline is at or before `now` through
  // `expire` (which runs its callback); an operation on the wire stays until
  // its reply (marked completed), one not yet sent is dropped, and a Put
  // caught half-written fails the connection (its payload is about to be
  // given back). Returns the earliest deadline left.
  Clock::time_point ExpireOps(Clock::time_point now, const std::function<void(RemoteOp&)>& expire);

  // A server refused a request (OOM, TRYAGAIN, ...): degraded for a while.
  void NoteRefusal(std::string reason, Clock::time_point now);
  RemoteHealth health(Clock::time_point now) const;
  // Why it is not up; empty when up.
  std::string reason(Clock::time_point now) const;
  // Connections made after the first.
  uint64_t reconnects() const { return connects_ > 0 ? connects_ - 1 : 0; }
  // Changes whenever health() or reason() may have changed, but for the end
  // of a refusal's hold (which takes the passing of time).
  uint64_t health_epoch() const { return health_epoch_; }

 private:
  enum class State { kConnecting, kHandshaking, kReady, kBackoff };
  enum class RequestKind { kOp, kHandshake, kSlots };
  struct Request {
    RequestKind kind = RequestKind::kOp;
    std::unique_ptr<RemoteOp> op;
    Command command;
    size_t written = 0;  // bytes of command sent so far
    bool sent() const { return written == command.size(); }
  };
  struct ContextFree {
    void operator()(redisContext* context) const;
  };

  void StartConnect(Clock::time_point now);
  void OnConnected(Clock::time_point now);
  void Fail(const Status& why, Clock::time_point now);
  void PushRequest(Request request);
  void Write(Clock::time_point now);
  void Read(Clock::time_point now);
  // Hands each complete reply to its request; false if the connection failed.
  bool DispatchReplies(Clock::time_point now);

  const HostPort address_;
  const std::string name_;
  const ConnectionOptions options_;
  ConnectionOwner& owner_;

  State state_ = State::kConnecting;
  std::unique_ptr<redisContext, ContextFree> context_;
  Clock::time_point connect_deadline_;
  Clock::time_point reconnect_at_;
  std::chrono::milliseconds backoff_;
  Clock::time_point last_progress_;  // last byte sent or received, or work arriving
  uint64_t connects_ = 0;
  uint64_t health_epoch_ = 0;
  uint32_t handshake_left_ = 0;  // AUTH/SELECT replies still due
  bool slots_wanted_ = false;    // a CLUSTER SLOTS request waits for kHandshaking
  bool want_write_ = false;      // the socket refused bytes: wait for POLLOUT

  std::deque<std::unique_ptr<RemoteOp>> waiting_;  // not yet formatted
  std::deque<Request> requests_;                   // formatted; replies due in order
  size_t next_write_ = 0;                          // requests_[0, next_write_) are completely sent
  uint64_t window_bytes_ = 0;                      // bytes of requests_
  std::vector<char> read_buffer_;

  std::string last_error_;  // why the last failure happened
  std::string refusal_;     // what the server last refused, and until when it counts
  Clock::time_point degraded_until_;
};

}  // namespace tierkv::remote
