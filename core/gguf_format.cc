#include "core/gguf_format.h"

namespace tierkv::core {

std::string_view GgmlTypeName(GgmlType type) {
  switch (type) {
    case GgmlType::kF32:
      return "f32";
    case GgmlType::kF16:
      return "f16";
    case GgmlType::kBF16:
      return "bf16";
  }
  return "unknown";
}

size_t GgmlTypeSize(uint32_t type) {
  switch (static_cast<GgmlType>(type)) {
    case GgmlType::kF32:
      return 4;
    case GgmlType::kF16:
    case GgmlType::kBF16:
      return 2;
  }
  return 0;
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
