#include "daemon/server.h"

#include <spdlog/spdlog.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <cerrno>
#include <charconv>
#include <cstring>

namespace tierkv {
namespace {

namespace asio = boost::asio;

// True when a daemon answers on the socket path.
bool SocketIsLive(const std::string& path) {
  int fd = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return false;
  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  std::strncpy(addr.sun_path, path.c_str(), sizeof(addr.sun_path) - 1);
  const bool live = ::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) == 0;
  ::close(fd);
  return live;
}

}  // namespace

Server::Server(asio::io_context& io, const ServerLimits& limits)
    : Server(io, nullptr, nullptr, limits) {}

Server::Server(asio::io_context& io, BlockStore* store, RequestHandler* handler,
               const ServerLimits& limits)
    : io_(io),
      store_(store),
      handler_(handler),
      limits_(limits),
      unix_backoff_(io),
      tcp_backoff_(io) {}

void Server::Serve(BlockStore* store, RequestHandler* handler) {
  store_ = store;
  handler_ = handler;
}

Server::~Server() {
  Stop();
  if (!unix_path_.empty()) ::unlink(unix_path_.c_str());
}

Status Server::ListenUnix(const std::string& path) {
  if (path.size() >= sizeof(sockaddr_un::sun_path)) {
    return Status::InvalidArgument("socket path is too long: " + path);
  }
  struct stat st;
  if (::stat(path.c_str(), &st) == 0) {
    if (!S_ISSOCK(st.st_mode)) {
      return Status::InvalidArgument(path + " exists and is not a socket");
    }
    if (SocketIsLive(path)) {
      return Status::Unavailable("another daemon is already serving " + path);
    }
    ::unlink(path.c_str());
  }
  boost::system::error_code ec;
  auto acceptor = std::make_unique<asio::local::stream_protocol::acceptor>(io_);
  acceptor->open(asio::local::stream_protocol(), ec);
  // Create the socket file with owner-and-group permissions from the start.
  const mode_t old_mask = ::umask(0117);
  if (!ec) acceptor->bind(asio::local::stream_protocol::endpoint(path), ec);
  ::umask(old_mask);
  if (!ec) acceptor->listen(asio::socket_base::max_listen_connections, ec);
  if (ec) return Status::IOError("listen on " + path + ": " + ec.message());
  ::chmod(path.c_str(), 0660);
  unix_acceptor_ = std::move(acceptor);
  unix_path_ = path;
  AcceptUnix();
  return Status::Ok();
}

Status Server::ListenTcp(const std::string& host_port) {
  if (host_port.empty()) return Status::Ok();
  const size_t colon = host_port.rfind(':');
  if (colon == std::string::npos) {
    return Status::InvalidArgument("TCP address must be HOST:PORT, got '" + host_port + "'");
  }
  std::string host = host_port.substr(0, colon);
  if (host.size() >= 2 && host.front() == '[' && host.back() == ']') {
    host = host.substr(1, host.size() - 2);
  }
  unsigned port = 0;
  const std::string port_text = host_port.substr(colon + 1);
  auto [end, err] = std::from_chars(port_text.data(), port_text.data() + port_text.size(), port);
  if (err != std::errc() || end != port_text.data() + port_text.size() || port > 65535) {
    return Status::InvalidArgument("bad TCP port in '" + host_port + "'");
  }
  boost::system::error_code ec;
  const auto address = asio::ip::make_address(host, ec);
  if (ec) return Status::InvalidArgument("bad TCP host in '" + host_port + "': " + ec.message());
  asio::ip::tcp::endpoint endpoint(address, static_cast<uint16_t>(port));
  auto acceptor = std::make_unique<asio::ip::tcp::acceptor>(io_);
  acceptor->open(endpoint.protocol(), ec);
  if (!ec) acceptor->set_option(asio::socket_base::reuse_address(true), ec);
  if (!ec) acceptor->bind(endpoint, ec);
  if (!ec) acceptor->listen(asio::socket_base::max_listen_connections, ec);
  if (ec) return Status::IOError("listen on " + host_port + ": " + ec.message());
  tcp_acceptor_ = std::move(acceptor);
  AcceptTcp();
  return Status::Ok();
}

