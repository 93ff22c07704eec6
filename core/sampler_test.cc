#include "core/sampler.h"

#include <gtest/gtest.h>

#include <map>

namespace tierkv::core {
namespace {

TEST(SamplerTest, GreedyIsArgmaxLowestIndexOnTies) {
  Sampler s({});
  const float logits[] = {0.1f, 3.0f, -1.0f, 3.0f};
  EXPECT_EQ(s.Sample(logits), 1u);
}

TEST(SamplerTest, SameSeedSameTokens) {
  const float logits[] = {1.0f, 1.1f, 0.9f, 1.05f, 0.2f};
  Sampler a({.temperature = 1.0f, .top_p = 1.0f, .seed = 42});
  Sampler b({.temperature = 1.0f, .top_p = 1.0f, .seed = 42});
  std::map<TokenId, int> seen;
  for (int i = 0; i < 200; ++i) {
    const TokenId t = a.Sample(logits);
    EXPECT_EQ(t, b.Sample(logits));
    ++seen[t];
  }
  EXPECT_EQ(seen.size(), 5u);  // temperature 1 over near-equal logits reaches every token
}

TEST(SamplerTest, TopPKeepsOnlyTheNucleus) {
  // Probabilities ~ {0.64, 0.24, 0.09, 0.03}: top_p 0.8 keeps the first two.
  const float logits[] = {3.0f, 2.0f, 1.0f, 0.0f};
  Sampler s({.temperature = 1.0f, .top_p = 0.8f, .seed = 7});
  for (int i = 0; i < 300; ++i) EXPECT_LT(s.Sample(logits), 2u);
}

}  // namespace
}  // namespace tierkv::core
