// Paged attention on the GPU against PagedAttentionPrefillRef and
// PagedAttentionDecodeRef: fresh random inputs over a grid of shapes (GQA
// groups, head sizes, block sizes, ragged and block-boundary lengths, long
// contexts) and every KV dtype.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <numeric>
#include <random>
#include <string>
#include <vector>

#include "kernels/cuda_test_util.h"
#include "kernels/paged_attention.cuh"
#include "kernels/paged_attention_ref.h"
#include "kernels/test_util.h"

namespace tierkv::kernels {
namespace {

using testing::AttentionErrorBound;
using testing::Download;
using testing::EncodeAs;
using testing::NormalizedError;
using testing::RandomVector;
using testing::RoundToDtype;
using testing::Upload;

// A page pool laid out as the engine lays out one layer of its pages: K rows
// then V rows in each page, so page_stride is two pages' worth of rows and the
// kernels must honour it. Pages are handed out in a shuffled order so block
// tables are not the identity.
struct Pool {
  Pool(int n_pages, int block_tokens, int kv_dim, KvDtype dtype, uint64_t seed)
      : block_tokens(block_tokens), kv_dim(kv_dim), dtype(dtype) {
    page_stride = 2 * static_cast<int64_t>(block_tokens) * kv_dim;
    data = RandomVector(static_cast<size_t>(n_pages) * page_stride, seed);
    RoundToDtype(data, dtype);
    free_pages.resize(n_pages);
    std::iota(free_pages.begin(), free_pages.end(), 0);
    std::shuffle(free_pages.begin(), free_pages.end(), std::mt19937(seed));
  }

  std::vector<int32_t> TakePages(int n) {
    std::vector<int32_t> pages(free_pages.end() - n, free_pages.end());
    free_pages.resize(free_pages.size() - n);
    return pages;
  }

  PagedKvLayer HostLayer() {
    return {data.data(), data.data() + static_cast<int64_t>(block_tokens) * kv_dim, page_stride,
            block_tokens, kv_dim};
  }

  // Uploads the pool in `dtype` into `device` and describes it.
  DevicePagedKv DeviceLayer(DeviceBuffer& device) {
    device = Upload(EncodeAs(data, dtype));
    std::byte* base = device.as<std::byte>();
    const size_t v_offset = static_cast<size_t>(block_tokens) * kv_dim * KvDtypeBytes(dtype);
    return {base, base + v_offset, page_stride, block_tokens, kv_dim, dtype};
  }

