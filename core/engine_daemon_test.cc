// The engine against a real tierkvd: warm generation through the daemon's
// shared pool (and over TCP) equals cold generation.
#include <gtest/gtest.h>
#include <unistd.h>

#include <cinttypes>
#include <cmath>
#include <cstdio>
#include <fstream>
#include <sstream>

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
// Warm and cold runs compute the new tokens' K and V in batches of different
// sizes (sgemm blocking differs in the last bit), and a last-bit difference
// can round a value stored in f16 KV pages the other way (one f16 step, 5e-4
// relative): warm logits stay within this of cold ones (1.1e-5 measured).
constexpr double kWarmColdLogitsBound = 1e-4;

std::vector<TokenId> Prompt(int n, uint32_t salt) {
  std::vector<TokenId> t(n);
  for (int i = 0; i < n; ++i) t[i] = (i * 13 + 3 + salt * 59) % testing::TinyConfig().vocab;
  return t;
}

// How much of the mapping that contains `addr` this process has mapped in
// (its page-table entries: Rss, or the huge-page counts for a hugetlb pool),
// and the mapping's page size, from /proc/self/smaps.
struct MappedPages {
  size_t bytes = 0;
  size_t page = 0;
};
MappedPages MappedPagesAt(const void* addr) {
  std::ifstream smaps("/proc/self/smaps");
  const auto target = reinterpret_cast<uintptr_t>(addr);
  MappedPages m;
  bool in_target = false;
  std::string line;
  while (std::getline(smaps, line)) {
    uintptr_t begin = 0, end = 0;
    if (std::sscanf(line.c_str(), "%" SCNxPTR "-%" SCNxPTR " ", &begin, &end) == 2 &&
        line.find(':') > line.find(' ')) {
      in_target = begin <= target && target < end;
      continue;
    }
    if (!in_target) continue;
    std::istringstream fields(line);
    std::string key;
    size_t kib = 0;
    fields >> key >> kib;
    if (key == "Rss:" || key == "Shared_Hugetlb:" || key == "Private_Hugetlb:") {
      m.bytes += kib * 1024;
    }
    if (key == "KernelPageSize:") m.page = kib * 1024;
  }
  return m;
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
    // Every hit is loaded: the tiny model's break-even is beyond its context.
    Engine engine(*model_, {.block_tokens = kBlockTokens, .min_cached_tokens = 0}, cache);
    auto r = engine.Generate(prompt, {.max_new_tokens = 5, .sampling = {}});
    EXPECT_TRUE(r.ok()) << r.status().ToString();
    return r.ok() ? std::move(r).value() : GenerateResult{};
  }

  void ExpectSame(const GenerateResult& warm, const GenerateResult& cold) {
    EXPECT_EQ(warm.tokens, cold.tokens);
    EXPECT_LT(NormalizedError(warm.first_logits, cold.first_logits), kWarmColdLogitsBound);
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

// A fresh engine maps only the pool pages of the blocks it reads and writes:
// nothing at connect, then about the loaded and stored blocks' pages, not the
// 64 MiB pool.
TEST_F(EngineDaemonTest, FreshEngineMapsOnlyThePoolPagesItUses) {
  const std::vector<TokenId> prompt = Prompt(22, 9);
  {
    auto writer = OpenCache(daemon_->socket_path());
    ASSERT_NE(writer, nullptr);
    Run(writer.get(), prompt);
  }
  auto reader = OpenCache(daemon_->socket_path());
  ASSERT_NE(reader, nullptr);
  const std::span<std::byte> pool = reader->client().shared_pool();
  ASSERT_FALSE(pool.empty());
  const MappedPages at_connect = MappedPagesAt(pool.data());
  ASSERT_GT(at_connect.page, 0u) << "pool mapping not found in /proc/self/smaps";
  EXPECT_EQ(at_connect.bytes, 0u);

  const GenerateResult warm = Run(reader.get(), prompt);
  EXPECT_EQ(warm.cached_tokens, 20);
  const size_t blocks_used = warm.cached_tokens / kBlockTokens + warm.stored_blocks;
  const MappedPages after = MappedPagesAt(pool.data());
  // Each block may straddle one page boundary, and a read fault on a shared
  // mapping also maps the neighbours already in memory (Linux's fault-around,
  // 64 KiB by default) once for the blocks read and once for those written.
  constexpr size_t kFaultAroundBytes = 64 << 10;
  const size_t bound =
      blocks_used * (reader->ns().block_bytes + after.page) + 2 * kFaultAroundBytes;
  EXPECT_GT(after.bytes, 0u);
  EXPECT_LE(after.bytes, bound) << blocks_used << " blocks used, pool of " << pool.size();
  EXPECT_LT(after.bytes * 100, pool.size());
}

// f16 (the default) and q8_0 KV through the daemon: warm equals cold token
// for token, the daemon's namespace has the dtype's block size, and blocks
// stored in one dtype are never a hit for another.
TEST_F(EngineDaemonTest, F16AndQ8_0KvWarmEqualsCold) {
  LlamaConfig config = testing::TinyConfig();
  config.dim = 128;  // head_dim 32: whole q8_0 blocks per head
  config.ffn_dim = 192;
  config.rot_dim = 32;
  auto model = testing::MakeTinyModel(WeightFormat::kF32, 3, config);
  ASSERT_NE(model, nullptr);
  const std::vector<TokenId> prompt = Prompt(23, 8);
  for (kernels::KvDtype dtype : {kernels::KvDtype::kF16, kernels::KvDtype::kQ8_0}) {
    SCOPED_TRACE(std::string(kernels::KvDtypeName(dtype)));
    const EngineOptions options{
        .block_tokens = kBlockTokens, .kv_dtype = dtype, .min_cached_tokens = 0};
    ConnectOptions o;
    o.address = daemon_->socket_path();
    const NamespaceSpec spec = Engine::NamespaceFor(*model, options);
    auto cache = DaemonPrefixCache::Open(o, spec);
    ASSERT_TRUE(cache.ok()) << cache.status().ToString();
    EXPECT_EQ((*cache)->ns().block_bytes, spec.block_bytes);
    auto run = [&](PrefixCache* c) {
      Engine engine(*model, options, c);
      auto r = engine.Generate(prompt, {.max_new_tokens = 5, .sampling = {}});
      EXPECT_TRUE(r.ok()) << r.status().ToString();
      return r.ok() ? std::move(r).value() : GenerateResult{};
    };
    const GenerateResult cold = run(nullptr);
    const GenerateResult first = run(cache->get());
    EXPECT_EQ(first.cached_tokens, 0);  // f16's blocks (stored first) are not q8_0's
    ExpectSame(first, cold);
    const GenerateResult warm = run(cache->get());
    EXPECT_EQ(warm.cached_tokens, 20);
    ExpectSame(warm, cold);
  }
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
