#include "daemon/loop_phase.h"

#include <gtest/gtest.h>

#include "daemon/block_store.h"
#include "tiers/host/host_tier.h"

namespace tierkv {
namespace {

TEST(LoopPhaseTest, RequestScopesNestAndClose) {
  EXPECT_FALSE(RequestScope::active());
  {
    RequestScope outer;
    EXPECT_TRUE(RequestScope::active());
    {
      RequestScope inner;
      EXPECT_TRUE(RequestScope::active());
    }
    EXPECT_TRUE(RequestScope::active());
  }
  EXPECT_FALSE(RequestScope::active());
  CheckNotInRequest("nothing");  // outside a request: no effect
}

TEST(LoopPhaseDeathTest, CompletionsInsideARequestAbortNamingWhatRan) {
  EXPECT_DEATH(
      {
        RequestScope request;
        CheckNotInRequest("NVMe completions");
      },
      "NVMe completions ran inside a request handler");
}

// The store's reap pumps are where completions run: calling one while a
// request is being handled breaks the rule, in every build type.
TEST(LoopPhaseDeathTest, TheStoresReapPumpsRefuseToRunInsideARequest) {
  auto host = std::move(HostTier::Create(1 << 20, 1 << 20)).value();
  BlockStore store(host.get());
  store.ReapNvme();  // between requests: fine
  store.ReapGpu();
  EXPECT_DEATH(
      {
        RequestScope request;
        store.ReapNvme();
      },
      "NVMe completions ran inside a request handler");
  EXPECT_DEATH(
      {
        RequestScope request;
        store.DrainGpu();
      },
      "GPU completions ran inside a request handler");
}

}  // namespace
}  // namespace tierkv
