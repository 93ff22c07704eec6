#include "kernels/kv_block_copy_ref.h"

#include <cstring>

namespace tierkv::kernels {

void KvBlockGatherRef(const std::byte* pool, size_t page_bytes, const int32_t* pages, int n_blocks,
                      std::byte* staging) {
  for (int i = 0; i < n_blocks; ++i) {
    std::memcpy(staging + i * page_bytes, pool + pages[i] * page_bytes, page_bytes);
  }
}

void KvBlockScatterRef(const std::byte* staging, size_t page_bytes, const int32_t* pages,
                       int n_blocks, std::byte* pool) {
  for (int i = 0; i < n_blocks; ++i) {
    std::memcpy(pool + pages[i] * page_bytes, staging + i * page_bytes, page_bytes);
  }
}

}  // namespace tierkv::kernels
