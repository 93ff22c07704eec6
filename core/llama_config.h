// Hyperparameters of a llama-architecture model, as llama.cpp names them in
// GGUF metadata (llama.block_count, llama.embedding_length, ...).
#pragma once

#include <cstdint>

#include "core/gguf_reader.h"
#include "tierkv/status.h"

namespace tierkv::core {

inline constexpr float kDefaultRopeFreqBase = 10000.0f;
inline constexpr float kDefaultRmsEps = 1e-5f;

struct LlamaConfig {
  int n_layers = 0;
  int dim = 0;  // embedding_length
  int n_head = 0;
  int n_head_kv = 0;  // grouped-query attention: n_head % n_head_kv == 0
  int ffn_dim = 0;    // feed_forward_length
  int vocab = 0;
  int context_length = 0;
  int rot_dim = 0;  // rope.dimension_count; head_dim unless the file says otherwise
  float rope_freq_base = kDefaultRopeFreqBase;
  float rms_eps = kDefaultRmsEps;

  int head_dim() const { return dim / n_head; }
  int kv_dim() const { return n_head_kv * head_dim(); }

  // InvalidArgument naming the first inconsistent field.
  Status Validate() const;
  // Reads the llama.* keys; vocab comes from the token_embd tensor's shape.
  static Result<LlamaConfig> FromGguf(const GgufFile& file);
};

}  // namespace tierkv::core
