// Q4_0 matrices regrouped for the matrix-vector product: eight rows'
// blocks side by side, so that each 32-bit lane of a vector holds one row.
//
// Rows 8g..8g+7 become `blocks` BlockQ4_0x8 (as many bytes as the eight
// plain rows, so group g starts where row 8g did). In block b of a group,
// d[r] is row r's scale and qs[c][r][j] is byte 4c + j of row r's block b:
// its low nibble is value 4c + j, its high nibble value 16 + 4c + j. A kernel
// then multiplies four bytes of every row by the same four activation bytes
// at once, and each lane's sum is that row's, with no reduction across lanes.
// The arithmetic is Q4_0's (quant_dot_ref.h): only the bytes move.
//
// Thread safety: pure functions.
#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

#include "kernels/quant_blocks.h"
#include "kernels/quant_dot_ref.h"

namespace tierkv::kernels {

inline constexpr int kQ4_0GroupRows = 8;
inline constexpr int kQ4_0GroupChunks = 4;  // of 4 bytes per row

struct BlockQ4_0x8 {
  uint16_t d[kQ4_0GroupRows];
  uint8_t qs[kQ4_0GroupChunks][kQ4_0GroupRows][4];
};
static_assert(sizeof(BlockQ4_0x8) == kQ4_0GroupRows * sizeof(BlockQ4_0));

// `rows` rows (a multiple of 8) of `blocks` Q4_0 blocks, regrouped.
std::vector<std::byte> RepackQ4_0x8(const BlockQ4_0* rows, int n_rows, int blocks);

// The Q4_0 product over regrouped weights: the tile's rows (a multiple of 8,
// from a group's first row) as quant_dot_ref.h's DotQ4_0Ref computes them;
// w_row_bytes is the plain row's size.
void DotQ4_0x8Ref(const QuantDotTile& tile);

}  // namespace tierkv::kernels
