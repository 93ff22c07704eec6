#include "core/engine_cuda.h"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <chrono>
#include <cstring>
#include <future>
#include <string>

#include "core/block_copy_runs.h"
#include "kernels/kv_block_copy.cuh"

namespace tierkv::core {
namespace {

using Clock = std::chrono::steady_clock;

double MsSince(Clock::time_point t0) {
  return std::chrono::duration<double, std::milli>(Clock::now() - t0).count();
}

}  // namespace

Result<std::unique_ptr<CudaEngine>> CudaEngine::Create(const LlamaModel& model,
                                                       const EngineOptions& options,
                                                       PrefixCache* cache) {
  const LlamaConfig& c = model.config();
  if (options.block_tokens <= 0) return Status::InvalidArgument("block_tokens must be positive");
  std::unique_ptr<CudaEngine> e(new CudaEngine(model, options, cache));
  TIERKV_ASSIGN_OR_RETURN(e->runner_, CudaLlamaRunner::Create(model));
  const int pages = options.kv_pages > 0
                        ? options.kv_pages
                        : (c.context_length + options.block_tokens - 1) / options.block_tokens;
  TIERKV_ASSIGN_OR_RETURN(e->pool_,
                          CudaPagePool::Create(c.n_layers, c.kv_dim(), options.block_tokens,
                                               kernels::KvDtype::kF32, pages));
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
  if (copy_stream_ != nullptr) {
    (void)cudaStreamSynchronize(copy_stream_);
    (void)cudaStreamDestroy(copy_stream_);
  }
  borrowed_.Release();
  if (loaded_ != nullptr) (void)cudaEventDestroy(loaded_);
}

int CudaEngine::LoadPrefix(std::span<const TokenId> prompt, CudaKvSequence& seq) {
  const int bt = options_.block_tokens;
  const std::optional<CachedPrefix> prefix = cache_.LookupPrefix(prompt, bt);
  if (!prefix || prefix->matched_blocks == 0) return 0;
  // The whole prompt's pages at once: the prefill then never replaces the
  // device block table while the copy stream still reads it.
  if (Status s = seq.Reserve(static_cast<int>(prompt.size()), runner_->stream()); !s.ok()) {
    cache_.Drop(s, "page reservation");
    return 0;
  }
  auto sources = PlaceCachedBlocks(*prefix);
  if (!sources.ok()) {
    cache_.Drop(sources.status(), "load");
    return 0;
  }
  const size_t page_bytes = pool_->page_bytes();
  Status s;
  for (const BlockCopyRun& run : ContiguousRuns(*sources, page_bytes)) {
    s = kernels::KvBlockScatterCuda(run.source, page_bytes,
                                    seq.device_block_table() + run.first_block, run.n_blocks,
                                    pool_->base(), copy_stream_);
    if (!s.ok()) break;
  }
  if (s.ok()) s = kernels::CudaStatus(cudaEventRecord(loaded_, copy_stream_), "record load");
  if (s.ok()) {
    s = kernels::CudaStatus(cudaStreamWaitEvent(runner_->stream(), loaded_, 0), "wait for load");
  }
  if (!s.ok()) {
    EndLoad();
    cache_.Drop(s, "copy to the GPU");
    return 0;
  }
  // As Engine: the last prompt token is always computed.
  const int loaded = static_cast<int>(sources->size());
  seq.set_n_tokens(std::min(loaded * bt, static_cast<int>(prompt.size()) - 1));
  return seq.n_tokens();
}

Result<std::vector<const std::byte*>> CudaEngine::PlaceCachedBlocks(const CachedPrefix& prefix) {
  if (!shared_region_.empty() || !device_pool_.empty()) {
    auto borrowed = cache_.get()->Borrow(prefix.matched_keys(), prefix.matched_tokens(),
                                         {.device_pool = !device_pool_.empty()});
    if (borrowed.ok()) return PlaceBorrowed(std::move(borrowed).value());
    if (borrowed.status().code() != StatusCode::kUnsupported) return borrowed.status();
  }
  return PlaceStaged(prefix);
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

Result<std::vector<const std::byte*>> CudaEngine::PlaceStaged(const CachedPrefix& prefix) {
  const size_t page_bytes = pool_->page_bytes();
  auto* staging = static_cast<std::byte*>(staging_.get());
  std::vector<std::span<std::byte>> dst(prefix.matched_blocks);
  for (size_t i = 0; i < dst.size(); ++i) dst[i] = {staging + i * page_bytes, page_bytes};
  TIERKV_ASSIGN_OR_RETURN(const uint32_t loaded,
                          cache_.get()->Load(prefix.matched_keys(), prefix.matched_tokens(), dst));
  std::vector<const std::byte*> sources(loaded);
  for (uint32_t i = 0; i < loaded; ++i) sources[i] = staging_device_ + i * page_bytes;
  return sources;
}

void CudaEngine::EndLoad() {
  // The lent blocks must not be let go (nor the pages freed) while the copy
  // stream may still read them; after a prefill this returns at once, since
  // the prefill itself waited for the load.
  (void)cudaStreamSynchronize(copy_stream_);
  borrowed_.Release();
}

Status CudaEngine::GatherBlocks(CudaKvSequence& seq, size_t n) {
  TIERKV_RETURN_IF_ERROR(kernels::KvBlockGatherCuda(pool_->base(), pool_->page_bytes(),
                                                    seq.device_block_table(), static_cast<int>(n),
                                                    staging_device_, runner_->stream()));
  return kernels::CudaStatus(cudaStreamSynchronize(runner_->stream()), "gather blocks");
}

Status CudaEngine::StoreStaged(std::span<const TokenId> tokens, size_t n) {
  const int bt = options_.block_tokens;
  const auto full = tokens.first(n * bt);
  const std::vector<Key128> keys = ChainBlockKeys(cache_.get()->namespace_id(), full, bt);
  const size_t page_bytes = pool_->page_bytes();
  const auto* staging = static_cast<const std::byte*>(staging_.get());
  std::vector<std::span<const std::byte>> src(n);
  for (size_t i = 0; i < n; ++i) src[i] = {staging + i * page_bytes, page_bytes};
  return cache_.get()->Store(keys, full, src);
}

Status CudaEngine::Warmup() {
  CudaKvSequence seq(pool_.get());
  const TokenId token = 0;
  std::vector<float> logits;
  return runner_->Forward(seq, std::span(&token, 1), LogitsMode::kLast, &logits);
}

Result<GenerateResult> CudaEngine::Generate(std::span<const TokenId> prompt,
                                            const GenerateOptions& options) {
  if (prompt.empty()) return Status::InvalidArgument("the prompt is empty");
  if (options.max_new_tokens <= 0) {
    return Status::InvalidArgument("max_new_tokens must be positive");
  }
  const int bt = options_.block_tokens;
  const auto t0 = Clock::now();
  GenerateResult r;
  CudaKvSequence seq(pool_.get());
  r.cached_tokens = LoadPrefix(prompt, seq);
  r.cache_load_ms = MsSince(t0);
  r.prefill_tokens = static_cast<int>(prompt.size()) - r.cached_tokens;

  std::vector<float> logits;
  const Status prefilled =
      runner_->Forward(seq, prompt.subspan(r.cached_tokens), LogitsMode::kLast, &logits);
  // On failure the load may still be writing into the pages `seq` is about to free.
  EndLoad();
  TIERKV_RETURN_IF_ERROR(prefilled);
  Sampler sampler(options.sampling);
  r.tokens.push_back(sampler.Sample(logits));
  r.ttft_ms = MsSince(t0);
  r.first_logits = logits;

  // The prompt's blocks are staged now (decode never rewrites them) and handed
  // to the cache in the background while decoding runs.
  std::future<Status> stored;
  const size_t prompt_blocks = prompt.size() / bt;
  if (cache_.get() != nullptr && static_cast<int>(prompt_blocks) > r.cached_tokens / bt) {
    if (Status s = GatherBlocks(seq, prompt_blocks); !s.ok()) {
      cache_.Drop(s, "gather");
    } else {
      stored = std::async(std::launch::async, [&] { return StoreStaged(prompt, prompt_blocks); });
    }
  }

  std::vector<TokenId> all(prompt.begin(), prompt.end());
  const auto decode_start = Clock::now();
  Status decode_status;
  while (static_cast<int>(r.tokens.size()) < options.max_new_tokens &&
         seq.n_tokens() < model_.config().context_length) {
    const TokenId last = r.tokens.back();
    all.push_back(last);
    decode_status = runner_->Forward(seq, std::span(&last, 1), LogitsMode::kLast, &logits);
    if (!decode_status.ok()) break;
    r.tokens.push_back(sampler.Sample(logits));
  }
  const double decode_s = std::chrono::duration<double>(Clock::now() - decode_start).count();
  if (r.tokens.size() > 1 && decode_s > 0) r.decode_tokens_per_s = (r.tokens.size() - 1) / decode_s;

  if (stored.valid()) {
    if (Status s = stored.get(); !s.ok()) cache_.Drop(s, "store");
  }
  TIERKV_RETURN_IF_ERROR(decode_status);
  // Blocks completed by decoding; staging is free again once the store above is done.
  const size_t all_blocks = static_cast<size_t>(seq.n_tokens()) / bt;
  if (cache_.get() != nullptr && all_blocks > prompt_blocks) {
    Status s = GatherBlocks(seq, all_blocks);
    if (s.ok()) s = StoreStaged(all, all_blocks);
    if (!s.ok()) cache_.Drop(s, "store");
  }
  if (cache_.get() != nullptr) r.stored_blocks = seq.n_tokens() / bt - r.cached_tokens / bt;
  return r;
}

}  // namespace tierkv::core