Server::AcceptNext Server::OnAcceptError(const char* listener,
                                         const boost::system::error_code& ec) {
  // Closed by Stop (EBADF once the descriptor is gone): never re-arm, so that
  // a stop always ends the loop.
  if (stopped_ || ec == asio::error::operation_aborted || ec == asio::error::bad_descriptor) {
    return AcceptNext::kStop;
  }
  const int err = ec.value();
  const bool exhausted = ec.category() == boost::system::system_category() &&
                         (err == EMFILE || err == ENFILE || err == ENOBUFS || err == ENOMEM);
  uint64_t suppressed = 0;
  if (accept_error_log_.ShouldLog(&suppressed)) {
    if (exhausted) {
      spdlog::warn(
          "accept on {}: {}: not accepting for {} ms (accept_backoff_ms), connected clients "
          "are still served; {} more such errors since the last such line",
          listener, ec.message(), limits_.accept_backoff.count(), suppressed);
    } else {
      spdlog::warn("accept on {}: {} ({} more such errors since the last such line)", listener,
                   ec.message(), suppressed);
    }
  }
  return exhausted ? AcceptNext::kBackOff : AcceptNext::kRetryNow;
}

void Server::AcceptAgain(AcceptNext next, asio::steady_timer& backoff, void (Server::*accept)()) {
  if (next == AcceptNext::kStop) return;
  if (next == AcceptNext::kRetryNow) {
    (this->*accept)();
    return;
  }
  // Out of descriptors: free the reserve first, so that what runs while the
  // listener waits (this timer, the log, a sanitizer's checks) has some.
  descriptor_reserve_.Release();
  backoff.expires_after(limits_.accept_backoff);
  backoff.async_wait([this, accept](const boost::system::error_code& ec) {
    if (ec || stopped_) return;
    descriptor_reserve_.Acquire();
    (this->*accept)();
  });
}

void Server::AcceptUnix() {
  unix_acceptor_->async_accept(
      [this](const boost::system::error_code& ec, asio::local::stream_protocol::socket socket) {
        if (ec) {
          AcceptAgain(OnAcceptError("unix socket", ec), unix_backoff_, &Server::AcceptUnix);
          return;
        }
        const int fd = socket.release();
        StartSession(Session::Socket(io_, asio::generic::stream_protocol(AF_UNIX, 0), fd), true);
        AcceptUnix();
      });
}

void Server::AcceptTcp() {
  tcp_acceptor_->async_accept([this](const boost::system::error_code& ec,
                                     asio::ip::tcp::socket socket) {
    if (ec) {
      AcceptAgain(OnAcceptError("tcp", ec), tcp_backoff_, &Server::AcceptTcp);
      return;
    }
    boost::system::error_code ignored;
    socket.set_option(asio::ip::tcp::no_delay(true), ignored);
    const auto protocol = socket.local_endpoint(ignored).protocol();
    const int fd = socket.release();
    StartSession(
        Session::Socket(io_, asio::generic::stream_protocol(protocol.family(), IPPROTO_TCP), fd),
        false);
    AcceptTcp();
  });
}

void Server::StartSession(Session::Socket socket, bool local) {
  if (sessions_.size() >= limits_.max_connections) {
    RefuseSession(std::move(socket), local);
    return;
  }
  auto session = std::make_shared<Session>(std::move(socket), local, store_, handler_,
                                           limits_.connection, [this](Session* s) {
                                             sessions_.erase(s);
                                             handler_->set_connection_count(sessions_.size());
                                           });
  sessions_.emplace(session.get(), session);
  handler_->set_connection_count(sessions_.size());
  session->set_request_metrics(request_metrics_);
  session->Start();
}

void Server::RefuseSession(Session::Socket socket, bool local) {
  uint64_t suppressed = 0;
  if (refusal_log_.ShouldLog(&suppressed)) {
    spdlog::warn(
        "refusing a connection: {} connections are served (max_connections); "
        "{} more refused since the last such line",
        sessions_.size(), suppressed);
  }
  if (refusing_.size() >= kMaxRefusing) {
    boost::system::error_code ignored;
    socket.close(ignored);
    return;
  }
  auto session =
      std::make_shared<Session>(std::move(socket), local, store_, handler_, limits_.connection,
                                [this](Session* s) { refusing_.erase(s); });
  session->Refuse(Status::ResourceExhausted("tierkvd serves its limit of " +
                                            std::to_string(limits_.max_connections) +
                                            " connections (max_connections); try again later"));
  refusing_.emplace(session.get(), session);
  session->Start();
}

void Server::Stop() {
  stopped_ = true;
  unix_backoff_.cancel();
  tcp_backoff_.cancel();
  boost::system::error_code ignored;
  if (unix_acceptor_) unix_acceptor_->close(ignored);
  if (tcp_acceptor_) tcp_acceptor_->close(ignored);
  // Closing ends each session's pending read; its handler then drops it.
  auto sessions = sessions_;
  for (auto& [raw, session] : sessions) session->Close();
  auto refusing = refusing_;
  for (auto& [raw, session] : refusing) session->Close();
}

}  // namespace tierkv
