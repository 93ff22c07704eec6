// The inference engine on the CPU: GenerateLoop (generate_loop.h) over a
// PagePool in host memory. Cached blocks are copied straight from the cache
// into pages, and pages are handed to the cache in place (a page is byte for
// byte one block).
//
// Thread safety: an Engine runs one Generate() at a time.
#pragma once

#include <optional>
#include <span>
#include <vector>

#include "core/generate_engine.h"
#include "core/generate_loop.h"
#include "core/kv_cache.h"
#include "core/llama_model.h"
#include "core/llama_runner.h"
#include "core/prefix_cache.h"
#include "core/prefix_hit_policy.h"
#include "kernels/kv_dtype.h"
#include "tierkv/namespace_spec.h"
#include "tierkv/status.h"

namespace tierkv::core {

inline constexpr int kDefaultBlockTokens = 16;
// f16, as llama.cpp and vLLM store KV by default: half of f32's bytes, so
// every tier holds twice the prefixes, and greedy tokens equal f32's on the
// test prompts (docs/inference-core.md).
inline constexpr kernels::KvDtype kDefaultKvDtype = kernels::KvDtype::kF16;
inline constexpr char kKvLayout[] = "layer-major:k-v:token:head";

struct EngineOptions {
  int block_tokens = kDefaultBlockTokens;
  int kv_pages = 0;  // 0: enough for one sequence of the model's whole context
  kernels::KvDtype kv_dtype = kDefaultKvDtype;
  // The shortest cached prefix worth loading, in tokens: kAutoMinCachedTokens
  // (the device's break-even for the model, prefix_hit_policy.h), 0 (every
  // hit), or a count; a shorter hit is recomputed.
  int min_cached_tokens = kAutoMinCachedTokens;
};

// InvalidArgument when `options` cannot run `model`: block_tokens not
// positive, min_cached_tokens below kAutoMinCachedTokens, a KV dtype whose
// rows cannot hold the model's heads (q8_0 needs head_dim to be a multiple of
// 32), or heads wider than the attention kernels take.
Status CheckEngineOptions(const LlamaModel& model, const EngineOptions& options);

class Engine : public GenerateEngine, private GenerateBackend {
 public:
  // `cache` may be null (always cold); it must outlive the engine. Options
  // that CheckEngineOptions refuses make every Generate() fail with its error.
  Engine(const LlamaModel& model, const EngineOptions& options, PrefixCache* cache);

  // What one KV block of `model` is under `options` (block_tokens and
  // kv_dtype), to open the cache namespace with: blocks of another dtype or
  // size are in another namespace and never mix.
  static NamespaceSpec NamespaceFor(const LlamaModel& model, const EngineOptions& options);

  // The shortest hit this engine loads: options.min_cached_tokens, or, for
  // kAutoMinCachedTokens, BreakEvenCachedTokens on the CPU's costs.
  static int MinCachedTokensFor(const LlamaModel& model, const EngineOptions& options);

  Result<GenerateResult> Generate(std::span<const TokenId> prompt,
                                  const GenerateOptions& options) override {
    return loop_.Generate(prompt, options);
  }

  // One throwaway token, as llama.cpp does at startup: the first forward of a
  // process pays for BLAS thread start-up, scratch allocation and cold caches.
  Status Warmup() override { return loop_.Warmup(); }
  int min_cached_tokens() const override { return loop_.min_cached_tokens(); }

 private:
  // GenerateBackend, over seq_.
  Status StartSequence() override;
  Result<int> LoadCachedBlocks(PrefixCache& cache, const CachedPrefix& prefix,
                               int prompt_tokens) override;
  void set_n_tokens(int n) override { seq_->set_n_tokens(n); }
  int n_tokens() const override { return seq_->n_tokens(); }
  Status Forward(std::span<const TokenId> tokens, std::vector<float>* logits) override;
  Result<std::vector<std::span<const std::byte>>> BlocksToStore(int n_blocks) override;
  void EndSequence() override { seq_.reset(); }

  EngineOptions options_;
  Status options_status_;  // CheckEngineOptions's verdict
  PagePool pool_;
  LlamaRunner runner_;
  std::optional<KvSequence> seq_;
  GenerateLoop loop_;
};

}  // namespace tierkv::core
