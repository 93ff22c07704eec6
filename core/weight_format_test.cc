#include "core/weight_format.h"

#include <gtest/gtest.h>

#include <string>

#include "kernels/quant_ref.h"

namespace tierkv::core {
namespace {

constexpr int64_t kCols = 4096;  // a llama-7B-like row: every block type fits

TEST(WeightFormatTest, NamesRoundTrip) {
  for (WeightFormat f : {WeightFormat::kF32, WeightFormat::kF16, WeightFormat::kBF16,
                         WeightFormat::kQ8_0, WeightFormat::kQ4_0, WeightFormat::kQ4_K_M}) {
    EXPECT_EQ(ParseWeightFormat(WeightFormatName(f)), f);
  }
  EXPECT_FALSE(ParseWeightFormat("q4_k_s").has_value());
  EXPECT_EQ(LlamaFileType(WeightFormat::kQ4_K_M), 15u);
  EXPECT_EQ(LlamaFileType(WeightFormat::kQ4_0), 2u);
  EXPECT_EQ(LlamaFileType(WeightFormat::kQ8_0), 7u);
}

TEST(WeightFormatTest, Q8_0AndQ4_0AsLlamaQuantizeWritesThem) {
  EXPECT_EQ(MatrixTypeFor(WeightFormat::kQ8_0, "output.weight", -1, 32, kCols), GgmlType::kQ8_0);
  EXPECT_EQ(MatrixTypeFor(WeightFormat::kQ8_0, "blk.3.ffn_down.weight", 3, 32, kCols),
            GgmlType::kQ8_0);
  EXPECT_EQ(MatrixTypeFor(WeightFormat::kQ4_0, "output.weight", -1, 32, kCols), GgmlType::kQ6_K);
  EXPECT_EQ(MatrixTypeFor(WeightFormat::kQ4_0, "token_embd.weight", -1, 32, kCols),
            GgmlType::kQ4_0);
  EXPECT_EQ(MatrixTypeFor(WeightFormat::kQ4_0, "blk.0.attn_v.weight", 0, 32, kCols),
            GgmlType::kQ4_0);
}

TEST(WeightFormatTest, Q4KMGivesSixBitsToTheLayersLlamaCppChooses) {
  // llama.cpp's use_more_bits over 32 layers: 0-3, 28-31, and 6, 9, ..., 27.
  std::string more;
  for (int l = 0; l < 32; ++l) {
    const std::string p = "blk." + std::to_string(l) + ".";
    const GgmlType v = MatrixTypeFor(WeightFormat::kQ4_K_M, p + "attn_v.weight", l, 32, kCols);
    const GgmlType down = MatrixTypeFor(WeightFormat::kQ4_K_M, p + "ffn_down.weight", l, 32, kCols);
    EXPECT_EQ(v, down) << l;
    if (v == GgmlType::kQ6_K) more += std::to_string(l) + " ";
    for (const char* other : {"attn_q.weight", "attn_k.weight", "attn_output.weight",
                              "ffn_gate.weight", "ffn_up.weight"}) {
      EXPECT_EQ(MatrixTypeFor(WeightFormat::kQ4_K_M, p + other, l, 32, kCols), GgmlType::kQ4_K);
    }
  }
  EXPECT_EQ(more, "0 1 2 3 6 9 12 15 18 21 24 27 28 29 30 31 ");
  EXPECT_EQ(MatrixTypeFor(WeightFormat::kQ4_K_M, "output.weight", -1, 32, kCols), GgmlType::kQ6_K);
  EXPECT_EQ(MatrixTypeFor(WeightFormat::kQ4_K_M, "token_embd.weight", -1, 32, kCols),
            GgmlType::kQ4_K);
}

TEST(WeightFormatTest, RowsTooShortForABlockFallBack) {
  EXPECT_EQ(MatrixTypeFor(WeightFormat::kQ4_K_M, "blk.0.attn_q.weight", 0, 2, 96), GgmlType::kQ8_0);
  EXPECT_EQ(MatrixTypeFor(WeightFormat::kQ4_0, "output.weight", -1, 2, 64), GgmlType::kQ8_0);
  EXPECT_EQ(MatrixTypeFor(WeightFormat::kQ4_0, "blk.0.attn_q.weight", 0, 2, 48), GgmlType::kF16);
}

TEST(WeightFormatTest, EncodeMatrixQuantizesEveryRow) {
  std::vector<float> x(3 * 256);
  for (size_t i = 0; i < x.size(); ++i) x[i] = 0.01f * static_cast<float>(i % 97) - 0.4f;
  const std::vector<std::byte> q = EncodeMatrix(GgmlType::kQ4_K, x.data(), 3, 256);
  ASSERT_EQ(q.size(), 3u * 144);
  std::vector<float> row(256);
  kernels::DequantizeRowRef(kernels::QuantType::kQ4K, q.data() + 2 * 144, row.data(), 256);
  // Within half a 4-bit step of the sub-block range (about 1 / 15).
  for (int i = 0; i < 256; ++i) EXPECT_NEAR(row[i], x[512 + i], 0.04f) << i;
}

}  // namespace
}  // namespace tierkv::core
