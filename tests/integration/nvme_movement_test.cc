// How blocks move between the host and NVMe tiers of a real tierkvd, and how
// that is counted (docs/architecture.md, "NVMe tier"): hits and misses per
// tier, background cleaning above three quarters of the host tier, the LRU
// order kept across a restart, and lookups that leave the index alone.
#include <gtest/gtest.h>

#include <filesystem>
#include <nlohmann/json.hpp>
#include <thread>

#include "tests/integration/daemon_process.h"
#include "tests/integration/stats_rows.h"

namespace tierkv::testing {
namespace {

namespace fs = std::filesystem;

// The test daemon's host tier holds 64 blocks of 1 MiB: 8 prompts of 8.
constexpr uint64_t kBlockBytes = 1 << 20;
constexpr size_t kPromptBlocks = 8;
constexpr size_t kHostPrompts = 8;

uint64_t Field(const nlohmann::json& row, const char* name) { return row.at(name).get<uint64_t>(); }

size_t Matched(Client& c, const Namespace& ns, const StoredPrompt& s) {
  auto hit = c.Lookup(ns, s.prompt.keys, s.prompt.tokens);
  EXPECT_TRUE(hit.ok()) << hit.status().ToString();
  return hit.ok() ? hit->matched_blocks : 0;
}

TEST(NvmeMovementTest, HitsAndMissesCountOnTheFastestTierHoldingEachBlock) {
  DaemonProcess daemon({"--nvme-bytes", "512MiB"});
  ASSERT_TRUE(daemon.Start()) << daemon.log();
  auto client = std::move(daemon.Connect()).value();
  const Namespace ns = *client->OpenNamespace(TestSpec(kBlockBytes));
  // Half again the host tier: the oldest prompt ends up on NVMe only.
  std::vector<StoredPrompt> stored;
  for (size_t i = 0; i < kHostPrompts * 3 / 2; ++i) {
    stored.push_back(PutStoredPrompt(*client, ns, i, kPromptBlocks));
  }
  // The oldest prompt and two blocks after it that were never stored.
  const StoredPrompt longer = MakeStoredPrompt(ns, 0, kPromptBlocks + 2);
  ASSERT_TRUE(longer.prompt.keys[0] == stored[0].prompt.keys[0]);

  const auto host0 = TierJson(*client, "host");
  const auto nvme0 = TierJson(*client, "nvme");
  auto hit = client->Lookup(ns, longer.prompt.keys, longer.prompt.tokens);
  ASSERT_TRUE(hit.ok()) << hit.status().ToString();
  ASSERT_EQ(hit->matched_blocks, kPromptBlocks);
  for (TierKind t : hit->locations) ASSERT_EQ(t, TierKind::kNvme);
  auto host = TierJson(*client, "host");
  auto nvme = TierJson(*client, "nvme");
  EXPECT_EQ(Field(host, "hits") - Field(host0, "hits"), 0u);
  EXPECT_EQ(Field(host, "misses") - Field(host0, "misses"), kPromptBlocks + 2);
  EXPECT_EQ(Field(nvme, "hits") - Field(nvme0, "hits"), kPromptBlocks);
  EXPECT_EQ(Field(nvme, "misses") - Field(nvme0, "misses"), 2u);

  // The newest prompt is on the host: a hit there, and no NVMe count at all.
  hit = client->Lookup(ns, stored.back().prompt.keys, stored.back().prompt.tokens);
  ASSERT_EQ(hit->matched_blocks, kPromptBlocks);
  for (TierKind t : hit->locations) ASSERT_EQ(t, TierKind::kHost);
  const auto host2 = TierJson(*client, "host");
  const auto nvme2 = TierJson(*client, "nvme");
  EXPECT_EQ(Field(host2, "hits") - Field(host, "hits"), kPromptBlocks);
  EXPECT_EQ(Field(host2, "misses"), Field(host, "misses"));
  EXPECT_EQ(Field(nvme2, "hits"), Field(nvme, "hits"));
  EXPECT_EQ(Field(nvme2, "misses"), Field(nvme, "misses"));
}

TEST(NvmeMovementTest, CleaningAboveThreeQuartersCopiesBlocksToNvmeAndKeepsThemOnTheHost) {
  DaemonProcess daemon({"--nvme-bytes", "512MiB"});
  ASSERT_TRUE(daemon.Start()) << daemon.log();
  auto client = std::move(daemon.Connect()).value();
  const Namespace ns = *client->OpenNamespace(TestSpec(kBlockBytes));
  // Up to exactly three quarters: no write to NVMe starts. (A write started
  // at a commit is queued, in the kernel, or indexed by the time the commit's
  // reply is read, and the statistics are taken between requests.)
  std::vector<StoredPrompt> stored;
  for (size_t i = 0; i < kHostPrompts * 3 / 4; ++i) {
    stored.push_back(PutStoredPrompt(*client, ns, i, kPromptBlocks));
  }
  auto nvme = TierJson(*client, "nvme");
  EXPECT_EQ(Field(nvme, "blocks") + Field(nvme, "queue_depth") + Field(nvme, "queued"), 0u)
      << "NVMe writes started below the cleaning threshold: " << nvme.dump();
  // Above it: background writes copy the oldest blocks to NVMe, and every
  // block stays on the host, nothing evicted.
  stored.push_back(PutStoredPrompt(*client, ns, stored.size(), kPromptBlocks));
  EXPECT_TRUE(WaitUntil([&] { return Field(TierJson(*client, "nvme"), "blocks") > 0; }))
      << "nothing was cleaned above three quarters";
  const auto host = TierJson(*client, "host");
  EXPECT_EQ(Field(host, "blocks"), stored.size() * kPromptBlocks);
  EXPECT_EQ(Field(host, "evictions"), 0u);
  EXPECT_EQ(Field(StatsJson(*client), "dropped_blocks"), 0u);
  // The oldest prompt went first; it is on both tiers and lookups name the host.
  auto hit = client->Lookup(ns, stored[0].prompt.keys, stored[0].prompt.tokens);
  ASSERT_EQ(hit->matched_blocks, kPromptBlocks);
  for (TierKind t : hit->locations) EXPECT_EQ(t, TierKind::kHost);
  for (const StoredPrompt& s : stored) {
    bool exact = false;
    EXPECT_EQ(GetExact(*client, ns, s, &exact), kPromptBlocks);
    EXPECT_TRUE(exact);
  }
}

TEST(NvmeMovementTest, LruOrderSurvivesARestart) {
  // NVMe holds exactly six prompts.
  constexpr size_t kNvmePrompts = 6;
  constexpr size_t kNewPrompts = 3;
  DaemonProcess daemon({"--nvme-bytes", "48MiB"});
  ASSERT_TRUE(daemon.Start()) << daemon.log();
  std::vector<StoredPrompt> old;
  {
    auto client = std::move(daemon.Connect()).value();
    const Namespace ns = *client->OpenNamespace(TestSpec(kBlockBytes));
    // Oldest first, each made durable before the next, so each prompt's
    // blocks are written to NVMe after the previous prompt's; last_access
    // has millisecond resolution, hence the pause.
    for (size_t i = 0; i < kNvmePrompts; ++i) {
      old.push_back(PutStoredPrompt(*client, ns, i, kPromptBlocks));
      ASSERT_TRUE(client->Flush().ok());
      std::this_thread::sleep_for(std::chrono::milliseconds(2));
    }
  }
  ASSERT_EQ(daemon.Stop(), 0) << daemon.log();
  ASSERT_TRUE(daemon.Start()) << daemon.log();
  auto client = std::move(daemon.Connect()).value();
  const Namespace ns = *client->OpenNamespace(TestSpec(kBlockBytes));
  // New prompts on the host, then flushed: NVMe is full, so its least
  // recently used blocks make room, which after the restart must still be
  // the oldest prompts'.
  std::vector<StoredPrompt> fresh;
  for (size_t i = 0; i < kNewPrompts; ++i) {
    fresh.push_back(PutStoredPrompt(*client, ns, 100 + i, kPromptBlocks));
  }
  ASSERT_TRUE(client->Flush().ok());
  EXPECT_EQ(Field(TierJson(*client, "nvme"), "evictions"), kNewPrompts * kPromptBlocks);
  for (size_t i = 0; i < kNvmePrompts; ++i) {
    EXPECT_EQ(Matched(*client, ns, old[i]), i < kNewPrompts ? 0 : kPromptBlocks)
        << "old prompt " << i << " (0 is the least recently used)";
  }
  for (const StoredPrompt& s : fresh) EXPECT_EQ(Matched(*client, ns, s), kPromptBlocks);
}

// Bytes in the NVMe index's write-ahead logs: any index write grows them.
uintmax_t IndexLogBytes(const DaemonProcess& daemon) {
  uintmax_t bytes = 0;
  for (const auto& f : fs::directory_iterator(daemon.dir() + "/data/nvme/index")) {
    if (f.path().extension() == ".log") bytes += f.file_size();
  }
  return bytes;
}

TEST(NvmeMovementTest, LookupsDoNotRewriteTheIndex) {
  DaemonProcess daemon({"--nvme-bytes", "512MiB"});
  ASSERT_TRUE(daemon.Start()) << daemon.log();
  StoredPrompt s;
  {
    auto client = std::move(daemon.Connect()).value();
    const Namespace ns = *client->OpenNamespace(TestSpec(kBlockBytes));
    s = PutStoredPrompt(*client, ns, 0, kPromptBlocks);
  }
  ASSERT_EQ(daemon.Stop(), 0) << daemon.log();
  ASSERT_TRUE(daemon.Start()) << daemon.log();  // the prompt is on NVMe only now
  auto client = std::move(daemon.Connect()).value();
  const Namespace ns = *client->OpenNamespace(TestSpec(kBlockBytes));
  constexpr int kLookups = 200;
  const uintmax_t before = IndexLogBytes(daemon);
  for (int i = 0; i < kLookups; ++i) ASSERT_EQ(Matched(*client, ns, s), kPromptBlocks);
  EXPECT_EQ(IndexLogBytes(daemon), before) << "lookups wrote to the NVMe index";
  // The measure sees index writes: a block written to NVMe is one.
  PutStoredPrompt(*client, ns, 1, kPromptBlocks);
  ASSERT_TRUE(client->Flush().ok());
  EXPECT_GT(IndexLogBytes(daemon), before) << "this test cannot see index writes";
}

}  // namespace
}  // namespace tierkv::testing
