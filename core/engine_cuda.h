// The inference engine on the GPU: Engine's Generate() contract (engine.h)
// over CudaLlamaRunner, with the KV pages in device memory.
//
// Pages stay f32 in the engine's layout, so a block is byte for byte what the
// CPU engine stores: both open the same namespace (Engine::NamespaceFor) and
// reuse each other's blocks. Cached blocks land in a pinned staging buffer
// (PrefixCache::Load copies into host memory) and go to their pages with one
// scatter kernel on a copy stream of their own; the compute stream waits on
// that copy with an event instead of the host waiting for it, so the host
// gathers embeddings and queues the whole prefill while the load runs (the
// prefill's kernels themselves start once it is done). New blocks come
// back with one gather kernel, and are handed to the cache on a background
// thread while decoding goes on.
//
// Thread safety: a CudaEngine runs one Generate() at a time.
#pragma once

#include <cuda_runtime_api.h>

#include <memory>
#include <span>
#include <vector>

#include "core/engine.h"
#include "core/llama_runner_cuda.h"
#include "core/warn_once_cache.h"
#include "kernels/cuda_util.h"

namespace tierkv::core {

class CudaEngine : public GenerateEngine {
 public:
  // `cache` may be null (always cold) and must outlive the engine.
  // Unavailable ("no CUDA device: ...") without a GPU; InvalidArgument for a
  // model the CUDA kernels cannot run (head_dim not a multiple of 32 up to 256).
  static Result<std::unique_ptr<CudaEngine>> Create(const LlamaModel& model,
                                                    const EngineOptions& options,
                                                    PrefixCache* cache);
  ~CudaEngine() override;

  Result<GenerateResult> Generate(std::span<const TokenId> prompt,
                                  const GenerateOptions& options) override;
  // One throwaway token: cuBLAS and kernel start-up belong to start-up.
  Status Warmup() override;

 private:
  CudaEngine(const LlamaModel& model, const EngineOptions& options, PrefixCache* cache)
      : model_(model), options_(options), cache_(cache) {}
  int LoadPrefix(std::span<const TokenId> prompt, CudaKvSequence& seq);
  // Copies the first `n` blocks of `seq` into staging (waits for the copy).
  Status GatherBlocks(CudaKvSequence& seq, size_t n);
  // Stores staged blocks for the first n full blocks of `tokens`.
  Status StoreStaged(std::span<const TokenId> tokens, size_t n);

  const LlamaModel& model_;
  EngineOptions options_;
  WarnOnceCache cache_;
  std::unique_ptr<CudaLlamaRunner> runner_;
  std::unique_ptr<CudaPagePool> pool_;
  kernels::PinnedBuffer staging_;        // one page per pool page
  std::byte* staging_device_ = nullptr;  // staging_ as the device addresses it
  cudaStream_t copy_stream_ = nullptr;
  cudaEvent_t loaded_ = nullptr;
};

}  // namespace tierkv::core
