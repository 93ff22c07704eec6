// A llama-architecture model loaded from GGUF for the CPU path.
//
// Every float weight is converted to f32 at load, so multi-token products
// (prefill) run on sgemm directly and conversion is paid once, not per product.
// F16 matrices are also kept as f16 for single-token products (decode): those
// only stream the weights, and f16 halves the bytes (about 1.5x the memory of
// f32 alone, for roughly twice the decode speed). Quantized matrices (Q8_0,
// Q4_0, Q4_K, Q6_K) keep the file's blocks and nothing else: they are
// multiplied as ggml's CPU backend multiplies them (kernels/quant_matmul.h).
// Matrices keep GGUF's layout: one row per output feature.
//
// Thread safety: immutable after Load(); share it freely between threads.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "core/llama_config.h"
#include "kernels/quant_blocks.h"
#include "kernels/quant_matmul.h"
#include "tierkv/keys.h"
#include "tierkv/status.h"

namespace tierkv::core {

// A weight matrix, [rows][cols] (one row per output feature). A float matrix
// is held in `f32`, and also in `f16` when the file stored it as f16, for the
// single-token products that are bound by reading weights from memory. A
// quantized one is held only in `blocks`: `rows` rows of type `quant`, or
// for Q4_0 with `grouped`, regrouped in 8 rows (kernels/quant_repack.h).
struct Matrix {
  std::vector<float> f32;
  std::vector<uint16_t> f16;
  std::optional<kernels::QuantType> quant;
  bool grouped = false;
  std::vector<std::byte> blocks;
  int rows = 0;
  int cols = 0;

  bool quantized() const { return quant.has_value(); }
  kernels::QuantWeights quant_weights() const {
    return {.type = *quant, .grouped = grouped, .data = blocks.data(), .rows = rows, .cols = cols};
  }
};

struct LlamaLayer {
  std::vector<float> attn_norm;  // [dim]
  Matrix wq;                     // [dim][dim]
  Matrix wk;                     // [kv_dim][dim]
  Matrix wv;                     // [kv_dim][dim]
  Matrix wo;                     // [dim][dim]
  std::vector<float> ffn_norm;   // [dim]
  Matrix w_gate;                 // [ffn_dim][dim]
  Matrix w_up;                   // [ffn_dim][dim]
  Matrix w_down;                 // [dim][ffn_dim]
};

class LlamaModel {
 public:
  // Opens, validates and converts. Errors name the file and the tensor.
  static Result<std::unique_ptr<LlamaModel>> Load(const std::string& path);

  const LlamaConfig& config() const { return config_; }
  // XXH3-128 of the whole file, 32 hex digits: names the weights for the KV namespace.
  const std::string& fingerprint() const { return fingerprint_; }

  // [vocab][dim] as f32; empty when the file's token_embd is quantized (use Embed).
  const std::vector<float>& token_embd() const { return token_embd_.f32; }
  // Token `token`'s embedding row, `dim` floats (dequantized as ggml's get_rows does).
  void Embed(TokenId token, float* out) const;
  const std::vector<LlamaLayer>& layers() const { return layers_; }
  const std::vector<float>& output_norm() const { return output_norm_; }
  // [vocab][dim]; token_embd when the file ties input and output embeddings.
  const Matrix& output() const { return output_.rows == 0 ? token_embd_ : output_; }
  // True when any matrix is quantized (those run on the CPU only).
  bool quantized() const { return quantized_; }
  // The tensor types of the file with their counts, for logs: "q4_K x 44, q6_K x 9, f32 x 17".
  const std::string& tensor_types() const { return tensor_types_; }

 private:
  LlamaModel() = default;

  LlamaConfig config_;
  std::string fingerprint_;
  Matrix token_embd_;
  std::vector<LlamaLayer> layers_;
  std::vector<float> output_norm_;
  Matrix output_;
  bool quantized_ = false;
  std::string tensor_types_;
};

}  // namespace tierkv::core
