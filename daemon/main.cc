// tierkvd: the tierkv daemon. See docs/architecture.md.
#include <spdlog/spdlog.h>

#include <sys/stat.h>

#include <utility>
#include <boost/asio.hpp>
#include <csignal>

#include "daemon/block_store.h"
#include "daemon/config.h"
#include "daemon/data_dir_modes.h"
#include "daemon/daemon_secret.h"
#include "daemon/event_fd_pump.h"
#include "daemon/gpu_setup.h"
#include "daemon/namespace_registry.h"
#include "daemon/nvme_setup.h"
#include "daemon/request_handler.h"
#include "daemon/server.h"
#include "tiers/host/host_tier.h"

namespace {

constexpr const char* kServerVersion = "tierkvd 0.1.0";

// Older versions left the data dir readable by others: fix that and say so.
void RestrictDataDir(const std::string& data_dir) {
  const tierkv::DataDirModeFix fix = tierkv::RestrictDataDirModes(data_dir);
  if (fix.fixed > 0) {
    spdlog::warn("data dir {}: {} files and directories were readable by others; made them "
                 "the daemon's user's only (0600 files, 0700 directories)",
                 data_dir, fix.fixed);
  }
  if (fix.shared_dir_left) {
    spdlog::warn("data dir {} is a shared directory (sticky bit): only the daemon's own "
                 "entries in it are made owner-only; give tierkvd a directory of its own",
                 data_dir);
  }
  if (!fix.first_error.ok()) {
    spdlog::warn("data dir {}: could not make everything owner-only: {}", data_dir,
                 fix.first_error.ToString());
  }
}

int Run(const tierkv::DaemonConfig& config) {
  using namespace tierkv;
  spdlog::set_level(spdlog::level::from_str(config.log_level));
  ::umask(kOwnerOnlyUmask);
  RestrictDataDir(config.data_dir);
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
  NamespaceRegistry namespaces(*secret, config.tenant_tokens, (*host)->max_block_bytes());
  // Declared before the store: the store's destructor still runs GPU completions.
  GpuSetup gpu;
  BlockStore store(host->get());
  gpu = SetUpGpuTier(config, **host, &store);
  auto nvme = OpenNvmeTier(config, (*host)->max_block_bytes(), &store);
  if (!nvme.ok()) {
    spdlog::error("nvme tier: {}", nvme.status().ToString());
    return 1;
  }
  RequestHandler handler(&store, &namespaces,
                         {config.admin_token, kServerVersion, gpu.off_reason});

  boost::asio::io_context io(1);
  ServerLimits limits;
  limits.max_connections = config.max_connections;
  limits.accept_backoff = std::chrono::milliseconds(config.accept_backoff_ms);
  limits.connection.max_frame_bytes = static_cast<uint32_t>(config.max_frame_bytes);
  limits.connection.frame_idle_timeout = std::chrono::milliseconds(config.frame_idle_timeout_ms);
  Server server(io, &store, &handler, limits);
  if (Status s = server.ListenUnix(config.socket); !s.ok()) {
    spdlog::error("{}", s.ToString());
    return 1;
  }
  if (Status s = server.ListenTcp(config.tcp); !s.ok()) {
    spdlog::error("{}", s.ToString());
    return 1;
  }
  std::unique_ptr<EventFdPump> nvme_pump;
  if (*nvme) {
    nvme_pump =
        std::make_unique<EventFdPump>(io, store.nvme()->event_fd(), [&] { store.ReapNvme(); });
  }
  std::unique_ptr<EventFdPump> gpu_pump;
  if (gpu.tier) {
    gpu_pump = std::make_unique<EventFdPump>(io, store.gpu()->event_fd(), [&] { store.ReapGpu(); });
  }
  boost::asio::signal_set signals(io, SIGINT, SIGTERM);
  signals.async_wait([&](const boost::system::error_code& ec, int signo) {
    if (ec) return;
    spdlog::info("signal {}: shutting down", signo);
    server.Stop();
    if (nvme_pump) nvme_pump->Stop();
    if (gpu_pump) gpu_pump->Stop();
  });
  spdlog::info("tierkvd ready: unix {} tcp {}", config.socket,
               config.tcp.empty() ? "off" : config.tcp);
  // run() returns once the acceptors, every session and the pumps are closed.
  io.run();
  store.DrainGpu();
  if (*nvme) {
    // A clean stop keeps the host tier too: write what NVMe does not have yet.
    auto report = [](const FlushResult& r) {
      spdlog::info("flushed {} host blocks to nvme{}", r.written,
                   r.first_error.ok() ? "" : " (" + r.first_error.ToString() + ")");
    };
    if (auto now = store.Flush(report)) report(*now);
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
