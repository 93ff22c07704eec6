#include "core/shared_prefix_workload.h"

#include <gtest/gtest.h>

#include "core/engine.h"
#include "core/in_process_prefix_cache.h"
#include "core/test_model.h"

namespace tierkv::core {
namespace {

TEST(SharedPrefixWorkloadTest, WarmPassHitsTheSystemPromptAndHistory) {
  auto model = testing::MakeTinyModel();
  ASSERT_NE(model, nullptr);
  const WorkloadOptions w{.system_tokens = 40,
                          .conversations = 3,
                          .turns = 2,
                          .user_tokens = 6,
                          .answer_tokens = 3,
                          .seed = 9};
  // Every hit is loaded: the tiny model's break-even is beyond its context.
  const EngineOptions options{.block_tokens = 8, .min_cached_tokens = 0};
  Engine cold_engine(*model, options, nullptr);
  auto cold = RunSharedPrefixWorkload(cold_engine, w, model->config().vocab);
  ASSERT_TRUE(cold.ok()) << cold.status().ToString();
  InProcessPrefixCache cache(Engine::NamespaceFor(*model, options));
  Engine warm_engine(*model, options, &cache);
  auto warm = RunSharedPrefixWorkload(warm_engine, w, model->config().vocab);
  ASSERT_TRUE(warm.ok()) << warm.status().ToString();

  ASSERT_EQ(warm->requests.size(), 6u);
  EXPECT_EQ(cold->hit_rate(), 0.0);
  EXPECT_EQ(warm->requests[0].cached_tokens, 0);  // nothing cached yet
  // Turn 2 of conversation 1 reuses the system prompt and turn 1 up to its last full block.
  EXPECT_EQ(warm->requests[1].prompt_tokens, 40 + 6 + 3 + 6);
  EXPECT_EQ(warm->requests[1].cached_tokens, 48);
  // Conversation 2 starts from the cached system prompt (5 full blocks).
  EXPECT_EQ(warm->requests[2].cached_tokens, 40);
  EXPECT_GT(warm->hit_rate(), 0.6);
  for (size_t i = 0; i < warm->requests.size(); ++i) {
    EXPECT_EQ(warm->requests[i].prompt_tokens, cold->requests[i].prompt_tokens);
  }
}

}  // namespace
}  // namespace tierkv::core
