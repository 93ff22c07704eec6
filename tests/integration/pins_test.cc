// Pins and a full pool, against a real tierkvd: a killed client's pins are
// released, and a pool whose blocks are all pinned rejects reserve but keeps
// serving reads.
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstring>

#include "tests/integration/daemon_process.h"
#include "tests/integration/stats_rows.h"

namespace tierkv::testing {
namespace {

// The test daemon's pool: 64 MiB in 8 MiB slabs = 64 blocks of 1 MiB.
constexpr uint64_t kBlockBytes = 1 << 20;
constexpr size_t kPoolBlocks = 64;

uint64_t PinnedBlocks(Client& c) { return TierRow(c, "host").pinned_blocks; }

TEST(PinsTest, KilledClientsPinsAreReleased) {
  DaemonProcess daemon;
  ASSERT_TRUE(daemon.Start()) << daemon.log();
  auto client = std::move(daemon.Connect()).value();
  const Namespace ns = *client->OpenNamespace(TestSpec(kBlockBytes));
  const Prompt p = MakePrompt(ns, kPoolBlocks);
  ASSERT_TRUE(client->Put(ns, ns.id, p.keys, p.tokens, Payload(ns, kPoolBlocks, 3)).ok());

  int ready[2];
  ASSERT_EQ(pipe(ready), 0);
  pid_t pid = fork();
  if (pid == 0) {
    auto c = daemon.Connect();
    if (!c.ok()) _exit(1);
    auto n = (*c)->OpenNamespace(TestSpec(kBlockBytes));
    auto lease = (*c)->Acquire(*n, p.keys, p.tokens, kPoolBlocks);
    char byte = lease.ok() && lease->size() == kPoolBlocks ? 'y' : 'n';
    (void)!write(ready[1], &byte, 1);
    pause();  // until SIGKILL
    _exit(0);
  }
  char byte = 0;
  ASSERT_EQ(read(ready[0], &byte, 1), 1);
  ASSERT_EQ(byte, 'y');
  EXPECT_EQ(PinnedBlocks(*client), kPoolBlocks);
  // Everything is pinned: a new block cannot get a slot.
  const Prompt fresh = MakePrompt(ns, 1, 777777);
  Status full = client->Put(ns, ns.id, fresh.keys, fresh.tokens, Payload(ns, 1, 9));
  EXPECT_TRUE(full.IsResourceExhausted()) << full.ToString();

  kill(pid, SIGKILL);
  waitpid(pid, nullptr, 0);
  // The daemon sees the close and unpins.
  EXPECT_TRUE(WaitUntil([&] { return PinnedBlocks(*client) == 0; }))
      << PinnedBlocks(*client) << " blocks still pinned by a dead client";
  // And the blocks are evictable again.
  EXPECT_TRUE(client->Put(ns, ns.id, fresh.keys, fresh.tokens, Payload(ns, 1, 9)).ok());
  close(ready[0]);
  close(ready[1]);
}

TEST(PinsTest, FullPoolRejectsReserveAndKeepsServingReads) {
  DaemonProcess daemon;
  ASSERT_TRUE(daemon.Start()) << daemon.log();
  auto client = std::move(daemon.Connect()).value();
  const Namespace ns = *client->OpenNamespace(TestSpec(kBlockBytes));
  const Prompt p = MakePrompt(ns, kPoolBlocks);
  const auto payload = Payload(ns, kPoolBlocks, 11);
  ASSERT_TRUE(client->Put(ns, ns.id, p.keys, p.tokens, payload).ok());
  auto lease = client->Acquire(ns, p.keys, p.tokens, kPoolBlocks);
  ASSERT_TRUE(lease.ok());
  ASSERT_EQ(lease->size(), kPoolBlocks);

  const Prompt fresh = MakePrompt(ns, 2, 555555);
  auto res = client->Reserve(ns, ns.id, fresh.keys, fresh.tokens);
  ASSERT_TRUE(res.status().IsResourceExhausted()) << res.status().ToString();
  EXPECT_NE(res.status().message().find("pinned"), std::string::npos);

  // Reads still work, from another connection too, byte-exact.
  // (Handles are per connection: the reader opens the namespace itself.)
  auto reader = std::move(daemon.Connect()).value();
  const Namespace reader_ns = *reader->OpenNamespace(TestSpec(kBlockBytes));
  std::vector<std::byte> out(payload.size());
  EXPECT_EQ(*reader->Get(reader_ns, p.keys, p.tokens, out), kPoolBlocks);
  EXPECT_EQ(out, payload);
  for (size_t i = 0; i < lease->size(); ++i) {
    ASSERT_EQ(std::memcmp(lease->payload(i).data(), payload.data() + i * kBlockBytes, kBlockBytes),
              0);
  }
  ASSERT_TRUE(lease->Release().ok());
  EXPECT_TRUE(client->Reserve(ns, ns.id, fresh.keys, fresh.tokens).ok());
}

}  // namespace
}  // namespace tierkv::testing
