#include "daemon/metrics_snapshot.h"

#include <map>

namespace tierkv {
namespace {

MetricsSnapshot::Tier TierFrom(std::string name, uint64_t capacity, uint64_t used, uint64_t blocks,
                               uint64_t pinned, const TierCounters& c) {
  return {std::move(name), capacity, used, blocks, pinned, c.hits, c.misses, c.evictions};
}

}  // namespace

MetricsSnapshot TakeMetricsSnapshot(BlockStore& store, const NamespaceRegistry& namespaces,
                                    const DaemonFigures& daemon) {
  const StoreCounters& c = store.counters();
  MetricsSnapshot s;
  s.version = daemon.version;
  s.start_time_seconds = daemon.start_time_seconds;
  s.connections = daemon.connections;
  s.indexed_blocks = store.indexed_blocks();
  s.promotions = c.promotions;
  s.demotions = c.demotions;
  s.dropped_blocks = c.dropped_blocks;
  if (const GpuTier* gpu = store.gpu()) {
    s.tiers.push_back(
        TierFrom("gpu", gpu->capacity_bytes(), gpu->used_bytes(), c.gpu_blocks, 0, c.gpu));
    s.transfers.push_back({"host", "gpu", c.gpu.bytes_in});
    s.transfers.push_back({"gpu", "client", c.gpu.bytes_out});
    s.errors.push_back({"gpu", "copy", c.gpu_copy_errors});
  }
  const HostTier& host = store.host();
  s.tiers.push_back(TierFrom("host", host.capacity_bytes(), host.used_bytes(), c.host_blocks,
                             c.pinned_blocks, c.host));
  s.transfers.push_back({"client", "host", c.host.bytes_in});
  s.transfers.push_back({"host", "client", c.host.bytes_out});
  if (const nvme::NvmeStore* nvme = store.nvme()) {
    const nvme::NvmeStats n = nvme->Stats();
    s.tiers.push_back(TierFrom("nvme", n.capacity_bytes, n.used_bytes, n.blocks, 0, c.nvme));
    s.transfers.push_back({"host", "nvme", c.nvme.bytes_in});
    s.transfers.push_back({"nvme", "host", c.nvme.bytes_out});
    s.errors.push_back({"nvme", "read", n.read_errors});
    s.errors.push_back({"nvme", "write", n.write_errors});
    s.errors.push_back({"nvme", "corrupt", n.corrupt_dropped});
    s.errors.push_back({"nvme", "damaged_at_load", n.dropped_at_load});
  }
  // Tokens from the namespaces' block counts: a namespace's blocks all hold
  // block_tokens tokens.
  std::map<std::string, size_t> tenant_index;
  for (const auto& ns : namespaces.all()) {
    const NamespaceCounters counts = c.ForNamespace(ns->id);
    const uint64_t tokens = (counts.hits + counts.misses) * ns->spec.block_tokens;
    const uint64_t hit_tokens = counts.hits * ns->spec.block_tokens;
    s.lookup_tokens += tokens;
    s.lookup_hit_tokens += hit_tokens;
    auto [it, added] = tenant_index.try_emplace(ns->spec.tenant, s.tenants.size());
    if (added) {
      const bool own_label = s.tenants.size() < MetricsSnapshot::kMaxTenantLabels;
      if (own_label) {
        s.tenants.push_back({ns->spec.tenant});
      } else {
        auto other = tenant_index.try_emplace(MetricsSnapshot::kOtherTenants, s.tenants.size());
        if (other.second) s.tenants.push_back({MetricsSnapshot::kOtherTenants});
        it->second = other.first->second;
      }
    }
    MetricsSnapshot::Tenant& t = s.tenants[it->second];
    t.blocks += counts.blocks;
    t.lookup_tokens += tokens;
    t.lookup_hit_tokens += hit_tokens;
  }
  if (daemon.requests) s.requests = daemon.requests->Snapshot();
  s.kv_events = daemon.kv_events;
  s.kv_event_batches = daemon.kv_event_batches;
  s.kv_event_batches_dropped = daemon.kv_event_batches_dropped;
  return s;
}

}  // namespace tierkv
