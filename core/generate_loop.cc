#include "core/generate_loop.h"

#include <algorithm>
#include <chrono>
#include <future>
#include <utility>

#include "core/sampler.h"

namespace tierkv::core {
namespace {

using Clock = std::chrono::steady_clock;

double MsSince(Clock::time_point t0) {
  return std::chrono::duration<double, std::milli>(Clock::now() - t0).count();
}

// Ends the backend's sequence however the request ends.
class SequenceScope {
 public:
  explicit SequenceScope(GenerateBackend& backend) : backend_(backend) {}
  SequenceScope(const SequenceScope&) = delete;
  SequenceScope& operator=(const SequenceScope&) = delete;
  ~SequenceScope() { backend_.EndSequence(); }

 private:
  GenerateBackend& backend_;
};

// One store in flight at a time, of full blocks whose bytes the backend lent.
class BackgroundStores {
 public:
  BackgroundStores(WarnOnceCache& cache, GenerateBackend& backend, int block_tokens)
      : cache_(cache), backend_(backend), block_tokens_(block_tokens) {}
  BackgroundStores(const BackgroundStores&) = delete;
  BackgroundStores& operator=(const BackgroundStores&) = delete;
  // The store's bytes belong to the sequence: it must be over before the
  // sequence ends (hence this object lives inside the SequenceScope).
  ~BackgroundStores() { Wait(); }

  // Waits for the store in flight, then stores every full block of `tokens`
  // that the sequence holds (the cache skips blocks it has).
  void Store(std::span<const TokenId> tokens) {
    Wait();
    PrefixCache* cache = cache_.get();
    if (cache == nullptr) return;
    const int n =
        static_cast<int>(std::min<size_t>(tokens.size(), backend_.n_tokens())) / block_tokens_;
    if (n == 0) return;
    auto bytes = backend_.BlocksToStore(n);
    if (!bytes.ok()) {
      cache_.Drop(bytes.status(), "gather for store");
      return;
    }
    // Copies: the caller's token vector grows (and moves) while this runs.
    std::vector<TokenId> full(tokens.begin(), tokens.begin() + n * block_tokens_);
    std::vector<Key128> keys = ChainBlockKeys(cache->namespace_id(), full, block_tokens_);
    in_flight_ =
        std::async(std::launch::async,
                   [cache, keys = std::move(keys), full = std::move(full),
                    src = std::move(bytes).value()] { return cache->Store(keys, full, src); });
  }

  void Wait() {
    if (!in_flight_.valid()) return;
    if (Status s = in_flight_.get(); !s.ok()) cache_.Drop(s, "store");
  }

 private:
  WarnOnceCache& cache_;
  GenerateBackend& backend_;
  int block_tokens_;
  std::future<Status> in_flight_;
};

}  // namespace

int GenerateLoop::LoadPrefix(std::span<const TokenId> prompt, int* skipped) {
  // Not even a whole prompt's blocks would pay: spare the lookup too.
  const int full = static_cast<int>(prompt.size()) / block_tokens_ * block_tokens_;
  if (full == 0 || full < min_cached_tokens_) return 0;
  const std::optional<CachedPrefix> prefix = cache_.LookupPrefix(prompt, block_tokens_);
  if (!prefix || prefix->matched_blocks == 0) return 0;
  const int matched = static_cast<int>(prefix->matched_blocks) * block_tokens_;
  if (matched < min_cached_tokens_) {
    *skipped = matched;
    return 0;
  }
  auto loaded = backend_.LoadCachedBlocks(*cache_.get(), *prefix, static_cast<int>(prompt.size()));
  if (!loaded.ok()) {
    cache_.Drop(loaded.status(), "load");
    return 0;
  }
  // The last prompt token is always computed, since its logits pick the first
  // new token; when the whole prompt is cached only it is recomputed, and its
  // K/V simply overwrite the loaded copy.
  const int n = std::min(*loaded * block_tokens_, static_cast<int>(prompt.size()) - 1);
  backend_.set_n_tokens(n);
  return n;
}

Status GenerateLoop::Warmup() {
  TIERKV_RETURN_IF_ERROR(backend_.StartSequence());
  SequenceScope scope(backend_);
  const TokenId token = 0;
  std::vector<float> logits;
  return backend_.Forward(std::span(&token, 1), &logits);
}

Result<GenerateResult> GenerateLoop::Generate(std::span<const TokenId> prompt,
                                              const GenerateOptions& options) {
  if (prompt.empty()) return Status::InvalidArgument("the prompt is empty");
  if (options.max_new_tokens <= 0) {
    return Status::InvalidArgument("max_new_tokens must be positive");
  }
  TIERKV_RETURN_IF_ERROR(backend_.StartSequence());
  SequenceScope scope(backend_);
  return Run(prompt, options);
}

Result<GenerateResult> GenerateLoop::Run(std::span<const TokenId> prompt,
                                         const GenerateOptions& options) {
  const int bt = block_tokens_;
  const auto t0 = Clock::now();
  GenerateResult r;
  r.cached_tokens = LoadPrefix(prompt, &r.skipped_cached_tokens);
  r.cache_load_ms = MsSince(t0);
  r.prefill_tokens = static_cast<int>(prompt.size()) - r.cached_tokens;

  std::vector<float> logits;
  TIERKV_RETURN_IF_ERROR(backend_.Forward(prompt.subspan(r.cached_tokens), &logits));
  Sampler sampler(options.sampling);
  r.tokens.push_back(sampler.Sample(logits));
  r.ttft_ms = MsSince(t0);
  r.first_logits = logits;

  BackgroundStores stores(cache_, backend_, bt);
  if (static_cast<int>(prompt.size()) / bt > r.cached_tokens / bt) stores.Store(prompt);

  // Every token fed to the model so far: the prompt, then each sampled token
  // as it is decoded (the last sampled token is never fed).
  std::vector<TokenId> fed(prompt.begin(), prompt.end());
  const auto decode_start = Clock::now();
  Status decode_status;
  while (static_cast<int>(r.tokens.size()) < options.max_new_tokens &&
         backend_.n_tokens() < config_.context_length) {
    const TokenId last = r.tokens.back();
    fed.push_back(last);
    decode_status = backend_.Forward(std::span(&last, 1), &logits);
    if (!decode_status.ok()) break;
    r.tokens.push_back(sampler.Sample(logits));
    if (backend_.n_tokens() % bt == 0) stores.Store(fed);
  }
  const double decode_s = std::chrono::duration<double>(Clock::now() - decode_start).count();
  if (r.tokens.size() > 1 && decode_s > 0) r.decode_tokens_per_s = (r.tokens.size() - 1) / decode_s;

  stores.Wait();
  TIERKV_RETURN_IF_ERROR(decode_status);
  if (cache_.get() != nullptr) r.stored_blocks = backend_.n_tokens() / bt - r.cached_tokens / bt;
  return r;
}

}  // namespace tierkv::core
