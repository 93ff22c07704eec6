#include "core/weight_format.h"

#include <algorithm>
#include <cstring>
#include <string>

#include "kernels/half.h"
#include "kernels/parallel_for.h"
#include "kernels/quant_ref.h"

namespace tierkv::core {
namespace {

// llama_ftype numbers (llama.h).
constexpr uint32_t kFtypeF32 = 0;
constexpr uint32_t kFtypeF16 = 1;
constexpr uint32_t kFtypeQ4_0 = 2;
constexpr uint32_t kFtypeQ8_0 = 7;
constexpr uint32_t kFtypeQ4_K_M = 15;
constexpr uint32_t kFtypeBF16 = 32;

// Rows quantized per ParallelFor task.
constexpr int64_t kRowsPerTask = 16;

struct NamedFormat {
  WeightFormat format;
  std::string_view name;
};
constexpr NamedFormat kFormats[] = {
    {WeightFormat::kF32, "f32"},   {WeightFormat::kF16, "f16"},   {WeightFormat::kBF16, "bf16"},
    {WeightFormat::kQ8_0, "q8_0"}, {WeightFormat::kQ4_0, "q4_0"}, {WeightFormat::kQ4_K_M, "q4_k_m"},
};

// llama.cpp's use_more_bits: the layers Q4_K_M gives Q6_K attn_v and ffn_down.
bool UseMoreBits(int layer, int n_layers) {
  return layer < n_layers / 8 || layer >= 7 * n_layers / 8 || (layer - n_layers / 8) % 3 == 2;
}

bool EndsWith(std::string_view s, std::string_view suffix) {
  return s.size() >= suffix.size() && s.substr(s.size() - suffix.size()) == suffix;
}

bool Fits(GgmlType type, int64_t cols) {
  return cols % GgmlBlockValues(static_cast<uint32_t>(type)) == 0;
}

}  // namespace

std::string_view WeightFormatName(WeightFormat format) {
  for (const NamedFormat& f : kFormats) {
    if (f.format == format) return f.name;
  }
  return "unknown";
}

std::optional<WeightFormat> ParseWeightFormat(std::string_view name) {
  for (const NamedFormat& f : kFormats) {
    if (f.name == name) return f.format;
  }
  return std::nullopt;
}

uint32_t LlamaFileType(WeightFormat format) {
  switch (format) {
    case WeightFormat::kF32:
      return kFtypeF32;
    case WeightFormat::kF16:
      return kFtypeF16;
    case WeightFormat::kBF16:
      return kFtypeBF16;
    case WeightFormat::kQ8_0:
      return kFtypeQ8_0;
    case WeightFormat::kQ4_0:
      return kFtypeQ4_0;
    case WeightFormat::kQ4_K_M:
      return kFtypeQ4_K_M;
  }
  return kFtypeF32;
}

bool IsQuantized(WeightFormat format) {
  return format == WeightFormat::kQ8_0 || format == WeightFormat::kQ4_0 ||
         format == WeightFormat::kQ4_K_M;
}

GgmlType MatrixTypeFor(WeightFormat format, std::string_view name, int layer, int n_layers,
                       int64_t cols) {
  const bool output = name == "output.weight";
  GgmlType type = GgmlType::kF16;
  switch (format) {
    case WeightFormat::kF32:
      return GgmlType::kF32;
    case WeightFormat::kF16:
      return GgmlType::kF16;
    case WeightFormat::kBF16:
      return GgmlType::kBF16;
    case WeightFormat::kQ8_0:
      type = GgmlType::kQ8_0;
      break;
    case WeightFormat::kQ4_0:
      type = output ? GgmlType::kQ6_K : GgmlType::kQ4_0;
      break;
    case WeightFormat::kQ4_K_M: {
      const bool more_bits =
          (EndsWith(name, "attn_v.weight") || EndsWith(name, "ffn_down.weight")) &&
          UseMoreBits(layer, n_layers);
      type = output || more_bits ? GgmlType::kQ6_K : GgmlType::kQ4_K;
      break;
    }
  }
  if (!Fits(type, cols)) type = GgmlType::kQ8_0;
  if (!Fits(type, cols)) type = GgmlType::kF16;
  return type;
}

std::vector<std::byte> EncodeMatrix(GgmlType type, const float* x, int64_t rows, int64_t cols) {
  const uint64_t values = static_cast<uint64_t>(rows * cols);
  std::vector<std::byte> out(GgmlBytes(type, values));
  switch (type) {
    case GgmlType::kF32:
      std::memcpy(out.data(), x, out.size());
      return out;
    case GgmlType::kF16:
      kernels::F32ToF16Ref(x, reinterpret_cast<uint16_t*>(out.data()), values);
      return out;
    case GgmlType::kBF16:
      kernels::F32ToBf16Ref(x, reinterpret_cast<uint16_t*>(out.data()), values);
      return out;
    default:
      break;
  }
  const kernels::QuantType q = *QuantTypeOf(type);
  const size_t row_bytes = kernels::QuantRowBytes(q, cols);
  const int tasks = static_cast<int>((rows + kRowsPerTask - 1) / kRowsPerTask);
  kernels::ParallelFor(tasks, [&](int t) {
    const int64_t end = std::min(rows, (t + 1) * kRowsPerTask);
    for (int64_t r = t * kRowsPerTask; r < end; ++r) {
      kernels::QuantizeRowRef(q, x + r * cols, out.data() + r * row_bytes, cols);
    }
  });
  return out;
}

}  // namespace tierkv::core
