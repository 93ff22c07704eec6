// The statistics document on the wire: the stats reply carries a tierkv::Stats
// (tierkv/stats.h) as one JSON object. Its schema (every field, its JSON name,
// where it sits) is written once, in stats_document.cc, and both directions
// run over it: the daemon encodes with EncodeStats, the client decodes with
// DecodeStats.
//
// The document, as of protocol version 2:
//   { version, uptime_s, connections, indexed_blocks, promotions, demotions,
//     dropped_blocks, rss_anon_bytes,
//     tiers: [ { name, capacity_bytes, used_bytes, blocks, pinned_blocks, hits,
//                misses, evictions, bytes_in, bytes_out,
//                host: huge_pages | gpu: copies_in_flight, copy_errors |
//                nvme: file_bytes, bytes_read, bytes_written, queue_depth, queued,
//                      read_bytes_per_s, write_bytes_per_s, read_errors,
//                      write_errors, corrupt_dropped, loaded_blocks, dropped_at_load
//              } ... ],            (a tier's own fields sit beside the common ones)
//     gpu_tier: { enabled, device (when enabled) | reason (when not) },
//     namespaces: [ { id, handle, tenant, model_fingerprint, block_tokens,
//                     block_bytes, blocks, hits, misses } ... ] }
#pragma once

#include <string>
#include <string_view>

#include "tierkv/stats.h"
#include "tierkv/status.h"

namespace tierkv::wire {

// The JSON text of `stats` (raw_json is not part of it). Strings that are not
// valid UTF-8 (names come from clients) have their bad bytes replaced by
// U+FFFD rather than failing.
std::string EncodeStats(const Stats& stats);

// Reads a document EncodeStats wrote; raw_json gets `text` itself. A field the
// document lacks keeps its default (an older daemon); a field of the wrong
// type, or text that is not a JSON object, is a ProtocolError naming it.
Result<Stats> DecodeStats(std::string_view text);

}  // namespace tierkv::wire
