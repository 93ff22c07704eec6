// Quantizing and dequantizing rows of ggml's block types (quant_blocks.h).
//
// Two kinds of quantizer, for two uses:
// - Activations (and KV): QuantizeRowQ8_0Ref and QuantizeRowQ8KRef round
//   exactly as ggml's x86 CPU backend does before each quantized dot product
//   (Q8_0: d = amax / 127, q = round-half-even(x * (127 / amax)); Q8_K: d =
//   max / -127 with max the value of largest magnitude), so that products
//   over llama.cpp's files give llama.cpp's numbers.
// - Weights (tierkv-mkmodel): QuantizeRowQ4_0Ref, QuantizeRowQ4KRef and
//   QuantizeRowQ6KRef are tierkv's own, choosing each block's scale (and min)
//   by a small search for the least squared error; Q8_0 weights use the Q8_0
//   quantizer above. Their output is any valid block; readers never depend
//   on how it was chosen.
// Dequantization computes each value as ggml's dequantize_row_* does.
//
// `k` is the row length in values and must be a multiple of the type's
// block size (QuantBlockValues). Thread safety: pure functions.
#pragma once

#include <cstdint>

#include "kernels/quant_blocks.h"

namespace tierkv::kernels {

void QuantizeRowQ8_0Ref(const float* x, BlockQ8_0* y, int64_t k);
void QuantizeRowQ8KRef(const float* x, BlockQ8K* y, int64_t k);

void QuantizeRowQ4_0Ref(const float* x, BlockQ4_0* y, int64_t k);
void QuantizeRowQ4KRef(const float* x, BlockQ4K* y, int64_t k);
void QuantizeRowQ6KRef(const float* x, BlockQ6K* y, int64_t k);

void DequantizeRowQ8_0Ref(const BlockQ8_0* x, float* y, int64_t k);
void DequantizeRowQ4_0Ref(const BlockQ4_0* x, float* y, int64_t k);
void DequantizeRowQ4KRef(const BlockQ4K* x, float* y, int64_t k);
void DequantizeRowQ6KRef(const BlockQ6K* x, float* y, int64_t k);
void DequantizeRowQ8KRef(const BlockQ8K* x, float* y, int64_t k);

// By type: `blocks` points at a row of `t` blocks. QuantizeRowRef uses the
// weight quantizers (Q8_0 for kQ8_0; kQ8K quantizes as an activation).
void QuantizeRowRef(QuantType t, const float* x, void* blocks, int64_t k);
void DequantizeRowRef(QuantType t, const void* blocks, float* y, int64_t k);

}  // namespace tierkv::kernels
