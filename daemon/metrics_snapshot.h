// The figures /metrics shows, gathered in one pass on the daemon's event-loop
// thread from the stats document `tierkv stats` reports (CollectStats, the
// store's own counters) and handed to the exporter's threads as a plain
// value: nothing on the hot paths counts anything for metrics.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "daemon/block_store.h"
#include "daemon/namespace_registry.h"
#include "daemon/request_metrics.h"

namespace tierkv {

struct MetricsSnapshot {
  struct Tier {
    std::string name;  // gpu, host, nvme
    uint64_t capacity_bytes = 0;
    uint64_t used_bytes = 0;
    uint64_t blocks = 0;
    uint64_t pinned_blocks = 0;
    uint64_t hits = 0;
    uint64_t misses = 0;
    uint64_t evictions = 0;
  };
  struct Transfer {
    std::string from;  // client, gpu, host, nvme
    std::string to;
    uint64_t bytes = 0;
  };
  struct Error {
    std::string tier;
    std::string kind;
    uint64_t count = 0;
  };
  struct Tenant {
    std::string name;  // kOtherTenants for the tenants past kMaxTenantLabels
    uint64_t blocks = 0;
    uint64_t lookup_tokens = 0;
    uint64_t lookup_hit_tokens = 0;
  };

  // Tenants get their own label up to this many (in the order their first
  // namespace was opened, which never changes while the daemon runs); the
  // rest are summed under kOtherTenants, so a client cannot grow the series.
  static constexpr size_t kMaxTenantLabels = 32;
  static constexpr const char* kOtherTenants = "_other";

  std::string version;
  double start_time_seconds = 0;  // Unix time
  uint64_t connections = 0;
  uint64_t indexed_blocks = 0;
  uint64_t promotions = 0;
  uint64_t demotions = 0;
  uint64_t dropped_blocks = 0;
  uint64_t lookup_tokens = 0;
  uint64_t lookup_hit_tokens = 0;
  std::vector<Tier> tiers;  // fastest first
  std::vector<Transfer> transfers;
  std::vector<Error> errors;
  std::vector<Tenant> tenants;
  std::vector<RequestMetrics::Histogram> requests;
  bool kv_events = false;  // a KV event publisher runs
  uint64_t kv_event_batches = 0;
  uint64_t kv_event_batches_dropped = 0;
};

// What the store and registry cannot say: the daemon's front.
struct DaemonFigures {
  std::string version;
  double start_time_seconds = 0;
  uint64_t connections = 0;
  const RequestMetrics* requests = nullptr;
  bool kv_events = false;
  uint64_t kv_event_batches = 0;
  uint64_t kv_event_batches_dropped = 0;
};

MetricsSnapshot TakeMetricsSnapshot(const BlockStore& store, const NamespaceRegistry& namespaces,
                                    const DaemonFigures& daemon);

}  // namespace tierkv
