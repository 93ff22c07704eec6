// Writes a llama-architecture GGUF with seeded random weights, laid out and
// named as llama.cpp's converter writes them, with a minimal SentencePiece-style
// tokenizer section so other GGUF readers accept the file. For tests and demos:
// nothing is downloaded.
#pragma once

#include <cstdint>
#include <optional>
#include <string>

#include "core/llama_config.h"
#include "core/tokenizer.h"
#include "core/weight_format.h"
#include "tierkv/status.h"

namespace tierkv::core {

// Standard deviation of matrix weights: small enough that activations stay
// well scaled through many layers without real training.
inline constexpr float kRandomWeightStd = 0.02f;

struct RandomModelOptions {
  LlamaConfig config;  // config.vocab is the tokenizer's size when `tokenizer` is set
  WeightFormat format = WeightFormat::kF16;  // of the 2-D weights; 1-D norms are always f32
  uint64_t seed = 0;
  float weight_std = kRandomWeightStd;
  // A real vocabulary (tierkv-mkmodel --tokenizer); without one the file gets
  // <unk>, <s>, </s>, the 256 byte pieces and "\u2581tokN" pieces.
  std::optional<TokenizerSpec> tokenizer;
};

Status WriteRandomLlamaGguf(const RandomModelOptions& options, const std::string& path);

}  // namespace tierkv::core
