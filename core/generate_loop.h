// Generate() once for every device: validation, the cached-prefix lookup,
// prefill, sampling, the decode loop, storing blocks as they fill, and the
// timings, over a GenerateBackend that knows where the pages live.
//
// A request's steps: key the prompt's full blocks and look them up; have the
// backend place the matched blocks in the sequence's first pages (unless the
// hit is shorter than min_cached_tokens: then it is recomputed, and a prompt
// whose full blocks stay below it is not looked up at all); prefill the
// rest (the last prompt token is always computed, since its logits choose the
// first token); sample (TTFT stops here); hand the prompt's new full blocks to
// the cache on a background thread; decode, and hand each block decoding
// fills to the cache as soon as it is full, one store in flight at a time. A
// cache error never fails a request: it is logged once and the loop runs cold
// from then on (WarnOnceCache).
//
// Thread safety: one Generate() or Warmup() at a time.
#pragma once

#include <span>
#include <vector>

#include "core/generate_engine.h"
#include "core/llama_config.h"
#include "core/prefix_cache.h"
#include "core/warn_once_cache.h"
#include "tierkv/keys.h"
#include "tierkv/status.h"

namespace tierkv::core {

// What a device provides: one sequence of paged KV at a time.
class GenerateBackend {
 public:
  virtual ~GenerateBackend() = default;

  // Starts an empty sequence. The previous one has been ended.
  virtual Status StartSequence() = 0;
  // Places the prefix's matched blocks in the sequence's first pages (the
  // prompt is `prompt_tokens` long, so pages for all of it may be reserved
  // now) and returns how many it placed, possibly fewer than matched when
  // blocks went in between. Leaves n_tokens() at 0; on error nothing placed
  // may be relied on.
  virtual Result<int> LoadCachedBlocks(PrefixCache& cache, const CachedPrefix& prefix,
                                       int prompt_tokens) = 0;
  // Positions [0, n) of the sequence hold valid K/V.
  virtual void set_n_tokens(int n) = 0;
  virtual int n_tokens() const = 0;
  // Appends `tokens` to the sequence and sets `logits` to the last one's.
  virtual Status Forward(std::span<const TokenId> tokens, std::vector<float>* logits) = 0;
  // Host bytes of the sequence's first `n_blocks` blocks (each page_bytes),
  // to hand to PrefixCache::Store on another thread: they stay valid and
  // unchanged while decoding goes on, until the sequence ends.
  virtual Result<std::vector<std::span<const std::byte>>> BlocksToStore(int n_blocks) = 0;
  // Waits for every operation still queued on the sequence's pages (also on
  // the error paths), then frees them.
  virtual void EndSequence() = 0;
};

class GenerateLoop {
 public:
  // `cache` may be null (always cold); it and `backend` must outlive the loop.
  // A cached prefix is used only when it covers at least `min_cached_tokens`
  // tokens (0: every hit; kHitNeverPays: none).
  GenerateLoop(const LlamaConfig& config, int block_tokens, int min_cached_tokens,
               PrefixCache* cache, GenerateBackend* backend)
      : config_(config),
        block_tokens_(block_tokens),
        min_cached_tokens_(min_cached_tokens),
        cache_(cache),
        backend_(*backend) {}

  // GenerateEngine::Generate's contract.
  Result<GenerateResult> Generate(std::span<const TokenId> prompt, const GenerateOptions& options);
  // One throwaway token on a sequence of its own.
  Status Warmup();

  int min_cached_tokens() const { return min_cached_tokens_; }

  // The cache, or null once it failed (or when there was none).
  PrefixCache* cache() const { return cache_.get(); }

 private:
  // Loads the longest cached prefix if it pays; returns the tokens loaded,
  // and sets *skipped to those of a hit too short to pay.
  int LoadPrefix(std::span<const TokenId> prompt, int* skipped);
  Result<GenerateResult> Run(std::span<const TokenId> prompt, const GenerateOptions& options);

  LlamaConfig config_;
  int block_tokens_;
  int min_cached_tokens_;
  WarnOnceCache cache_;
  GenerateBackend& backend_;
};

}  // namespace tierkv::core
