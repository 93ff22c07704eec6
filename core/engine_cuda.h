// The inference engine on the GPU: Engine's Generate() contract (engine.h)
// over CudaLlamaRunner, with the KV pages in device memory.
//
// Pages stay f32 in the engine's layout, so a block is byte for byte what the
// CPU engine stores: both open the same namespace (Engine::NamespaceFor) and
// reuse each other's blocks.
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
// kernels themselves start once it is done). New blocks come back with one
// gather kernel, and are handed to the cache on a background thread while
// decoding goes on.
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
#include "kernels/ipc_device_pool.h"
#include "kernels/registered_host_memory.h"

namespace tierkv::core {

class CudaEngine : public GenerateEngine {
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
                                  const GenerateOptions& options) override;
  // One throwaway token: cuBLAS and kernel start-up belong to start-up.
  Status Warmup() override;

  // Whether cached blocks are read in place from the cache's shared memory
  // (registered with CUDA at creation) rather than through staging.
  bool reads_cache_in_place() const { return !shared_region_.empty(); }
  // Whether blocks on the cache's GPU tier (tierkvd's device pool, opened here
  // through CUDA IPC at creation) are read device to device.
  bool reads_device_pool() const { return !device_pool_.empty(); }

 private:
  CudaEngine(const LlamaModel& model, const EngineOptions& options, PrefixCache* cache)
      : model_(model), options_(options), cache_(cache) {}
  void RegisterSharedRegion(std::span<std::byte> region);
  void OpenDevicePool(PrefixCache& cache);
  // Queues the copy of the longest cached prefix into `seq`'s pages on the
  // copy stream; returns the tokens it covers.
  int LoadPrefix(std::span<const TokenId> prompt, CudaKvSequence& seq);
  // Where the device reads each cached block of `prefix` from, in order
  // (fewer than matched when blocks went in between): leased slots in the
  // registered region, or the staging buffer.
  Result<std::vector<const std::byte*>> PlaceCachedBlocks(const CachedPrefix& prefix);
  Result<std::vector<const std::byte*>> PlaceBorrowed(BorrowedBlocks borrowed);
  Result<std::vector<const std::byte*>> PlaceStaged(const CachedPrefix& prefix);
  // Waits for the copy stream, then gives the borrowed blocks back.
  void EndLoad();
  // Copies the first `n` blocks of `seq` into staging (waits for the copy).
  Status GatherBlocks(CudaKvSequence& seq, size_t n);
  // Stores staged blocks for the first n full blocks of `tokens`.
  Status StoreStaged(std::span<const TokenId> tokens, size_t n);

  const LlamaModel& model_;
  EngineOptions options_;
  WarnOnceCache cache_;
  std::unique_ptr<CudaLlamaRunner> runner_;
  std::unique_ptr<CudaPagePool> pool_;
  kernels::PinnedBuffer staging_;                // one page per pool page
  std::byte* staging_device_ = nullptr;          // staging_ as the device addresses it
  kernels::RegisteredHostMemory shared_region_;  // empty: every load is staged
  kernels::IpcDevicePool device_pool_;           // empty: no GPU tier to read
  BorrowedBlocks borrowed_;  // what the copy stream may still be reading in place
  cudaStream_t copy_stream_ = nullptr;
  cudaEvent_t loaded_ = nullptr;
};

}  // namespace tierkv::core
