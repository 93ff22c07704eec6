#include "core/engine.h"

#include <vector>

namespace tierkv::core {
namespace {

KvCacheShape ShapeFor(const LlamaModel& model, int block_tokens) {
  return {model.config().n_layers, model.config().kv_dim(), block_tokens};
}

int PagesFor(const LlamaModel& model, const EngineOptions& o) {
  if (o.kv_pages > 0) return o.kv_pages;
  return (model.config().context_length + o.block_tokens - 1) / o.block_tokens;
}

}  // namespace

Engine::Engine(const LlamaModel& model, const EngineOptions& options, PrefixCache* cache)
    : options_(options),
      pool_(ShapeFor(model, options.block_tokens), PagesFor(model, options)),
      runner_(model),
      loop_(model.config(), options.block_tokens, cache, this) {}

NamespaceSpec Engine::NamespaceFor(const LlamaModel& model, int block_tokens) {
  NamespaceSpec spec;
  spec.model_fingerprint = model.fingerprint();
  spec.kv_dtype = kKvDtype;
  spec.kv_layout = kKvLayout;
  spec.block_tokens = static_cast<uint32_t>(block_tokens);
  spec.block_bytes = ShapeFor(model, block_tokens).page_bytes();
  return spec;
}

Status Engine::StartSequence() {
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
