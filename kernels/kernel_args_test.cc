// The CUDA kernels' argument checks, launch plans and index math, on the host:
// these run on every machine, GPU or not.
#include "kernels/kernel_args.h"

#include <gtest/gtest.h>

#include <cstring>
#include <numeric>
#include <random>
#include <vector>

#include "kernels/kv_block_copy_ref.h"

namespace tierkv::kernels {
namespace {

AttentionShape Shape(int n_head, int n_head_kv, int head_dim) {
  return {n_head, n_head_kv, head_dim, 0.125f};
}

TEST(KernelArgsTest, AttentionShapeChecks) {
  EXPECT_TRUE(CheckAttentionShape(Shape(32, 8, 128)).ok());
  EXPECT_TRUE(CheckAttentionShape(Shape(8, 8, 96)).ok());
  EXPECT_TRUE(CheckAttentionShape(Shape(12, 8, 128)).IsInvalidArgument());  // not a multiple
  EXPECT_TRUE(CheckAttentionShape(Shape(0, 8, 128)).IsInvalidArgument());
  EXPECT_TRUE(CheckAttentionShape(Shape(8, 8, 80)).IsInvalidArgument());   // not 32-aligned
  EXPECT_TRUE(CheckAttentionShape(Shape(8, 8, 512)).IsInvalidArgument());  // past the tiles
  AttentionShape bad_scale = Shape(8, 8, 128);
  bad_scale.scale = 0.0f;
  EXPECT_TRUE(CheckAttentionShape(bad_scale).IsInvalidArgument());
}

TEST(KernelArgsTest, PagedKvChecks) {
  int dummy = 0;
  const AttentionShape shape = Shape(8, 2, 64);
  PagedKv kv{&dummy, &dummy, 2 * 16 * 128, 16, 128, KvDtype::kF16};
  EXPECT_TRUE(CheckPagedKv(kv, shape).ok());
  PagedKv narrow = kv;
  narrow.page_stride = 16 * 128 - 1;
  EXPECT_TRUE(CheckPagedKv(narrow, shape).IsInvalidArgument());
  PagedKv wrong_dim = kv;
  wrong_dim.kv_dim = 256;
  EXPECT_TRUE(CheckPagedKv(wrong_dim, shape).IsInvalidArgument());
  PagedKv no_v = kv;
  no_v.v = nullptr;
  EXPECT_TRUE(CheckPagedKv(no_v, shape).IsInvalidArgument());
  // q8_0 pages are counted in bytes: 128 values are 4 blocks of 34.
  PagedKv q8{&dummy, &dummy, 2 * 16 * 136, 16, 128, KvDtype::kQ8_0};
  EXPECT_TRUE(CheckPagedKv(q8, shape).ok());
  q8.page_stride = 16 * 136 - 1;
  EXPECT_TRUE(CheckPagedKv(q8, shape).IsInvalidArgument());
  PagedKv q8_odd_heads{&dummy, &dummy, 2 * 16 * 136, 16, 96, KvDtype::kQ8_0};
  EXPECT_TRUE(CheckPagedKv(q8_odd_heads, Shape(4, 2, 48)).IsInvalidArgument());
}

TEST(KernelArgsTest, RopeAndRmsNormChecks) {
  EXPECT_TRUE(CheckRopeArgs(4, 8, 128, 1024, 128, 1e4f).ok());
  EXPECT_TRUE(CheckRopeArgs(0, 8, 128, 1024, 64, 1e4f).ok());
  EXPECT_TRUE(CheckRopeArgs(4, 8, 128, 1024, 127, 1e4f).IsInvalidArgument());
  EXPECT_TRUE(CheckRopeArgs(4, 8, 128, 1023, 128, 1e4f).IsInvalidArgument());
  EXPECT_TRUE(CheckRmsNormArgs(0, 1, 0.0f).ok());
  EXPECT_TRUE(CheckRmsNormArgs(1, 0, 1e-5f).IsInvalidArgument());
}

// PagedRowOffset addresses the same element as the reference layout:
// page block_table[p / block_tokens], row p % block_tokens.
TEST(KernelArgsTest, PagedRowOffsetFollowsTheBlockTable) {
  const std::vector<int32_t> table = {5, 0, 3};
  constexpr int kBlockTokens = 16;
  constexpr int kKvDim = 256;
  constexpr int64_t kStride = 2 * kBlockTokens * kKvDim;
  EXPECT_EQ(PagedRowOffset(table.data(), kStride, kBlockTokens, kKvDim, 0), 5 * kStride);
  EXPECT_EQ(PagedRowOffset(table.data(), kStride, kBlockTokens, kKvDim, 15),
            5 * kStride + 15 * kKvDim);
  EXPECT_EQ(PagedRowOffset(table.data(), kStride, kBlockTokens, kKvDim, 16), 0);
  EXPECT_EQ(PagedRowOffset(table.data(), kStride, kBlockTokens, kKvDim, 47),
            3 * kStride + 15 * kKvDim);
}

// A gather done chunk by chunk with the kernel's offsets reproduces
// KvBlockGatherRef, for aligned and odd page sizes alike.
TEST(KernelArgsTest, BlockCopyChunkOffsetsReproduceTheReference) {
  for (size_t page_bytes : {size_t{4096}, size_t{1000}, size_t{16}}) {
    constexpr int kPages = 9;
    constexpr int kBlocks = 5;
    std::vector<std::byte> pool(page_bytes * kPages);
    std::mt19937 rng(static_cast<uint32_t>(page_bytes));
    for (std::byte& b : pool) b = static_cast<std::byte>(rng());
    const std::vector<int32_t> pages = {7, 2, 8, 0, 4};
    std::vector<std::byte> expected(page_bytes * kBlocks);
    KvBlockGatherRef(pool.data(), page_bytes, pages.data(), kBlocks, expected.data());

    const size_t chunk = page_bytes % kBlockCopyChunk == 0 ? kBlockCopyChunk : 1;
    std::vector<std::byte> staging(expected.size());
    for (int i = 0; i < kBlocks; ++i) {
      for (size_t c = 0; c < page_bytes; c += chunk) {
        const BlockCopyOffsets off = BlockCopyChunkOffsets(pages.data(), page_bytes, i, c);
        std::memcpy(staging.data() + off.staging, pool.data() + off.pool, chunk);
      }
    }
    EXPECT_EQ(staging, expected) << page_bytes;
  }
}

TEST(KernelArgsTest, BlockCopyVectorizesOnlyAlignedPages) {
  alignas(16) std::byte buf[64] = {};
  EXPECT_TRUE(BlockCopyVectorizable(buf, buf + 16, 4096));
  EXPECT_FALSE(BlockCopyVectorizable(buf, buf + 16, 1000));
  EXPECT_FALSE(BlockCopyVectorizable(buf + 1, buf + 16, 4096));
  std::byte b{};
  int32_t page = 0;
  EXPECT_TRUE(CheckBlockCopyArgs(&b, &b, 16, &page, 1).ok());
  EXPECT_TRUE(CheckBlockCopyArgs(&b, &b, 0, &page, 1).IsInvalidArgument());
  EXPECT_TRUE(CheckBlockCopyArgs(&b, &b, 16, nullptr, 1).IsInvalidArgument());
  EXPECT_TRUE(CheckBlockCopyArgs(nullptr, nullptr, 0, nullptr, 0).ok());
}

TEST(KernelArgsTest, DecodeSplitsCoverTheContextWithinBounds) {
  for (int len : {1, 255, 256, 257, 1000, 4096, 100000}) {
    for (int n_seqs : {1, 8, 32}) {
      const DecodeSplitPlan plan = PlanDecodeSplits(len, n_seqs, 8, 4 * 132);
      SCOPED_TRACE(::testing::Message() << len << " x " << n_seqs);
      EXPECT_GE(static_cast<int64_t>(plan.split_tokens) * plan.n_splits, len);
      EXPECT_LT(static_cast<int64_t>(plan.split_tokens) * (plan.n_splits - 1), len);
      EXPECT_GE(plan.split_tokens, kDecodeMinSplitTokens);
      EXPECT_LE(plan.split_tokens, kDecodeMaxSplitTokens);
      EXPECT_EQ(plan.split_tokens % kDecodeSplitGranule, 0);
    }
  }
  // Short contexts need no merge pass; a lone long sequence is spread out.
  EXPECT_EQ(PlanDecodeSplits(60, 1, 8, 528).n_splits, 1);
  EXPECT_EQ(PlanDecodeSplits(4096, 1, 8, 528).n_splits, 64);
  EXPECT_EQ(PlanDecodeSplits(4096, 32, 8, 528).n_splits, 8);
  EXPECT_EQ(PlanDecodeSplits(0, 1, 8, 528).n_splits, 0);
}

TEST(KernelArgsTest, DecodeArgsAndWorkspace) {
  const AttentionShape shape = Shape(32, 8, 128);
  const DecodeSplitPlan one = PlanDecodeSplits(60, 4, 8, 528);
  EXPECT_EQ(DecodeWorkspaceBytes(4, 32, 128, one), 0u);
  EXPECT_TRUE(CheckDecodeArgs(4, 7, 60, shape, one, 0).ok());
  const DecodeSplitPlan many = PlanDecodeSplits(4096, 1, 8, 528);
  const size_t bytes = DecodeWorkspaceBytes(1, 32, 128, many);
  EXPECT_EQ(bytes, size_t{32} * many.n_splits * 130 * sizeof(float));
  EXPECT_TRUE(CheckDecodeArgs(1, 256, 4096, shape, many, bytes).ok());
  EXPECT_TRUE(CheckDecodeArgs(1, 256, 4096, shape, many, bytes - 1).IsInvalidArgument());
  EXPECT_TRUE(CheckDecodeArgs(1, 256, 5000, shape, many, bytes).IsInvalidArgument());
  EXPECT_TRUE(CheckDecodeArgs(1, 256, 64, Shape(32, 1, 128), one, 0).IsInvalidArgument());
  DecodeSplitPlan tiny = one;
  tiny.split_tokens = 32;
  tiny.n_splits = 4;
  EXPECT_TRUE(CheckDecodeArgs(4, 7, 100, shape, tiny, 1 << 20).IsInvalidArgument());
}

TEST(KernelArgsTest, DecodeBatchesFitTheGrid) {
  const AttentionShape shape = Shape(32, 8, 128);
  const DecodeSplitPlan one = PlanDecodeSplits(60, kMaxGridYz, 8, 528);
  EXPECT_TRUE(CheckDecodeArgs(kMaxGridYz, 7, 60, shape, one, 0).ok());
  const Status too_many = CheckDecodeArgs(kMaxGridYz + 1, 7, 60, shape, one, 0);
  EXPECT_TRUE(too_many.IsInvalidArgument()) << too_many.ToString();
  EXPECT_NE(too_many.message().find("65536"), std::string::npos) << too_many.message();
}

}  // namespace
}  // namespace tierkv::kernels
