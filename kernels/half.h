// F16 (IEEE binary16) and BF16 (bfloat16) conversions for weights and KV data.
//
// Conversions round to nearest even; NaN stays NaN and infinities stay infinite.
// Thread safety: pure functions.
#pragma once

#include <cstddef>
#include <cstdint>

namespace tierkv::kernels {

float F16ToF32(uint16_t h);
uint16_t F32ToF16(float f);
float Bf16ToF32(uint16_t h);
uint16_t F32ToBf16(float f);

// Bulk conversions of `n` values; `src` and `dst` must not overlap.
void F16ToF32Ref(const uint16_t* src, float* dst, size_t n);
void F32ToF16Ref(const float* src, uint16_t* dst, size_t n);
void Bf16ToF32Ref(const uint16_t* src, float* dst, size_t n);
void F32ToBf16Ref(const float* src, uint16_t* dst, size_t n);

}  // namespace tierkv::kernels
