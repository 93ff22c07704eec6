// One client connection: reads request frames, hands each to the
// RequestHandler, writes the reply, and releases everything the connection
// holds when it closes.
//
// Requests on one connection are served one at a time, in order: the next
// frame is not read until the previous reply is written. A client that stops
// reading its replies therefore only stalls itself, never the daemon.
#pragma once

#include <utility>
#include <boost/asio.hpp>

#include <cstdint>
#include <functional>
#include <memory>
#include <vector>

#include "daemon/connection_resources.h"
#include "daemon/request_handler.h"

namespace tierkv {

class Session : public std::enable_shared_from_this<Session> {
 public:
  using Socket = boost::asio::generic::stream_protocol::socket;

  Session(Socket socket, bool local, BlockStore* store, RequestHandler* handler,
          std::function<void(Session*)> on_close);
  ~Session();

  void Start();
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

  // A reply that waited on the NVMe tier is ready.
  void OnDeferredReply(std::vector<uint8_t> reply);

  Socket socket_;
  std::shared_ptr<ConnectionResources> resources_;
  RequestHandler* handler_;
  std::function<void(Session*)> on_close_;
  std::vector<uint8_t> in_;   // bytes [in_begin_, in_end_) are unprocessed
  size_t in_begin_ = 0;
  size_t in_end_ = 0;
  std::vector<uint8_t> out_;
  bool finished_ = false;
  bool handling_ = false;        // inside RequestHandler::Handle
  bool awaiting_reply_ = false;  // a deferred reply has not come yet
  std::vector<uint8_t> early_reply_;  // a deferred reply that came inside Handle
};

}  // namespace tierkv
