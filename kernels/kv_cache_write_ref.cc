#include "kernels/kv_cache_write_ref.h"

#include <cstring>

namespace tierkv::kernels {

void KvCacheWriteRef(const float* k, const float* v, int n_tokens, int first_pos,
                     const int32_t* block_table, const PagedKvLayer& kv) {
  const size_t row_bytes = sizeof(float) * kv.kv_dim;
  for (int t = 0; t < n_tokens; ++t) {
    const int pos = first_pos + t;
    const int64_t offset = block_table[pos / kv.block_tokens] * kv.page_stride +
                           static_cast<int64_t>(pos % kv.block_tokens) * kv.kv_dim;
    std::memcpy(kv.k + offset, k + static_cast<int64_t>(t) * kv.kv_dim, row_bytes);
    std::memcpy(kv.v + offset, v + static_cast<int64_t>(t) * kv.kv_dim, row_bytes);
  }
}

}  // namespace tierkv::kernels
