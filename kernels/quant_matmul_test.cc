#include "kernels/quant_matmul.h"

#include <gtest/gtest.h>

#include <cmath>
#include <cstring>
#include <random>
#include <vector>

#include "kernels/quant_ref.h"
#include "kernels/quant_repack.h"
#include "kernels/test_util.h"

namespace tierkv::kernels {
namespace {

constexpr QuantType kWeightTypes[] = {QuantType::kQ8_0, QuantType::kQ4_0, QuantType::kQ4K,
                                      QuantType::kQ6K};

std::vector<std::byte> QuantizeRows(QuantType t, const std::vector<float>& x, int rows, int k) {
  std::vector<std::byte> out(QuantRowBytes(t, k) * rows);
  for (int r = 0; r < rows; ++r) {
    QuantizeRowRef(t, x.data() + static_cast<size_t>(r) * k, out.data() + QuantRowBytes(t, k) * r,
                   k);
  }
  return out;
}

std::vector<float> DequantizeRows(QuantType t, const std::vector<std::byte>& q, int rows, int k) {
  std::vector<float> out(static_cast<size_t>(rows) * k);
  for (int r = 0; r < rows; ++r) {
    DequantizeRowRef(t, q.data() + QuantRowBytes(t, k) * r, out.data() + static_cast<size_t>(r) * k,
                     k);
  }
  return out;
}

// Activations as a forward pass has them, with a few large outliers that set
// the block scales.
std::vector<float> Activations(int n, uint64_t seed) {
  std::vector<float> x = testing::RandomVector(n, seed);
  for (int i = 0; i < n; i += 97) x[i] *= 8.0f;
  return x;
}

std::vector<QuantPath> PathsThisMachineRuns() {
  std::vector<QuantPath> paths = {QuantPath::kScalar};
  if (HostCpuFeatures().has_avx2_fma()) paths.push_back(QuantPath::kAvx2);
  return paths;
}

// The whole product of `rows` weight rows and `a_rows` activation rows, into out.
QuantDotTile Tile(QuantType t, const std::vector<std::byte>& w, int rows,
                  const std::vector<std::byte>& a, int a_rows, int k, std::vector<float>& out) {
  out.assign(static_cast<size_t>(rows) * a_rows, NAN);
  QuantDotTile tile;
  tile.w = w.data();
  tile.w_row_bytes = QuantRowBytes(t, k);
  tile.rows = rows;
  tile.a = a.data();
  tile.a_row_bytes = QuantRowBytes(ActivationTypeFor(t), k);
  tile.a_rows = a_rows;
  tile.blocks = k / QuantBlockValues(t);
  tile.out = out.data();
  tile.ld_out = rows;
  return tile;
}

TEST(QuantMatMulTest, ScalarDotsEqualTheDequantizedProducts) {
  // The reference's lane bookkeeping changes only float rounding: its result
  // is the exact product of the two quantized rows, to float precision.
  constexpr int kRows = 9, kK = 512;
  for (QuantType t : kWeightTypes) {
    const std::vector<std::byte> w =
        QuantizeRows(t, testing::RandomVector(kRows * kK, 1), kRows, kK);
    const QuantType act = ActivationTypeFor(t);
    const std::vector<std::byte> a = QuantizeRows(act, Activations(kK, 2), 1, kK);
    const std::vector<float> wf = DequantizeRows(t, w, kRows, kK);
    const std::vector<float> af = DequantizeRows(act, a, 1, kK);
    std::vector<float> got(kRows);
    QuantDotKernel(t, false, QuantPath::kScalar)(Tile(t, w, kRows, a, 1, kK, got));
    for (int r = 0; r < kRows; ++r) {
      double want = 0, scale = 0;
      for (int i = 0; i < kK; ++i) {
        want += static_cast<double>(wf[r * kK + i]) * af[i];
        scale += std::fabs(static_cast<double>(wf[r * kK + i]) * af[i]);
      }
      EXPECT_NEAR(got[r], want, 1e-5 * scale) << "type " << static_cast<int>(t) << " row " << r;
    }
  }
}

TEST(QuantMatMulTest, EveryPathThisMachineRunsEqualsTheScalarReferenceBitForBit) {
  // Odd row counts exercise the 8-row Q4_0 groups and their tail; random
  // bytes reach quants and scales a quantizer would not produce.
  std::mt19937_64 rng(7);
  for (QuantType t : kWeightTypes) {
    for (int rows : {1, 8, 13, 64}) {
      for (int k : {256, 1024, 2816 / 256 * 256}) {
        std::vector<std::byte> w =
            QuantizeRows(t, testing::RandomVector(rows * k, rows + k), rows, k);
        if (rows == 13) {  // random blocks, with finite scales
          for (std::byte& b : w) b = static_cast<std::byte>(rng() & 0xFF);
          const size_t block = QuantBlockBytes(t);
          for (size_t off = 0; off < w.size(); off += block) {
            const uint16_t half_scale = 0x2000 | (rng() & 0x0FFF);  // ~0.008 .. 0.016
            const size_t at = t == QuantType::kQ6K ? block - 2 : 0;
            std::memcpy(&w[off + at], &half_scale, 2);
            if (t == QuantType::kQ4K) std::memcpy(&w[off + 2], &half_scale, 2);
          }
        }
        // 1 and 6 activation rows: one row, and a full tile of 4 with a rest of 2.
        for (int a_rows : {1, 6}) {
          const std::vector<std::byte> a =
              QuantizeRows(ActivationTypeFor(t), Activations(k * a_rows, rows * 31 + k), a_rows, k);
          std::vector<float> want, got;
          QuantDotKernel(t, false, QuantPath::kScalar)(Tile(t, w, rows, a, a_rows, k, want));
          for (QuantPath path : PathsThisMachineRuns()) {
            QuantDotKernel(t, false, path)(Tile(t, w, rows, a, a_rows, k, got));
            for (size_t j = 0; j < want.size(); ++j) {
              ASSERT_EQ(std::memcmp(&got[j], &want[j], sizeof(float)), 0)
                  << QuantPathName(path) << " type " << static_cast<int>(t) << " rows " << rows
                  << " k " << k << " a_rows " << a_rows << " output " << j << ": " << got[j]
                  << " vs " << want[j];
            }
          }
        }
      }
    }
  }
}

TEST(QuantMatMulTest, MatMulQuantizesEachActivationRowAndAccumulates) {
  constexpr int kM = 5, kN = 70, kK = 512, kLdx = kK + 3, kLdy = kN + 2;
  for (QuantType t : kWeightTypes) {
    const std::vector<std::byte> w = QuantizeRows(t, testing::RandomVector(kN * kK, 11), kN, kK);
    const std::vector<float> x = Activations(kM * kLdx, 12);
    std::vector<float> y(kM * kLdy, 0.25f);
    const QuantWeights weights{.type = t, .data = w.data(), .rows = kN, .cols = kK};
    QuantMatMul(weights, x.data(), kLdx, y.data(), kLdy, kM, /*accumulate=*/true);
    const QuantType act = ActivationTypeFor(t);
    for (int i = 0; i < kM; ++i) {
      std::vector<std::byte> a(QuantRowBytes(act, kK));
      QuantizeRowRef(act, x.data() + i * kLdx, a.data(), kK);
      std::vector<float> want;
      QuantDotKernel(t, false, QuantPath::kScalar)(Tile(t, w, kN, a, 1, kK, want));
      for (int r = 0; r < kN; ++r) {
        ASSERT_EQ(y[i * kLdy + r], 0.25f + want[r]) << "type " << static_cast<int>(t);
      }
      EXPECT_EQ(y[i * kLdy + kN], 0.25f);  // the row padding is untouched
    }
    QuantMatMul(weights, x.data(), kLdx, y.data(), kLdy, kM, /*accumulate=*/false);
    EXPECT_NE(y[0], 0.25f);
  }
}

TEST(QuantMatMulTest, RegroupedQ4_0GivesThePlainBitsOnEveryPath) {
  constexpr int kRows = 24, kK = 512;
  const std::vector<std::byte> w =
      QuantizeRows(QuantType::kQ4_0, testing::RandomVector(kRows * kK, 21), kRows, kK);
  const std::vector<std::byte> grouped =
      RepackQ4_0x8(reinterpret_cast<const BlockQ4_0*>(w.data()), kRows, kK / 32);
  ASSERT_EQ(grouped.size(), w.size());
  for (int a_rows : {1, 4, 7}) {
    const std::vector<std::byte> a =
        QuantizeRows(QuantType::kQ8_0, Activations(kK * a_rows, 22 + a_rows), a_rows, kK);
    std::vector<float> want, got;
    QuantDotKernel(QuantType::kQ4_0, false,
                   QuantPath::kScalar)(Tile(QuantType::kQ4_0, w, kRows, a, a_rows, kK, want));
    for (QuantPath path : PathsThisMachineRuns()) {
      QuantDotKernel(QuantType::kQ4_0, true,
                     path)(Tile(QuantType::kQ4_0, grouped, kRows, a, a_rows, kK, got));
      ASSERT_EQ(std::memcmp(got.data(), want.data(), want.size() * sizeof(float)), 0)
          << QuantPathName(path) << " a_rows " << a_rows;
    }
  }
  // Through the matrix product too.
  const std::vector<float> x = Activations(3 * kK, 23);
  std::vector<float> y_plain(3 * kRows), y_grouped(3 * kRows);
  QuantMatMul({.type = QuantType::kQ4_0, .data = w.data(), .rows = kRows, .cols = kK}, x.data(), kK,
              y_plain.data(), kRows, 3, false);
  QuantMatMul({.type = QuantType::kQ4_0,
               .grouped = true,
               .data = grouped.data(),
               .rows = kRows,
               .cols = kK},
              x.data(), kK, y_grouped.data(), kRows, 3, false);
  EXPECT_EQ(y_plain, y_grouped);
}

}  // namespace
}  // namespace tierkv::kernels
