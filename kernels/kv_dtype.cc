#include "kernels/kv_dtype.h"

#include <immintrin.h>

#include <algorithm>
#include <bit>
#include <string>

#include "kernels/half.h"
#include "kernels/quant_blocks.h"
#include "kernels/quant_ref.h"

namespace tierkv::kernels {
namespace {

constexpr int kF16Lanes = 8;  // one __m256 per conversion

void F16RowToF32(const uint16_t* src, float* dst, int n) {
  int i = 0;
#if defined(__F16C__)
  for (; i + kF16Lanes <= n; i += kF16Lanes) {
    const __m128i h = _mm_loadu_si128(reinterpret_cast<const __m128i*>(src + i));
    _mm256_storeu_ps(dst + i, _mm256_cvtph_ps(h));
  }
#endif
  for (; i < n; ++i) dst[i] = F16ToF32(src[i]);
}

void F32RowToF16(const float* src, uint16_t* dst, int n) {
  int i = 0;
#if defined(__F16C__)
  for (; i + kF16Lanes <= n; i += kF16Lanes) {
    const __m128i h = _mm256_cvtps_ph(_mm256_loadu_ps(src + i), _MM_FROUND_TO_NEAREST_INT);
    _mm_storeu_si128(reinterpret_cast<__m128i*>(dst + i), h);
  }
#endif
  for (; i < n; ++i) dst[i] = F32ToF16(src[i]);
}

void Bf16RowToF32(const uint16_t* src, float* dst, int n) {
  for (int i = 0; i < n; ++i) {
    dst[i] = std::bit_cast<float>(static_cast<uint32_t>(src[i]) << 16);
  }
}

}  // namespace

std::string_view KvDtypeName(KvDtype dtype) {
  switch (dtype) {
    case KvDtype::kF32:
      return "f32";
    case KvDtype::kF16:
      return "f16";
    case KvDtype::kBf16:
      return "bf16";
    case KvDtype::kQ8_0:
      return "q8_0";
  }
  return "unknown";
}

Result<KvDtype> ParseKvDtype(std::string_view name) {
  for (KvDtype dtype : kAllKvDtypes) {
    if (name == KvDtypeName(dtype)) return dtype;
  }
  return Status::InvalidArgument("unknown KV dtype '" + std::string(name) +
                                 "' (expected f32, f16, bf16 or q8_0)");
}

size_t KvUnitBytes(KvDtype dtype) {
  switch (dtype) {
    case KvDtype::kF32:
      return 4;
    case KvDtype::kF16:
    case KvDtype::kBf16:
      return 2;
    case KvDtype::kQ8_0:
      return 1;
  }
  return 0;
}

int64_t KvRowUnits(KvDtype dtype, int kv_dim) { return KvRowUnitOffset(dtype, kv_dim); }

size_t KvRowBytes(KvDtype dtype, int kv_dim) {
  return static_cast<size_t>(KvRowUnits(dtype, kv_dim)) * KvUnitBytes(dtype);
}

int64_t KvRowUnitOffset(KvDtype dtype, int index) {
  if (dtype == KvDtype::kQ8_0) {
    return static_cast<int64_t>(index / kQ8_0BlockValues) * sizeof(BlockQ8_0);
  }
  return index;
}

Status CheckKvRow(KvDtype dtype, int head_dim) {
  if (KvUnitBytes(dtype) == 0) return Status::InvalidArgument("unknown KV dtype");
  if (dtype == KvDtype::kQ8_0 && head_dim % kQ8_0BlockValues != 0) {
    return Status::InvalidArgument("q8_0 KV needs head_dim to be a multiple of 32 (got " +
                                   std::to_string(head_dim) + ")");
  }
  return Status::Ok();
}

void KvToF32(KvDtype dtype, const void* src, float* dst, int n) {
  switch (dtype) {
    case KvDtype::kF32:
      std::copy_n(static_cast<const float*>(src), n, dst);
      return;
    case KvDtype::kF16:
      return F16RowToF32(static_cast<const uint16_t*>(src), dst, n);
    case KvDtype::kBf16:
      return Bf16RowToF32(static_cast<const uint16_t*>(src), dst, n);
    case KvDtype::kQ8_0:
      return DequantizeRowQ8_0Ref(static_cast<const BlockQ8_0*>(src), dst, n);
  }
}

void F32ToKv(KvDtype dtype, const float* src, void* dst, int n) {
  switch (dtype) {
    case KvDtype::kF32:
      std::copy_n(src, n, static_cast<float*>(dst));
      return;
    case KvDtype::kF16:
      return F32RowToF16(src, static_cast<uint16_t*>(dst), n);
    case KvDtype::kBf16:
      return F32ToBf16Ref(src, static_cast<uint16_t*>(dst), n);
    case KvDtype::kQ8_0:
      return QuantizeRowQ8_0Ref(src, static_cast<BlockQ8_0*>(dst), n);
  }
}

}  // namespace tierkv::kernels
