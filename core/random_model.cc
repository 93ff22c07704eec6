#include "core/random_model.h"

#include <cmath>
#include <cstring>
#include <vector>

#include "core/gguf_writer.h"
#include "kernels/half.h"

namespace tierkv::core {
namespace {

constexpr int kSpecialTokens = 3;  // <unk>, <s>, </s>
constexpr int kByteTokens = 256;
// general.quantization_version llama.cpp writes beside quantized tensors (GGML_QNT_VERSION).
constexpr uint32_t kQuantizationVersion = 2;

// SplitMix64 seeds a xoshiro256+ stream; Box-Muller turns it into normals.
// Fast enough to fill a few hundred million weights in seconds, and the same
// numbers on every platform (unlike std::normal_distribution).
class Rng {
 public:
  explicit Rng(uint64_t seed) {
    for (uint64_t& s : s_) {
      seed += 0x9E3779B97F4A7C15ull;
      uint64_t z = seed;
      z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
      z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
      s = z ^ (z >> 31);
    }
  }
  double Uniform() {  // in (0, 1]
    const uint64_t result = s_[0] + s_[3];
    const uint64_t t = s_[1] << 17;
    s_[2] ^= s_[0];
    s_[3] ^= s_[1];
    s_[1] ^= s_[2];
    s_[0] ^= s_[3];
    s_[2] ^= t;
    s_[3] = (s_[3] << 45) | (s_[3] >> 19);
    return (static_cast<double>(result >> 11) + 1.0) * 0x1.0p-53;
  }
  float Normal() {
    const double r = std::sqrt(-2.0 * std::log(Uniform()));
    return static_cast<float>(r * std::cos(2.0 * M_PI * Uniform()));
  }

 private:
  uint64_t s_[4];
};

class ModelBuilder {
 public:
  explicit ModelBuilder(const RandomModelOptions& o) : o_(o), rng_(o.seed) {}

  // `layer` is the block the matrix belongs to (-1 outside blocks).
  Status Matrix(const std::string& name, int64_t cols, int64_t rows, int layer = -1) {
    std::vector<float> v(static_cast<size_t>(cols * rows));
    for (float& x : v) x = rng_.Normal() * o_.weight_std;
    const GgmlType type = MatrixTypeFor(o_.format, name, layer, o_.config.n_layers, cols);
    return w_.AddTensor(name, {cols, rows}, type, EncodeMatrix(type, v.data(), rows, cols));
  }
  // Norm weights near 1, as trained models have them.
  Status Norm(const std::string& name, int64_t n) {
    std::vector<float> v(static_cast<size_t>(n));
    for (float& x : v) x = 1.0f + rng_.Normal() * o_.weight_std;
    return w_.AddTensor(name, {n}, GgmlType::kF32, EncodeMatrix(GgmlType::kF32, v.data(), 1, n));
  }
  GgufWriter& writer() { return w_; }

