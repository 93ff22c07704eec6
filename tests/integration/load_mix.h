// A mixed load against a running tierkvd: many clients, each on its own
// connection and thread, doing lookup, acquire (+ byte check) and release,
// reserve (+ write) and commit, and reserve + abort, for a bounded time.
//
// Blocks are deterministic: a prompt index names its tokens and every byte of
// its payload, so any client can check any block it reads. The key space is
// small enough to fit the pool (no eviction), so after the run every
// committed prompt must still be there, byte-exact. Used by the load test
// (which checks correctness) and by tierkv-load-bench (which reports figures).
#pragma once

#include <chrono>
#include <cstdint>
#include <string>

#include "tierkv/status.h"

namespace tierkv::testing {

struct MixOptions {
  std::string address;  // daemon socket path (or unix:/tcp: address)
  uint32_t clients = 64;
  std::chrono::milliseconds duration{10000};
  uint64_t block_bytes = 16 * 1024;
  uint32_t blocks_per_prompt = 4;
  uint32_t prompts = 512;  // the key space reserve and commit write into
  uint64_t seed = 1;
};

struct MixResult {
  uint64_t ops = 0;  // requests sent (each counted in one row below)
  uint64_t lookups = 0, acquires = 0, releases = 0, reserves = 0, commits = 0, aborts = 0;
  uint64_t errors = 0;   // requests that failed
  uint64_t corrupt = 0;  // blocks read whose bytes were not what was written
  uint64_t committed_prompts = 0;
  uint64_t lost_prompts = 0;  // committed, then not found whole and exact at the end
  double seconds = 0;
  double p50_us = 0, p99_us = 0, max_us = 0;  // per request, all kinds together
  std::string first_error;
};

// Runs the mix; the returned status is an error only when set-up failed.
Result<MixResult> RunMix(const MixOptions& options);

}  // namespace tierkv::testing
