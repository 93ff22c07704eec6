// tierkvd: the tierkv daemon. See docs/architecture.md.
//
// Start-up order, cheapest check first, so a daemon that cannot run says so
// at once instead of after seconds of faulting in its pool:
//   1. the config (file and flags) parses and validates;
//   2. the data dir is ours (no other tierkvd holds its lock);
//   3. the pool fits the memory available (unless forced);
//   4. the Unix socket, TCP port, metrics port and KV event sockets can be
//      bound (they are, and kept);
//   5. the host pool is faulted in (progress logged), the GPU tier opened,
//      the NVMe index replayed;
//   6. serving starts and systemd hears READY=1.
#include <spdlog/spdlog.h>
#include <unistd.h>

#include <sys/stat.h>

#include <boost/asio.hpp>
#include <csignal>
#include <cstdio>
#include <utility>

#include "base/byte_size.h"
#include "base/version.h"
#include "daemon/block_store.h"
#include "daemon/config.h"
#include "daemon/daemon_secret.h"
#include "daemon/data_dir_lock.h"
#include "daemon/data_dir_modes.h"
#include "daemon/event_fd_pump.h"
#include "daemon/gpu_setup.h"
#include "daemon/kv_event_batcher.h"
#include "daemon/kv_event_publisher.h"
#include "daemon/memory_check.h"
#include "daemon/metrics_exporter.h"
#include "daemon/metrics_snapshot.h"
#include "daemon/namespace_catalog.h"
#include "daemon/namespace_registry.h"
#include "daemon/nvme_setup.h"
#include "daemon/remote_setup.h"
#include "daemon/request_handler.h"
#include "daemon/request_metrics.h"
#include "daemon/server.h"
#include "daemon/systemd_notify.h"
#include "tiers/host/host_tier.h"

