#include "core/engine.h"

#include <string>
#include <vector>

namespace tierkv::core {
namespace {

// The widest head the CPU attention kernels take (paged_attention_ref.h).
constexpr int kMaxHeadDim = 256;

KvCacheShape ShapeFor(const LlamaModel& model, const EngineOptions& o) {
  return {model.config().n_layers, model.config().kv_dim(), o.block_tokens, o.kv_dtype};
}

int PagesFor(const LlamaModel& model, const EngineOptions& o) {
  if (o.kv_pages > 0) return o.kv_pages;
  return (model.config().context_length + o.block_tokens - 1) / o.block_tokens;
}

}  // namespace

Status CheckEngineOptions(const LlamaModel& model, const EngineOptions& options) {
  if (options.block_tokens <= 0) return Status::InvalidArgument("block_tokens must be positive");
  if (options.min_cached_tokens < kAutoMinCachedTokens) {
    return Status::InvalidArgument("min_cached_tokens must be a count of tokens, or auto");
  }
  const int head_dim = model.config().head_dim();
  if (head_dim > kMaxHeadDim) {
    return Status::InvalidArgument("head_dim " + std::to_string(head_dim) +
                                   " is wider than the attention kernels' 256");
  }
  return kernels::CheckKvRow(options.kv_dtype, head_dim);
}

Engine::Engine(const LlamaModel& model, const EngineOptions& options, PrefixCache* cache)
    : options_(options),
      options_status_(CheckEngineOptions(model, options)),
      pool_(ShapeFor(model, options), options_status_.ok() ? PagesFor(model, options) : 0),
      runner_(model),
      loop_(model.config(), options.block_tokens, MinCachedTokensFor(model, options), cache, this) {
}

int Engine::MinCachedTokensFor(const LlamaModel& model, const EngineOptions& options) {
  if (options.min_cached_tokens != kAutoMinCachedTokens) return options.min_cached_tokens;
  return BreakEvenCachedTokens(model.config(), ShapeFor(model, options).page_bytes(),
                               options.block_tokens, kCpuPrefixHitCosts);
}

NamespaceSpec Engine::NamespaceFor(const LlamaModel& model, const EngineOptions& options) {
  NamespaceSpec spec;
  spec.model_fingerprint = model.fingerprint();
  spec.kv_dtype = std::string(kernels::KvDtypeName(options.kv_dtype));
  spec.kv_layout = kKvLayout;
  spec.block_tokens = static_cast<uint32_t>(options.block_tokens);
  spec.block_bytes = ShapeFor(model, options).page_bytes();
  return spec;
}

Status Engine::StartSequence() {
  TIERKV_RETURN_IF_ERROR(options_status_);
  seq_.emplace(&pool_);
  return Status::Ok();
}

Result<int> Engine::LoadCachedBlocks(PrefixCache& cache, const CachedPrefix& prefix,
                                     int /*prompt_tokens*/) {
  const uint32_t n = prefix.matched_blocks;
  TIERKV_RETURN_IF_ERROR(seq_->Reserve(static_cast<int>(n) * options_.block_tokens));
  std::vector<std::span<std::byte>> dst(n);
  for (uint32_t i = 0; i < n; ++i) dst[i] = pool_.page_bytes(seq_->block_table()[i]);
  TIERKV_ASSIGN_OR_RETURN(const uint32_t loaded,
                          cache.Load(prefix.matched_keys(), prefix.matched_tokens(), dst));
  return static_cast<int>(loaded);
}

Status Engine::Forward(std::span<const TokenId> tokens, std::vector<float>* logits) {
  return runner_.Forward(*seq_, tokens, LogitsMode::kLast, logits);
}

Result<std::vector<std::span<const std::byte>>> Engine::BlocksToStore(int n_blocks) {
  // Pages never move and stored pages are never written again, so their
  // addresses stay good while decoding grows the block table.
  std::vector<std::span<const std::byte>> src(n_blocks);
  for (int i = 0; i < n_blocks; ++i) src[i] = pool_.page_bytes(seq_->block_table()[i]);
  return src;
}

}  // namespace tierkv::core
