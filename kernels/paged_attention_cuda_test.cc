// Paged attention on the GPU against PagedAttentionPrefillRef and
// PagedAttentionDecodeRef, as harness cases (kernel_cases.h): fresh random
// inputs over a grid of shapes (GQA groups, head sizes, block sizes, ragged
// and block-boundary lengths, long contexts, batches) in every KV dtype, the
// pages NaN wherever no row was written.
#include <gtest/gtest.h>

#include <algorithm>
#include <random>
#include <string>
#include <vector>

#include "kernels/cuda_test_util.h"
#include "kernels/kernel_cases.h"
#include "kernels/kv_cases.h"
#include "kernels/paged_attention.cuh"
#include "kernels/paged_attention_ref.h"
#include "kernels/test_util.h"

namespace tierkv::kernels::testing {
namespace {

Result<std::vector<float>> PrefillOnDevice(PrefillInputs& in) {
  DeviceBuffer pages = Upload(in.pool.bytes);
  DeviceBuffer d_q = Upload(in.q);
  DeviceBuffer d_table = Upload(in.table);
  TIERKV_ASSIGN_OR_RETURN(DeviceBuffer d_out, DeviceBuffer::Allocate(in.q.size() * sizeof(float)));
  TIERKV_RETURN_IF_ERROR(PagedAttentionPrefillCuda(
      d_q.as<float>(), in.spec.n_new, in.spec.n_past, d_table.as<int32_t>(),
      in.pool.Layer(pages.get()), in.shape, d_out.as<float>(), nullptr));
  return Download<float>(d_out, in.q.size());
}

Result<std::vector<float>> DecodeOnDevice(DecodeInputs& in) {
  const std::vector<int>& lens = in.spec.context_lens;
  const int n_seqs = static_cast<int>(lens.size());
  const int max_len = *std::max_element(lens.begin(), lens.end());
  DeviceBuffer pages = Upload(in.pool.bytes);
  DeviceBuffer d_q = Upload(in.q);
  DeviceBuffer d_tables = Upload(in.tables);
  DeviceBuffer d_lens = Upload(std::vector<int32_t>(lens.begin(), lens.end()));
  TIERKV_ASSIGN_OR_RETURN(DecodeSplitPlan plan,
                          PlanDecodeForDevice(max_len, n_seqs, in.spec.n_head_kv));
  const size_t ws_bytes = DecodeWorkspaceBytes(n_seqs, in.spec.n_head, in.spec.head_dim, plan);
  TIERKV_ASSIGN_OR_RETURN(DeviceBuffer ws, DeviceBuffer::Allocate(ws_bytes));
  TIERKV_ASSIGN_OR_RETURN(DeviceBuffer d_out, DeviceBuffer::Allocate(in.q.size() * sizeof(float)));
  TIERKV_RETURN_IF_ERROR(PagedAttentionDecodeCuda(
      d_q.as<float>(), n_seqs, d_tables.as<int32_t>(), in.max_blocks, d_lens.as<int32_t>(), max_len,
      in.pool.Layer(pages.get()), in.shape, plan, ws.get(), ws_bytes, d_out.as<float>(), nullptr));
  return Download<float>(d_out, in.q.size());
}

std::string HeadsName(int n_head, int n_head_kv, int head_dim, int block_tokens) {
  return std::to_string(n_head) + "/" + std::to_string(n_head_kv) + "x" + std::to_string(head_dim) +
         " bt" + std::to_string(block_tokens);
}

}  // namespace

std::vector<KernelCase> PagedAttentionCases() {
  const PrefillSpec prefills[] = {
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
  std::vector<DecodeSpec> decodes = {
      {4, 4, 64, 16, {1}},
      {8, 2, 128, 16, {16, 17, 15, 1}},             // block edges, ragged batch
      {32, 8, 128, 16, {4096}},                     // long context, many splits
      {32, 8, 128, 16, {4096, 100, 2049, 513, 7}},  // splits past short sequences
      {16, 1, 256, 32, {3000, 257}},                // group 16, widest head
      {8, 4, 96, 16, {700, 1}},                     // head_dim not a power of two
      {4, 2, 32, 8, {10000}},                       // very long, small blocks
  };
  DecodeSpec batch{32, 8, 128, 16, {}};  // a batch of 32 ragged sequences
  std::mt19937 rng(7);
  std::uniform_int_distribution<int> len(1, 4096);
  for (int s = 0; s < 32; ++s) batch.context_lens.push_back(len(rng));
  decodes.push_back(batch);

  std::vector<KernelCase> cases;
  uint64_t seed = 100;
  for (KvDtype dtype : kAllKvDtypes) {
    const std::string dt(KvDtypeName(dtype));
    for (const PrefillSpec& s : prefills) {
      const uint64_t sd = seed++;
      cases.push_back({"prefill " + HeadsName(s.n_head, s.n_head_kv, s.head_dim, s.block_tokens) +
                           " " + std::to_string(s.n_past) + "+" + std::to_string(s.n_new) + " " +
                           dt,
                       AttentionErrorBound(dtype), [s, dtype, sd]() -> Result<CaseOutputs> {
                         PrefillInputs in = MakePrefillInputs(s, dtype, sd);
                         CaseOutputs out;
                         out.reference = PrefillByRef(in);
                         TIERKV_ASSIGN_OR_RETURN(out.kernel, PrefillOnDevice(in));
                         return out;
                       }});
    }
    for (const DecodeSpec& s : decodes) {
      const uint64_t sd = seed++;
      cases.push_back({"decode " + HeadsName(s.n_head, s.n_head_kv, s.head_dim, s.block_tokens) +
                           " seqs" + std::to_string(s.context_lens.size()) + " " + dt,
                       AttentionErrorBound(dtype), [s, dtype, sd]() -> Result<CaseOutputs> {
                         DecodeInputs in = MakeDecodeInputs(s, dtype, sd);
                         CaseOutputs out;
                         out.reference = DecodeByRef(in);
                         TIERKV_ASSIGN_OR_RETURN(out.kernel, DecodeOnDevice(in));
                         return out;
                       }});
    }
  }
  return cases;
}

namespace {

// These checks come before any CUDA call, so they hold with or without a GPU.
TEST(PagedAttentionCudaTest, BadShapesAreInvalidArgument) {
  float dummy = 0.0f;
  int32_t table = 0;
  const AttentionShape ok_shape = MakeAttentionShape(4, 4, 32);
  PagedKv kv{&dummy, &dummy, 16 * 128, 16, 128, KvDtype::kF16};
  EXPECT_TRUE(PagedAttentionPrefillCuda(&dummy, 1, 0, &table, kv, MakeAttentionShape(6, 4, 32),
                                        &dummy, nullptr)
                  .IsInvalidArgument());
  EXPECT_TRUE(PagedAttentionPrefillCuda(&dummy, 1, 0, &table, kv, MakeAttentionShape(4, 4, 48),
                                        &dummy, nullptr)
                  .IsInvalidArgument());
  EXPECT_TRUE(PagedAttentionPrefillCuda(&dummy, -1, 0, &table, kv, ok_shape, &dummy, nullptr)
                  .IsInvalidArgument());
  DecodeSplitPlan plan = PlanDecodeSplits(4096, 1, 4, 132);
  EXPECT_TRUE(PagedAttentionDecodeCuda(&dummy, 1, &table, 1, &table, 4096, kv, ok_shape, plan,
                                       nullptr, 0, &dummy, nullptr)
                  .IsInvalidArgument());  // no workspace for a split plan
  PagedKv wide = kv;
  wide.kv_dim = 32;
  EXPECT_TRUE(PagedAttentionDecodeCuda(&dummy, 1, &table, 1, &table, 16, wide,
                                       MakeAttentionShape(32, 1, 32), PlanDecodeSplits(16, 1, 1, 1),
                                       nullptr, 0, &dummy, nullptr)
                  .IsInvalidArgument());  // group of 32 > kDecodeMaxGroup
  PagedKv q8 = kv;
  q8.dtype = KvDtype::kQ8_0;
  q8.page_stride = 16 * KvRowUnits(KvDtype::kQ8_0, 128) - 1;
  EXPECT_TRUE(PagedAttentionPrefillCuda(&dummy, 1, 0, &table, q8, ok_shape, &dummy, nullptr)
                  .IsInvalidArgument());  // page_stride counted in q8_0's bytes
}

}  // namespace
}  // namespace tierkv::kernels::testing
