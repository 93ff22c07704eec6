// A llama-architecture model loaded from GGUF for the CPU path.
//
// Every weight is converted to f32 at load: CPU matrix products then run on
// sgemm directly, and conversion is paid once instead of on every token (f16
// weights converted per product cost more than the memory they save here).
// Matrices keep GGUF's layout: one row per output feature.
//
// Thread safety: immutable after Load(); share it freely between threads.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "core/llama_config.h"
#include "tierkv/keys.h"
#include "tierkv/status.h"

namespace tierkv::core {

struct LlamaLayer {
  std::vector<float> attn_norm;  // [dim]
  std::vector<float> wq;         // [dim][dim]
  std::vector<float> wk;         // [kv_dim][dim]
  std::vector<float> wv;         // [kv_dim][dim]
  std::vector<float> wo;         // [dim][dim]
  std::vector<float> ffn_norm;   // [dim]
  std::vector<float> w_gate;     // [ffn_dim][dim]
  std::vector<float> w_up;       // [ffn_dim][dim]
  std::vector<float> w_down;     // [dim][ffn_dim]
};

class LlamaModel {
 public:
  // Opens, validates and converts. Errors name the file and the tensor.
  static Result<std::unique_ptr<LlamaModel>> Load(const std::string& path);

  const LlamaConfig& config() const { return config_; }
  // XXH3-128 of the whole file, 32 hex digits: names the weights for the KV namespace.
  const std::string& fingerprint() const { return fingerprint_; }

  const std::vector<float>& token_embd() const { return token_embd_; }  // [vocab][dim]
  const std::vector<LlamaLayer>& layers() const { return layers_; }
  const std::vector<float>& output_norm() const { return output_norm_; }
  // [vocab][dim]; token_embd when the file ties input and output embeddings.
  const std::vector<float>& output() const { return output_.empty() ? token_embd_ : output_; }

 private:
  LlamaModel() = default;

  LlamaConfig config_;
  std::string fingerprint_;
  std::vector<float> token_embd_;
  std::vector<LlamaLayer> layers_;
  std::vector<float> output_norm_;
  std::vector<float> output_;
};

}  // namespace tierkv::core
