// CudaEngine against Engine on the same random model: identical greedy tokens
// cold, warm (the prompt's blocks loaded from the cache into device pages),
// across engines (blocks the CPU engine stored, loaded by the GPU engine, and
// back), and from a real tierkvd's shared pool read in place. Skips without a GPU.
#include "core/engine_cuda.h"

#include <gtest/gtest.h>

#include <vector>

#include "core/daemon_prefix_cache.h"
#include "core/engine.h"
#include "core/in_process_prefix_cache.h"
#include "core/test_model.h"
#include "kernels/cuda_test_util.h"
#include "tests/integration/daemon_process.h"

namespace tierkv::core {
namespace {

constexpr int kBlockTokens = 16;
// Every hit is loaded by both engines: the tiny model's break-even on the CPU
// is beyond its context.
constexpr EngineOptions kEveryHit{.block_tokens = kBlockTokens, .min_cached_tokens = 0};

std::vector<TokenId> Prompt(int n) {
  std::vector<TokenId> t(n);
  for (int i = 0; i < n; ++i) t[i] = static_cast<TokenId>((i * 29 + 5) % 128);
  return t;
}

const GenerateOptions kGreedy{.max_new_tokens = 20, .sampling = {}};

class CudaEngineTest : public ::testing::Test {
 protected:
  // A prefix cache in a real tierkvd, as tierkv-engine opens it.
  Result<std::unique_ptr<DaemonPrefixCache>> OpenCache(
      const tierkv::testing::DaemonProcess& daemon) {
    ConnectOptions options;
    options.address = daemon.socket_path();
    return DaemonPrefixCache::Open(options, spec_);
  }

  void SetUp() override {
    TIERKV_SKIP_WITHOUT_GPU();
    model_ = testing::MakeTinyModel(WeightFormat::kF32, 5, testing::TinyHead32Config());
    ASSERT_NE(model_, nullptr);
    spec_ = Engine::NamespaceFor(*model_, {.block_tokens = kBlockTokens});
  }

  GenerateResult Cpu(PrefixCache* cache, const std::vector<TokenId>& prompt) {
    Engine engine(*model_, kEveryHit, cache);
    auto r = engine.Generate(prompt, kGreedy);
    EXPECT_TRUE(r.ok()) << r.status().ToString();
    return r.ok() ? std::move(r).value() : GenerateResult{};
  }

  GenerateResult Gpu(PrefixCache* cache, const std::vector<TokenId>& prompt) {
    auto engine = CudaEngine::Create(*model_, kEveryHit, cache);
    EXPECT_TRUE(engine.ok()) << engine.status().ToString();
    if (!engine.ok()) return {};
    auto r = (*engine)->Generate(prompt, kGreedy);
    EXPECT_TRUE(r.ok()) << r.status().ToString();
    return r.ok() ? std::move(r).value() : GenerateResult{};
  }

