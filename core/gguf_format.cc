#include "core/gguf_format.h"

#include <iterator>

#include "kernels/quant_blocks.h"

namespace tierkv::core {

namespace {

// ggml.h's numbering, for messages about types this reader cannot load.
constexpr const char* kGgmlTypeNames[] = {
    "f32",     "f16",   "q4_0",   "q4_1",  "type 4",  "type 5",  "q5_0",    "q5_1",    "q8_0",
    "q8_1",    "q2_K",  "q3_K",   "q4_K",  "q5_K",    "q6_K",    "q8_K",    "iq2_xxs", "iq2_xs",
    "iq3_xxs", "iq1_s", "iq4_nl", "iq3_s", "iq2_s",   "iq4_xs",  "i8",      "i16",     "i32",
    "i64",     "f64",   "iq1_m",  "bf16",  "type 31", "type 32", "type 33", "tq1_0",   "tq2_0"};

}  // namespace

std::string GgmlTypeName(uint32_t type) {
  if (type < std::size(kGgmlTypeNames)) return kGgmlTypeNames[type];
  return "type " + std::to_string(type);
}

int64_t GgmlBlockValues(uint32_t type) {
  switch (static_cast<GgmlType>(type)) {
    case GgmlType::kF32:
    case GgmlType::kF16:
    case GgmlType::kBF16:
      return 1;
    case GgmlType::kQ4_0:
      return kernels::QuantBlockValues(kernels::QuantType::kQ4_0);
    case GgmlType::kQ8_0:
      return kernels::QuantBlockValues(kernels::QuantType::kQ8_0);
    case GgmlType::kQ4_K:
      return kernels::QuantBlockValues(kernels::QuantType::kQ4K);
    case GgmlType::kQ6_K:
      return kernels::QuantBlockValues(kernels::QuantType::kQ6K);
  }
  return 0;
}

size_t GgmlBlockBytes(uint32_t type) {
  switch (static_cast<GgmlType>(type)) {
    case GgmlType::kF32:
      return 4;
    case GgmlType::kF16:
    case GgmlType::kBF16:
      return 2;
    case GgmlType::kQ4_0:
      return kernels::QuantBlockBytes(kernels::QuantType::kQ4_0);
    case GgmlType::kQ8_0:
      return kernels::QuantBlockBytes(kernels::QuantType::kQ8_0);
    case GgmlType::kQ4_K:
      return kernels::QuantBlockBytes(kernels::QuantType::kQ4K);
    case GgmlType::kQ6_K:
      return kernels::QuantBlockBytes(kernels::QuantType::kQ6K);
  }
  return 0;
}

bool IsQuantized(GgmlType type) { return QuantTypeOf(type).has_value(); }

std::optional<kernels::QuantType> QuantTypeOf(GgmlType type) {
  switch (type) {
    case GgmlType::kQ4_0:
      return kernels::QuantType::kQ4_0;
    case GgmlType::kQ8_0:
      return kernels::QuantType::kQ8_0;
    case GgmlType::kQ4_K:
      return kernels::QuantType::kQ4K;
    case GgmlType::kQ6_K:
      return kernels::QuantType::kQ6K;
    case GgmlType::kF32:
    case GgmlType::kF16:
    case GgmlType::kBF16:
      break;
  }
  return std::nullopt;
}

GgufValue GgufValue::U32(uint32_t v) {
  GgufValue out;
  out.type = GgufValueType::kUint32;
  out.scalar = static_cast<uint64_t>(v);
  return out;
}

GgufValue GgufValue::I32(int32_t v) {
  GgufValue out;
  out.type = GgufValueType::kInt32;
  out.scalar = static_cast<int64_t>(v);
  return out;
}

GgufValue GgufValue::U64(uint64_t v) {
  GgufValue out;
  out.type = GgufValueType::kUint64;
  out.scalar = v;
  return out;
}

GgufValue GgufValue::F32(float v) {
  GgufValue out;
  out.type = GgufValueType::kFloat32;
  out.scalar = static_cast<double>(v);
  return out;
}

GgufValue GgufValue::Bool(bool v) {
  GgufValue out;
  out.type = GgufValueType::kBool;
  out.scalar = v;
  return out;
}

GgufValue GgufValue::Str(std::string v) {
  GgufValue out;
  out.type = GgufValueType::kString;
  out.scalar = std::move(v);
  return out;
}

GgufValue GgufValue::StrArray(std::vector<std::string> v) {
  GgufValue out;
  out.type = GgufValueType::kArray;
  out.element_type = GgufValueType::kString;
  out.array.reserve(v.size());
  for (std::string& s : v) out.array.push_back(Str(std::move(s)));
  return out;
}

GgufValue GgufValue::F32Array(const std::vector<float>& v) {
  GgufValue out;
  out.type = GgufValueType::kArray;
  out.element_type = GgufValueType::kFloat32;
  out.array.reserve(v.size());
  for (float f : v) out.array.push_back(F32(f));
  return out;
}

GgufValue GgufValue::I32Array(const std::vector<int32_t>& v) {
  GgufValue out;
  out.type = GgufValueType::kArray;
  out.element_type = GgufValueType::kInt32;
  out.array.reserve(v.size());
  for (int32_t i : v) out.array.push_back(I32(i));
  return out;
}

bool GgufValue::is_integer() const {
  return std::holds_alternative<uint64_t>(scalar) || std::holds_alternative<int64_t>(scalar);
}

bool GgufValue::is_float() const { return std::holds_alternative<double>(scalar); }

}  // namespace tierkv::core
