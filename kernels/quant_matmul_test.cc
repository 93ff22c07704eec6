#include "kernels/quant_matmul.h"

#include <gtest/gtest.h>

#include <cmath>
#include <cstring>
#include <random>
#include <vector>

#include "kernels/quant_ref.h"
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
    QuantDotKernel(t, QuantPath::kScalar)(w.data(), QuantRowBytes(t, kK), kRows, a.data(),
                                          kK / QuantBlockValues(t), got.data());
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
        const std::vector<std::byte> a =
            QuantizeRows(ActivationTypeFor(t), Activations(k, rows * 31 + k), 1, k);
        std::vector<float> want(rows), got(rows);
        const int blocks = k / QuantBlockValues(t);
        QuantDotKernel(t, QuantPath::kScalar)(w.data(), QuantRowBytes(t, k), rows, a.data(), blocks,
                                              want.data());
        for (QuantPath path : PathsThisMachineRuns()) {
          QuantDotKernel(t, path)(w.data(), QuantRowBytes(t, k), rows, a.data(), blocks,
                                  got.data());
          for (int r = 0; r < rows; ++r) {
            ASSERT_EQ(std::memcmp(&got[r], &want[r], sizeof(float)), 0)
                << QuantPathName(path) << " type " << static_cast<int>(t) << " rows " << rows
                << " k " << k << " row " << r << ": " << got[r] << " vs " << want[r];
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
    QuantMatMul(t, w.data(), x.data(), kLdx, y.data(), kLdy, kM, kN, kK, /*accumulate=*/true);
    const QuantType act = ActivationTypeFor(t);
    for (int i = 0; i < kM; ++i) {
      std::vector<std::byte> a(QuantRowBytes(act, kK));
      QuantizeRowRef(act, x.data() + i * kLdx, a.data(), kK);
      std::vector<float> want(kN);
      QuantDotKernel(t, QuantPath::kScalar)(w.data(), QuantRowBytes(t, kK), kN, a.data(),
                                            kK / QuantBlockValues(t), want.data());
      for (int r = 0; r < kN; ++r) {
        ASSERT_EQ(y[i * kLdy + r], 0.25f + want[r]) << "type " << static_cast<int>(t);
      }
      EXPECT_EQ(y[i * kLdy + kN], 0.25f);  // the row padding is untouched
    }
    QuantMatMul(t, w.data(), x.data(), kLdx, y.data(), kLdy, kM, kN, kK, /*accumulate=*/false);
    EXPECT_NE(y[0], 0.25f);
  }
}

}  // namespace
}  // namespace tierkv::kernels
