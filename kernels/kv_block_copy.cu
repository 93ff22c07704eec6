#include <algorithm>

#include "kernels/cuda_util.h"
#include "kernels/kernel_args.h"
#include "kernels/kv_block_copy.cuh"

namespace tierkv::kernels {
namespace {

constexpr int kThreads = 256;
// Chunks each thread has in flight before its first store: with several
// independent 16-byte loads outstanding per thread, a copy over PCIe or HBM
// keeps enough bytes in flight to reach bandwidth with a modest grid.
constexpr int kUnroll = 4;
constexpr int64_t kMaxBlocks = 8192;

// kGather: pool -> staging; otherwise staging -> pool. One grid covers every
// 16-byte chunk of every block of the set.
template <bool kGather>
__global__ void BlockCopyVecKernel(std::byte* pool, std::byte* staging, size_t page_bytes,
                                   const int32_t* __restrict__ pages, int64_t n_chunks) {
  const int64_t chunks_per_page = static_cast<int64_t>(page_bytes / kBlockCopyChunk);
  const int64_t stride = static_cast<int64_t>(gridDim.x) * kThreads * kUnroll;
  for (int64_t base = static_cast<int64_t>(blockIdx.x) * kThreads * kUnroll + threadIdx.x;
       base < n_chunks; base += stride) {
    uint4 data[kUnroll];
    BlockCopyOffsets off[kUnroll];
#pragma unroll
    for (int u = 0; u < kUnroll; ++u) {
      const int64_t c = base + static_cast<int64_t>(u) * kThreads;
      if (c >= n_chunks) break;
      const int block = static_cast<int>(c / chunks_per_page);
      off[u] =
          BlockCopyChunkOffsets(pages, page_bytes, block, (c % chunks_per_page) * kBlockCopyChunk);
      const std::byte* src = kGather ? pool + off[u].pool : staging + off[u].staging;
      data[u] = *reinterpret_cast<const uint4*>(src);
    }
#pragma unroll
    for (int u = 0; u < kUnroll; ++u) {
      const int64_t c = base + static_cast<int64_t>(u) * kThreads;
      if (c >= n_chunks) break;
      std::byte* dst = kGather ? staging + off[u].staging : pool + off[u].pool;
      *reinterpret_cast<uint4*>(dst) = data[u];
    }
  }
}

// Fallback for pages or buffers that are not 16-byte aligned: one byte per thread.
template <bool kGather>
__global__ void BlockCopyByteKernel(std::byte* pool, std::byte* staging, size_t page_bytes,
                                    const int32_t* __restrict__ pages, int64_t n_bytes) {
  const int64_t stride = static_cast<int64_t>(gridDim.x) * kThreads;
  for (int64_t b = static_cast<int64_t>(blockIdx.x) * kThreads + threadIdx.x; b < n_bytes;
       b += stride) {
    const int block = static_cast<int>(b / static_cast<int64_t>(page_bytes));
    const BlockCopyOffsets off =
        BlockCopyChunkOffsets(pages, page_bytes, block, b % static_cast<int64_t>(page_bytes));
    if (kGather) {
      staging[off.staging] = pool[off.pool];
    } else {
      pool[off.pool] = staging[off.staging];
    }
  }
}

template <bool kGather>
Status LaunchBlockCopy(std::byte* pool, std::byte* staging, size_t page_bytes, const int32_t* pages,
                       int n_blocks, cudaStream_t stream) {
  TIERKV_RETURN_IF_ERROR(CheckBlockCopyArgs(pool, staging, page_bytes, pages, n_blocks));
  if (n_blocks == 0) return Status::Ok();
  const int64_t n_bytes = static_cast<int64_t>(page_bytes) * n_blocks;
  if (BlockCopyVectorizable(pool, staging, page_bytes)) {
    const int64_t n_chunks = n_bytes / static_cast<int64_t>(kBlockCopyChunk);
    const int64_t per_block = static_cast<int64_t>(kThreads) * kUnroll;
    const int64_t blocks = std::min(kMaxBlocks, (n_chunks + per_block - 1) / per_block);
    BlockCopyVecKernel<kGather><<<static_cast<unsigned>(blocks), kThreads, 0, stream>>>(
        pool, staging, page_bytes, pages, n_chunks);
    return LaunchStatus("BlockCopyVecKernel");
  }
  const int64_t blocks = std::min(kMaxBlocks, (n_bytes + kThreads - 1) / kThreads);
  BlockCopyByteKernel<kGather><<<static_cast<unsigned>(blocks), kThreads, 0, stream>>>(
      pool, staging, page_bytes, pages, n_bytes);
  return LaunchStatus("BlockCopyByteKernel");
}

}  // namespace

Status KvBlockGatherCuda(const std::byte* pool, size_t page_bytes, const int32_t* pages,
                         int n_blocks, std::byte* staging, cudaStream_t stream) {
  // The kernel template takes both buffers mutable; a gather only reads `pool`.
  return LaunchBlockCopy<true>(const_cast<std::byte*>(pool), staging, page_bytes, pages, n_blocks,
                               stream);
}

Status KvBlockScatterCuda(const std::byte* staging, size_t page_bytes, const int32_t* pages,
                          int n_blocks, std::byte* pool, cudaStream_t stream) {
  return LaunchBlockCopy<false>(pool, const_cast<std::byte*>(staging), page_bytes, pages, n_blocks,
                                stream);
}

}  // namespace tierkv::kernels
