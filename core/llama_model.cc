#include "core/llama_model.h"

#include <xxhash.h>

#include <cstring>

#include "core/gguf_reader.h"
#include "kernels/half.h"

namespace tierkv::core {
namespace {

Status ToF32(const GgufTensorInfo& t, std::vector<float>* out) {
  out->resize(static_cast<size_t>(t.elements()));
  const auto* src16 = reinterpret_cast<const uint16_t*>(t.data.data());
  switch (t.type) {
    case GgmlType::kF32:
      std::memcpy(out->data(), t.data.data(), t.data.size());
      return Status::Ok();
    case GgmlType::kF16:
      kernels::F16ToF32Ref(src16, out->data(), out->size());
      return Status::Ok();
    case GgmlType::kBF16:
      kernels::Bf16ToF32Ref(src16, out->data(), out->size());
      return Status::Ok();
  }
  return Status::Unsupported("tensor " + t.name + ": unsupported type");
}

// Loads tensor `name`, which must have shape `dims` (fastest-varying first).
Status LoadTensor(const GgufFile& f, const std::string& name, std::initializer_list<int64_t> dims,
                  std::vector<float>* out) {
  auto t = f.RequireTensor(name, std::span<const int64_t>(dims.begin(), dims.size()));
  if (!t.ok()) return t.status();
  return ToF32(**t, out);
}

// Loads matrix `name` of `rows` rows of `cols` values.
Status LoadMatrix(const GgufFile& f, const std::string& name, int64_t rows, int64_t cols,
                  Matrix* out) {
  const int64_t dims[] = {cols, rows};
  auto t = f.RequireTensor(name, dims);
  if (!t.ok()) return t.status();
  out->rows = static_cast<int>(rows);
  out->cols = static_cast<int>(cols);
  if ((*t)->type == GgmlType::kF16) {
    out->f16.resize(static_cast<size_t>(rows * cols));
    std::memcpy(out->f16.data(), (*t)->data.data(), (*t)->data.size());
  }
  return ToF32(**t, &out->f32);
}

}  // namespace

Result<std::unique_ptr<LlamaModel>> LlamaModel::Load(const std::string& path) {
  auto file = GgufFile::Open(path);
  if (!file.ok()) return file.status();
  const GgufFile& f = **file;
  auto config = LlamaConfig::FromGguf(f);
  if (!config.ok()) return config.status();

  std::unique_ptr<LlamaModel> m(new LlamaModel());
  m->config_ = *config;
  const LlamaConfig& c = m->config_;
  const XXH128_hash_t h = XXH3_128bits(f.bytes().data(), f.bytes().size());
  m->fingerprint_ = ToHex(Key128{h.low64, h.high64});

  const int64_t dim = c.dim, kv = c.kv_dim(), ffn = c.ffn_dim, vocab = c.vocab;
  TIERKV_RETURN_IF_ERROR(LoadMatrix(f, "token_embd.weight", vocab, dim, &m->token_embd_));
  m->layers_.resize(c.n_layers);
  for (int l = 0; l < c.n_layers; ++l) {
    const std::string p = "blk." + std::to_string(l) + ".";
    LlamaLayer& L = m->layers_[l];
    TIERKV_RETURN_IF_ERROR(LoadTensor(f, p + "attn_norm.weight", {dim}, &L.attn_norm));
    TIERKV_RETURN_IF_ERROR(LoadMatrix(f, p + "attn_q.weight", dim, dim, &L.wq));
    TIERKV_RETURN_IF_ERROR(LoadMatrix(f, p + "attn_k.weight", kv, dim, &L.wk));
    TIERKV_RETURN_IF_ERROR(LoadMatrix(f, p + "attn_v.weight", kv, dim, &L.wv));
    TIERKV_RETURN_IF_ERROR(LoadMatrix(f, p + "attn_output.weight", dim, dim, &L.wo));
    TIERKV_RETURN_IF_ERROR(LoadTensor(f, p + "ffn_norm.weight", {dim}, &L.ffn_norm));
    TIERKV_RETURN_IF_ERROR(LoadMatrix(f, p + "ffn_gate.weight", ffn, dim, &L.w_gate));
    TIERKV_RETURN_IF_ERROR(LoadMatrix(f, p + "ffn_up.weight", ffn, dim, &L.w_up));
    TIERKV_RETURN_IF_ERROR(LoadMatrix(f, p + "ffn_down.weight", dim, ffn, &L.w_down));
  }
  TIERKV_RETURN_IF_ERROR(LoadTensor(f, "output_norm.weight", {dim}, &m->output_norm_));
  if (f.FindTensor("output.weight") != nullptr) {
    TIERKV_RETURN_IF_ERROR(LoadMatrix(f, "output.weight", vocab, dim, &m->output_));
  }
  return m;
}

}  // namespace tierkv::core