  std::unique_ptr<LlamaModel> model_;
  NamespaceSpec spec_;
};

TEST_F(CudaEngineTest, ColdAndWarmTokensMatchTheCpuEngine) {
  const std::vector<TokenId> prompt = Prompt(70);
  const GenerateResult cpu = Cpu(nullptr, prompt);
  InProcessPrefixCache cache(spec_);
  const GenerateResult cold = Gpu(&cache, prompt);
  EXPECT_EQ(cold.cached_tokens, 0);
  EXPECT_EQ(cold.tokens, cpu.tokens);
  const GenerateResult warm = Gpu(&cache, prompt);
  EXPECT_EQ(warm.cached_tokens, 64);
  EXPECT_EQ(warm.tokens, cpu.tokens);
}

// Records how many blocks each Store() call carried.
class StoreRecordingCache : public InProcessPrefixCache {
 public:
  using InProcessPrefixCache::InProcessPrefixCache;
  Status Store(std::span<const Key128> keys, std::span<const TokenId> tokens,
               std::span<const std::span<const std::byte>> src) override {
    stores.push_back(keys.size());
    return InProcessPrefixCache::Store(keys, tokens, src);
  }
  std::vector<size_t> stores;
};

TEST_F(CudaEngineTest, StoresEachBlockAsDecodingFillsItLikeTheCpuEngine) {
  const std::vector<TokenId> prompt = Prompt(70);
  StoreRecordingCache cpu_cache(spec_);
  const GenerateResult cpu = Cpu(&cpu_cache, prompt);
  StoreRecordingCache gpu_cache(spec_);
  const GenerateResult gpu = Gpu(&gpu_cache, prompt);
  // 70 prompt tokens and 19 fed ones: the prompt's 4 blocks, then block 5 at 80.
  EXPECT_EQ(cpu_cache.stores, (std::vector<size_t>{4, 5}));
  EXPECT_EQ(gpu_cache.stores, cpu_cache.stores);
  EXPECT_EQ(gpu.stored_blocks, cpu.stored_blocks);
  // And the blocks the GPU engine stored serve the CPU engine's next turn.
  std::vector<TokenId> turn2 = prompt;
  turn2.insert(turn2.end(), gpu.tokens.begin(), gpu.tokens.end());
  const GenerateResult warm = Cpu(&gpu_cache, turn2);
  EXPECT_EQ(warm.cached_tokens, 80);
  EXPECT_EQ(warm.tokens, Cpu(nullptr, turn2).tokens);
}

TEST_F(CudaEngineTest, BlocksMoveBetweenCpuAndGpuEngines) {
  const std::vector<TokenId> prompt = Prompt(50);
  const GenerateResult cold = Cpu(nullptr, prompt);
  InProcessPrefixCache from_cpu(spec_);
  Cpu(&from_cpu, prompt);
  const GenerateResult gpu_warm = Gpu(&from_cpu, prompt);
  EXPECT_EQ(gpu_warm.cached_tokens, 48);
  EXPECT_EQ(gpu_warm.tokens, cold.tokens);

  InProcessPrefixCache from_gpu(spec_);
  Gpu(&from_gpu, prompt);
  const GenerateResult cpu_warm = Cpu(&from_gpu, prompt);
  EXPECT_EQ(cpu_warm.cached_tokens, 48);
  EXPECT_EQ(cpu_warm.tokens, cold.tokens);
}

// The daemon's pool is registered with CUDA and leased slots are scattered
// into pages in place, with no staging copy.
TEST_F(CudaEngineTest, WarmInPlaceFromTheDaemonsSharedPool) {
  tierkv::testing::DaemonProcess daemon;
  ASSERT_TRUE(daemon.Start()) << daemon.log();
  auto cache = OpenCache(daemon);
  ASSERT_TRUE(cache.ok()) << cache.status().ToString();
  const std::vector<TokenId> prompt = Prompt(70);
  const GenerateResult cold = Cpu(nullptr, prompt);
  Cpu(cache->get(), prompt);

  auto engine = CudaEngine::Create(*model_, kEveryHit, cache->get());
  ASSERT_TRUE(engine.ok()) << engine.status().ToString();
  EXPECT_TRUE((*engine)->reads_cache_in_place());
  auto warm = (*engine)->Generate(prompt, kGreedy);
  ASSERT_TRUE(warm.ok()) << warm.status().ToString();
  EXPECT_EQ(warm->cached_tokens, 64);
  EXPECT_EQ(warm->tokens, cold.tokens);
  // Twice: the first borrow was given back, and the blocks are still there.
  auto again = (*engine)->Generate(prompt, kGreedy);
  ASSERT_TRUE(again.ok()) << again.status().ToString();
  EXPECT_EQ(again->cached_tokens, 64);
  EXPECT_EQ(again->tokens, cold.tokens);
}

TEST_F(CudaEngineTest, WarmFromTheDaemonsGpuTierDeviceToDevice) {
  tierkv::testing::DaemonProcess daemon;
  ASSERT_TRUE(daemon.Start()) << daemon.log();
  auto cache = OpenCache(daemon);
  ASSERT_TRUE(cache.ok()) << cache.status().ToString();
  auto pool = (*cache)->shared_device_pool();
  ASSERT_TRUE(pool.ok()) << "a daemon on a GPU machine runs a GPU tier: "
                         << pool.status().ToString() << "\n" << daemon.log();
  const std::vector<TokenId> prompt = Prompt(70);
  const GenerateResult cold = Cpu(nullptr, prompt);
  Cpu(cache->get(), prompt);

  auto engine = CudaEngine::Create(*model_, kEveryHit, cache->get());
  ASSERT_TRUE(engine.ok()) << engine.status().ToString();
  ASSERT_TRUE((*engine)->reads_device_pool());
  // The first warm run reads the host pool and starts the copies up; later
  // runs find the blocks on the GPU tier once those copies are done.
  uint64_t gpu_bytes_out = 0;
  for (int run = 0; run < 20 && gpu_bytes_out == 0; ++run) {
    auto warm = (*engine)->Generate(prompt, kGreedy);
    ASSERT_TRUE(warm.ok()) << warm.status().ToString();
    EXPECT_EQ(warm->cached_tokens, 64);
    EXPECT_EQ(warm->tokens, cold.tokens) << "run " << run;
    auto stats = (*cache)->client().GetStats();
    ASSERT_TRUE(stats.ok());
    ASSERT_EQ(stats->tiers.front().name, "gpu");
    gpu_bytes_out = stats->tiers.front().bytes_out;
  }
  EXPECT_GT(gpu_bytes_out, 0u) << "no block was ever served from the GPU tier";
  auto last = (*engine)->Generate(prompt, kGreedy);
  ASSERT_TRUE(last.ok());
  EXPECT_EQ(last->tokens, cold.tokens) << "tokens after reading the GPU tier";
}

}  // namespace
}  // namespace tierkv::core
