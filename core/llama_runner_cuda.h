// Runs a LlamaModel's forward pass on the GPU over device-resident pages: the
// CUDA counterpart of LlamaRunner, with the same numerics (f32 weights and
// activations, KV pages in f32, f16, bf16 or q8_0, f32 accumulation everywhere).
//
// CudaPagePool holds the pages in device memory in the engine's layout
//   [layer][K | V][token][n_head_kv * head_dim]   (kv dtype)
// so a page is byte for byte one daemon block payload of that dtype, and a
// cached prefix can be scattered into pages straight from the daemon's pinned
// pool (KvBlockScatterCuda) or with one cudaMemcpyAsync per page.
//
// Thread safety: none. A runner, its pool and its sequences belong to one
// thread; all work is queued on the runner's stream.
#pragma once

#include <cuda_runtime_api.h>

#include <memory>
#include <span>
#include <vector>

#include "core/llama_model.h"
#include "core/llama_runner.h"
#include "kernels/cublas_matmul.h"
#include "kernels/cuda_util.h"
#include "kernels/kernel_args.h"
#include "tierkv/keys.h"
#include "tierkv/status.h"

namespace tierkv::core {

class CudaPagePool {
 public:
  // Unavailable without a device; ResourceExhausted when the pages do not fit.
  static Result<std::unique_ptr<CudaPagePool>> Create(int n_layers, int kv_dim, int block_tokens,
                                                      kernels::KvDtype dtype, int n_pages);

  size_t page_bytes() const { return page_bytes_; }
  int n_pages() const { return n_pages_; }
  int free_pages() const { return static_cast<int>(free_.size()); }
  kernels::KvDtype dtype() const { return dtype_; }
  int block_tokens() const { return block_tokens_; }

  Result<int32_t> Allocate();  // ResourceExhausted when every page is in use
  void Free(int32_t page);
  std::byte* page_data(int32_t page) { return pages_.as<std::byte>() + page * page_bytes_; }
  std::byte* base() { return pages_.as<std::byte>(); }
  kernels::PagedKv layer(int layer);

 private:
  CudaPagePool() = default;
  int n_layers_ = 0;
  int kv_dim_ = 0;
  int block_tokens_ = 0;
  kernels::KvDtype dtype_ = kernels::KvDtype::kF32;
  int n_pages_ = 0;
  size_t page_bytes_ = 0;
  kernels::DeviceBuffer pages_;
  std::vector<int32_t> free_;
};

// One sequence's pages in a CudaPagePool; returns them when destroyed.
class CudaKvSequence {
 public:
  explicit CudaKvSequence(CudaPagePool* pool) : pool_(pool) {}
  CudaKvSequence(const CudaKvSequence&) = delete;
  CudaKvSequence& operator=(const CudaKvSequence&) = delete;
  ~CudaKvSequence();

  // Covers `n_tokens` positions with pages and mirrors the table on the device.
  Status Reserve(int n_tokens, cudaStream_t stream);
  int n_tokens() const { return n_tokens_; }
  void set_n_tokens(int n) { n_tokens_ = n; }
  const std::vector<int32_t>& block_table() const { return block_table_; }
  const int32_t* device_block_table() const { return device_table_.as<int32_t>(); }
  CudaPagePool& pool() { return *pool_; }

 private:
  CudaPagePool* pool_;
  std::vector<int32_t> block_table_;
  kernels::DeviceBuffer device_table_;
  int n_tokens_ = 0;
};

class CudaLlamaRunner {
 public:
  // Uploads the model's weights (f32) and creates a stream and cuBLAS handle.
  // Unavailable without a device; InvalidArgument when the attention shape is
  // outside what the CUDA kernels take (head_dim a multiple of 32, <= 256).
  static Result<std::unique_ptr<CudaLlamaRunner>> Create(const LlamaModel& model);
  ~CudaLlamaRunner();

  // LlamaRunner::Forward's contract, on the GPU; `logits` is copied back to
  // the host and the stream synchronized before it returns.
  Status Forward(CudaKvSequence& seq, std::span<const TokenId> tokens, LogitsMode mode,
                 std::vector<float>* logits);

  cudaStream_t stream() const { return stream_; }

 private:
  struct DeviceLayer {
    kernels::DeviceBuffer attn_norm, wq, wk, wv, wo, ffn_norm, w_gate, w_up, w_down;
  };
  explicit CudaLlamaRunner(const LlamaModel& model) : model_(model) {}
  Status Upload();
  Status Fit(int n_tokens);
  Status Attention(int layer, CudaKvSequence& seq, int n_new, int n_past);

  const LlamaModel& model_;
  cudaStream_t stream_ = nullptr;
  std::unique_ptr<kernels::CublasMatMul> blas_;
  std::vector<DeviceLayer> layers_;
  kernels::DeviceBuffer output_norm_, output_;  // the embedding table stays on the host
  // Scratch, sized for the largest batch seen so far.
  int capacity_ = 0;
  kernels::DeviceBuffer x_, h_, q_, k_, v_, att_, gate_, up_, positions_, logits_, context_len_,
      decode_ws_;
  // Pinned, so their uploads are truly asynchronous: the host queues the whole
  // forward without waiting for work already on the stream (a cached prefix
  // still being copied in, in CudaEngine).
  kernels::PinnedBuffer host_x_, host_positions_, host_context_len_;
};

}  // namespace tierkv::core
