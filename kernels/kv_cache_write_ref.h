// Writes new tokens' K and V rows into their pages (vLLM's reshape_and_cache),
// converting f32 rows to the pages' KV dtype (KvToF32's inverse, F32ToKv).
#pragma once

#include <cstdint>

#include "kernels/paged_kv.h"

namespace tierkv::kernels {

// `k` and `v` are [n_tokens][kv.kv_dim] f32; row t goes to absolute position
// first_pos + t of the sequence whose pages are listed in `block_table`, which
// must already cover position first_pos + n_tokens - 1.
void KvCacheWriteRef(const float* k, const float* v, int n_tokens, int first_pos,
                     const int32_t* block_table, const PagedKv& kv);

}  // namespace tierkv::kernels
