#include "kernels/kernel_args.h"

#include <algorithm>
#include <cmath>
#include <string>

namespace tierkv::kernels {
namespace {

std::string Fmt(std::string_view what, int64_t value) {
  return std::string(what) + " (got " + std::to_string(value) + ")";
}

}  // namespace

bool BlockCopyVectorizable(const void* pool, const void* staging, size_t page_bytes) {
  return page_bytes % kBlockCopyChunk == 0 &&
         reinterpret_cast<uintptr_t>(pool) % kBlockCopyChunk == 0 &&
         reinterpret_cast<uintptr_t>(staging) % kBlockCopyChunk == 0;
}

Status CheckAttentionShape(const AttentionShape& shape) {
  if (shape.n_head <= 0 || shape.n_head_kv <= 0) {
    return Status::InvalidArgument(Fmt("attention: n_head and n_head_kv must be positive",
                                       std::min(shape.n_head, shape.n_head_kv)));
  }
  if (shape.n_head % shape.n_head_kv != 0) {
    return Status::InvalidArgument("attention: n_head " + std::to_string(shape.n_head) +
                                   " is not a multiple of n_head_kv " +
                                   std::to_string(shape.n_head_kv));
  }
  if (shape.head_dim <= 0 || shape.head_dim % kAttentionHeadDimStep != 0 ||
      shape.head_dim > kAttentionMaxHeadDim) {
    return Status::InvalidArgument(
        Fmt("attention: head_dim must be a multiple of 32 and at most 256", shape.head_dim));
  }
  if (!std::isfinite(shape.scale) || shape.scale <= 0.0f) {
    return Status::InvalidArgument("attention: scale must be finite and positive");
  }
  return Status::Ok();
}

Status CheckPagedKv(const PagedKv& kv, const AttentionShape& shape) {
  if (kv.k == nullptr || kv.v == nullptr) {
    return Status::InvalidArgument("paged kv: null K or V pool");
  }
  if (kv.block_tokens <= 0) {
    return Status::InvalidArgument(Fmt("paged kv: block_tokens must be positive", kv.block_tokens));
  }
  if (kv.kv_dim != shape.n_head_kv * shape.head_dim) {
    return Status::InvalidArgument("paged kv: kv_dim " + std::to_string(kv.kv_dim) +
                                   " != n_head_kv * head_dim " +
                                   std::to_string(shape.n_head_kv * shape.head_dim));
  }
  TIERKV_RETURN_IF_ERROR(CheckKvRow(kv.dtype, shape.head_dim));
  if (kv.page_stride < static_cast<int64_t>(kv.block_tokens) * kv.row_units()) {
    return Status::InvalidArgument(
        Fmt("paged kv: page_stride is smaller than one page of rows", kv.page_stride));
  }
  return Status::Ok();
}

Status CheckRopeArgs(int n_tokens, int n_heads, int head_dim, int row_stride, int rot_dim,
                     float freq_base) {
  if (n_tokens < 0 || n_heads <= 0 || head_dim <= 0) {
    return Status::InvalidArgument("rope: n_tokens >= 0, n_heads and head_dim > 0 required");
  }
  if (rot_dim <= 0 || rot_dim % 2 != 0 || rot_dim > head_dim) {
    return Status::InvalidArgument(Fmt("rope: rot_dim must be even and within head_dim", rot_dim));
  }
  if (static_cast<int64_t>(row_stride) < static_cast<int64_t>(n_heads) * head_dim) {
    return Status::InvalidArgument(
        Fmt("rope: row_stride is narrower than n_heads * head_dim", row_stride));
  }
  if (!std::isfinite(freq_base) || freq_base <= 0.0f) {
    return Status::InvalidArgument("rope: freq_base must be finite and positive");
  }
  return Status::Ok();
}

Status CheckRmsNormArgs(int rows, int dim, float eps) {
  if (rows < 0 || dim <= 0) {
    return Status::InvalidArgument(Fmt("rmsnorm: rows >= 0 and dim > 0 required", dim));
  }
  if (!(eps >= 0.0f)) return Status::InvalidArgument("rmsnorm: eps must be >= 0");
  return Status::Ok();
}

Status CheckBlockCopyArgs(const void* pool, const void* staging, size_t page_bytes,
                          const int32_t* pages, int n_blocks) {
  if (n_blocks < 0) return Status::InvalidArgument(Fmt("block copy: n_blocks < 0", n_blocks));
  if (n_blocks == 0) return Status::Ok();
  if (pool == nullptr || staging == nullptr || pages == nullptr) {
    return Status::InvalidArgument("block copy: null pool, staging buffer or page list");
  }
  if (page_bytes == 0) return Status::InvalidArgument("block copy: page_bytes is 0");
  return Status::Ok();
}

DecodeSplitPlan PlanDecodeSplits(int max_context_len, int n_seqs, int n_head_kv, int target_ctas) {
  DecodeSplitPlan plan;
  if (max_context_len <= 0 || n_seqs <= 0 || n_head_kv <= 0) return plan;
  const int64_t base_items = static_cast<int64_t>(n_seqs) * n_head_kv;
  const int64_t wanted_splits = std::max<int64_t>(1, (target_ctas + base_items - 1) / base_items);
  int64_t split = (max_context_len + wanted_splits - 1) / wanted_splits;
  split = std::clamp<int64_t>(split, kDecodeMinSplitTokens, kDecodeMaxSplitTokens);
  split = (split + kDecodeSplitGranule - 1) / kDecodeSplitGranule * kDecodeSplitGranule;
  plan.split_tokens = static_cast<int>(split);
  plan.n_splits = static_cast<int>((max_context_len + split - 1) / split);
  return plan;
}

size_t DecodeWorkspaceBytes(int n_seqs, int n_head, int head_dim, const DecodeSplitPlan& plan) {
  if (plan.n_splits <= 1) return 0;
  return static_cast<size_t>(n_seqs) * n_head * plan.n_splits * (head_dim + 2) * sizeof(float);
}

Status CheckDecodeArgs(int n_seqs, int max_blocks_per_seq, int max_context_len,
                       const AttentionShape& shape, const DecodeSplitPlan& plan,
                       size_t workspace_bytes) {
  if (n_seqs < 0 || max_blocks_per_seq <= 0 || max_context_len < 0) {
    return Status::InvalidArgument("decode: n_seqs >= 0, max_blocks_per_seq > 0 required");
  }
  if (n_seqs > kMaxGridYz) {
    return Status::InvalidArgument(Fmt("decode: at most 65535 sequences per launch", n_seqs));
  }
  if (shape.n_head_kv > kMaxGridYz) {
    return Status::InvalidArgument(Fmt("decode: at most 65535 KV heads", shape.n_head_kv));
  }
  if (shape.n_head / shape.n_head_kv > kDecodeMaxGroup) {
    return Status::InvalidArgument(
        Fmt("decode: more than 16 query heads per KV head", shape.n_head / shape.n_head_kv));
  }
  if (plan.split_tokens < kDecodeMinSplitTokens || plan.split_tokens > kDecodeMaxSplitTokens ||
      static_cast<int64_t>(plan.split_tokens) * plan.n_splits < max_context_len) {
    return Status::InvalidArgument("decode: split plan does not cover the longest context");
  }
  if (workspace_bytes < DecodeWorkspaceBytes(n_seqs, shape.n_head, shape.head_dim, plan)) {
    return Status::InvalidArgument("decode: workspace too small for the split plan");
  }
  return Status::Ok();
}

}  // namespace tierkv::kernels
