// Paged attention on the GPU: the contracts of PagedAttentionPrefillRef and
// PagedAttentionDecodeRef (paged_attention_ref.h) over PagedKv pages in
// f32, f16, bf16 or q8_0, always accumulating in f32. `q` and `out` are f32.
//
// Every pointer (q, out, block tables, context lengths, pages, workspace) is
// device memory; the work is queued on `stream`. Shapes are checked first
// (InvalidArgument, nothing launched); a CUDA error becomes a Status.
// Both expect the K and V of every attended position, the new tokens'
// included, to be in the pages already.
#pragma once

#include <cuda_runtime_api.h>

#include <cstdint>

#include "kernels/kernel_args.h"
#include "kernels/paged_attention_ref.h"
#include "tierkv/status.h"

namespace tierkv::kernels {

// Prefill of one sequence: `n_new` queries at positions n_past .. n_past+n_new-1,
// causal over positions 0 .. their own. Flash-attention style: each thread
// block takes a tile of queries of one head and streams K/V tiles through
// shared memory with an online softmax, so no score matrix is materialized.
Status PagedAttentionPrefillCuda(const float* q, int n_new, int n_past, const int32_t* block_table,
                                 const PagedKv& kv, const AttentionShape& shape, float* out,
                                 cudaStream_t stream);

// The split plan PagedAttentionDecodeCuda should use on the current device for
// this batch: enough (sequence, KV head, split) work items for a few waves of
// its multiprocessors.
Result<DecodeSplitPlan> PlanDecodeForDevice(int max_context_len, int n_seqs, int n_head_kv);

// Decode of `n_seqs` sequences, one query token each; sequence s attends to its
// first context_lens[s] positions through block_tables[s * max_blocks_per_seq ...].
// `max_context_len` (a host value) bounds every context_lens[s]. The contexts
// are cut into plan.split_tokens pieces processed in parallel; a second kernel
// merges their partial softmax results, through `workspace`
// (DecodeWorkspaceBytes(...) bytes; may be null when plan.n_splits == 1).
Status PagedAttentionDecodeCuda(const float* q, int n_seqs, const int32_t* block_tables,
                                int max_blocks_per_seq, const int32_t* context_lens,
                                int max_context_len, const PagedKv& kv, const AttentionShape& shape,
                                const DecodeSplitPlan& plan, void* workspace,
                                size_t workspace_bytes, float* out, cudaStream_t stream);

}  // namespace tierkv::kernels
