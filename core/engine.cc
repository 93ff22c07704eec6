#include "core/engine.h"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <chrono>
#include <functional>
#include <future>

namespace tierkv::core {
namespace {

using Clock = std::chrono::steady_clock;

double MsSince(Clock::time_point t0) {
  return std::chrono::duration<double, std::milli>(Clock::now() - t0).count();
}

KvCacheShape ShapeFor(const LlamaModel& model, int block_tokens) {
  return {model.config().n_layers, model.config().kv_dim(), block_tokens};
}

int PagesFor(const LlamaModel& model, const EngineOptions& o) {
  if (o.kv_pages > 0) return o.kv_pages;
  return (model.config().context_length + o.block_tokens - 1) / o.block_tokens;
}

}  // namespace

Engine::Engine(const LlamaModel& model, const EngineOptions& options, PrefixCache* cache)
    : model_(model),
      options_(options),
      cache_(cache),
      pool_(ShapeFor(model, options.block_tokens), PagesFor(model, options)),
      runner_(model) {}

NamespaceSpec Engine::NamespaceFor(const LlamaModel& model, int block_tokens) {
  NamespaceSpec spec;
  spec.model_fingerprint = model.fingerprint();
  spec.kv_dtype = kKvDtype;
  spec.kv_layout = kKvLayout;
  spec.block_tokens = static_cast<uint32_t>(block_tokens);
  spec.block_bytes = ShapeFor(model, block_tokens).page_bytes();
  return spec;
}

int Engine::LoadPrefix(std::span<const TokenId> prompt, KvSequence& seq) {
  const int bt = options_.block_tokens;
  const std::optional<CachedPrefix> prefix = cache_.LookupPrefix(prompt, bt);
  if (!prefix || prefix->matched_blocks == 0) return 0;
  const uint32_t n = prefix->matched_blocks;
  if (Status s = seq.Reserve(static_cast<int>(n) * bt); !s.ok()) {
    cache_.Drop(s, "page reservation");
    return 0;
  }
  std::vector<std::span<std::byte>> dst(n);
  for (uint32_t i = 0; i < n; ++i) dst[i] = pool_.page_bytes(seq.block_table()[i]);
  auto loaded = cache_.get()->Load(prefix->matched_keys(), prefix->matched_tokens(), dst);
  if (!loaded.ok()) {
    cache_.Drop(loaded.status(), "load");
    return 0;
  }
  // The last prompt token is always computed, since its logits pick the first
  // new token; when the whole prompt is cached only it is recomputed, and its
  // K/V simply overwrite the loaded copy.
  seq.set_n_tokens(std::min(static_cast<int>(*loaded) * bt, static_cast<int>(prompt.size()) - 1));
  return seq.n_tokens();
}

std::function<Status()> Engine::PrepareStore(std::span<const TokenId> tokens,
                                             const KvSequence& seq) {
  const int bt = options_.block_tokens;
  const size_t n = std::min<size_t>(tokens.size(), seq.n_tokens()) / bt;
  PrefixCache* cache = cache_.get();
  if (cache == nullptr || n == 0) return [] { return Status::Ok(); };
  std::vector<TokenId> full(tokens.begin(), tokens.begin() + n * bt);
  std::vector<Key128> keys = ChainBlockKeys(cache->namespace_id(), full, bt);
  // Page addresses are taken now: decoding may grow the block table (and
  // move its storage) while the store runs, but pages never move.
  std::vector<std::span<const std::byte>> src(n);
  for (size_t i = 0; i < n; ++i) src[i] = pool_.page_bytes(seq.block_table()[i]);
  return [cache, keys = std::move(keys), full = std::move(full), src = std::move(src)] {
    return cache->Store(keys, full, src);
  };
}

Status Engine::Warmup() {
  KvSequence seq(&pool_);
  const TokenId token = 0;
  std::vector<float> logits;
  return runner_.Forward(seq, std::span(&token, 1), LogitsMode::kLast, &logits);
}

Result<GenerateResult> Engine::Generate(std::span<const TokenId> prompt,
                                        const GenerateOptions& options) {
  if (prompt.empty()) return Status::InvalidArgument("the prompt is empty");
  if (options.max_new_tokens <= 0)
    return Status::InvalidArgument("max_new_tokens must be positive");
  const auto t0 = Clock::now();
  GenerateResult r;
  KvSequence seq(&pool_);
  r.cached_tokens = LoadPrefix(prompt, seq);
  r.cache_load_ms = MsSince(t0);
  r.prefill_tokens = static_cast<int>(prompt.size()) - r.cached_tokens;

  std::vector<float> logits;
  TIERKV_RETURN_IF_ERROR(
      runner_.Forward(seq, prompt.subspan(r.cached_tokens), LogitsMode::kLast, &logits));
  Sampler sampler(options.sampling);
  r.tokens.push_back(sampler.Sample(logits));
  r.ttft_ms = MsSince(t0);
  r.first_logits = logits;

  // Full blocks go to the cache on a background thread, one store at a time:
  // the prompt's now, then each block decoding completes. Stored pages are
  // never written again, so decoding goes on meanwhile.
  const int bt = options_.block_tokens;
  std::future<Status> stored;
  auto store_in_background = [&](std::span<const TokenId> tokens) {
    if (stored.valid()) {
      if (Status s = stored.get(); !s.ok()) cache_.Drop(s, "store");
    }
    if (cache_.get() != nullptr) stored = std::async(std::launch::async, PrepareStore(tokens, seq));
  };
  if (static_cast<int>(prompt.size()) / bt > r.cached_tokens / bt) store_in_background(prompt);

  // Every token fed to the model so far: the prompt, then each sampled token
  // as it is decoded (the last sampled token is never fed).
  std::vector<TokenId> fed(prompt.begin(), prompt.end());
  const auto decode_start = Clock::now();
  Status decode_status;
  while (static_cast<int>(r.tokens.size()) < options.max_new_tokens &&
         seq.n_tokens() < model_.config().context_length) {
    const TokenId last = r.tokens.back();
    fed.push_back(last);
    decode_status = runner_.Forward(seq, std::span(&last, 1), LogitsMode::kLast, &logits);
    if (!decode_status.ok()) break;
    r.tokens.push_back(sampler.Sample(logits));
    if (seq.n_tokens() % bt == 0) store_in_background(fed);
  }
  const double decode_s = std::chrono::duration<double>(Clock::now() - decode_start).count();
  if (r.tokens.size() > 1 && decode_s > 0) r.decode_tokens_per_s = (r.tokens.size() - 1) / decode_s;

  if (stored.valid()) {
    if (Status s = stored.get(); !s.ok()) cache_.Drop(s, "store");
  }
  TIERKV_RETURN_IF_ERROR(decode_status);
  if (cache_.get() != nullptr) r.stored_blocks = seq.n_tokens() / bt - r.cached_tokens / bt;
  return r;
}

}  // namespace tierkv::core
