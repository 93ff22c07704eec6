// The GGUF v3 file format as llama.cpp writes it: constants, value types,
// tensor element types, and the in-memory form of one metadata value.
//
// Layout: magic "GGUF", version (u32), tensor count (u64), metadata count
// (u64), the metadata key/value pairs, the tensor infos (name, dims listed
// fastest-varying first, element type, offset into the data section), padding
// to the alignment (general.alignment, default 32), then the tensor data, each
// tensor at an aligned offset. All integers are little-endian.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "kernels/quant_blocks.h"

namespace tierkv::core {

inline constexpr uint32_t kGgufMagic = 0x46554747;  // "GGUF" read as a little-endian u32
inline constexpr uint32_t kGgufVersion = 3;
inline constexpr uint64_t kGgufDefaultAlignment = 32;
inline constexpr int kGgufMaxDims = 4;

enum class GgufValueType : uint32_t {
  kUint8 = 0,
  kInt8 = 1,
  kUint16 = 2,
  kInt16 = 3,
  kUint32 = 4,
  kInt32 = 5,
  kFloat32 = 6,
  kBool = 7,
  kString = 8,
  kArray = 9,
  kUint64 = 10,
  kInt64 = 11,
  kFloat64 = 12,
};

// The ggml tensor types this reader can load (numbering from ggml.h). The
// quantized ones store rows as blocks (kernels/quant_blocks.h).
enum class GgmlType : uint32_t {
  kF32 = 0,
  kF16 = 1,
  kQ4_0 = 2,
  kQ8_0 = 8,
  kQ4_K = 12,
  kQ6_K = 14,
  kBF16 = 30,
};

// ggml's name of a type ("f16", "q4_K"); also for types this reader cannot
// load, "type N" for numbers ggml does not define.
std::string GgmlTypeName(uint32_t type);
inline std::string GgmlTypeName(GgmlType type) { return GgmlTypeName(static_cast<uint32_t>(type)); }
// Values per block (1 for f32, f16, bf16) and bytes per block of a supported
// type; 0 for any other value. A row's length must be a multiple of the block.
int64_t GgmlBlockValues(uint32_t type);
size_t GgmlBlockBytes(uint32_t type);
// Bytes of `values` values of a supported type (values a multiple of its block).
inline uint64_t GgmlBytes(GgmlType type, uint64_t values) {
  const auto t = static_cast<uint32_t>(type);
  return values / static_cast<uint64_t>(GgmlBlockValues(t)) * GgmlBlockBytes(t);
}
bool IsQuantized(GgmlType type);
// The block type of a quantized type; nullopt for f32, f16, bf16.
std::optional<kernels::QuantType> QuantTypeOf(GgmlType type);

// One metadata value. Integers are widened to (u)int64 and floats to double in
// memory; `type` remembers the on-disk type so a writer reproduces it exactly.
// Arrays hold their elements in `array`, all of type `element_type`.
struct GgufValue {
  GgufValueType type = GgufValueType::kUint32;
  GgufValueType element_type = GgufValueType::kUint8;
  std::variant<uint64_t, int64_t, double, bool, std::string> scalar;
  std::vector<GgufValue> array;

  static GgufValue U32(uint32_t v);
  static GgufValue I32(int32_t v);
  static GgufValue U64(uint64_t v);
  static GgufValue F32(float v);
  static GgufValue Bool(bool v);
  static GgufValue Str(std::string v);
  static GgufValue StrArray(std::vector<std::string> v);
  static GgufValue F32Array(const std::vector<float>& v);
  static GgufValue I32Array(const std::vector<int32_t>& v);

  bool is_integer() const;
  bool is_float() const;
  bool operator==(const GgufValue&) const = default;
};

}  // namespace tierkv::core
