// The NVMe tier under a real tierkvd: demotion under pressure, promotion on
// acquire, prefetch, restarts (clean and SIGKILL), a corrupted slab byte, and
// a capped tier. Every payload is checked byte for byte.
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <thread>

#include "tests/integration/daemon_process.h"
#include "tests/integration/stats_rows.h"

namespace tierkv::testing {
namespace {

namespace fs = std::filesystem;

// The test daemon's host tier holds 64 blocks of 1 MiB.
constexpr uint64_t kBlockBytes = 1 << 20;
constexpr size_t kPromptBlocks = 8;

using Stored = StoredPrompt;

Stored PutPrompt(Client& c, const Namespace& ns, size_t index) {
  return PutStoredPrompt(c, ns, index, kPromptBlocks);
}

std::vector<std::string> NvmeFlags(const std::string& nvme_bytes = "512MiB") {
  return {"--nvme-bytes", nvme_bytes};
}

TEST(NvmeTierTest, DemotesUnderPressureAndPromotesOnAcquire) {
  DaemonProcess daemon(NvmeFlags());
  ASSERT_TRUE(daemon.Start()) << daemon.log();
  auto client = std::move(daemon.Connect()).value();
  const Namespace ns = *client->OpenNamespace(TestSpec(kBlockBytes));
  // 24 prompts of 8 MiB: three times the host tier.
  std::vector<Stored> stored;
  for (size_t i = 0; i < 24; ++i) stored.push_back(PutPrompt(*client, ns, i));
  auto doc = StatsJson(*client);
  EXPECT_GT(doc.at("demotions").get<uint64_t>(), 0u);
  EXPECT_EQ(doc.at("dropped_blocks").get<uint64_t>(), 0u)
      << "NVMe had room: nothing may be dropped";
  // The oldest prompt now lives on NVMe only.
  auto hit = client->Lookup(ns, stored[0].prompt.keys, stored[0].prompt.tokens);
  ASSERT_TRUE(hit.ok());
  ASSERT_EQ(hit->matched_blocks, kPromptBlocks);
  EXPECT_EQ(hit->locations[0], TierKind::kNvme);
  // Every prompt comes back whole and byte-exact, promoted where needed.
  for (size_t i = 0; i < stored.size(); ++i) {
    bool exact = false;
    EXPECT_EQ(GetExact(*client, ns, stored[i], &exact), kPromptBlocks) << "prompt " << i;
    EXPECT_TRUE(exact) << "prompt " << i;
  }
  doc = StatsJson(*client);
  EXPECT_GT(doc.at("promotions").get<uint64_t>(), 0u);
  EXPECT_GT(TierJson(*client, "nvme").at("bytes_read").get<uint64_t>(), 0u);
}

TEST(NvmeTierTest, PrefetchMovesBlocksUpBeforeAcquire) {
  DaemonProcess daemon(NvmeFlags());
  ASSERT_TRUE(daemon.Start()) << daemon.log();
  auto client = std::move(daemon.Connect()).value();
  const Namespace ns = *client->OpenNamespace(TestSpec(kBlockBytes));
  std::vector<Stored> stored;
  for (size_t i = 0; i < 16; ++i) stored.push_back(PutPrompt(*client, ns, i));
  ASSERT_EQ(client->Lookup(ns, stored[0].prompt.keys, stored[0].prompt.tokens)->locations[0],
            TierKind::kNvme);
  ASSERT_TRUE(
      client->Lookup(ns, stored[0].prompt.keys, stored[0].prompt.tokens, {.prefetch = true}).ok());
  // The promotion runs in the background, with no acquire to start it.
  EXPECT_TRUE(WaitUntil([&] {
    auto hit = client->Lookup(ns, stored[0].prompt.keys, stored[0].prompt.tokens);
    return hit->matched_blocks == kPromptBlocks &&
           std::all_of(hit->locations.begin(), hit->locations.end(),
                       [](TierKind t) { return t == TierKind::kHost; });
  })) << "prefetched blocks never reached the host";
  bool exact = false;
  EXPECT_EQ(GetExact(*client, ns, stored[0], &exact), kPromptBlocks);
  EXPECT_TRUE(exact);
}

TEST(NvmeTierTest, CleanRestartKeepsEveryBlock) {
  DaemonProcess daemon(NvmeFlags());
  ASSERT_TRUE(daemon.Start()) << daemon.log();
  std::vector<Stored> stored;
  {
    auto client = std::move(daemon.Connect()).value();
    const Namespace ns = *client->OpenNamespace(TestSpec(kBlockBytes));
    for (size_t i = 0; i < 12; ++i) stored.push_back(PutPrompt(*client, ns, i));
  }
  ASSERT_EQ(daemon.Stop(), 0) << daemon.log();  // SIGTERM flushes the host tier
  ASSERT_TRUE(daemon.Start()) << daemon.log();
  auto client = std::move(daemon.Connect()).value();
  const Namespace ns = *client->OpenNamespace(TestSpec(kBlockBytes));
  for (size_t i = 0; i < stored.size(); ++i) {
    bool exact = false;
    EXPECT_EQ(GetExact(*client, ns, stored[i], &exact), kPromptBlocks) << "prompt " << i;
    EXPECT_TRUE(exact) << "prompt " << i;
  }
  EXPECT_NE(daemon.log().find("blocks restored"), std::string::npos);
}

TEST(NvmeTierTest, SigkillDuringPutsLosesNothingFlushed) {
  DaemonProcess daemon(NvmeFlags());
  ASSERT_TRUE(daemon.Start()) << daemon.log();
  int acks[2];
  ASSERT_EQ(pipe(acks), 0);
  // A writer process streams puts and flushes every few prompts, reporting
  // each prompt index once a flush has made it durable.
  pid_t writer = fork();
  if (writer == 0) {
    close(acks[0]);
    auto c = daemon.Connect();
    if (!c.ok()) _exit(1);
    auto ns = (*c)->OpenNamespace(TestSpec(kBlockBytes));
    for (uint32_t i = 0;; ++i) {
      Stored s = MakeStoredPrompt(*ns, i, kPromptBlocks);
      Status put = (*c)->Put(*ns, ns->id, s.prompt.keys, s.prompt.tokens, s.payload);
      if (!put.ok()) {
        fprintf(stderr, "writer: put %u: %s\n", i, put.ToString().c_str());
        _exit(0);
      }
      if (i % 3 == 2) {
        auto flushed = (*c)->Flush();
        if (!flushed.ok()) {
          fprintf(stderr, "writer: flush: %s\n", flushed.status().ToString().c_str());
          _exit(0);
        }
        for (uint32_t k = i - 2; k <= i; ++k) {
          if (write(acks[1], &k, sizeof k) != sizeof k) _exit(0);
        }
      }
    }
  }
  close(acks[1]);
  std::vector<uint32_t> durable;
  uint32_t k = 0;
  while (durable.size() < 15 && read(acks[0], &k, sizeof k) == sizeof k) durable.push_back(k);
  daemon.Kill();  // SIGKILL, mid-stream
  kill(writer, SIGKILL);
  waitpid(writer, nullptr, 0);
  close(acks[0]);
  ASSERT_GE(durable.size(), 15u);

  ASSERT_TRUE(daemon.Start()) << daemon.log();
  auto client = std::move(daemon.Connect()).value();
  const Namespace ns = *client->OpenNamespace(TestSpec(kBlockBytes));
  for (uint32_t i : durable) {
    Stored s = MakeStoredPrompt(ns, i, kPromptBlocks);
    bool exact = false;
    EXPECT_EQ(GetExact(*client, ns, s, &exact), kPromptBlocks) << "durable prompt " << i;
    EXPECT_TRUE(exact) << "durable prompt " << i;
  }
  // Whatever else survived is exact too: nothing corrupt is ever served.
  for (uint32_t i = durable.back() + 1; i < durable.back() + 10; ++i) {
    Stored s = MakeStoredPrompt(ns, i, kPromptBlocks);
    bool exact = false;
    const size_t n = GetExact(*client, ns, s, &exact);
    if (n > 0) {
      EXPECT_TRUE(exact) << "prompt " << i;
    }
  }
}

TEST(NvmeTierTest, CorruptedSlabByteIsDroppedNotServed) {
  DaemonProcess daemon(NvmeFlags());
  ASSERT_TRUE(daemon.Start()) << daemon.log();
  Stored s;
  {
    auto client = std::move(daemon.Connect()).value();
    const Namespace ns = *client->OpenNamespace(TestSpec(kBlockBytes));
    s = PutPrompt(*client, ns, 0);
  }
  ASSERT_EQ(daemon.Stop(), 0);
  // Flip one byte in the middle of every slab file's first block slot.
  size_t flipped = 0;
  for (const auto& f : fs::recursive_directory_iterator(daemon.dir() + "/data/nvme")) {
    if (!f.is_regular_file() || f.path().extension() != ".dat") continue;
    std::fstream file(f.path(), std::ios::in | std::ios::out | std::ios::binary);
    file.seekg(kBlockBytes / 2);
    char c = 0;
    file.read(&c, 1);
    c = static_cast<char>(c ^ 0x40);
    file.seekp(kBlockBytes / 2);
    file.write(&c, 1);
    ++flipped;
  }
  ASSERT_GT(flipped, 0u);
  ASSERT_TRUE(daemon.Start()) << daemon.log();
  auto client = std::move(daemon.Connect()).value();
  const Namespace ns = *client->OpenNamespace(TestSpec(kBlockBytes));
  bool exact = false;
  const size_t n = GetExact(*client, ns, s, &exact);
  EXPECT_LT(n, kPromptBlocks) << "a corrupt block was served";
  EXPECT_TRUE(exact) << "the blocks before it must still be exact";
  EXPECT_GE(TierJson(*client, "nvme").at("corrupt_dropped").get<uint64_t>(), 1u);
  // Asked again: a clean miss at the same place, nothing corrupt.
  EXPECT_EQ(client->Lookup(ns, s.prompt.keys, s.prompt.tokens)->matched_blocks, n);
}

TEST(NvmeTierTest, CappedTierDropsItsOldestAndKeepsServing) {
  // Host 64 MiB + NVMe 32 MiB; store 160 MiB.
  DaemonProcess daemon(NvmeFlags("32MiB"));
  ASSERT_TRUE(daemon.Start()) << daemon.log();
  auto client = std::move(daemon.Connect()).value();
  const Namespace ns = *client->OpenNamespace(TestSpec(kBlockBytes));
  std::vector<Stored> stored;
  for (size_t i = 0; i < 20; ++i) stored.push_back(PutPrompt(*client, ns, i));
  const auto nvme = TierJson(*client, "nvme");
  EXPECT_LE(nvme.at("used_bytes").get<uint64_t>(), 32u << 20);
  EXPECT_GT(nvme.at("evictions").get<uint64_t>(), 0u);
  // The newest prompts are all there and exact; the oldest went.
  for (size_t i = 12; i < 20; ++i) {
    bool exact = false;
    EXPECT_EQ(GetExact(*client, ns, stored[i], &exact), kPromptBlocks) << "prompt " << i;
    EXPECT_TRUE(exact);
  }
  EXPECT_EQ(client->Lookup(ns, stored[0].prompt.keys, stored[0].prompt.tokens)->matched_blocks, 0u);
}

}  // namespace
}  // namespace tierkv::testing
