#include "daemon/metrics_snapshot.h"

#include <map>

#include "daemon/stats_report.h"

namespace tierkv {
namespace {

// Where each tier's bytes_in come from and bytes_out go (the tier above it,
// or the engines for the host tier).
struct TierLinks {
  const char* in_from;
  const char* out_to;
};

TierLinks LinksOf(const std::string& tier) {
  if (tier == "gpu") return {"host", "client"};
  if (tier == "nvme") return {"host", "host"};
  return {"client", "client"};
}

}  // namespace

MetricsSnapshot TakeMetricsSnapshot(const BlockStore& store, const NamespaceRegistry& namespaces,
                                    const DaemonFigures& daemon) {
  DaemonFacts facts;
  facts.version = daemon.version;
  facts.connections = daemon.connections;
  // The document `tierkv stats` reports: metrics and stats cannot disagree.
  const Stats stats = CollectStats(store, namespaces, facts);
  MetricsSnapshot s;
  s.version = daemon.version;
  s.start_time_seconds = daemon.start_time_seconds;
  s.connections = daemon.connections;
  s.indexed_blocks = stats.indexed_blocks;
  s.promotions = stats.promotions;
  s.demotions = stats.demotions;
  s.dropped_blocks = stats.dropped_blocks;
  for (const TierStats& t : stats.tiers) {
    s.tiers.push_back({t.name, t.capacity_bytes, t.used_bytes, t.blocks, t.pinned_blocks, t.hits,
                       t.misses, t.evictions});
    const TierLinks links = LinksOf(t.name);
    s.transfers.push_back({links.in_from, t.name, t.bytes_in});
    s.transfers.push_back({t.name, links.out_to, t.bytes_out});
    if (t.gpu) s.errors.push_back({t.name, "copy", t.gpu->copy_errors});
    if (t.nvme) {
      s.errors.push_back({t.name, "read", t.nvme->read_errors});
      s.errors.push_back({t.name, "write", t.nvme->write_errors});
      s.errors.push_back({t.name, "corrupt", t.nvme->corrupt_dropped});
      s.errors.push_back({t.name, "damaged_at_load", t.nvme->dropped_at_load});
    }
  }
  // Tokens from the namespaces' block counts: a namespace's blocks all hold
  // block_tokens tokens.
  std::map<std::string, size_t> tenant_index;
  for (const NamespaceStats& ns : stats.namespaces) {
    const uint64_t tokens = (ns.hits + ns.misses) * ns.block_tokens;
    const uint64_t hit_tokens = ns.hits * ns.block_tokens;
    s.lookup_tokens += tokens;
    s.lookup_hit_tokens += hit_tokens;
    auto [it, added] = tenant_index.try_emplace(ns.tenant, s.tenants.size());
    if (added) {
      const bool own_label = s.tenants.size() < MetricsSnapshot::kMaxTenantLabels;
      if (own_label) {
        s.tenants.push_back({ns.tenant});
      } else {
        auto other = tenant_index.try_emplace(MetricsSnapshot::kOtherTenants, s.tenants.size());
        if (other.second) s.tenants.push_back({MetricsSnapshot::kOtherTenants});
        it->second = other.first->second;
      }
    }
    MetricsSnapshot::Tenant& t = s.tenants[it->second];
    t.blocks += ns.blocks;
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
