#include "core/llama_runner_cuda.h"

#include <cmath>
#include <cstring>
#include <string>

#include "kernels/kv_cache_write.cuh"
#include "kernels/paged_attention.cuh"
#include "kernels/rmsnorm.cuh"
#include "kernels/rope.cuh"
#include "kernels/swiglu.cuh"

namespace tierkv::core {
namespace {

using kernels::CudaStatus;
using kernels::DeviceBuffer;

Result<DeviceBuffer> UploadFloats(const std::vector<float>& host) {
  TIERKV_ASSIGN_OR_RETURN(DeviceBuffer buf, DeviceBuffer::Allocate(host.size() * sizeof(float)));
  TIERKV_CUDA_RETURN_IF_ERROR(
      cudaMemcpy(buf.get(), host.data(), host.size() * sizeof(float), cudaMemcpyHostToDevice));
  return buf;
}

kernels::AttentionShape ShapeOf(const LlamaConfig& c) {
  return {c.n_head, c.n_head_kv, c.head_dim(), 1.0f / std::sqrt(static_cast<float>(c.head_dim()))};
}

}  // namespace

Result<std::unique_ptr<CudaPagePool>> CudaPagePool::Create(int n_layers, int kv_dim,
                                                           int block_tokens, kernels::KvDtype dtype,
                                                           int n_pages) {
  if (n_layers <= 0 || kv_dim <= 0 || block_tokens <= 0 || n_pages <= 0) {
    return Status::InvalidArgument("cuda page pool: every dimension must be positive");
  }
  std::unique_ptr<CudaPagePool> pool(new CudaPagePool());
  pool->n_layers_ = n_layers;
  pool->kv_dim_ = kv_dim;
  pool->block_tokens_ = block_tokens;
  pool->dtype_ = dtype;
  pool->n_pages_ = n_pages;
  pool->page_bytes_ =
      static_cast<size_t>(n_layers) * 2 * block_tokens * kernels::KvRowBytes(dtype, kv_dim);
  TIERKV_ASSIGN_OR_RETURN(pool->pages_, DeviceBuffer::Allocate(pool->page_bytes_ * n_pages));
  // Highest index on top: pages are handed out 0, 1, 2, ... from a fresh pool.
  for (int p = n_pages - 1; p >= 0; --p) pool->free_.push_back(p);
  return pool;
}

Result<int32_t> CudaPagePool::Allocate() {
  if (free_.empty()) {
    return Status::ResourceExhausted("all " + std::to_string(n_pages_) + " GPU KV pages in use");
  }
  const int32_t page = free_.back();
  free_.pop_back();
  return page;
}

void CudaPagePool::Free(int32_t page) { free_.push_back(page); }

kernels::PagedKv CudaPagePool::layer(int layer) {
  const size_t rows_bytes =
      static_cast<size_t>(block_tokens_) * kernels::KvRowBytes(dtype_, kv_dim_);
  std::byte* k = base() + static_cast<size_t>(layer) * 2 * rows_bytes;
  const auto page_units = static_cast<int64_t>(page_bytes_ / kernels::KvUnitBytes(dtype_));
  return {k, k + rows_bytes, page_units, block_tokens_, kv_dim_, dtype_};
}

CudaKvSequence::~CudaKvSequence() {
  for (int32_t page : block_table_) pool_->Free(page);
}

Status CudaKvSequence::Reserve(int n_tokens, cudaStream_t stream) {
  const size_t needed = (n_tokens + pool_->block_tokens() - 1) / pool_->block_tokens();
  if (needed <= block_table_.size() && device_table_.size() >= needed * sizeof(int32_t)) {
    return Status::Ok();
  }
  while (block_table_.size() < needed) {
    TIERKV_ASSIGN_OR_RETURN(int32_t page, pool_->Allocate());
    block_table_.push_back(page);
  }
  // The device copy is replaced whole: tables are a few hundred entries, and
  // the old buffer may still be read by queued kernels, so synchronize first.
  TIERKV_CUDA_RETURN_IF_ERROR(cudaStreamSynchronize(stream));
  TIERKV_ASSIGN_OR_RETURN(device_table_,
                          DeviceBuffer::Allocate(block_table_.size() * sizeof(int32_t)));
  TIERKV_CUDA_RETURN_IF_ERROR(cudaMemcpyAsync(device_table_.get(), block_table_.data(),
                                              block_table_.size() * sizeof(int32_t),
                                              cudaMemcpyHostToDevice, stream));
  return CudaStatus(cudaStreamSynchronize(stream), "block table upload");
}

Result<std::unique_ptr<CudaLlamaRunner>> CudaLlamaRunner::Create(const LlamaModel& model) {
  if (model.quantized()) {
    return Status::Unsupported("quantized weights (" + model.tensor_types() +
                               ") run on the CPU only: use --device cpu");
  }
  TIERKV_RETURN_IF_ERROR(kernels::CheckAttentionShape(ShapeOf(model.config())));
  TIERKV_ASSIGN_OR_RETURN(int devices, kernels::CudaDeviceCount());
  (void)devices;
  std::unique_ptr<CudaLlamaRunner> runner(new CudaLlamaRunner(model));
  TIERKV_CUDA_RETURN_IF_ERROR(cudaStreamCreateWithFlags(&runner->stream_, cudaStreamNonBlocking));
  TIERKV_ASSIGN_OR_RETURN(kernels::CublasMatMul blas,
                          kernels::CublasMatMul::Create(runner->stream_));
  runner->blas_ = std::make_unique<kernels::CublasMatMul>(std::move(blas));
  TIERKV_RETURN_IF_ERROR(runner->Upload());
  return runner;
}

CudaLlamaRunner::~CudaLlamaRunner() {
  if (stream_ != nullptr) {
    kernels::IgnoreCudaError(cudaStreamSynchronize(stream_));
    kernels::IgnoreCudaError(cudaStreamDestroy(stream_));
  }
}

Status CudaLlamaRunner::Upload() {
  for (const LlamaLayer& L : model_.layers()) {
    DeviceLayer d;
    TIERKV_ASSIGN_OR_RETURN(d.attn_norm, UploadFloats(L.attn_norm));
    TIERKV_ASSIGN_OR_RETURN(d.wq, UploadFloats(L.wq.f32));
    TIERKV_ASSIGN_OR_RETURN(d.wk, UploadFloats(L.wk.f32));
    TIERKV_ASSIGN_OR_RETURN(d.wv, UploadFloats(L.wv.f32));
    TIERKV_ASSIGN_OR_RETURN(d.wo, UploadFloats(L.wo.f32));
    TIERKV_ASSIGN_OR_RETURN(d.ffn_norm, UploadFloats(L.ffn_norm));
    TIERKV_ASSIGN_OR_RETURN(d.w_gate, UploadFloats(L.w_gate.f32));
    TIERKV_ASSIGN_OR_RETURN(d.w_up, UploadFloats(L.w_up.f32));
    TIERKV_ASSIGN_OR_RETURN(d.w_down, UploadFloats(L.w_down.f32));
    layers_.push_back(std::move(d));
  }
  TIERKV_ASSIGN_OR_RETURN(output_norm_, UploadFloats(model_.output_norm()));
  TIERKV_ASSIGN_OR_RETURN(output_, UploadFloats(model_.output().f32));
  return Status::Ok();
}

Status CudaLlamaRunner::Fit(int n) {
  if (n <= capacity_) return Status::Ok();
  const LlamaConfig& c = model_.config();
  if (context_len_.size() == 0) {
    TIERKV_ASSIGN_OR_RETURN(context_len_, DeviceBuffer::Allocate(sizeof(int32_t)));
    TIERKV_ASSIGN_OR_RETURN(host_context_len_, kernels::PinnedBuffer::Allocate(sizeof(int32_t)));
  }
  const size_t f = sizeof(float);
  const size_t rows = static_cast<size_t>(n);
  TIERKV_ASSIGN_OR_RETURN(x_, DeviceBuffer::Allocate(rows * c.dim * f));
  TIERKV_ASSIGN_OR_RETURN(h_, DeviceBuffer::Allocate(rows * c.dim * f));
  TIERKV_ASSIGN_OR_RETURN(q_, DeviceBuffer::Allocate(rows * c.dim * f));
  TIERKV_ASSIGN_OR_RETURN(att_, DeviceBuffer::Allocate(rows * c.dim * f));
  TIERKV_ASSIGN_OR_RETURN(k_, DeviceBuffer::Allocate(rows * c.kv_dim() * f));
  TIERKV_ASSIGN_OR_RETURN(v_, DeviceBuffer::Allocate(rows * c.kv_dim() * f));
  TIERKV_ASSIGN_OR_RETURN(gate_, DeviceBuffer::Allocate(rows * c.ffn_dim * f));
  TIERKV_ASSIGN_OR_RETURN(up_, DeviceBuffer::Allocate(rows * c.ffn_dim * f));
  TIERKV_ASSIGN_OR_RETURN(positions_, DeviceBuffer::Allocate(rows * sizeof(int32_t)));
  TIERKV_ASSIGN_OR_RETURN(logits_, DeviceBuffer::Allocate(rows * c.vocab * f));
  // Safe to replace: every Forward ends synchronized, so no upload still reads them.
  TIERKV_ASSIGN_OR_RETURN(host_x_, kernels::PinnedBuffer::Allocate(rows * c.dim * f));
  TIERKV_ASSIGN_OR_RETURN(host_positions_, kernels::PinnedBuffer::Allocate(rows * sizeof(int32_t)));
  capacity_ = n;
  return Status::Ok();
}

Status CudaLlamaRunner::Forward(CudaKvSequence& seq, std::span<const TokenId> tokens,
                                LogitsMode mode, std::vector<float>* logits) {
  const LlamaConfig& c = model_.config();
  const int n = static_cast<int>(tokens.size());
  const int n_past = seq.n_tokens();
  TIERKV_RETURN_IF_ERROR(CheckForwardTokens(c, n_past, tokens));
  TIERKV_RETURN_IF_ERROR(seq.Reserve(n_past + n, stream_));
  TIERKV_RETURN_IF_ERROR(Fit(n));
  const int dim = c.dim, kv_dim = c.kv_dim(), ffn = c.ffn_dim, hd = c.head_dim();

  // Embedding rows are gathered on the host (the table stays there) into
  // pinned memory and sent in one asynchronous copy with the positions. The
  // previous Forward ended synchronized, so the pinned buffers are free.
  auto* host_x = static_cast<float*>(host_x_.get());
  auto* host_positions = static_cast<int32_t*>(host_positions_.get());
  for (int i = 0; i < n; ++i) {
    std::memcpy(host_x + static_cast<size_t>(i) * dim,
                &model_.token_embd()[static_cast<size_t>(tokens[i]) * dim], sizeof(float) * dim);
    host_positions[i] = n_past + i;
  }
  TIERKV_CUDA_RETURN_IF_ERROR(cudaMemcpyAsync(x_.get(), host_x,
                                              static_cast<size_t>(n) * dim * sizeof(float),
                                              cudaMemcpyHostToDevice, stream_));
  TIERKV_CUDA_RETURN_IF_ERROR(cudaMemcpyAsync(positions_.get(), host_positions, n * sizeof(int32_t),
                                              cudaMemcpyHostToDevice, stream_));

  if (n == 1) {
    // The decode's context length, the same for every layer of this step.
    *static_cast<int32_t*>(host_context_len_.get()) = n_past + 1;
    TIERKV_CUDA_RETURN_IF_ERROR(cudaMemcpyAsync(context_len_.get(), host_context_len_.get(),
                                                sizeof(int32_t), cudaMemcpyHostToDevice, stream_));
  }

  float* x = x_.as<float>();
  float* h = h_.as<float>();
  auto project = [&](const float* in, const DeviceBuffer& w, float* out, int rows_out, int cols,
                     bool accumulate) {
    return blas_->MatMul(kernels::GemmDtype::kF32, in, cols, w.get(), out, rows_out, n, rows_out,
                         cols, accumulate);
  };
  for (int l = 0; l < c.n_layers; ++l) {
    const DeviceLayer& L = layers_[l];
    TIERKV_RETURN_IF_ERROR(
        kernels::RmsNormCuda(x, L.attn_norm.as<float>(), h, n, dim, c.rms_eps, stream_));
    TIERKV_RETURN_IF_ERROR(project(h, L.wq, q_.as<float>(), dim, dim, false));
    TIERKV_RETURN_IF_ERROR(project(h, L.wk, k_.as<float>(), kv_dim, dim, false));
    TIERKV_RETURN_IF_ERROR(project(h, L.wv, v_.as<float>(), kv_dim, dim, false));
    TIERKV_RETURN_IF_ERROR(kernels::RopeCuda(q_.as<float>(), positions_.as<int32_t>(), n, c.n_head,
                                             hd, dim, c.rot_dim, c.rope_freq_base, stream_));
    TIERKV_RETURN_IF_ERROR(kernels::RopeCuda(k_.as<float>(), positions_.as<int32_t>(), n,
                                             c.n_head_kv, hd, kv_dim, c.rot_dim, c.rope_freq_base,
                                             stream_));
    TIERKV_RETURN_IF_ERROR(kernels::KvCacheWriteCuda(k_.as<float>(), v_.as<float>(), n, n_past,
                                                     seq.device_block_table(), seq.pool().layer(l),
                                                     stream_));
    TIERKV_RETURN_IF_ERROR(Attention(l, seq, n, n_past));
    TIERKV_RETURN_IF_ERROR(project(att_.as<float>(), L.wo, x, dim, dim, true));

    TIERKV_RETURN_IF_ERROR(
        kernels::RmsNormCuda(x, L.ffn_norm.as<float>(), h, n, dim, c.rms_eps, stream_));
    TIERKV_RETURN_IF_ERROR(project(h, L.w_gate, gate_.as<float>(), ffn, dim, false));
    TIERKV_RETURN_IF_ERROR(project(h, L.w_up, up_.as<float>(), ffn, dim, false));
    TIERKV_RETURN_IF_ERROR(kernels::SwigluCuda(gate_.as<float>(), up_.as<float>(),
                                               gate_.as<float>(), static_cast<size_t>(n) * ffn,
                                               stream_));
    TIERKV_RETURN_IF_ERROR(project(gate_.as<float>(), L.w_down, x, dim, ffn, true));
  }

  const int first = mode == LogitsMode::kAll ? 0 : n - 1;
  const int rows = n - first;
  TIERKV_RETURN_IF_ERROR(kernels::RmsNormCuda(x + static_cast<size_t>(first) * dim,
                                              output_norm_.as<float>(), h, rows, dim, c.rms_eps,
                                              stream_));
  TIERKV_RETURN_IF_ERROR(blas_->MatMul(kernels::GemmDtype::kF32, h, dim, output_.get(),
                                       logits_.as<float>(), c.vocab, rows, c.vocab, dim, false));
  logits->resize(static_cast<size_t>(rows) * c.vocab);
  TIERKV_CUDA_RETURN_IF_ERROR(cudaMemcpyAsync(logits->data(), logits_.get(), logits->size() * 4,
                                              cudaMemcpyDeviceToHost, stream_));
  TIERKV_CUDA_RETURN_IF_ERROR(cudaStreamSynchronize(stream_));
  seq.set_n_tokens(n_past + n);
  return Status::Ok();
}

Status CudaLlamaRunner::Attention(int layer, CudaKvSequence& seq, int n_new, int n_past) {
  const kernels::AttentionShape shape = ShapeOf(model_.config());
  const kernels::PagedKv kv = seq.pool().layer(layer);
  if (n_new > 1) {
    return kernels::PagedAttentionPrefillCuda(q_.as<float>(), n_new, n_past,
                                              seq.device_block_table(), kv, shape, att_.as<float>(),
                                              stream_);
  }
  // context_len_ was uploaded once for the step, before the first layer.
  const int32_t context_len = n_past + 1;
  TIERKV_ASSIGN_OR_RETURN(kernels::DecodeSplitPlan plan,
                          kernels::PlanDecodeForDevice(context_len, 1, shape.n_head_kv));
  const size_t ws_bytes = kernels::DecodeWorkspaceBytes(1, shape.n_head, shape.head_dim, plan);
  if (decode_ws_.size() < ws_bytes) {
    TIERKV_CUDA_RETURN_IF_ERROR(cudaStreamSynchronize(stream_));
    TIERKV_ASSIGN_OR_RETURN(decode_ws_, DeviceBuffer::Allocate(ws_bytes));
  }
  return kernels::PagedAttentionDecodeCuda(
      q_.as<float>(), 1, seq.device_block_table(), static_cast<int>(seq.block_table().size()),
      context_len_.as<int32_t>(), context_len, kv, shape, plan, decode_ws_.get(), decode_ws_.size(),
      att_.as<float>(), stream_);
}

}  // namespace tierkv::core
