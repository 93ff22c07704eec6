// What the block store counts: per tier, per namespace and store-wide. The
// store's parts update these as blocks move; the stats document and metrics
// read them. Nothing here decides anything.
//
// Units: hits and misses in blocks (a hit counts on the fastest tier holding
// the block; a tier's misses are the blocks asked for that neither it nor a
// faster tier held), bytes in bytes, everything else in blocks or events.
//
// Thread safety: none; written and read on the daemon's event-loop thread.
#pragma once

#include <cstdint>
#include <unordered_map>

#include "tierkv/keys.h"

namespace tierkv {

struct TierCounters {
  uint64_t hits = 0;
  uint64_t misses = 0;
  uint64_t evictions = 0;  // blocks that left the tier to make room or by evict
  uint64_t bytes_in = 0;   // payload bytes stored into the tier
  uint64_t bytes_out = 0;  // payload bytes read out of it (to clients, or up)
};

struct NamespaceCounters {
  uint64_t blocks = 0;  // ready blocks, on any tier
  uint64_t hits = 0;
  uint64_t misses = 0;
};

// How one lookup's asked-for blocks split over the tiers.
struct LookupTally {
  uint64_t asked = 0;
  uint64_t on_gpu = 0;
  uint64_t on_host = 0;  // and not on the GPU
  uint64_t on_nvme = 0;  // only on NVMe
};

class StoreCounters {
 public:
  TierCounters host;
  TierCounters nvme;
  TierCounters gpu;
  // The remote tier as this daemon uses it: hits and misses of the lookups
  // that asked it, bytes written to it and promoted from it.
  TierCounters remote;

  uint64_t host_blocks = 0;      // ready blocks with a host copy
  uint64_t gpu_blocks = 0;       // blocks with a GPU copy
  uint64_t pinned_blocks = 0;    // blocks pinned by at least one lease
  uint64_t gpu_pinned_blocks = 0;  // pinned blocks that have a GPU copy
  uint64_t promotions = 0;       // NVMe -> host copies completed
  uint64_t demotions = 0;        // host copies dropped, the block kept on NVMe
  uint64_t dropped_blocks = 0;   // blocks forgotten on every tier
  uint64_t gpu_copy_errors = 0;  // host -> GPU copies that failed
  uint64_t remote_promotions = 0;  // remote -> host copies placed
  // Remote writes not started because the write queue was full.
  uint64_t remote_write_overflows = 0;

  // Counts one lookup's hits and misses on every tier and on its namespace.
  // `gpu_enabled`: a GPU tier exists (otherwise it counts nothing).
  void CountLookup(const Key128& ns_id, const LookupTally& tally, bool gpu_enabled);
  // A lookup of `ns_id` whose local tiers missed `asked` blocks asked the
  // remote tier, which held the first `found` of them: they turn from the
  // namespace's misses into its hits.
  void CountRemoteLookup(const Key128& ns_id, uint64_t asked, uint64_t found);
  // A block of `ns_id` became ready (+1) or stopped being ready (-1).
  void CountReady(const Key128& ns_id, int delta);
  // The counters of namespace `ns_id` (zeros for one never seen).
  NamespaceCounters ForNamespace(const Key128& ns_id) const;

 private:
  std::unordered_map<Key128, NamespaceCounters, Key128Hash> namespaces_;
};

}  // namespace tierkv
