// Picks the next token from logits: greedy (argmax) by default, or sampled
// with temperature and nucleus (top-p) filtering from a seeded generator, so a
// given seed always gives the same tokens.
#pragma once

#include <cstdint>
#include <random>
#include <span>
#include <vector>

#include "tierkv/keys.h"

namespace tierkv::core {

struct SamplingOptions {
  float temperature = 0.0f;  // 0: greedy
  float top_p = 1.0f;        // keep the smallest set of tokens whose probability reaches top_p
  uint64_t seed = 0;
};

class Sampler {
 public:
  explicit Sampler(const SamplingOptions& options) : options_(options), rng_(options.seed) {}

  TokenId Sample(std::span<const float> logits);

 private:
  SamplingOptions options_;
  std::mt19937_64 rng_;
  std::vector<std::pair<float, TokenId>> candidates_;
};

// The index of the largest logit; the lowest index wins a tie.
TokenId Argmax(std::span<const float> logits);

}  // namespace tierkv::core