namespace {

using namespace tierkv;

constexpr int kExitFailure = 1;
constexpr int kExitBadConfig = 2;

std::string ServerVersion() { return "tierkvd " + std::string(Version()); }

Result<std::unique_ptr<HostTier>> CreateHostTier(const DaemonConfig& config) {
  spdlog::info("host tier: faulting in {} of shared pool", FormatBytes(config.host_bytes));
  const auto t0 = std::chrono::steady_clock::now();
  auto host =
      HostTier::Create(config.host_bytes, config.slab_bytes, [](uint64_t done, uint64_t total) {
        if (done == total) return;
        spdlog::info("host tier: {} of {} faulted in ({:.0f}%)", FormatBytes(done),
                     FormatBytes(total), 100.0 * static_cast<double>(done) / total);
      });
  if (!host.ok()) return host.status();
  spdlog::info("host tier: {} shared pool in {} slabs ({} pages), faulted in in {:.1f} s",
               FormatBytes((*host)->capacity_bytes()), FormatBytes((*host)->max_block_bytes()),
               (*host)->huge_pages() ? "huge" : "4 KiB",
               std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count());
  return host;
}

// Older versions left the data dir readable by others: fix that and say so.
void RestrictDataDir(const std::string& data_dir) {
  const DataDirModeFix fix = RestrictDataDirModes(data_dir);
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

// The topic's node part: kv_events_node, else the host name.
std::string KvEventNode(const DaemonConfig& config) {
  if (!config.kv_events_node.empty()) return config.kv_events_node;
  char name[256] = {};
  if (gethostname(name, sizeof name - 1) != 0) return "localhost";
  return name;
}

// The KV event stream (docs/events.md): the publisher binds its sockets
// here, before the pool is faulted in; the batcher, fed by the store on the
// loop, hands it each loop turn's events.
struct KvEvents {
  std::unique_ptr<KvEventPublisher> publisher;
  std::unique_ptr<KvEventBatcher> batcher;
};

Result<KvEvents> StartKvEvents(const DaemonConfig& config, boost::asio::io_context& io) {
  KvEvents events;
  if (config.kv_events_endpoint.empty()) return events;
  KvEventPublisher::Options options{config.kv_events_endpoint, config.kv_events_replay_endpoint,
                                    "kv@" + KvEventNode(config) + "@" + config.kv_events_model};
  auto publisher = KvEventPublisher::Start(options);
  if (!publisher.ok()) {
    return Status::InvalidArgument("kv_events_endpoint: " + publisher.status().ToString());
  }
  events.publisher = std::move(*publisher);
  KvEventPublisher* raw = events.publisher.get();
  events.batcher = std::make_unique<KvEventBatcher>(
      [&io](std::function<void()> f) { boost::asio::post(io, std::move(f)); },
      [raw](std::vector<KvEvent> batch) { raw->Publish(std::move(batch)); });
  spdlog::info("kv events: publishing on {} (replay on {}), topic {}", raw->endpoint(),
               raw->replay_endpoint().empty() ? "off" : raw->replay_endpoint(), options.topic);
  return events;
}

int Run(const DaemonConfig& config) {
  ::umask(kOwnerOnlyUmask);
  auto lock = DataDirLock::Acquire(config.data_dir);
  if (!lock.ok()) {
    spdlog::error("{}", lock.status().message());
    return kExitFailure;
  }
  RestrictDataDir(config.data_dir);
  if (!config.force_host_bytes) {
    if (Status s = CheckPoolFitsMemory(config.host_bytes, AvailableMemoryBytes()); !s.ok()) {
      spdlog::error("{}", s.message());
      return kExitFailure;
    }
  }
  auto secret = LoadOrCreateSecret(SecretFilePath(config));
  if (!secret.ok()) {
    spdlog::error("{}", secret.status().ToString());
    return kExitFailure;
  }
  boost::asio::io_context io(1);
  ServerLimits limits;
  limits.max_connections = config.max_connections;
  limits.accept_backoff = std::chrono::milliseconds(config.accept_backoff_ms);
  limits.connection.max_frame_bytes = static_cast<uint32_t>(config.max_frame_bytes);
  limits.connection.frame_idle_timeout = std::chrono::milliseconds(config.frame_idle_timeout_ms);
  Server server(io, limits);
  if (Status s = server.ListenUnix(config.socket); !s.ok()) {
    spdlog::error("{}", s.ToString());
    return kExitFailure;
  }
  if (Status s = server.ListenTcp(config.tcp); !s.ok()) {
    spdlog::error("{}", s.ToString());
    return kExitFailure;
  }
  if (!config.tcp.empty() && config.admin_token.empty()) {
    spdlog::warn(
        "TCP listens on {} without an admin token: no TCP client can evict or flush "
        "(set admin_token to allow it)",
        config.tcp);
  }
  // Scrapes are answered on the loop, which runs only once the store and
  // handler below exist; until then the exporter serves an empty snapshot.
  BlockStore* metrics_store = nullptr;
  const NamespaceRegistry* metrics_namespaces = nullptr;
  RequestMetrics request_metrics;
  const double start_time =
      std::chrono::duration<double>(std::chrono::system_clock::now().time_since_epoch()).count();
  std::unique_ptr<MetricsExporter> metrics;
  if (!config.metrics_listen.empty()) {
    auto exporter = MetricsExporter::Start(
        config.metrics_listen,
        [&io](std::function<void()> f) { boost::asio::post(io, std::move(f)); },
        [&]() -> MetricsSnapshot {
          if (!metrics_store) return {};
          DaemonFigures figures;
          figures.version = ServerVersion();
          figures.start_time_seconds = start_time;
          figures.connections = server.session_count();
          figures.requests = &request_metrics;
          return TakeMetricsSnapshot(*metrics_store, *metrics_namespaces, figures);
        });
    if (!exporter.ok()) {
      spdlog::error("{}", exporter.status().ToString());
      return kExitFailure;
    }
    metrics = std::move(*exporter);
    spdlog::info("metrics: serving http://{}/metrics", metrics->address());
    server.set_request_metrics(&request_metrics);
  }

  auto kv_events = StartKvEvents(config, io);
  if (!kv_events.ok()) {
    spdlog::error("{}", kv_events.status().ToString());
    return kExitFailure;
  }

  auto host = CreateHostTier(config);
  if (!host.ok()) {
    spdlog::error("host tier: {}", host.status().ToString());
    return kExitFailure;
  }
  std::vector<wire::OpenNamespaceRequest> recorded;
  auto catalog = NamespaceCatalog::Open(config.data_dir + "/namespaces", &recorded);
  if (!catalog.ok()) {
    spdlog::error("namespace catalog: {}", catalog.status().ToString());
    return kExitFailure;
  }
  NamespaceRegistry namespaces(*secret, config.tenant_tokens, (*host)->max_block_bytes(),
                               {config.max_namespaces_per_tenant, config.max_namespaces});
  namespaces.AttachCatalog(&*catalog, recorded);
  // Declared before the store: the store's destructor still runs GPU completions.
  GpuSetup gpu;
  BlockStore store(host->get());
  if (kv_events->batcher) {
    // What an earlier run published is void; the NVMe replay restates it.
    kv_events->batcher->OnAllCleared();
    store.set_observer(kv_events->batcher.get());
  }
  gpu = SetUpGpuTier(config, **host, &store);
  auto nvme = OpenNvmeTier(config, (*host)->max_block_bytes(), &store);
  if (!nvme.ok()) {
    spdlog::error("nvme tier: {}", nvme.status().ToString());
    return kExitFailure;
  }
  // Opening never waits for a server; a tier that cannot reach one is down
  // in stats while the local tiers serve.
  auto remote = OpenRemoteTier(config, &store);
  if (!remote.ok()) {
    spdlog::error("remote tier: {}", remote.status().ToString());
    return kExitFailure;
  }
  RequestHandler handler(&store, &namespaces,
                         {config.admin_token, ServerVersion(), gpu.off_reason});
  server.Serve(&store, &handler);
  metrics_store = &store;
  metrics_namespaces = &namespaces;

  std::unique_ptr<EventFdPump> nvme_pump;
  if (*nvme) {
    nvme_pump =
        std::make_unique<EventFdPump>(io, store.nvme()->event_fd(), [&] { store.ReapNvme(); });
  }
  std::unique_ptr<EventFdPump> gpu_pump;
  if (gpu.tier) {
    gpu_pump = std::make_unique<EventFdPump>(io, store.gpu()->event_fd(), [&] { store.ReapGpu(); });
  }
  std::unique_ptr<EventFdPump> remote_pump;
  if (*remote) {
    remote_pump =
        std::make_unique<EventFdPump>(io, store.remote()->event_fd(), [&] { store.ReapRemote(); });
  }
  boost::asio::signal_set signals(io, SIGINT, SIGTERM);
  signals.async_wait([&](const boost::system::error_code& ec, int signo) {
    if (ec) return;
    spdlog::info("signal {}: shutting down", signo);
    NotifySystemd("STOPPING=1\nSTATUS=shutting down: flushing the host tier to NVMe");
    server.Stop();
    if (nvme_pump) nvme_pump->Stop();
    if (gpu_pump) gpu_pump->Stop();
    if (remote_pump) remote_pump->Stop();
  });
  const std::string tcp = config.tcp.empty() ? "off" : config.tcp;
  spdlog::info("{} ready: unix {} tcp {}", ServerVersion(), config.socket, tcp);
  NotifySystemd("READY=1\nSTATUS=serving on unix " + config.socket + ", tcp " + tcp);
  // run() returns once the acceptors, every session and the pumps are closed.
  io.run();
  metrics.reset();  // no scrape reads the store from here on
  store.DrainGpu();
  // Remote writes in flight end (each within its deadline) before the flush.
  store.DrainRemote();
  if (*nvme) {
    // A clean stop keeps the host tier too: write what NVMe does not have yet.
    auto report = [](const FlushResult& r) {
      spdlog::info("flushed {} host blocks to nvme{}", r.written,
                   r.first_error.ok() ? "" : " (" + r.first_error.ToString() + ")");
    };
    if (auto now = store.Flush(report)) report(*now);
    store.DrainNvme();
  }
  if (kv_events->batcher) {
    store.set_observer(nullptr);
    kv_events->batcher->Flush();  // the loop has stopped: what it would have handed off
  }
  spdlog::info("tierkvd stopped");
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  std::signal(SIGPIPE, SIG_IGN);
  auto args = ParseDaemonArgs(argc, argv);
  if (!args.ok()) {
    std::fprintf(stderr, "tierkvd: %s\n", std::string(args.status().message()).c_str());
    return kExitBadConfig;
  }
  if (args->exit_code) return *args->exit_code;
  const DaemonConfig& config = args->config;
  if (args->check_config) {
    Status fits = config.force_host_bytes
                      ? Status::Ok()
                      : CheckPoolFitsMemory(config.host_bytes, AvailableMemoryBytes());
    if (!fits.ok()) {
      std::fprintf(stderr, "tierkvd: %s\n", std::string(fits.message()).c_str());
      return kExitBadConfig;
    }
    std::printf("%s", DescribeConfig(config).c_str());
    std::printf("tierkvd: config OK\n");
    return 0;
  }
  spdlog::set_level(spdlog::level::from_str(config.log_level));
  return Run(config);
}
