// The weight formats tierkv-mkmodel writes, as llama.cpp's file types
// (llama_ftype), and which tensor type each 2-D weight gets in each.
//
//   f32, f16, bf16  every matrix in that type
//   q8_0            every matrix Q8_0 (output.weight too, as llama-quantize does)
//   q4_0            every matrix Q4_0, output.weight Q6_K
//   q4_k_m          Q4_K, except Q6_K for output.weight and for attn_v and
//                   ffn_down in the layers llama.cpp gives more bits
//                   (use_more_bits: the first and last eighth, and every
//                   third layer between)
// A matrix whose rows a block type cannot hold (Q4_K and Q6_K need a multiple
// of 256 values per row) falls back to Q8_0 (llama-quantize uses Q5_0 for a
// Q4_K, a type tierkv does not read, and Q8_0 for a Q6_K), and to f16 where
// not even Q8_0's 32 fits. 1-D tensors (norms) are always f32.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string_view>
#include <vector>

#include "core/gguf_format.h"

namespace tierkv::core {

enum class WeightFormat { kF32, kF16, kBF16, kQ8_0, kQ4_0, kQ4_K_M };

std::string_view WeightFormatName(WeightFormat format);  // "f16", "q4_k_m"
std::optional<WeightFormat> ParseWeightFormat(std::string_view name);
// general.file_type, llama.cpp's llama_ftype number.
uint32_t LlamaFileType(WeightFormat format);
bool IsQuantized(WeightFormat format);

// The type of matrix `name` (as llama.cpp names tensors) in `format`; `layer`
// is its block's index (ignored outside blocks), `cols` its row length.
GgmlType MatrixTypeFor(WeightFormat format, std::string_view name, int layer, int n_layers,
                       int64_t cols);

// `rows` rows of `cols` floats encoded as `type` (quantized with
// kernels/quant_ref.h's weight quantizers). `cols` must fit the type's block.
std::vector<std::byte> EncodeMatrix(GgmlType type, const float* x, int64_t rows, int64_t cols);

}  // namespace tierkv::core
