// One client connection: reads request frames, hands each to the
// RequestHandler, writes the reply, and releases everything the connection
// holds when it closes.
//
// Requests on one connection are served one at a time, in order: the next
// frame is not read until the previous reply is written. A client that stops
// reading its replies therefore only stalls itself, never the daemon.
//
// Limits (ConnectionLimits, from the daemon's config): a frame larger than
// max_frame_bytes is refused with an error and the connection closed; a
// connection that has sent part of a frame and then nothing for
// frame_idle_timeout is closed, so that no client can park memory in a
// partial frame. A connection idle between frames is never closed.
#pragma once

#include <utility>
#include <boost/asio.hpp>

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <vector>

#include "daemon/connection_resources.h"
#include "daemon/request_handler.h"
#include "protocol/wire.h"
#include "daemon/request_metrics.h"

namespace tierkv {

struct ConnectionLimits {
  uint32_t max_frame_bytes = wire::kMaxBodyBytes;  // largest frame body accepted
  std::chrono::milliseconds frame_idle_timeout{10000};
};

class Session : public std::enable_shared_from_this<Session> {
 public:
  using Socket = boost::asio::generic::stream_protocol::socket;

  Session(Socket socket, bool local, BlockStore* store, RequestHandler* handler,
          const ConnectionLimits& limits, std::function<void(Session*)> on_close);
  ~Session();

  void Start();
  // Called before Start: the connection is not served. Its first frame is
  // answered with `why` and the connection closed; one that sends no whole
  // header within frame_idle_timeout is closed without a reply.
  void Refuse(Status why) { refusal_ = std::move(why); }
  // Times each request, from its frame complete to its reply ready, into
  // `metrics` (null: no clock is read).
  void set_request_metrics(RequestMetrics* metrics) { request_metrics_ = metrics; }
  // Closes the socket; pending operations finish with an error and the session ends.
  void Close();

 private:
  void ReadMore();
  void OnRead(const boost::system::error_code& ec, size_t n);
  // Serves every complete frame in the buffer; returns after starting a write
  // or when more bytes are needed.
  void ProcessBuffer();
  // Sends out_ without blocking; true when all of it went. Otherwise the
  // rest is queued with WriteReply (or the session ended) and it returns false.
  bool SendNow();
  void WriteReply(bool close_after);
  void OnWrite(const boost::system::error_code& ec, bool close_after);
  // Sends the reply with the pool fd as SCM_RIGHTS ancillary data.
  bool SendWithFd(int fd);
  void Finish();
  // The partial-frame idle timer: armed while a read waits with part of a
  // frame in the buffer (or from the start on a refused connection).
  void ArmIdleTimer();
  void CancelIdleTimer();
  void OnIdleTimer();

  // A reply that waited on the NVMe tier is ready.
  void OnDeferredReply(std::vector<uint8_t> reply);
  // The request begun at request_start_ has its reply.
  void RecordRequest();

  Socket socket_;
  std::shared_ptr<ConnectionResources> resources_;
  RequestHandler* handler_;
  ConnectionLimits limits_;
  std::function<void(Session*)> on_close_;
  boost::asio::steady_timer idle_timer_;
  bool idle_timer_armed_ = false;
  Status refusal_;
  std::vector<uint8_t> in_;   // bytes [in_begin_, in_end_) are unprocessed
  size_t in_begin_ = 0;
  size_t in_end_ = 0;
  std::vector<uint8_t> out_;
  bool finished_ = false;
  bool handling_ = false;        // inside RequestHandler::Handle
  bool awaiting_reply_ = false;  // a deferred reply has not come yet
  std::vector<uint8_t> early_reply_;  // a deferred reply that came inside Handle
  RequestMetrics* request_metrics_ = nullptr;
  uint16_t request_type_ = 0;
  std::chrono::steady_clock::time_point request_start_;
};

}  // namespace tierkv
