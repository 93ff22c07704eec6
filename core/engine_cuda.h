// The inference engine on the GPU: GenerateLoop (generate_loop.h) over
// CudaLlamaRunner, with the KV pages in device memory.
//
// Pages are in the engine's layout and KV dtype (EngineOptions::kv_dtype), so
// a block is byte for byte what the CPU engine stores with the same options:
// both open the same namespace (Engine::NamespaceFor) and reuse each other's
// blocks.
//
// Cached blocks reach their pages through scatter kernels on a copy stream of
// their own. When the cache has a shared host region (tierkvd's pool mapped
// here) and it could be registered with CUDA at creation, the engine borrows
// the blocks (PrefixCache::Borrow, a lease) and the kernels read the leased
// slots in place, one launch per run of consecutive slots; the borrow is kept
// until the copy stream has finished with it. When the cache also shares a
// device pool (tierkvd's GPU tier, opened here through CUDA IPC at creation),
// blocks held there are read device to device, and the daemon starts copying
// the others up for the next prompt. Otherwise, or when the cache
// cannot lend, PrefixCache::Load copies them into a pinned staging buffer
// first, and one launch moves them all. The compute stream waits on the copy
// with an event instead of the host waiting for it, so the host gathers
// embeddings and queues the whole prefill while the load runs (the prefill's
// kernels themselves start once it is done). New blocks come back to staging
// with one gather kernel as they fill (the prompt's after the prefill, then
// each block decoding completes), and are handed to the cache on a
// background thread while decoding goes on. Whatever ends a sequence, both
// streams are drained before its pages return to the free list.
//
// Thread safety: a CudaEngine runs one Generate() at a time.
#pragma once

#include <cuda_runtime_api.h>

#include <memory>
#include <optional>
#include <span>
#include <vector>

#include "core/engine.h"
#include "core/generate_loop.h"
#include "core/llama_runner_cuda.h"
#include "kernels/cuda_util.h"
#include "kernels/ipc_device_pool.h"
#include "kernels/registered_host_memory.h"

namespace tierkv::core {

class CudaEngine : public GenerateEngine, private GenerateBackend {
 public:
  // `cache` may be null (always cold) and must outlive the engine. A shared
  // host region the cache offers is registered with CUDA here, once; if that
  // fails, one warning, and cached blocks go through the staging buffer.
  // Unavailable ("no CUDA device: ...") without a GPU; InvalidArgument for a
  // model the CUDA kernels cannot run (head_dim not a multiple of 32 up to 256).
  static Result<std::unique_ptr<CudaEngine>> Create(const LlamaModel& model,
                                                    const EngineOptions& options,
                                                    PrefixCache* cache);
  ~CudaEngine() override;

  Result<GenerateResult> Generate(std::span<const TokenId> prompt,
                                  const GenerateOptions& options) override {
    return loop_.Generate(prompt, options);
  }
  // One throwaway token: cuBLAS and kernel start-up belong to start-up.
  Status Warmup() override { return loop_.Warmup(); }
  int min_cached_tokens() const override { return loop_.min_cached_tokens(); }

  // Whether cached blocks are read in place from the cache's shared memory
  // (registered with CUDA at creation) rather than through staging.
  bool reads_cache_in_place() const { return !shared_region_.empty(); }
  // Whether blocks on the cache's GPU tier (tierkvd's device pool, opened here
  // through CUDA IPC at creation) are read device to device.
  bool reads_device_pool() const { return !device_pool_.empty(); }

 private:
  CudaEngine(const LlamaModel& model, const EngineOptions& options, PrefixCache* cache)
      : options_(options),
        loop_(model.config(), options.block_tokens, MinCachedTokens(options), cache, this) {}

  // No GPU has measured its break-even yet: auto uses every hit there.
  static int MinCachedTokens(const EngineOptions& options) {
    return options.min_cached_tokens == kAutoMinCachedTokens ? 0 : options.min_cached_tokens;
  }

  void RegisterSharedRegion(std::span<std::byte> region);
  void OpenDevicePool(PrefixCache& cache);

  // GenerateBackend, over seq_.
  Status StartSequence() override;
  // Queues the copy of the matched blocks into the sequence's pages on the
  // copy stream (the compute stream waits for it with an event).
  Result<int> LoadCachedBlocks(PrefixCache& cache, const CachedPrefix& prefix,
                               int prompt_tokens) override;
  void set_n_tokens(int n) override { seq_->set_n_tokens(n); }
  int n_tokens() const override { return seq_->n_tokens(); }
  // Ends the load (its copy is done once the prefill that waited for it is).
  Status Forward(std::span<const TokenId> tokens, std::vector<float>* logits) override;
  // Gathers blocks not yet in staging into it (staging slot i holds block i).
  Result<std::vector<std::span<const std::byte>>> BlocksToStore(int n_blocks) override;
  void EndSequence() override;

  // Where the device reads each cached block of `prefix` from, in order
  // (fewer than matched when blocks went in between): leased slots in the
  // registered region, or the staging buffer.
  Result<std::vector<const std::byte*>> PlaceCachedBlocks(PrefixCache& cache,
                                                          const CachedPrefix& prefix);
  Result<std::vector<const std::byte*>> PlaceBorrowed(BorrowedBlocks borrowed);
  Result<std::vector<const std::byte*>> PlaceStaged(PrefixCache& cache, const CachedPrefix& prefix);
  Status QueueScatter(const std::vector<const std::byte*>& sources);
  // Waits for the copy stream, then gives the borrowed blocks back.
  void EndLoad();

  EngineOptions options_;
  std::unique_ptr<CudaLlamaRunner> runner_;
  std::unique_ptr<CudaPagePool> pool_;
  kernels::PinnedBuffer staging_;                // one page per pool page
  std::byte* staging_device_ = nullptr;          // staging_ as the device addresses it
  kernels::RegisteredHostMemory shared_region_;  // empty: every load is staged
  kernels::IpcDevicePool device_pool_;           // empty: no GPU tier to read
  BorrowedBlocks borrowed_;  // what the copy stream may still be reading in place
  cudaStream_t copy_stream_ = nullptr;
  cudaEvent_t loaded_ = nullptr;
  std::optional<CudaKvSequence> seq_;
  int staged_blocks_ = 0;  // staging holds the sequence's blocks [0, staged_blocks_)
  GenerateLoop loop_;      // last: it drives the members above
};

}  // namespace tierkv::core
