// The shared-prefix workload `tierkv-engine bench` replays: one long system
// prompt, then several multi-turn conversations on top of it. Each request's
// prompt is the system prompt, the conversation so far (user turns and the
// model's answers), and a new user turn, so caching pays off twice: across
// conversations (the system prompt) and across turns (the history).
#pragma once

#include <cstdint>
#include <vector>

#include "core/generate_engine.h"
#include "tierkv/status.h"

namespace tierkv::core {

struct WorkloadOptions {
  int system_tokens = 512;
  int conversations = 4;
  int turns = 3;
  int user_tokens = 32;
  int answer_tokens = 8;
  uint64_t seed = 1;
};

struct RequestStats {
  int prompt_tokens = 0;
  int cached_tokens = 0;
  double ttft_ms = 0.0;
  double decode_tokens_per_s = 0.0;
};

struct PassStats {
  std::vector<RequestStats> requests;
  double mean_ttft_ms() const;
  double percentile_ttft_ms(double p) const;
  double hit_rate() const;  // cached prompt tokens / prompt tokens
  double mean_decode_tokens_per_s() const;
};

// Replays the workload through `engine` (conversation by conversation, turn by turn).
Result<PassStats> RunSharedPrefixWorkload(GenerateEngine& engine, const WorkloadOptions& options,
                                          int vocab);

}  // namespace tierkv::core
