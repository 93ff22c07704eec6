#include "core/sampler.h"

#include <algorithm>
#include <cmath>

namespace tierkv::core {

TokenId Argmax(std::span<const float> logits) {
  return static_cast<TokenId>(std::max_element(logits.begin(), logits.end()) - logits.begin());
}

TokenId Sampler::Sample(std::span<const float> logits) {
  if (options_.temperature <= 0.0f) return Argmax(logits);
  const float max = *std::max_element(logits.begin(), logits.end());
  candidates_.resize(logits.size());
  double sum = 0.0;
  for (size_t i = 0; i < logits.size(); ++i) {
    const float p = std::exp((logits[i] - max) / options_.temperature);
    candidates_[i] = {p, static_cast<TokenId>(i)};
    sum += p;
  }
  std::sort(candidates_.begin(), candidates_.end(), [](const auto& a, const auto& b) {
    return a.first > b.first || (a.first == b.first && a.second < b.second);
  });
  // Nucleus: the shortest head of the sorted list whose mass reaches top_p.
  size_t keep = candidates_.size();
  if (options_.top_p < 1.0f) {
    double mass = 0.0;
    for (size_t i = 0; i < candidates_.size(); ++i) {
      mass += candidates_[i].first / sum;
      if (mass >= options_.top_p) {
        keep = i + 1;
        break;
      }
    }
  }
  double kept = 0.0;
  for (size_t i = 0; i < keep; ++i) kept += candidates_[i].first;
  double r = std::uniform_real_distribution<double>(0.0, kept)(rng_);
  for (size_t i = 0; i < keep; ++i) {
    r -= candidates_[i].first;
    if (r <= 0.0) return candidates_[i].second;
  }
  return candidates_[keep - 1].second;
}

}  // namespace tierkv::core