  int block_tokens;
  int kv_dim;
  KvDtype dtype;
  int64_t page_stride;
  std::vector<float> data;
  std::vector<int32_t> free_pages;
};

int BlocksFor(int tokens, int block_tokens) { return (tokens + block_tokens - 1) / block_tokens; }

AttentionShape Shape(int n_head, int n_head_kv, int head_dim) {
  return {n_head, n_head_kv, head_dim, 1.0f / std::sqrt(static_cast<float>(head_dim))};
}

struct PrefillCase {
  int n_head, n_head_kv, head_dim, block_tokens, n_past, n_new;
};

void RunPrefill(const PrefillCase& c, KvDtype dtype, uint64_t seed) {
  SCOPED_TRACE(::testing::Message() << "heads " << c.n_head << "/" << c.n_head_kv << " hd "
                                    << c.head_dim << " bt " << c.block_tokens << " past "
                                    << c.n_past << " new " << c.n_new << " " << KvDtypeName(dtype));
  const AttentionShape shape = Shape(c.n_head, c.n_head_kv, c.head_dim);
  const int kv_dim = c.n_head_kv * c.head_dim;
  const int n_blocks = BlocksFor(c.n_past + c.n_new, c.block_tokens);
  Pool pool(n_blocks + 3, c.block_tokens, kv_dim, dtype, seed);
  const std::vector<int32_t> table = pool.TakePages(n_blocks);
  const size_t q_size = static_cast<size_t>(c.n_new) * c.n_head * c.head_dim;
  const std::vector<float> q = RandomVector(q_size, seed + 1);
  std::vector<float> expected(q_size);
  PagedAttentionPrefillRef(q.data(), c.n_new, c.n_past, table.data(), pool.HostLayer(), shape,
                           expected.data());

  DeviceBuffer pages;
  const DevicePagedKv kv = pool.DeviceLayer(pages);
  DeviceBuffer d_q = Upload(q);
  DeviceBuffer d_table = Upload(table);
  auto d_out = DeviceBuffer::Allocate(q_size * sizeof(float));
  ASSERT_TRUE(d_out.ok());
  ASSERT_TRUE(PagedAttentionPrefillCuda(d_q.as<float>(), c.n_new, c.n_past, d_table.as<int32_t>(),
                                        kv, shape, d_out->as<float>(), nullptr)
                  .ok());
  const std::vector<float> actual = Download<float>(*d_out, q_size);
  EXPECT_LT(NormalizedError(actual, expected), AttentionErrorBound(dtype));
}

TEST(PagedAttentionCudaTest, PrefillMatchesReference) {
  TIERKV_SKIP_WITHOUT_GPU();
  const PrefillCase cases[] = {
      {4, 4, 64, 16, 0, 1},       // one token, no cache
      {8, 2, 128, 16, 0, 37},     // ragged, GQA 4
      {8, 8, 128, 16, 16, 16},    // cached prefix of exactly one block
      {8, 2, 64, 16, 15, 17},     // prefix and new tokens straddle block edges
      {32, 8, 128, 16, 512, 31},  // llama-3-8B-like heads, query tile ragged
      {4, 1, 256, 32, 100, 129},  // widest head, group 4, tile + 1
      {2, 1, 32, 8, 0, 300},      // narrow head, small blocks
      {8, 4, 96, 16, 1000, 64},   // head_dim not a power of two
      {8, 1, 128, 16, 4064, 32},  // long cached prefix, group 8
  };
  uint64_t seed = 100;
  for (const PrefillCase& c : cases) {
    for (KvDtype dtype : {KvDtype::kF32, KvDtype::kF16, KvDtype::kBf16}) {
      RunPrefill(c, dtype, seed++);
    }
  }
}

struct DecodeCase {
  int n_head, n_head_kv, head_dim, block_tokens;
  std::vector<int> context_lens;
};

void RunDecode(const DecodeCase& c, KvDtype dtype, uint64_t seed) {
  SCOPED_TRACE(::testing::Message()
               << "heads " << c.n_head << "/" << c.n_head_kv << " hd " << c.head_dim << " bt "
               << c.block_tokens << " seqs " << c.context_lens.size() << " " << KvDtypeName(dtype));
  const AttentionShape shape = Shape(c.n_head, c.n_head_kv, c.head_dim);
  const int kv_dim = c.n_head_kv * c.head_dim;
  const int n_seqs = static_cast<int>(c.context_lens.size());
  const int max_len = *std::max_element(c.context_lens.begin(), c.context_lens.end());
  const int max_blocks = BlocksFor(max_len, c.block_tokens);
  int total_blocks = 0;
  for (int len : c.context_lens) total_blocks += BlocksFor(len, c.block_tokens);
  Pool pool(total_blocks + 2, c.block_tokens, kv_dim, dtype, seed);
  // Unused table entries hold -1: a kernel that reads past a sequence's
  // blocks would fault or read garbage rather than pass by luck.
  std::vector<int32_t> tables(static_cast<size_t>(n_seqs) * max_blocks, -1);
  for (int s = 0; s < n_seqs; ++s) {
    const std::vector<int32_t> pages = pool.TakePages(BlocksFor(c.context_lens[s], c.block_tokens));
    std::copy(pages.begin(), pages.end(), tables.begin() + static_cast<size_t>(s) * max_blocks);
  }
  const size_t q_size = static_cast<size_t>(n_seqs) * c.n_head * c.head_dim;
  const std::vector<float> q = RandomVector(q_size, seed + 1);
  std::vector<float> expected(q_size);
  PagedAttentionDecodeRef(q.data(), n_seqs, tables.data(), max_blocks, c.context_lens.data(),
                          pool.HostLayer(), shape, expected.data());

  DeviceBuffer pages;
  const DevicePagedKv kv = pool.DeviceLayer(pages);
  DeviceBuffer d_q = Upload(q);
  DeviceBuffer d_tables = Upload(tables);
  DeviceBuffer d_lens = Upload(std::vector<int32_t>(c.context_lens.begin(), c.context_lens.end()));
  auto plan = PlanDecodeForDevice(max_len, n_seqs, c.n_head_kv);
  ASSERT_TRUE(plan.ok()) << plan.status().ToString();
  const size_t ws_bytes = DecodeWorkspaceBytes(n_seqs, c.n_head, c.head_dim, *plan);
  auto ws = DeviceBuffer::Allocate(ws_bytes);
  auto d_out = DeviceBuffer::Allocate(q_size * sizeof(float));
  ASSERT_TRUE(ws.ok() && d_out.ok());
  const Status st = PagedAttentionDecodeCuda(
      d_q.as<float>(), n_seqs, d_tables.as<int32_t>(), max_blocks, d_lens.as<int32_t>(), max_len,
      kv, shape, *plan, ws->get(), ws_bytes, d_out->as<float>(), nullptr);
  ASSERT_TRUE(st.ok()) << st.ToString();
  const std::vector<float> actual = Download<float>(*d_out, q_size);
  EXPECT_LT(NormalizedError(actual, expected), AttentionErrorBound(dtype))
      << "splits " << plan->n_splits << " x " << plan->split_tokens;
}

TEST(PagedAttentionCudaTest, DecodeMatchesReference) {
  TIERKV_SKIP_WITHOUT_GPU();
  const DecodeCase cases[] = {
      {4, 4, 64, 16, {1}},
      {8, 2, 128, 16, {16, 17, 15, 1}},             // block edges, ragged batch
      {32, 8, 128, 16, {4096}},                     // long context, many splits
      {32, 8, 128, 16, {4096, 100, 2049, 513, 7}},  // splits past short sequences
      {16, 1, 256, 32, {3000, 257}},                // group 16, widest head
      {8, 4, 96, 16, {700, 1}},                     // head_dim not a power of two
      {4, 2, 32, 8, {10000}},                       // very long, small blocks
  };
  uint64_t seed = 500;
  for (const DecodeCase& c : cases) {
    for (KvDtype dtype : {KvDtype::kF32, KvDtype::kF16, KvDtype::kBf16}) {
      RunDecode(c, dtype, seed++);
    }
  }
}

TEST(PagedAttentionCudaTest, DecodeBatchOf32MatchesReference) {
  TIERKV_SKIP_WITHOUT_GPU();
  std::mt19937 rng(7);
  std::uniform_int_distribution<int> len(1, 4096);
  DecodeCase c{32, 8, 128, 16, {}};
  for (int s = 0; s < 32; ++s) c.context_lens.push_back(len(rng));
  RunDecode(c, KvDtype::kF16, 900);
  RunDecode(c, KvDtype::kBf16, 901);
}

// These checks come before any CUDA call, so they hold with or without a GPU.
TEST(PagedAttentionCudaTest, BadShapesAreInvalidArgument) {
  float dummy = 0.0f;
  int32_t table = 0;
  DevicePagedKv kv{&dummy, &dummy, 16 * 128, 16, 128, KvDtype::kF16};
  EXPECT_TRUE(PagedAttentionPrefillCuda(&dummy, 1, 0, &table, kv, Shape(6, 4, 32), &dummy, nullptr)
                  .IsInvalidArgument());
  EXPECT_TRUE(PagedAttentionPrefillCuda(&dummy, 1, 0, &table, kv, Shape(4, 4, 48), &dummy, nullptr)
                  .IsInvalidArgument());
  EXPECT_TRUE(PagedAttentionPrefillCuda(&dummy, -1, 0, &table, kv, Shape(4, 4, 32), &dummy, nullptr)
                  .IsInvalidArgument());
  DecodeSplitPlan plan = PlanDecodeSplits(4096, 1, 4, 132);
  EXPECT_TRUE(PagedAttentionDecodeCuda(&dummy, 1, &table, 1, &table, 4096, kv, Shape(4, 4, 32),
                                       plan, nullptr, 0, &dummy, nullptr)
                  .IsInvalidArgument());  // no workspace for a split plan
  DevicePagedKv wide = kv;
  wide.kv_dim = 32;
  EXPECT_TRUE(PagedAttentionDecodeCuda(&dummy, 1, &table, 1, &table, 16, wide, Shape(32, 1, 32),
                                       PlanDecodeSplits(16, 1, 1, 1), nullptr, 0, &dummy, nullptr)
                  .IsInvalidArgument());  // group of 32 > kDecodeMaxGroup
}

}  // namespace
}  // namespace tierkv::kernels
