#include "core/engine_cuda.h"

#include <spdlog/spdlog.h>

#include <cstring>
#include <string>

#include "core/block_copy_runs.h"
#include "kernels/kv_block_copy.cuh"

namespace tierkv::core {
Result<std::unique_ptr<CudaEngine>> CudaEngine::Create(const LlamaModel& model,
                                                       const EngineOptions& options,
                                                       PrefixCache* cache) {
  const LlamaConfig& c = model.config();
  TIERKV_RETURN_IF_ERROR(CheckEngineOptions(model, options));
  std::unique_ptr<CudaEngine> e(new CudaEngine(model, options, cache));
  TIERKV_ASSIGN_OR_RETURN(e->runner_, CudaLlamaRunner::Create(model));
  const int pages = options.kv_pages > 0
                        ? options.kv_pages
                        : (c.context_length + options.block_tokens - 1) / options.block_tokens;
  TIERKV_ASSIGN_OR_RETURN(
      e->pool_,
      CudaPagePool::Create(c.n_layers, c.kv_dim(), options.block_tokens, options.kv_dtype, pages));
  TIERKV_ASSIGN_OR_RETURN(e->staging_,
                          kernels::PinnedBuffer::Allocate(e->pool_->page_bytes() * pages));
  void* device_view = nullptr;
  TIERKV_CUDA_RETURN_IF_ERROR(cudaHostGetDevicePointer(&device_view, e->staging_.get(), 0));
  e->staging_device_ = static_cast<std::byte*>(device_view);
  TIERKV_CUDA_RETURN_IF_ERROR(cudaStreamCreateWithFlags(&e->copy_stream_, cudaStreamNonBlocking));
  TIERKV_CUDA_RETURN_IF_ERROR(cudaEventCreateWithFlags(&e->loaded_, cudaEventDisableTiming));
  if (cache != nullptr) {
    e->RegisterSharedRegion(cache->shared_host_region());
    e->OpenDevicePool(*cache);
  }
  return e;
}

void CudaEngine::OpenDevicePool(PrefixCache& cache) {
  auto pool = cache.shared_device_pool();
  if (!pool.ok()) {
    if (pool.status().code() != StatusCode::kUnsupported) {
      spdlog::info("cached blocks come from host memory only: {}", pool.status().ToString());
    }
    return;
  }
  auto opened = kernels::IpcDevicePool::Open(pool->ipc_handle, pool->pci_bus_id, pool->bytes);
  if (!opened.ok()) {
    spdlog::warn("cannot open the cache's GPU tier ({}); cached blocks come from host memory",
                 opened.status().ToString());
    return;
  }
  device_pool_ = std::move(opened).value();
}

void CudaEngine::RegisterSharedRegion(std::span<std::byte> region) {
  if (region.empty()) return;
  auto registered = kernels::RegisteredHostMemory::Register(region);
  if (!registered.ok()) {
    spdlog::warn(
        "cannot register the prefix cache's shared memory with CUDA ({}); cached blocks will "
        "go through a staging buffer",
        registered.status().ToString());
    return;
  }
  shared_region_ = std::move(registered).value();
}

CudaEngine::~CudaEngine() {
  if (seq_) EndSequence();
  if (copy_stream_ != nullptr) {
    kernels::IgnoreCudaError(cudaStreamSynchronize(copy_stream_));
    kernels::IgnoreCudaError(cudaStreamDestroy(copy_stream_));
  }
  borrowed_.Release();
  if (loaded_ != nullptr) kernels::IgnoreCudaError(cudaEventDestroy(loaded_));
}

Status CudaEngine::StartSequence() {
  seq_.emplace(pool_.get());
  staged_blocks_ = 0;
  return Status::Ok();
}

Result<int> CudaEngine::LoadCachedBlocks(PrefixCache& cache, const CachedPrefix& prefix,
                                         int prompt_tokens) {
  // The whole prompt's pages at once: the prefill then never replaces the
  // device block table while the copy stream still reads it.
  TIERKV_RETURN_IF_ERROR(seq_->Reserve(prompt_tokens, runner_->stream()));
  TIERKV_ASSIGN_OR_RETURN(std::vector<const std::byte*> sources, PlaceCachedBlocks(cache, prefix));
  if (Status s = QueueScatter(sources); !s.ok()) {
    EndLoad();
    return s;
  }
  return static_cast<int>(sources.size());
}

Status CudaEngine::QueueScatter(const std::vector<const std::byte*>& sources) {
  const size_t page_bytes = pool_->page_bytes();
  for (const BlockCopyRun& run : ContiguousRuns(sources, page_bytes)) {
    TIERKV_RETURN_IF_ERROR(kernels::KvBlockScatterCuda(run.source, page_bytes,
                                                       seq_->device_block_table() + run.first_block,
                                                       run.n_blocks, pool_->base(), copy_stream_));
  }
  TIERKV_CUDA_RETURN_IF_ERROR(cudaEventRecord(loaded_, copy_stream_));
  TIERKV_CUDA_RETURN_IF_ERROR(cudaStreamWaitEvent(runner_->stream(), loaded_, 0));
  return Status::Ok();
}

Result<std::vector<const std::byte*>> CudaEngine::PlaceCachedBlocks(PrefixCache& cache,
                                                                    const CachedPrefix& prefix) {
  if (!shared_region_.empty() || !device_pool_.empty()) {
    auto borrowed = cache.Borrow(prefix.matched_keys(), prefix.matched_tokens(),
                                 {.device_pool = !device_pool_.empty()});
    if (borrowed.ok()) return PlaceBorrowed(std::move(borrowed).value());
    if (borrowed.status().code() != StatusCode::kUnsupported) return borrowed.status();
  }
  return PlaceStaged(cache, prefix);
}

Result<std::vector<const std::byte*>> CudaEngine::PlaceBorrowed(BorrowedBlocks borrowed) {
  const size_t page_bytes = pool_->page_bytes();
  auto* staging = static_cast<std::byte*>(staging_.get());
  std::vector<const std::byte*> sources;
  for (size_t i = 0; i < borrowed.size(); ++i) {
    if (borrowed[i].in_device_pool) {
      // On the GPU tier: read device to device, in place.
      const uint64_t offset = borrowed[i].device_pool_offset;
      if (device_pool_.empty() || !device_pool_.Contains(offset, page_bytes)) {
        return Status::Internal("block lent at offset " + std::to_string(offset) +
                                " of a device pool this engine cannot read");
      }
      sources.push_back(device_pool_.at(offset));
      continue;
    }
    const std::span<const std::byte> bytes = borrowed[i].host_bytes;
    if (bytes.empty()) break;
    if (bytes.size() != page_bytes) {
      return Status::Internal("borrowed block of " + std::to_string(bytes.size()) +
                              " bytes, page of " + std::to_string(page_bytes));
    }
    if (!shared_region_.empty() && shared_region_.Contains(bytes)) {
      sources.push_back(shared_region_.device_address(bytes.data()));
    } else {
      // Lent from memory the device cannot address (a TCP reply): staged.
      std::memcpy(staging + i * page_bytes, bytes.data(), page_bytes);
      sources.push_back(staging_device_ + i * page_bytes);
    }
  }
  borrowed_ = std::move(borrowed);
  return sources;
}

Result<std::vector<const std::byte*>> CudaEngine::PlaceStaged(PrefixCache& cache,
                                                              const CachedPrefix& prefix) {
  const size_t page_bytes = pool_->page_bytes();
  auto* staging = static_cast<std::byte*>(staging_.get());
  std::vector<std::span<std::byte>> dst(prefix.matched_blocks);
  for (size_t i = 0; i < dst.size(); ++i) dst[i] = {staging + i * page_bytes, page_bytes};
  TIERKV_ASSIGN_OR_RETURN(const uint32_t loaded,
                          cache.Load(prefix.matched_keys(), prefix.matched_tokens(), dst));
  std::vector<const std::byte*> sources(loaded);
  for (uint32_t i = 0; i < loaded; ++i) sources[i] = staging_device_ + i * page_bytes;
  return sources;
}

void CudaEngine::EndLoad() {
  // The lent blocks must not be let go (nor the pages freed) while the copy
  // stream may still read them; after a prefill this returns at once, since
  // the prefill itself waited for the load.
  kernels::IgnoreCudaError(cudaStreamSynchronize(copy_stream_));
  borrowed_.Release();
}

Status CudaEngine::Forward(std::span<const TokenId> tokens, std::vector<float>* logits) {
  const Status s = runner_->Forward(*seq_, tokens, LogitsMode::kLast, logits);
  EndLoad();
  return s;
}

Result<std::vector<std::span<const std::byte>>> CudaEngine::BlocksToStore(int n_blocks) {
  const size_t page_bytes = pool_->page_bytes();
  if (n_blocks > staged_blocks_) {
    TIERKV_RETURN_IF_ERROR(kernels::KvBlockGatherCuda(
        pool_->base(), page_bytes, seq_->device_block_table() + staged_blocks_,
        n_blocks - staged_blocks_, staging_device_ + staged_blocks_ * page_bytes,
        runner_->stream()));
    TIERKV_CUDA_RETURN_IF_ERROR(cudaStreamSynchronize(runner_->stream()));
    staged_blocks_ = n_blocks;
  }
  const auto* staging = static_cast<const std::byte*>(staging_.get());
  std::vector<std::span<const std::byte>> src(n_blocks);
  for (int i = 0; i < n_blocks; ++i) src[i] = {staging + i * page_bytes, page_bytes};
  return src;
}

void CudaEngine::EndSequence() {
  // A forward that failed midway may have left kernels queued on the pages,
  // and a failed load copies: both streams drain before the pages are free.
  kernels::IgnoreCudaError(cudaStreamSynchronize(runner_->stream()));
  EndLoad();
  seq_.reset();
}

}  // namespace tierkv::core
