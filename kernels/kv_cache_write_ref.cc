#include "kernels/kv_cache_write_ref.h"

#include <cstddef>

namespace tierkv::kernels {

void KvCacheWriteRef(const float* k, const float* v, int n_tokens, int first_pos,
                     const int32_t* block_table, const PagedKv& kv) {
  const size_t unit = KvUnitBytes(kv.dtype);
  for (int t = 0; t < n_tokens; ++t) {
    const int64_t offset = PagedRowOffset(block_table, kv.page_stride, kv.block_tokens,
                                          kv.row_units(), first_pos + t) *
                           unit;
    const int64_t src = static_cast<int64_t>(t) * kv.kv_dim;
    F32ToKv(kv.dtype, k + src, static_cast<std::byte*>(kv.k) + offset, kv.kv_dim);
    F32ToKv(kv.dtype, v + src, static_cast<std::byte*>(kv.v) + offset, kv.kv_dim);
  }
}

}  // namespace tierkv::kernels
