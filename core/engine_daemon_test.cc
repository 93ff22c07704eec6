// The engine against a real tierkvd: warm generation through the daemon's
// shared pool (and over TCP) equals cold generation.
#include <gtest/gtest.h>

#include <cmath>

#include "core/daemon_prefix_cache.h"
#include "core/engine.h"
#include "core/engine_cache.h"
#include "core/test_model.h"
#include "kernels/test_util.h"
#include "tests/integration/daemon_process.h"

namespace tierkv::core {
namespace {

using kernels::testing::NormalizedError;

constexpr int kBlockTokens = 4;

std::vector<TokenId> Prompt(int n, uint32_t salt) {
  std::vector<TokenId> t(n);
  for (int i = 0; i < n; ++i) t[i] = (i * 13 + 3 + salt * 59) % testing::TinyConfig().vocab;
  return t;
}

class EngineDaemonTest : public ::testing::Test {
 protected:
  void SetUp() override {
    model_ = testing::MakeTinyModel();
    ASSERT_NE(model_, nullptr);
    daemon_ = std::make_unique<tierkv::testing::DaemonProcess>();
    ASSERT_TRUE(daemon_->Start()) << daemon_->log();
  }

  std::unique_ptr<DaemonPrefixCache> OpenCache(const std::string& address) {
    ConnectOptions o;
    o.address = address;
    auto cache =
        DaemonPrefixCache::Open(o, Engine::NamespaceFor(*model_, {.block_tokens = kBlockTokens}));
    EXPECT_TRUE(cache.ok()) << cache.status().ToString();
    return cache.ok() ? std::move(cache).value() : nullptr;
  }

  GenerateResult Run(PrefixCache* cache, const std::vector<TokenId>& prompt) {
    Engine engine(*model_, {.block_tokens = kBlockTokens}, cache);
    auto r = engine.Generate(prompt, {.max_new_tokens = 5, .sampling = {}});
    EXPECT_TRUE(r.ok()) << r.status().ToString();
    return r.ok() ? std::move(r).value() : GenerateResult{};
  }

  void ExpectSame(const GenerateResult& warm, const GenerateResult& cold) {
    EXPECT_EQ(warm.tokens, cold.tokens);
    EXPECT_LT(NormalizedError(warm.first_logits, cold.first_logits), 1e-5);
  }

