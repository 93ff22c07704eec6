// Element types of the KV pages, and how many bytes a row of each takes.
//
// f32, f16 and bf16 rows are kv_dim elements. q8_0 rows are kv_dim / 32
// blocks in ggml's Q8_0 layout (kernels/quant_blocks.h: an f16 scale, then 32
// int8 quants), 34 bytes per 32 values, so a q8_0 page is about a quarter of
// an f32 one. Pages are addressed in storage units: the element for f32, f16
// and bf16, the byte for q8_0 (KvUnitBytes). Attention always computes in f32.
//
// Thread safety: pure functions.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string_view>

#include "tierkv/status.h"

namespace tierkv::kernels {

enum class KvDtype : uint8_t { kF32 = 0, kF16 = 1, kBf16 = 2, kQ8_0 = 3 };

inline constexpr KvDtype kAllKvDtypes[] = {KvDtype::kF32, KvDtype::kF16, KvDtype::kBf16,
                                           KvDtype::kQ8_0};

std::string_view KvDtypeName(KvDtype dtype);  // "f32", "f16", "bf16", "q8_0"
// The dtype a name (as KvDtypeName writes it) stands for; InvalidArgument
// listing the names otherwise.
Result<KvDtype> ParseKvDtype(std::string_view name);

// Bytes of one storage unit (see above).
size_t KvUnitBytes(KvDtype dtype);
// Storage units and bytes of one row of `kv_dim` values (kv_dim a multiple of
// 32 for q8_0: CheckKvRow).
int64_t KvRowUnits(KvDtype dtype, int kv_dim);
size_t KvRowBytes(KvDtype dtype, int kv_dim);
// Where value `index` of a row starts, in storage units from the row's start,
// for a slice that begins on a head boundary (index a multiple of 32 for
// q8_0).
int64_t KvRowUnitOffset(KvDtype dtype, int index);

// InvalidArgument unless rows of `head_dim`-wide heads can be stored in
// `dtype`: q8_0 needs head_dim to be a multiple of its 32-value blocks, so
// that every head is whole blocks.
Status CheckKvRow(KvDtype dtype, int head_dim);

// Converts `n` values between f32 and a row slice stored as `dtype` (`n` a
// multiple of 32 for q8_0). f16 and bf16 round to nearest even; q8_0
// quantizes each 32 values as ggml's quantize_row_q8_0 does (scale amax / 127,
// quants rounded to nearest even).
void KvToF32(KvDtype dtype, const void* src, float* dst, int n);
void F32ToKv(KvDtype dtype, const float* src, void* dst, int n);

}  // namespace tierkv::kernels
