// tierkvd: the tierkv daemon. See docs/architecture.md.
#include <spdlog/spdlog.h>

#include <utility>
#include <boost/asio.hpp>
#include <csignal>

#include "block_store.h"
#include "config.h"
#include "daemon_secret.h"
#include "host_tier.h"
#include "namespace_registry.h"
#include "nvme_setup.h"
#include "request_handler.h"
#include "server.h"

namespace {

constexpr const char* kServerVersion = "tierkvd 0.1.0";

// Runs the NVMe tier's completions on the event loop whenever its eventfd
// turns readable.
class NvmeEventPump {
 public:
  NvmeEventPump(boost::asio::io_context& io, tierkv::BlockStore* store, int event_fd)
      : store_(store), descriptor_(io, ::dup(event_fd)) {
    Wait();
  }
  void Stop() {
    boost::system::error_code ignored;
    descriptor_.cancel(ignored);
    descriptor_.close(ignored);
  }

 private:
  void Wait() {
    descriptor_.async_wait(boost::asio::posix::stream_descriptor::wait_read,
                           [this](const boost::system::error_code& ec) {
                             if (ec) return;
                             store_->ReapNvme();
                             Wait();
                           });
  }
  tierkv::BlockStore* store_;
  boost::asio::posix::stream_descriptor descriptor_;
};

int Run(const tierkv::DaemonConfig& config) {
  using namespace tierkv;
  spdlog::set_level(spdlog::level::from_str(config.log_level));
  auto secret = LoadOrCreateSecret(config.data_dir);
  if (!secret.ok()) {
    spdlog::error("{}", secret.status().ToString());
    return 1;
  }
  auto host = HostTier::Create(config.host_bytes, config.slab_bytes);
  if (!host.ok()) {
    spdlog::error("host tier: {}", host.status().ToString());
    return 1;
  }
  spdlog::info("host tier: {} MiB shared pool in {} MiB slabs ({} pages), faulted in",
               (*host)->capacity_bytes() >> 20, (*host)->max_block_bytes() >> 20,
               (*host)->huge_pages() ? "huge" : "4 KiB");
  spdlog::info("gpu tier: off (no GPU support in this build)");
  NamespaceRegistry namespaces(*secret, config.tenant_tokens, (*host)->max_block_bytes());
  BlockStore store(host->get());
  auto nvme = OpenNvmeTier(config, (*host)->max_block_bytes(), &store);
  if (!nvme.ok()) {
    spdlog::error("nvme tier: {}", nvme.status().ToString());
    return 1;
  }
  RequestHandler handler(&store, &namespaces, {config.admin_token, kServerVersion});

  boost::asio::io_context io(1);
  Server server(io, &store, &handler);
  if (Status s = server.ListenUnix(config.socket); !s.ok()) {
    spdlog::error("{}", s.ToString());
    return 1;
  }
  if (Status s = server.ListenTcp(config.tcp); !s.ok()) {
    spdlog::error("{}", s.ToString());
    return 1;
  }
  std::unique_ptr<NvmeEventPump> pump;
  if (*nvme) pump = std::make_unique<NvmeEventPump>(io, &store, (*nvme)->event_fd());
  boost::asio::signal_set signals(io, SIGINT, SIGTERM);
  signals.async_wait([&](const boost::system::error_code& ec, int signo) {
    if (ec) return;
    spdlog::info("signal {}: shutting down", signo);
    server.Stop();
    if (pump) pump->Stop();
  });
  spdlog::info("tierkvd ready: unix {} tcp {}", config.socket,
               config.tcp.empty() ? "off" : config.tcp);
  // run() returns once the acceptors, every session and the pump are closed.
  io.run();
  if (*nvme) {
    // A clean stop keeps the host tier too: write what NVMe does not have yet.
    store.Flush([](uint64_t written, Status s) {
      spdlog::info("flushed {} host blocks to nvme{}", written,
                   s.ok() ? "" : " (" + s.ToString() + ")");
    });
    store.DrainNvme();
  }
  spdlog::info("tierkvd stopped");
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  std::signal(SIGPIPE, SIG_IGN);
  bool exit_now = false;
  int exit_code = 0;
  auto config = tierkv::ParseDaemonArgs(argc, argv, &exit_now, &exit_code);
  if (exit_now) return exit_code;
  if (!config.ok()) {
    spdlog::error("{}", config.status().ToString());
    return 2;
  }
  return Run(*config);
}
