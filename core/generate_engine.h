// What a caller of an inference engine sees, whichever device runs it: the CPU
// Engine (engine.h) and the GPU CudaEngine (engine_cuda.h) both implement it,
// so tools and workloads drive either through one reference.
//
// Thread safety: an engine runs one call at a time.
#pragma once

#include <span>
#include <vector>

#include "core/sampler.h"
#include "tierkv/keys.h"
#include "tierkv/status.h"

namespace tierkv::core {

struct GenerateOptions {
  int max_new_tokens = 16;
  SamplingOptions sampling;
};

struct GenerateResult {
  std::vector<TokenId> tokens;  // generated ids
  int cached_tokens = 0;        // prompt tokens whose KV came from the cache
  // Prompt tokens the cache held but that were computed anyway: a hit below
  // the engine's break-even (prefix_hit_policy.h), cheaper to recompute.
  int skipped_cached_tokens = 0;
  int prefill_tokens = 0;       // prompt tokens computed
  double ttft_ms = 0.0;         // from the call to the first token, cache lookup included
  double cache_load_ms = 0.0;   // of ttft_ms: lookup and copy of cached blocks into pages
  double decode_tokens_per_s = 0.0;
  int stored_blocks = 0;            // full blocks computed here and offered to the cache
  std::vector<float> first_logits;  // the logits that chose tokens[0]
};
class GenerateEngine {
 public:
  virtual ~GenerateEngine() = default;

  // Generates up to options.max_new_tokens tokens after `prompt`, reusing
  // whatever prefix of it the engine's cache holds. InvalidArgument for an
  // empty prompt or a non-positive max_new_tokens; a cache error never fails
  // a request (the engine runs cold instead).
  virtual Result<GenerateResult> Generate(std::span<const TokenId> prompt,
                                          const GenerateOptions& options) = 0;

  // Runs one throwaway token so that start-up costs (thread pools, scratch,
  // library handles) are not charged to the first request's time to first token.
  virtual Status Warmup() = 0;

  // The shortest cached prefix this engine loads, in tokens (0: every hit;
  // kHitNeverPays, prefix_hit_policy.h: none); shorter hits are recomputed.
  virtual int min_cached_tokens() const = 0;
};

}  // namespace tierkv::core
