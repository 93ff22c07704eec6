// Process-crash tests: a forked child streams writes into a store and dies
// mid-stream (its own _exit, or SIGKILL from the parent) with writes in
// flight; the parent reopens the store and checks that every block
// acknowledged before the death is there, byte-exact, and that every block it
// finds at all reads back byte-exact. The page cache survives a process's
// death, so these cannot see a missing fdatasync or an index record written
// before its payload was durable: nvme_store_power_loss_test.cc does.
#include <gtest/gtest.h>
#include <poll.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <map>
#include <set>

#include "tiers/nvme/testing/store_fixture.h"

namespace tierkv::nvme {
namespace {

using testing::TestMeta;
using testing::TestPayload;

constexpr int kMaxInFlight = 16;
constexpr uint64_t kMaxBlocks = 900;

enum class Death { kExitMidStream, kSigkillFromParent };

// The child: writes blocks 0, 1, ... with up to kMaxInFlight in flight, waking
// on the store's eventfd, and reports each acknowledged block on `ack_fd`.
// With `exit_after` > 0 it _exit()s right after that many acknowledgements.
[[noreturn]] void RunWriter(const std::string& dir, const NvmeStoreOptions& options, int ack_fd,
                            uint64_t exit_after) {
  Result<std::unique_ptr<NvmeStore>> opened = NvmeStore::Open(dir, options);
  if (!opened.ok()) ::_exit(2);
  NvmeStore& store = **opened;
  std::map<uint64_t, std::vector<std::byte>> in_flight;
  uint64_t next = 0, acked = 0;
  while (true) {
    while (in_flight.size() < kMaxInFlight && next < kMaxBlocks) {
      uint64_t i = next++;
      auto& payload = in_flight[i] = TestPayload(i, testing::NvmeStoreFixture::kBlock);
      Status s = store.Write(TestMeta(i), payload, [&, i](Status done) {
        if (!done.ok()) ::_exit(3);
        if (::write(ack_fd, &i, sizeof(i)) != sizeof(i)) ::_exit(4);
        in_flight.erase(i);
        if (++acked == exit_after) ::_exit(0);  // writes still in flight
      });
      if (!s.ok()) ::_exit(5);
    }
    if (in_flight.empty()) ::_exit(0);
    pollfd p{store.event_fd(), POLLIN, 0};
    ::poll(&p, 1, 1000);
    store.ReapCompletions();
  }
}

class NvmeStoreCrashTest : public testing::NvmeStoreFixture,
                           public ::testing::WithParamInterface<Death> {
 protected:
  static NvmeStoreOptions CrashOptions() { return SmallOptions(/*capacity=*/16 << 20); }

  // Runs a writer child to its death; returns the blocks it acknowledged.
  std::set<uint64_t> RunAndKillWriter(Death death) {
    constexpr uint64_t kAcksBeforeDeath = 60;
    int fds[2];
    EXPECT_EQ(::pipe(fds), 0);
    pid_t pid = ::fork();
    if (pid == 0) {
      ::close(fds[0]);
      RunWriter(StoreDir(), CrashOptions(), fds[1],
                death == Death::kExitMidStream ? kAcksBeforeDeath : 0);
    }
    ::close(fds[1]);
    std::set<uint64_t> acked;
    uint64_t i;
    bool killed = false;
    while (::read(fds[0], &i, sizeof(i)) == sizeof(i)) {
      acked.insert(i);
      if (death == Death::kSigkillFromParent && !killed && acked.size() == kAcksBeforeDeath) {
        ::kill(pid, SIGKILL);
        killed = true;
      }
    }
    ::close(fds[0]);
    int wstatus = 0;
    EXPECT_EQ(::waitpid(pid, &wstatus, 0), pid);
    if (death == Death::kSigkillFromParent) {
      EXPECT_TRUE(WIFSIGNALED(wstatus) && WTERMSIG(wstatus) == SIGKILL) << wstatus;
    } else {
      EXPECT_TRUE(WIFEXITED(wstatus) && WEXITSTATUS(wstatus) == 0) << wstatus;
    }
    EXPECT_GE(acked.size(), kAcksBeforeDeath);
    EXPECT_LT(acked.size(), kMaxBlocks) << "the writer finished before it died";
    return acked;
  }
};

TEST_P(NvmeStoreCrashTest, EveryAcknowledgedBlockSurvivesByteExact) {
  std::set<uint64_t> acked = RunAndKillWriter(GetParam());
  Open(CrashOptions());
  std::set<uint64_t> found;
  for (const BlockRecord& r : loaded_) found.insert(r.tokens.at(0) / 16);
  for (uint64_t i : acked) EXPECT_TRUE(found.contains(i)) << "acknowledged block " << i << " lost";
  // Blocks indexed but not yet acknowledged when the child died are fine to
  // find; corrupt ones are not.
  for (uint64_t i : found) ExpectBlock(i);
  EXPECT_EQ(store_->Stats().dropped_at_load, 0u);
  EXPECT_EQ(store_->Stats().corrupt_dropped, 0u);
  // The tier keeps working after the crash.
  ASSERT_TRUE(Put(kMaxBlocks + 1).ok());
  ExpectBlock(kMaxBlocks + 1);
}

INSTANTIATE_TEST_SUITE_P(Deaths, NvmeStoreCrashTest,
                         ::testing::Values(Death::kExitMidStream, Death::kSigkillFromParent),
                         [](const auto& info) {
                           return info.param == Death::kExitMidStream ? "ExitMidStream"
                                                                      : "SigkillFromParent";
                         });

}  // namespace
}  // namespace tierkv::nvme
