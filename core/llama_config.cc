#include "core/llama_config.h"

#include <string>

namespace tierkv::core {
namespace {

Status ReadInt(const GgufFile& f, const char* key, int* out) {
  auto v = f.GetUint(key);
  if (!v.ok()) return v.status();
  if (*v > static_cast<uint64_t>(INT32_MAX)) {
    return Status::InvalidArgument(f.path() + ": " + key + " is out of range");
  }
  *out = static_cast<int>(*v);
  return Status::Ok();
}

}  // namespace

Status LlamaConfig::Validate() const {
  auto bad = [](const std::string& what) {
    return Status::InvalidArgument("model config: " + what);
  };
  if (n_layers <= 0) return bad("block_count must be positive");
  if (dim <= 0 || n_head <= 0 || dim % n_head != 0) {
    return bad("embedding_length must be a positive multiple of head_count");
  }
  if (head_dim() % 2 != 0) return bad("head dimension must be even for rope");
  if (n_head_kv <= 0 || n_head % n_head_kv != 0) {
    return bad("head_count must be a multiple of head_count_kv");
  }
  if (ffn_dim <= 0) return bad("feed_forward_length must be positive");
  if (vocab <= 0) return bad("vocabulary must not be empty");
  if (context_length <= 0) return bad("context_length must be positive");
  if (rot_dim <= 0 || rot_dim > head_dim() || rot_dim % 2 != 0) {
    return bad("rope.dimension_count must be even and at most the head dimension");
  }
  if (!(rope_freq_base > 0.0f) || !(rms_eps > 0.0f))
    return bad("rope base and eps must be positive");
  return Status::Ok();
}

Result<LlamaConfig> LlamaConfig::FromGguf(const GgufFile& f) {
  auto arch = f.GetString("general.architecture");
  if (!arch.ok()) return arch.status();
  if (*arch != "llama") {
    return Status::Unsupported(f.path() + ": architecture \"" + *arch + "\", expected \"llama\"");
  }
  LlamaConfig c;
  TIERKV_RETURN_IF_ERROR(ReadInt(f, "llama.block_count", &c.n_layers));
  TIERKV_RETURN_IF_ERROR(ReadInt(f, "llama.embedding_length", &c.dim));
  TIERKV_RETURN_IF_ERROR(ReadInt(f, "llama.attention.head_count", &c.n_head));
  TIERKV_RETURN_IF_ERROR(ReadInt(f, "llama.feed_forward_length", &c.ffn_dim));
  TIERKV_RETURN_IF_ERROR(ReadInt(f, "llama.context_length", &c.context_length));
  // Optional keys take llama.cpp's defaults.
  c.n_head_kv = c.n_head;
  if (f.Find("llama.attention.head_count_kv") != nullptr) {
    TIERKV_RETURN_IF_ERROR(ReadInt(f, "llama.attention.head_count_kv", &c.n_head_kv));
  }
  c.rot_dim = c.n_head > 0 ? c.dim / c.n_head : 0;
  if (f.Find("llama.rope.dimension_count") != nullptr) {
    TIERKV_RETURN_IF_ERROR(ReadInt(f, "llama.rope.dimension_count", &c.rot_dim));
  }
  if (f.Find("llama.rope.freq_base") != nullptr) {
    auto v = f.GetFloat("llama.rope.freq_base");
    if (!v.ok()) return v.status();
    c.rope_freq_base = static_cast<float>(*v);
  }
  if (f.Find("llama.attention.layer_norm_rms_epsilon") != nullptr) {
    auto v = f.GetFloat("llama.attention.layer_norm_rms_epsilon");
    if (!v.ok()) return v.status();
    c.rms_eps = static_cast<float>(*v);
  }
  const GgufTensorInfo* embd = f.FindTensor("token_embd.weight");
  if (embd == nullptr) return Status::NotFound(f.path() + ": missing tensor token_embd.weight");
  if (embd->dims.size() != 2) {
    return Status::InvalidArgument(f.path() + ": tensor token_embd.weight has shape " +
                                   ShapeString(embd->dims) + ", expected 2 dims");
  }
  c.vocab = static_cast<int>(embd->dims[1]);
  Status s = c.Validate();
  if (!s.ok()) return Status(s.code(), f.path() + ": " + std::string(s.message()));
  return c;
}

}  // namespace tierkv::core