 private:
  const RandomModelOptions& o_;
  Rng rng_;
  GgufWriter w_;
};

// The minimal vocabulary of a random model: enough for other readers to accept it.
TokenizerSpec MinimalTokenizer(int vocab) {
  TokenizerSpec spec;
  spec.pieces.reserve(vocab);
  for (int i = 0; i < vocab; ++i) {
    VocabPiece p;
    if (i < kSpecialTokens) {
      static const char* kNames[] = {"<unk>", "<s>", "</s>"};
      p.text = kNames[i];
      p.type = i == 0 ? TokenType::kUnknown : TokenType::kControl;
    } else if (i < kSpecialTokens + kByteTokens) {
      char name[8];
      std::snprintf(name, sizeof(name), "<0x%02X>", i - kSpecialTokens);
      p.text = name;
      p.type = TokenType::kByte;
    } else {
      p.text = "\xe2\x96\x81tok" + std::to_string(i);  // "▁tokN", SentencePiece style
    }
    p.score = -static_cast<float>(i);
    spec.pieces.push_back(std::move(p));
  }
  spec.unk = 0;
  spec.bos = 1;
  spec.eos = 2;
  return spec;
}

}  // namespace

Status WriteRandomLlamaGguf(const RandomModelOptions& options, const std::string& path) {
  RandomModelOptions o = options;
  LlamaConfig& c = o.config;
  if (o.tokenizer) c.vocab = static_cast<int>(o.tokenizer->pieces.size());
  TIERKV_RETURN_IF_ERROR(c.Validate());
  if (!o.tokenizer && c.vocab < kSpecialTokens) {
    return Status::InvalidArgument("vocab must hold <unk>, <s>, </s>");
  }
  ModelBuilder b(o);
  GgufWriter& w = b.writer();
  w.SetMetadata("general.architecture", GgufValue::Str("llama"));
  w.SetMetadata("general.name", GgufValue::Str("tierkv-random-" + std::to_string(o.seed)));
  w.SetMetadata("general.file_type", GgufValue::U32(LlamaFileType(o.format)));
  if (IsQuantized(o.format)) {
    w.SetMetadata("general.quantization_version", GgufValue::U32(kQuantizationVersion));
  }
  w.SetMetadata("llama.vocab_size", GgufValue::U32(c.vocab));
  w.SetMetadata("llama.context_length", GgufValue::U32(c.context_length));
  w.SetMetadata("llama.embedding_length", GgufValue::U32(c.dim));
  w.SetMetadata("llama.block_count", GgufValue::U32(c.n_layers));
  w.SetMetadata("llama.feed_forward_length", GgufValue::U32(c.ffn_dim));
  w.SetMetadata("llama.rope.dimension_count", GgufValue::U32(c.rot_dim));
  w.SetMetadata("llama.attention.head_count", GgufValue::U32(c.n_head));
  w.SetMetadata("llama.attention.head_count_kv", GgufValue::U32(c.n_head_kv));
  w.SetMetadata("llama.attention.layer_norm_rms_epsilon", GgufValue::F32(c.rms_eps));
  w.SetMetadata("llama.rope.freq_base", GgufValue::F32(c.rope_freq_base));
  (o.tokenizer ? *o.tokenizer : MinimalTokenizer(c.vocab)).WriteGguf(w);

  TIERKV_RETURN_IF_ERROR(b.Matrix("token_embd.weight", c.dim, c.vocab));
  for (int l = 0; l < c.n_layers; ++l) {
    const std::string p = "blk." + std::to_string(l) + ".";
    TIERKV_RETURN_IF_ERROR(b.Norm(p + "attn_norm.weight", c.dim));
    TIERKV_RETURN_IF_ERROR(b.Matrix(p + "attn_q.weight", c.dim, c.dim, l));
    TIERKV_RETURN_IF_ERROR(b.Matrix(p + "attn_k.weight", c.dim, c.kv_dim(), l));
    TIERKV_RETURN_IF_ERROR(b.Matrix(p + "attn_v.weight", c.dim, c.kv_dim(), l));
    TIERKV_RETURN_IF_ERROR(b.Matrix(p + "attn_output.weight", c.dim, c.dim, l));
    TIERKV_RETURN_IF_ERROR(b.Norm(p + "ffn_norm.weight", c.dim));
    TIERKV_RETURN_IF_ERROR(b.Matrix(p + "ffn_gate.weight", c.dim, c.ffn_dim, l));
    TIERKV_RETURN_IF_ERROR(b.Matrix(p + "ffn_up.weight", c.dim, c.ffn_dim, l));
    TIERKV_RETURN_IF_ERROR(b.Matrix(p + "ffn_down.weight", c.ffn_dim, c.dim, l));
  }
  TIERKV_RETURN_IF_ERROR(b.Norm("output_norm.weight", c.dim));
  TIERKV_RETURN_IF_ERROR(b.Matrix("output.weight", c.dim, c.vocab));
  return w.Write(path);
}

}  // namespace tierkv::core