  std::unique_ptr<LlamaModel> model_;
  std::unique_ptr<tierkv::testing::DaemonProcess> daemon_;
};

TEST_F(EngineDaemonTest, WarmThroughSharedPoolEqualsCold) {
  auto cache = OpenCache(daemon_->socket_path());
  ASSERT_NE(cache, nullptr);
  ASSERT_TRUE(cache->client().is_local());
  for (int len : {16, 22}) {
    const std::vector<TokenId> prompt = Prompt(len, len);
    const GenerateResult cold = Run(nullptr, prompt);
    const GenerateResult first = Run(cache.get(), prompt);
    EXPECT_EQ(first.cached_tokens, 0);
    ExpectSame(first, cold);
    const GenerateResult warm = Run(cache.get(), prompt);
    EXPECT_EQ(warm.cached_tokens, std::min(len / kBlockTokens * kBlockTokens, len - 1));
    ExpectSame(warm, cold);
  }
}

TEST_F(EngineDaemonTest, AnotherProcessReusesBlocksOverTcpAndPartially) {
  const std::vector<TokenId> prompt = Prompt(27, 1);
  auto writer = OpenCache(daemon_->socket_path());
  ASSERT_NE(writer, nullptr);
  Run(writer.get(), prompt);
  // A second client over TCP: payload bytes travel inline.
  auto reader = OpenCache(daemon_->tcp_address());
  ASSERT_NE(reader, nullptr);
  EXPECT_FALSE(reader->client().is_local());
  const GenerateResult cold = Run(nullptr, prompt);
  const GenerateResult warm = Run(reader.get(), prompt);
  EXPECT_EQ(warm.cached_tokens, 24);
  ExpectSame(warm, cold);
  std::vector<TokenId> other = prompt;
  other[13] ^= 1;  // differs inside block 3
  const GenerateResult partial = Run(reader.get(), other);
  EXPECT_EQ(partial.cached_tokens, 12);
  ExpectSame(partial, Run(nullptr, other));
}

TEST_F(EngineDaemonTest, EvictedPrefixAndUnreachableDaemonRunCold) {
  const std::vector<TokenId> prompt = Prompt(20, 2);
  auto cache = OpenCache(daemon_->socket_path());
  ASSERT_NE(cache, nullptr);
  Run(cache.get(), prompt);
  ASSERT_TRUE(cache->client().Evict(nullptr).ok());
  const GenerateResult after_evict = Run(cache.get(), prompt);
  EXPECT_EQ(after_evict.cached_tokens, 0);
  ExpectSame(after_evict, Run(nullptr, prompt));

  EXPECT_EQ(OpenEngineCache(daemon_->dir() + "/no-such.sock",
                            Engine::NamespaceFor(*model_, {.block_tokens = kBlockTokens})),
            nullptr);
  // The daemon going away mid-life degrades to cold generation, not an error.
  daemon_->Kill();
  const GenerateResult orphan = Run(cache.get(), prompt);
  EXPECT_EQ(orphan.cached_tokens, 0);
  ExpectSame(orphan, Run(nullptr, prompt));
}

TEST_F(EngineDaemonTest, WarmAfterRestartEqualsCold) {
  const std::vector<TokenId> prompt = Prompt(26, 3);
  {
    auto cache = OpenCache(daemon_->socket_path());
    ASSERT_NE(cache, nullptr);
    Run(cache.get(), prompt);
  }
  // A clean stop flushes the host tier to NVMe; the restarted daemon replays it.
  ASSERT_EQ(daemon_->Stop(), 0) << daemon_->log();
  ASSERT_TRUE(daemon_->Start()) << daemon_->log();
  auto cache = OpenCache(daemon_->socket_path());
  ASSERT_NE(cache, nullptr);
  const GenerateResult warm = Run(cache.get(), prompt);
  EXPECT_EQ(warm.cached_tokens, 24);
  ExpectSame(warm, Run(nullptr, prompt));
}

// A host tier of 32 tiny blocks: later prompts push earlier ones down to NVMe.
class EngineNvmeTest : public EngineDaemonTest {
 protected:
  void SetUp() override {
    model_ = testing::MakeTinyModel();
    ASSERT_NE(model_, nullptr);
    daemon_ = std::make_unique<tierkv::testing::DaemonProcess>(
        std::vector<std::string>{"--host-bytes", "64KiB", "--slab-bytes", "8KiB"});
    ASSERT_TRUE(daemon_->Start()) << daemon_->log();
  }
};

TEST_F(EngineNvmeTest, WarmFromDemotedBlocksEqualsCold) {
  const std::vector<TokenId> prompt = Prompt(22, 4);
  auto cache = OpenCache(daemon_->socket_path());
  ASSERT_NE(cache, nullptr);
  Run(cache.get(), prompt);
  for (uint32_t salt = 10; salt < 30; ++salt) Run(cache.get(), Prompt(22, salt));
  const auto tokens = std::span(prompt).first(20);
  const auto keys = ChainBlockKeys(cache->namespace_id(), tokens, kBlockTokens);
  auto where = cache->client().Lookup(cache->ns(), keys, tokens);
  ASSERT_TRUE(where.ok()) << where.status().ToString();
  ASSERT_EQ(where->matched_blocks, 5u);
  EXPECT_EQ(where->locations[0], TierKind::kNvme) << daemon_->log();

  const GenerateResult warm = Run(cache.get(), prompt);
  EXPECT_EQ(warm.cached_tokens, 20);
  ExpectSame(warm, Run(nullptr, prompt));
}

}  // namespace
}  // namespace tierkv::core
