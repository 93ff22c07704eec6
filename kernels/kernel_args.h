// Argument checks, launch plans and layout index math for the CUDA kernels.
//
// Everything here is host code with no CUDA dependency, so it builds and is
// tested on machines without nvcc or a GPU; the .cu entry points call these
// checks before they launch anything, and the kernels share the index math
// (TIERKV_HOST_DEVICE) so the host tests pin down what the device computes.
// Thread safety: pure functions.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string_view>

#include "kernels/paged_attention_ref.h"
#include "kernels/paged_kv.h"
#include "tierkv/status.h"

namespace tierkv::kernels {

// The block copies move pages in chunks of this many bytes (one 16-byte vector
// per thread) when page_bytes and both base pointers allow it.
inline constexpr size_t kBlockCopyChunk = 16;

// Byte offsets of chunk `chunk` of block `i` of a gather (pool -> staging); a
// scatter swaps them. Pages are `page_bytes` apart in both buffers.
struct BlockCopyOffsets {
  size_t pool;
  size_t staging;
};
TIERKV_HOST_DEVICE inline BlockCopyOffsets BlockCopyChunkOffsets(const int32_t* pages,
                                                                 size_t page_bytes, int i,
                                                                 size_t chunk_offset) {
  return {static_cast<size_t>(pages[i]) * page_bytes + chunk_offset,
          static_cast<size_t>(i) * page_bytes + chunk_offset};
}

// True when a block copy can use 16-byte chunks: every page and both bases are
// 16-byte aligned.
bool BlockCopyVectorizable(const void* pool, const void* staging, size_t page_bytes);

// The shape contract of every paged attention entry point: positive dims,
// n_head a multiple of n_head_kv, head_dim within the kernels' register tiles
// (a multiple of kAttentionHeadDimStep, at most kAttentionMaxHeadDim), scale finite
// and positive.
inline constexpr int kAttentionMaxHeadDim = 256;
inline constexpr int kAttentionHeadDimStep = 32;
Status CheckAttentionShape(const AttentionShape& shape);

// `kv` agrees with `shape` (kv_dim == n_head_kv * head_dim), has both pools,
// positive block_tokens, a page_stride of at least block_tokens rows and a
// dtype whose rows hold whole heads (CheckKvRow).
Status CheckPagedKv(const PagedKv& kv, const AttentionShape& shape);

// RoPE: even rot_dim within head_dim, rows wide enough for every head.
Status CheckRopeArgs(int n_tokens, int n_heads, int head_dim, int row_stride, int rot_dim,
                     float freq_base);

// RMSNorm: positive rows and dim, eps >= 0.
Status CheckRmsNormArgs(int rows, int dim, float eps);

// Block copies: non-null buffers and table, positive page_bytes, n_blocks >= 0.
Status CheckBlockCopyArgs(const void* pool, const void* staging, size_t page_bytes,
                          const int32_t* pages, int n_blocks);

// How decode attention splits each sequence's context: split s covers
// positions [s * split_tokens, (s + 1) * split_tokens). A second pass merges the
// splits' partial softmax results.
struct DecodeSplitPlan {
  int split_tokens = 0;  // a multiple of kDecodeSplitGranule
  int n_splits = 0;      // per sequence, for the longest context
};
inline constexpr int kDecodeSplitGranule = 64;
// Short enough that a lone sequence at 4096 tokens still fills an H100
// (8 KV heads x 64 splits = 512 thread blocks on 132 multiprocessors).
inline constexpr int kDecodeMinSplitTokens = 64;
// A split's scores sit in shared memory (group * split_tokens floats).
inline constexpr int kDecodeMaxSplitTokens = 512;
// Query heads per KV head the decode kernel keeps in registers.
inline constexpr int kDecodeMaxGroup = 16;
// CUDA's limit on a grid's y and z extents: decode puts KV heads in y and
// sequences in z, its merge query heads in x and sequences in y.
inline constexpr int kMaxGridYz = 65535;

// Chooses splits so that n_seqs * n_head_kv * n_splits work items fill at least
// `target_ctas` thread blocks (a few waves of the device's multiprocessors),
// each between kDecodeMinSplitTokens and kDecodeMaxSplitTokens long, so short
// contexts run as one split and need no merge.
DecodeSplitPlan PlanDecodeSplits(int max_context_len, int n_seqs, int n_head_kv, int target_ctas);

// Device scratch the decode needs for its partial results when n_splits > 1
// (0 otherwise): per sequence, query head and split, head_dim outputs plus the
// split's softmax max and sum.
size_t DecodeWorkspaceBytes(int n_seqs, int n_head, int head_dim, const DecodeSplitPlan& plan);

// Decode's own checks beyond CheckAttentionShape: the group fits
// kDecodeMaxGroup, the plan's splits are within [kDecodeMinSplitTokens,
// kDecodeMaxSplitTokens] and cover max_context_len, the workspace is big
// enough, and sequences and KV heads fit a grid's y/z extents (kMaxGridYz;
// a caller with more sequences splits the batch).
Status CheckDecodeArgs(int n_seqs, int max_blocks_per_seq, int max_context_len,
                       const AttentionShape& shape, const DecodeSplitPlan& plan,
                       size_t workspace_bytes);

}  // namespace tierkv::kernels
