#include "daemon/stats_report.h"

#include <fstream>

namespace tierkv {
namespace {

constexpr char kRssAnonField[] = "RssAnon:";
constexpr uint64_t kKiB = 1024;

// The daemon's private (anonymous) resident memory: its index and buffers,
// without the shared pool, which is counted as shmem.
uint64_t AnonymousResidentBytes() {
  std::ifstream status("/proc/self/status");
  std::string line;
  while (std::getline(status, line)) {
    if (line.rfind(kRssAnonField, 0) == 0) {
      return std::stoull(line.substr(sizeof(kRssAnonField) - 1)) * kKiB;
    }
  }
  return 0;
}

void CopyCounters(const TierCounters& c, TierStats* t) {
  t->hits = c.hits;
  t->misses = c.misses;
  t->evictions = c.evictions;
  t->bytes_in = c.bytes_in;
  t->bytes_out = c.bytes_out;
}

}  // namespace

Stats CollectStats(const BlockStore& store, const NamespaceRegistry& namespaces,
                   const DaemonFacts& facts) {
  const StoreCounters& counters = store.counters();
  Stats s;
  s.version = facts.version;
  s.uptime_s = facts.uptime_s;
  s.connections = facts.connections;
  s.indexed_blocks = store.indexed_blocks();
  s.promotions = counters.promotions;
  s.demotions = counters.demotions;
  s.dropped_blocks = counters.dropped_blocks;
  s.rss_anon_bytes = AnonymousResidentBytes();

  // Tiers fastest first.
  if (const GpuMirror* gpu = store.gpu()) {
    TierStats& t = s.tiers.emplace_back();
    t.name = "gpu";
    t.capacity_bytes = gpu->tier().capacity_bytes();
    t.used_bytes = gpu->tier().used_bytes();
    t.blocks = counters.gpu_blocks;
    t.pinned_blocks = counters.gpu_pinned_blocks;
    CopyCounters(counters.gpu, &t);
    t.gpu = GpuTierStats{gpu->copies_in_flight(), counters.gpu_copy_errors};
    s.gpu_tier.enabled = true;
    s.gpu_tier.device = gpu->description();
  } else {
    s.gpu_tier.reason = facts.gpu_off_reason;
  }
  {
    const HostTier& host = store.host().tier();
    TierStats& t = s.tiers.emplace_back();
    t.name = "host";
    t.capacity_bytes = host.capacity_bytes();
    t.used_bytes = host.used_bytes();
    t.blocks = counters.host_blocks;
    t.pinned_blocks = counters.pinned_blocks;
    CopyCounters(counters.host, &t);
    t.host = HostTierStats{host.huge_pages()};
  }
  if (const NvmeMover* nvme = store.nvme()) {
    const nvme::NvmeStats n = nvme->Stats();
    TierStats& t = s.tiers.emplace_back();
    t.name = "nvme";
    t.capacity_bytes = n.capacity_bytes;
    t.used_bytes = n.used_bytes;
    t.blocks = n.blocks;
    CopyCounters(counters.nvme, &t);
    NvmeTierStats& d = t.nvme.emplace();
    d.file_bytes = n.file_bytes;
    d.bytes_read = n.bytes_read;
    d.bytes_written = n.bytes_written;
    d.queue_depth = n.queue_depth;
    d.queued = n.queued;
    d.read_bytes_per_s = n.read_bytes_per_sec;
    d.write_bytes_per_s = n.write_bytes_per_sec;
    d.read_errors = n.read_errors;
    d.write_errors = n.write_errors;
    d.corrupt_dropped = n.corrupt_dropped;
    d.loaded_blocks = n.loaded_blocks;
    d.dropped_at_load = n.dropped_at_load;
  }

  if (const RemoteMover* remote = store.remote()) {
    const remote::RemoteStats r = remote->Stats();
    TierStats& t = s.tiers.emplace_back();
    t.name = "remote";
    CopyCounters(counters.remote, &t);
    RemoteTierStats& d = t.remote.emplace();
    d.state = remote::RemoteHealthName(r.health);
    d.reason = r.reason;
    d.write_policy = RemoteWritePolicyName(remote->options().write);
    for (const remote::RemoteNodeStatus& n : r.nodes) {
      d.nodes.push_back(
          {n.address, std::string(remote::RemoteHealthName(n.health)), n.reason, n.slots});
    }
    d.blocks_read = r.blocks_read;
    d.blocks_written = r.blocks_written;
    d.bytes_read = r.bytes_read;
    d.bytes_written = r.bytes_written;
    d.errors = r.errors;
    d.corrupt_dropped = r.corrupt_dropped;
    d.timeouts = r.timeouts;
    d.reconnects = r.reconnects;
    d.queue_depth = r.queue_depth;
    d.write_bytes_queued = remote->write_bytes_in_flight();
    d.write_overflows = counters.remote_write_overflows;
    d.promotions = counters.remote_promotions;
  }
  for (const auto& ns : namespaces.all()) {
    const NamespaceCounters nc = counters.ForNamespace(ns->id);
    NamespaceStats& n = s.namespaces.emplace_back();
    n.id_hex = ToHex(ns->id);
    n.handle = ns->handle;
    n.tenant = ns->spec.tenant;
    n.model_fingerprint = ns->spec.model_fingerprint;
    n.block_tokens = ns->spec.block_tokens;
    n.block_bytes = ns->spec.block_bytes;
    n.blocks = nc.blocks;
    n.hits = nc.hits;
    n.misses = nc.misses;
  }
  return s;
}

}  // namespace tierkv
