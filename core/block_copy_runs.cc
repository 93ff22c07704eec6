#include "core/block_copy_runs.h"

namespace tierkv::core {

std::vector<BlockCopyRun> ContiguousRuns(std::span<const std::byte* const> sources,
                                         size_t block_bytes) {
  std::vector<BlockCopyRun> runs;
  for (size_t i = 0; i < sources.size(); ++i) {
    if (!runs.empty()) {
      BlockCopyRun& last = runs.back();
      if (last.source + last.n_blocks * block_bytes == sources[i]) {
        ++last.n_blocks;
        continue;
      }
    }
    runs.push_back({sources[i], static_cast<int>(i), 1});
  }
  return runs;
}

}  // namespace tierkv::core
