#include "kernels/quant_repack.h"

#include <cassert>
#include <cmath>
#include <cstring>

#include "kernels/half.h"

// Compiled with -ffp-contract=off, as quant_dot_ref.cc.

namespace tierkv::kernels {
namespace {

constexpr int kQ4_0Offset = 8;
constexpr int kHalfBlock = kQ4_0BlockValues / 2;

}  // namespace

std::vector<std::byte> RepackQ4_0x8(const BlockQ4_0* rows, int n_rows, int blocks) {
  assert(n_rows % kQ4_0GroupRows == 0);
  std::vector<std::byte> out(static_cast<size_t>(n_rows) * blocks * sizeof(BlockQ4_0));
  auto* groups = reinterpret_cast<BlockQ4_0x8*>(out.data());
  for (int g = 0; g < n_rows / kQ4_0GroupRows; ++g) {
    for (int b = 0; b < blocks; ++b) {
      BlockQ4_0x8& dst = groups[static_cast<size_t>(g) * blocks + b];
      for (int r = 0; r < kQ4_0GroupRows; ++r) {
        const BlockQ4_0& src = rows[static_cast<size_t>(g * kQ4_0GroupRows + r) * blocks + b];
        dst.d[r] = src.d;
        for (int c = 0; c < kQ4_0GroupChunks; ++c) std::memcpy(dst.qs[c][r], src.qs + 4 * c, 4);
      }
    }
  }
  return out;
}

void DotQ4_0x8Ref(const QuantDotTile& t) {
  const int groups = t.rows / kQ4_0GroupRows;
  for (int i = 0; i < t.a_rows; ++i) {
    const auto* a =
        reinterpret_cast<const BlockQ8_0*>(static_cast<const std::byte*>(t.a) + i * t.a_row_bytes);
    for (int g = 0; g < groups; ++g) {
      const auto* w = reinterpret_cast<const BlockQ4_0x8*>(static_cast<const std::byte*>(t.w) +
                                                           static_cast<size_t>(g) * kQ4_0GroupRows *
                                                               t.w_row_bytes);
      for (int r = 0; r < kQ4_0GroupRows; ++r) {
        float acc = 0.0f;
        for (int b = 0; b < t.blocks; ++b) {
          int32_t sum = 0;
          for (int c = 0; c < kQ4_0GroupChunks; ++c) {
            for (int j = 0; j < 4; ++j) {
              const uint8_t q = w[b].qs[c][r][j];
              sum += ((q & 0xF) - kQ4_0Offset) * a[b].qs[4 * c + j];
              sum += ((q >> 4) - kQ4_0Offset) * a[b].qs[kHalfBlock + 4 * c + j];
            }
          }
          acc = std::fma(static_cast<float>(sum), F16ToF32(w[b].d[r]) * F16ToF32(a[b].d), acc);
        }
        t.out[static_cast<size_t>(i) * t.ld_out + g * kQ4_0GroupRows + r] = acc;
      }
    }
  }
}

}  // namespace tierkv::kernels
