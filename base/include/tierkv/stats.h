// The daemon's statistics document: what `tierkv stats` shows and
// Client::GetStats returns. A plain value; its encoding (JSON) is defined once,
// in protocol/stats_document.h, for the daemon that writes it and the client
// that reads it.
//
// Hits and misses count blocks: a hit counts on the fastest tier holding the
// block; a tier's misses are the blocks asked for that neither it nor a faster
// tier held. Bytes are bytes; everything else counts blocks or events.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

// Equality (for tests and change detection) is C++20's defaulted comparison;
// engines that include this header as C++17 get the structs without it.
#if __cplusplus >= 202002L
#define TIERKV_STATS_EQUALITY(Type) friend bool operator==(const Type&, const Type&) = default;
#else
#define TIERKV_STATS_EQUALITY(Type)
#endif

namespace tierkv {

// What only the host tier reports.
struct HostTierStats {
  bool huge_pages = false;  // the shared pool is in huge pages
  TIERKV_STATS_EQUALITY(HostTierStats)
};

// What only the GPU tier reports.
struct GpuTierStats {
  uint64_t copies_in_flight = 0;  // host -> GPU copies not yet complete
  uint64_t copy_errors = 0;       // host -> GPU copies that failed
  TIERKV_STATS_EQUALITY(GpuTierStats)
};

// What only the NVMe tier reports (its storage engine's figures).
struct NvmeTierStats {
  uint64_t file_bytes = 0;  // bytes reserved by slab files
  uint64_t bytes_read = 0;
  uint64_t bytes_written = 0;
  uint64_t queue_depth = 0;      // payload requests in the kernel now
  uint64_t queued = 0;           // payload requests waiting for a staging buffer
  double read_bytes_per_s = 0;   // over the last second
  double write_bytes_per_s = 0;  // over the last second
  uint64_t read_errors = 0;
  uint64_t write_errors = 0;
  uint64_t corrupt_dropped = 0;  // blocks dropped because their checksum failed
  uint64_t loaded_blocks = 0;    // blocks found at start-up
  uint64_t dropped_at_load = 0;  // damaged index entries dropped at start-up
  TIERKV_STATS_EQUALITY(NvmeTierStats)
};

// One master of the remote tier (the server, for one Redis server).
struct RemoteNodeStats {
  std::string address;  // host:port
  std::string state;    // "up", "degraded" or "down"
  std::string reason;   // why it is degraded or down; empty when up
  uint32_t slots = 0;   // cluster slots it serves
  TIERKV_STATS_EQUALITY(RemoteNodeStats)
};

// What only the remote tier reports (its client's figures). The tier is
// shared with other daemons, so it has no capacity or block count here.
struct RemoteTierStats {
  std::string state;  // the tier as a whole: "up", "degraded" or "down"
  std::string reason;
  std::string write_policy;  // "through" or "evict"
  std::vector<RemoteNodeStats> nodes;
  uint64_t blocks_read = 0;     // values read and verified
  uint64_t blocks_written = 0;  // values written
  uint64_t bytes_read = 0;      // payload bytes of those
  uint64_t bytes_written = 0;
  uint64_t errors = 0;           // operations failed (down, timed out, refused)
  uint64_t corrupt_dropped = 0;  // values that failed verification, deleted
  uint64_t timeouts = 0;
  uint64_t reconnects = 0;
  uint64_t queue_depth = 0;         // operations submitted and not completed
  uint64_t write_bytes_queued = 0;  // payload bytes of writes in flight
  uint64_t write_overflows = 0;     // writes not started: the write queue was full
  uint64_t promotions = 0;          // blocks read into the host tier
  TIERKV_STATS_EQUALITY(RemoteTierStats)
};

struct TierStats {
  std::string name;  // "gpu", "host", "nvme" or "remote"
  uint64_t capacity_bytes = 0;
  uint64_t used_bytes = 0;
  uint64_t blocks = 0;         // blocks with a copy on this tier
  uint64_t pinned_blocks = 0;  // of those, pinned by a lease (0 on NVMe)
  uint64_t hits = 0;
  uint64_t misses = 0;
  uint64_t evictions = 0;  // blocks that left the tier to make room or by evict
  uint64_t bytes_in = 0;   // payload bytes stored into the tier
  uint64_t bytes_out = 0;  // payload bytes read out of it (to clients, or up)
  // Exactly one is set, the one this tier's name names.
  std::optional<HostTierStats> host;
  std::optional<GpuTierStats> gpu;
  std::optional<NvmeTierStats> nvme;
  std::optional<RemoteTierStats> remote;
  TIERKV_STATS_EQUALITY(TierStats)
};

struct NamespaceStats {
  std::string id_hex;  // the namespace id, 32 hex digits
  uint32_t handle = 0;
  std::string tenant;
  std::string model_fingerprint;
  uint32_t block_tokens = 0;
  uint64_t block_bytes = 0;
  uint64_t blocks = 0;  // ready blocks, on any tier
  uint64_t hits = 0;
  uint64_t misses = 0;
  TIERKV_STATS_EQUALITY(NamespaceStats)
};

// Whether the daemon runs a GPU tier: the device when it does, the reason
// when it does not.
struct GpuTierState {
  bool enabled = false;
  std::optional<std::string> device;
  std::optional<std::string> reason;
  TIERKV_STATS_EQUALITY(GpuTierState)
};

struct Stats {
  // The most namespaces one stats document lists (with 1 KiB names, fully
  // escaped, about 13 MB: well inside a reply frame).
  static constexpr size_t kMaxListedNamespaces = 1024;
  std::string version;  // the daemon's
  uint64_t uptime_s = 0;
  uint64_t connections = 0;
  uint64_t indexed_blocks = 0;   // every block the daemon knows, reserved ones too
  uint64_t promotions = 0;       // NVMe -> host copies
  uint64_t demotions = 0;        // host copies dropped, the block kept on NVMe
  uint64_t dropped_blocks = 0;   // blocks forgotten on every tier
  uint64_t rss_anon_bytes = 0;   // the daemon's private memory (its index), without the pool
  std::vector<TierStats> tiers;  // fastest first
  GpuTierState gpu_tier;
  // At most kMaxListedNamespaces, those holding the most blocks first; the
  // rest are counted in namespaces_omitted, so the document stays bounded.
  std::vector<NamespaceStats> namespaces;
  uint64_t namespaces_omitted = 0;
  // Client side: the whole document as the daemon sent it (it may carry
  // fields this client does not know).
  std::string raw_json;
  TIERKV_STATS_EQUALITY(Stats)
};

}  // namespace tierkv

#undef TIERKV_STATS_EQUALITY
