// Cached blocks go into KV pages with one copy-kernel launch per run of
// blocks whose sources follow each other in memory: blocks lent in place sit
// wherever the daemon put them (often, but not always, in consecutive
// slots), while a staging buffer holds them back to back (a single run).
//
// Thread safety: pure functions.
#pragma once

#include <cstddef>
#include <span>
#include <vector>

namespace tierkv::core {

struct BlockCopyRun {
  const std::byte* source = nullptr;  // the first block's bytes
  int first_block = 0;                // index of the first block of the run
  int n_blocks = 0;
};

// Splits blocks whose bytes start at sources[i] (each block_bytes long) into
// maximal runs where block i + 1 starts right where block i ends, in order.
std::vector<BlockCopyRun> ContiguousRuns(std::span<const std::byte* const> sources,
                                         size_t block_bytes);

}  // namespace tierkv::core
