// Gathers the statistics document (tierkv/stats.h) from the block store's
// counters and tiers and the namespace registry; protocol/stats_document.h
// encodes it.
#pragma once

#include <cstdint>
#include <string>

#include "daemon/block_store.h"
#include "daemon/namespace_registry.h"
#include "tierkv/stats.h"

namespace tierkv {

// What only the daemon's front knows.
struct DaemonFacts {
  std::string version;
  uint64_t uptime_s = 0;
  uint64_t connections = 0;
  std::string gpu_off_reason;  // why there is no GPU tier (when there is none)
};

Stats CollectStats(const BlockStore& store, const NamespaceRegistry& namespaces,
                   const DaemonFacts& facts);

}  // namespace tierkv
