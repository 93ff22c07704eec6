// `tierkv-bench` figures of the daemon's index: lookup latency of an N-block
// prefix beside a bare round trip measured in the same loop, and the daemon's
// resident memory per indexed block beside what each block must keep.
#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

#include "tierkv/client.h"

namespace tierkv::bench {

struct LookupBenchOptions {
  std::vector<uint32_t> prefix_blocks;  // one figure per prefix length
  int iterations = 2000;
  uint64_t seed = 1;
  bool json = false;
};

// Stores one prefix per length and looks it up `iterations` times, each
// lookup followed by a bare 64-byte round trip and one carrying as many bytes
// as the lookup does. Prints one line per length.
Status RunLookupBench(Client& client, const LookupBenchOptions& options);

struct MemoryBenchOptions {
  size_t blocks = 100000;
  uint64_t seed = 1;
  bool json = false;
};

// Stores `blocks` 4 KiB blocks and prints the growth of the daemon's private
// resident memory (RssAnon: index, entries, allocator overhead; the shared
// pool is not in it) divided by the blocks indexed, then evicts them. Run it
// against a daemon that has not yet freed many entries, or freed heap is
// reused and the figure reads low.
Status RunMemoryBench(Client& client, const MemoryBenchOptions& options);

}  // namespace tierkv::bench
