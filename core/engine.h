// The inference engine: prompt in, tokens out, with prefix reuse.
//
// Generate() computes the prompt's block keys, asks the PrefixCache for the
// longest cached prefix, copies those blocks straight into KV pages, prefills
// only the rest, samples the first token, then hands the prompt's new full
// blocks back to the cache on a background thread while decoding continues,
// and each block that decoding fills as soon as it is full. A cache error
// never fails a request: it is logged once, and the engine stops using that
// cache and runs cold from then on.
//
// Thread safety: an Engine runs one Generate() at a time.
#pragma once

#include <functional>
#include <memory>
#include <span>
#include <vector>

#include "core/generate_engine.h"
#include "core/kv_cache.h"
#include "core/llama_model.h"
#include "core/llama_runner.h"
#include "core/prefix_cache.h"
#include "core/sampler.h"
#include "core/warn_once_cache.h"
#include "tierkv/namespace_spec.h"
#include "tierkv/status.h"

namespace tierkv::core {

inline constexpr int kDefaultBlockTokens = 16;
inline constexpr char kKvDtype[] = "f32";
inline constexpr char kKvLayout[] = "layer-major:k-v:token:head";

struct EngineOptions {
  int block_tokens = kDefaultBlockTokens;
  int kv_pages = 0;  // 0: enough for one sequence of the model's whole context
};

class Engine : public GenerateEngine {
 public:
  // `cache` may be null (always cold); it must outlive the engine.
  Engine(const LlamaModel& model, const EngineOptions& options, PrefixCache* cache);

  // What one KV block of `model` is, to open the cache namespace with.
  static NamespaceSpec NamespaceFor(const LlamaModel& model, int block_tokens);

  Result<GenerateResult> Generate(std::span<const TokenId> prompt,
                                  const GenerateOptions& options) override;

  // One throwaway token, as llama.cpp does at startup: the first forward of a
  // process pays for BLAS thread start-up, scratch allocation and cold caches.
  Status Warmup() override;

 private:
  // Loads the longest cached prefix into `seq`; returns the tokens loaded.
  int LoadPrefix(std::span<const TokenId> prompt, KvSequence& seq);
  // The store of every full block of `tokens` whose K/V is in `seq` (the cache
  // skips blocks it has), as a call that is safe to run on another thread
  // while `seq` keeps growing.
  std::function<Status()> PrepareStore(std::span<const TokenId> tokens, const KvSequence& seq);

  const LlamaModel& model_;
  EngineOptions options_;
  WarnOnceCache cache_;
  PagePool pool_;
  LlamaRunner runner_;
};

}  // namespace tierkv::core
