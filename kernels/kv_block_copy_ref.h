// Moves whole KV pages between the page pool and a contiguous staging buffer
// (block i of the staging buffer <-> page pages[i]). This is how blocks travel
// to and from the daemon: one call per block set, so the CUDA version can issue
// them as one batch of copies on one stream.
#pragma once

#include <cstddef>
#include <cstdint>

namespace tierkv::kernels {

// staging[i * page_bytes, +page_bytes) = pool page pages[i], for i < n_blocks.
void KvBlockGatherRef(const std::byte* pool, size_t page_bytes, const int32_t* pages, int n_blocks,
                      std::byte* staging);

// pool page pages[i] = staging[i * page_bytes, +page_bytes), for i < n_blocks.
void KvBlockScatterRef(const std::byte* staging, size_t page_bytes, const int32_t* pages,
                       int n_blocks, std::byte* pool);

}  // namespace tierkv::kernels
