// Accepts connections on the Unix socket and the TCP listener and runs one
// Session per connection, all on one io_context thread.
//
// At most ServerLimits::max_connections sessions are served at once. A
// connection beyond that is answered, at its first frame, with a
// ResourceExhausted error that names the limit, and closed; while more than
// kMaxRefusing such connections wait for their first frame, further ones are
// closed at once.
//
// Out of descriptors (EMFILE, ENFILE) or kernel memory, a listener stops
// accepting for accept_backoff and logs once per interval; connected clients
// go on being served. While it waits, the descriptors the server held in
// reserve are free for the rest of the daemon; it takes them back before it
// accepts again. After Stop nothing re-arms, so the loop always ends.
#pragma once

// <utility> first: this Boost's asio headers use std::exchange without it.
#include <utility>
#include <boost/asio.hpp>

#include <chrono>
#include <memory>
#include <string>
#include <unordered_map>

#include "daemon/descriptor_reserve.h"
#include "daemon/rate_limited_log.h"
#include "daemon/request_handler.h"
#include "daemon/session.h"

namespace tierkv {

struct ServerLimits {
  size_t max_connections = 1024;
  std::chrono::milliseconds accept_backoff{100};
  ConnectionLimits connection;
};

class Server {
 public:
  static constexpr size_t kMaxRefusing = 64;

  // The listeners can be bound before the store exists (so a busy port is
  // reported before the pool is faulted in); Serve() must be called before
  // `io` runs, since accepting starts then.
  explicit Server(boost::asio::io_context& io, const ServerLimits& limits = {});
  // Serves `store` through `handler` from the start.
  Server(boost::asio::io_context& io, BlockStore* store, RequestHandler* handler,
         const ServerLimits& limits = {});
  ~Server();

  void Serve(BlockStore* store, RequestHandler* handler);
  // Sessions started from now on time their requests into `metrics`
  // (null: they read no clock). It must outlive the sessions.
  void set_request_metrics(RequestMetrics* metrics) { request_metrics_ = metrics; }

  // Binds the Unix socket (owner and group only, mode 0660). A stale socket
  // file from a dead daemon is replaced; a live daemon on the path is an error.
  Status ListenUnix(const std::string& path);
  // Binds "host:port"; an empty spec disables TCP.
  Status ListenTcp(const std::string& host_port);
  // Stops accepting and closes every connection (their pins are released).
  void Stop();
  size_t session_count() const { return sessions_.size(); }

 private:
  enum class AcceptNext { kStop, kRetryNow, kBackOff };
  void AcceptUnix();
  void AcceptTcp();
  // Logs a failed accept (rate-limited) and says what the listener does next.
  AcceptNext OnAcceptError(const char* listener, const boost::system::error_code& ec);
  void AcceptAgain(AcceptNext next, boost::asio::steady_timer& backoff, void (Server::*accept)());
  void StartSession(Session::Socket socket, bool local);
  void RefuseSession(Session::Socket socket, bool local);

  boost::asio::io_context& io_;
  BlockStore* store_ = nullptr;
  RequestHandler* handler_ = nullptr;
  ServerLimits limits_;
  RateLimitedLog refusal_log_;
  RateLimitedLog accept_error_log_;
  DescriptorReserve descriptor_reserve_;
  boost::asio::steady_timer unix_backoff_;
  boost::asio::steady_timer tcp_backoff_;
  bool stopped_ = false;
  RequestMetrics* request_metrics_ = nullptr;
  std::unique_ptr<boost::asio::local::stream_protocol::acceptor> unix_acceptor_;
  std::unique_ptr<boost::asio::ip::tcp::acceptor> tcp_acceptor_;
  std::string unix_path_;
  std::unordered_map<Session*, std::shared_ptr<Session>> sessions_;
  // Connections over max_connections, waiting to be told so.
  std::unordered_map<Session*, std::shared_ptr<Session>> refusing_;
};

}  // namespace tierkv
