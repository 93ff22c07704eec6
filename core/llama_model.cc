#include "core/llama_model.h"

#include <xxhash.h>

#include <algorithm>
#include <cstring>
#include <map>

#include "core/gguf_reader.h"
#include "kernels/half.h"
#include "kernels/quant_ref.h"
#include "kernels/quant_repack.h"

namespace tierkv::core {
namespace {

Status ToF32(const GgufTensorInfo& t, std::vector<float>* out) {
  if (IsQuantized(t.type)) {
    return Status::Unsupported("tensor " + t.name + " is " + GgmlTypeName(t.type) +
                               "; only matrices may be quantized");
  }
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
    default:
      break;
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

// Loads matrix `name` of `rows` rows of `cols` values. Q4_0 matrices only
// multiplied (not read row by row, as token_embd is) are regrouped in 8 rows
// for the matrix-vector kernels (kernels/quant_repack.h).
Status LoadMatrix(const GgufFile& f, const std::string& name, int64_t rows, int64_t cols,
                  Matrix* out, bool rows_read_alone = false) {
  const int64_t dims[] = {cols, rows};
  auto t = f.RequireTensor(name, dims);
  if (!t.ok()) return t.status();
  out->rows = static_cast<int>(rows);
  out->cols = static_cast<int>(cols);
  if (const auto quant = QuantTypeOf((*t)->type)) {
    out->quant = quant;
    out->grouped = *quant == kernels::QuantType::kQ4_0 && !rows_read_alone &&
                   rows % kernels::kQ4_0GroupRows == 0;
    if (out->grouped) {
      out->blocks =
          kernels::RepackQ4_0x8(reinterpret_cast<const kernels::BlockQ4_0*>((*t)->data.data()),
                                out->rows, out->cols / kernels::kQ4_0BlockValues);
    } else {
      out->blocks.assign((*t)->data.begin(), (*t)->data.end());
    }
    return Status::Ok();
  }
  if ((*t)->type == GgmlType::kF16) {
    out->f16.resize(static_cast<size_t>(rows * cols));
    std::memcpy(out->f16.data(), (*t)->data.data(), (*t)->data.size());
  }
  return ToF32(**t, &out->f32);
}

// "q4_K x 44, q6_K x 9, f32 x 17": the file's tensor types, most common first.
std::string SummarizeTypes(const GgufFile& f) {
  std::map<GgmlType, int> counts;
  for (const GgufTensorInfo& t : f.tensors()) ++counts[t.type];
  std::vector<std::pair<int, GgmlType>> order;
  for (const auto& [type, n] : counts) order.emplace_back(-n, type);
  std::sort(order.begin(), order.end());
  std::string out;
  for (const auto& [n, type] : order) {
    out += (out.empty() ? "" : ", ") + GgmlTypeName(type) + " x " + std::to_string(-n);
  }
  return out;
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
  TIERKV_RETURN_IF_ERROR(LoadMatrix(f, "token_embd.weight", vocab, dim, &m->token_embd_,
                                    /*rows_read_alone=*/true));
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
  m->quantized_ = m->token_embd_.quantized() || m->output_.quantized();
  for (const LlamaLayer& L : m->layers_) {
    for (const Matrix* w : {&L.wq, &L.wk, &L.wv, &L.wo, &L.w_gate, &L.w_up, &L.w_down}) {
      m->quantized_ = m->quantized_ || w->quantized();
    }
  }
  m->tensor_types_ = SummarizeTypes(f);
  return m;
}

void LlamaModel::Embed(TokenId token, float* out) const {
  const size_t dim = static_cast<size_t>(config_.dim);
  if (token_embd_.quantized()) {
    const size_t row_bytes = kernels::QuantRowBytes(*token_embd_.quant, config_.dim);
    kernels::DequantizeRowRef(*token_embd_.quant, token_embd_.blocks.data() + token * row_bytes,
                              out, config_.dim);
  } else {
    std::memcpy(out, &token_embd_.f32[token * dim], sizeof(float) * dim);
  }
}

}  // namespace tierkv::core
