// Causal scaled-dot-product attention over a paged KV cache, with grouped-query
// attention: query head j reads KV head j / (n_head / n_head_kv).
//
// Both entry points expect the K and V of every attended position, the new
// tokens' included, to be in the pages already (KvCacheWriteRef). Pages may be
// in any KV dtype (kv_dtype.h); values are converted to f32 as they are read
// and all arithmetic is f32. head_dim is at most 256.
//
// Thread safety: the prefill spreads heads over one thread per core and, while
// they run, sets OpenBLAS to one thread (a process-wide setting); do not run
// other BLAS work concurrently with it.
#pragma once

#include <cstdint>

#include "kernels/paged_kv.h"

namespace tierkv::kernels {

struct AttentionShape {
  int n_head = 0;
  int n_head_kv = 0;
  int head_dim = 0;
  float scale = 0.0f;  // usually 1 / sqrt(head_dim)
};

// Prefill of one sequence: `n_new` tokens at positions n_past .. n_past+n_new-1
// attend to positions 0 .. their own. `q` and `out` are
// [n_new][n_head * head_dim]. Uses sgemm over blocks of queries, so its cost is
// dominated by BLAS and spreads over all cores.
void PagedAttentionPrefillRef(const float* q, int n_new, int n_past, const int32_t* block_table,
                              const PagedKv& kv, const AttentionShape& shape, float* out);

// Decode of `n_seqs` sequences, one new token each. Sequence s attends to its
// first context_lens[s] positions (its new token included); its pages are
// block_tables[s * max_blocks_per_seq ...]. `q` and `out` are [n_seqs][n_head * head_dim].
void PagedAttentionDecodeRef(const float* q, int n_seqs, const int32_t* block_tables,
                             int max_blocks_per_seq, const int32_t* context_lens, const PagedKv& kv,
                             const AttentionShape& shape, float* out);

}  // namespace tierkv::kernels
