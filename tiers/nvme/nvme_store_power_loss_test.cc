// Power-loss tests in the shape of LevelDB's db/fault_injection_test.cc:
// the store streams writes (and removes) through testing/power_loss.h's
// engine and file system; at the crash point the store is destroyed and
// every write no completed sync covers is thrown away or torn; the store
// reopens on the plain engine. Then every block acknowledged as durable must
// be there byte-exact, and every block the store finds at all must read back
// byte-exact (a record whose payload was lost would fail its checksum: that
// is a block indexed before its payload was durable).
//
// Unlike nvme_store_crash_test.cc (a killed process, whose page cache
// survives), these see a store that skips its fdatasync or indexes a block
// before its payload's sync.
#include <gtest/gtest.h>
#include <poll.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <map>
#include <optional>
#include <set>

#include "tiers/nvme/testing/power_loss.h"
#include "tiers/nvme/testing/store_fixture.h"

namespace tierkv::nvme {
namespace {

using testing::LostWrites;
using testing::PowerLoss;
using testing::TestKey;
using testing::TestMeta;
using testing::TestPayload;

constexpr size_t kMaxInFlight = 16;
constexpr uint64_t kMaxBlocks = 400;
// Every kRemoveEvery-th acknowledged block is removed at once, so later
// writes reuse slots that held other blocks.
constexpr uint64_t kRemoveEvery = 5;
constexpr int kPollMs = 1000;

enum class CrashPoint {
  kAfterAcks,     // right after the reap that acknowledged the kCrashAfter-th block
  kSyncInFlight,  // right after a group sync was submitted, before it completes
};
constexpr uint64_t kCrashAfterAcks = 90;
constexpr uint64_t kCrashAfterSyncs = 12;

struct Case {
  CrashPoint point;
  LostWrites lost;
};

void PrintTo(const Case& c, std::ostream* os) {
  *os << (c.point == CrashPoint::kAfterAcks ? "crash after acks" : "crash with a sync in flight")
      << (c.lost == LostWrites::kDropped ? ", unsynced writes dropped" : ", unsynced writes torn");
}

std::string CaseName(const ::testing::TestParamInfo<Case>& info) {
  return std::string(info.param.point == CrashPoint::kAfterAcks ? "AfterAcks" : "SyncInFlight") +
         (info.param.lost == LostWrites::kDropped ? "Dropped" : "Torn");
}

class NvmeStorePowerLossTest : public testing::NvmeStoreFixture {
 protected:
  // Durable writes as the daemon configures them with nvme_sync_index: group
  // commit for payloads, each index write fsynced.
  static NvmeStoreOptions PowerLossOptions(PowerLoss* loss) {
    NvmeStoreOptions o = SmallOptions(/*capacity=*/8 << 20);
    o.durability = WriteDurability::kGroupSync;
    o.sync_index = true;
    o.file_system = loss->file_system();
    return o;
  }

  void OpenWithPowerLoss(PowerLoss* loss) {
    const NvmeStoreOptions o = PowerLossOptions(loss);
    UringEngineOptions e;
    e.queue_depth = o.queue_depth;
    e.max_io_bytes = RoundUpToIo(o.max_block_bytes);
    e.durability = o.durability;
    e.direct_aligned_buffers = o.direct_aligned_buffers;
    auto engine = UringEngine::Create(e);
    ASSERT_TRUE(engine.ok()) << engine.status().ToString();
    Open(o, loss->WrapEngine(std::move(engine).value()));
  }

  // Destroys the store where it stands (nothing more is acknowledged), applies
  // the power loss, and reopens on the plain engine.
  void CrashAndReopen(PowerLoss* loss, LostWrites lost) {
    store_.reset();
    loss->Crash(lost);
    NvmeStoreOptions o = SmallOptions(8 << 20);
    o.sync_index = true;
    Open(o);
  }

  void WaitAndReap() {
    pollfd p{store_->event_fd(), POLLIN, 0};
    ::poll(&p, 1, kPollMs);
    store_->ReapCompletions();
  }

  // Every block the reopened store found reads back byte-exact, and is one
  // that was written and not removed. Returns the blocks found.
  std::set<uint64_t> ExpectFoundBlocksExact(const std::set<uint64_t>& removed, uint64_t written) {
    std::set<uint64_t> found;
    for (const BlockRecord& r : loaded_) {
      const uint64_t i = r.tokens.at(0) / 16;
      EXPECT_TRUE(r.key == TestKey(i));
      EXPECT_LT(i, written) << "block " << i << " was never written";
      EXPECT_FALSE(removed.contains(i)) << "removed block " << i << " came back";
      std::vector<std::byte> out;
      const Status s = Get(i, &out);
      EXPECT_TRUE(s.ok()) << "block " << i << " is indexed but its bytes were lost ("
                          << s.ToString()
                          << "): its record was written before its payload was durable";
      if (s.ok()) {
        EXPECT_TRUE(out == TestPayload(i, kBlock)) << "block " << i << " differs";
      }
      found.insert(i);
    }
    EXPECT_EQ(store_->Stats().corrupt_dropped, 0u);
    return found;
  }
};

class PowerLossStreamTest : public NvmeStorePowerLossTest,
                            public ::testing::WithParamInterface<Case> {};

TEST_P(PowerLossStreamTest, EveryAcknowledgedBlockSurvivesAndNothingElseIsServed) {
  PowerLoss loss;
  OpenWithPowerLoss(&loss);
  std::map<uint64_t, std::vector<std::byte>> in_flight;
  std::set<uint64_t> acked, removed;
  uint64_t next = 0;
  bool failed = false;
  auto crash_point_reached = [&] {
    return GetParam().point == CrashPoint::kAfterAcks
               ? acked.size() + removed.size() >= kCrashAfterAcks
               : loss.syncs_submitted() >= kCrashAfterSyncs;
  };
  while (!crash_point_reached() && !failed) {
    while (in_flight.size() < kMaxInFlight && next < kMaxBlocks) {
      const uint64_t i = next++;
      auto& payload = in_flight[i] = TestPayload(i, kBlock);
      const Status s = store_->Write(TestMeta(i), payload, [&, i](Status done) {
        in_flight.erase(i);
        if (!done.ok()) {
          ADD_FAILURE() << "write " << i << ": " << done.ToString();
          failed = true;
          return;
        }
        if (i % kRemoveEvery == kRemoveEvery - 1) {
          EXPECT_TRUE(store_->Remove(TestKey(i)).ok());
          removed.insert(i);
        } else {
          acked.insert(i);
        }
      });
      ASSERT_TRUE(s.ok()) << s.ToString();
    }
    ASSERT_FALSE(in_flight.empty()) << "the stream ended before the crash point";
    WaitAndReap();
  }
  ASSERT_FALSE(failed);
  // Something must be at stake at the crash: writes not yet durable.
  ASSERT_GT(loss.unsynced_writes(), 0u);

  CrashAndReopen(&loss, GetParam().lost);
  const std::set<uint64_t> found = ExpectFoundBlocksExact(removed, next);
  for (uint64_t i : acked) EXPECT_TRUE(found.contains(i)) << "acknowledged block " << i << " lost";
  // The tier keeps working after the crash.
  ASSERT_TRUE(Put(kMaxBlocks + 1).ok());
  ExpectBlock(kMaxBlocks + 1);
}

INSTANTIATE_TEST_SUITE_P(Crashes, PowerLossStreamTest,
                         ::testing::Values(Case{CrashPoint::kAfterAcks, LostWrites::kDropped},
                                           Case{CrashPoint::kAfterAcks, LostWrites::kTorn},
                                           Case{CrashPoint::kSyncInFlight, LostWrites::kDropped},
                                           Case{CrashPoint::kSyncInFlight, LostWrites::kTorn}),
                         CaseName);

// One block, its payload written and its sync held back: until the sync
// completes the block is neither acknowledged nor indexed, so power lost at
// that moment leaves no record of it; once the sync completes it is both.
TEST_F(NvmeStorePowerLossTest, IndexRecordIsWrittenOnlyAfterItsPayloadSync) {
  for (const bool release_sync : {false, true}) {
    SCOPED_TRACE(release_sync ? "sync completed before the crash" : "crash while sync held");
    PowerLoss loss;
    OpenWithPowerLoss(&loss);
    loss.HoldSyncs();
    const uint64_t i = release_sync ? 2 : 1;
    const std::vector<std::byte> payload = TestPayload(i, kBlock);
    std::optional<Status> acked;
    ASSERT_TRUE(store_->Write(TestMeta(i), payload, [&](Status s) { acked = s; }).ok());
    for (int polls = 0; loss.held_syncs() == 0 && !acked.has_value(); ++polls) {
      ASSERT_LT(polls, 100) << "the write neither completed nor asked for a sync";
      WaitAndReap();
    }
    ASSERT_FALSE(acked.has_value())
        << "acknowledged (" << acked->ToString() << ") before its payload was synced";
    ASSERT_EQ(loss.held_syncs(), 1u);
    EXPECT_FALSE(store_->Contains(TestKey(i)));
    if (release_sync) {
      loss.ReleaseSyncs();
      for (int polls = 0; !acked.has_value(); ++polls) {
        ASSERT_LT(polls, 100) << "no acknowledgement after the sync";
        WaitAndReap();
      }
      ASSERT_TRUE(acked->ok()) << acked->ToString();
    }
    CrashAndReopen(&loss, LostWrites::kDropped);
    ExpectFoundBlocksExact({}, i + 1);
    if (release_sync) {
      ASSERT_EQ(loaded_.size(), 1u) << "an acknowledged block was lost";
      EXPECT_TRUE(loaded_[0].key == TestKey(i));
    } else {
      EXPECT_TRUE(loaded_.empty()) << "a block whose payload was never synced was indexed";
    }
    store_.reset();
    std::filesystem::remove_all(StoreDir());
  }
}

// The model itself: an unsynced write is undone, a synced one is kept, and a
// slab file whose directory was never synced disappears.
TEST(PowerLossTest, CrashUndoesOnlyWhatNoSyncCovers) {
  testing::TempDir dir;
  PowerLoss loss;
  FileSystem* fs = loss.file_system();
  ASSERT_TRUE(fs->CreateDirIfMissing(dir.Sub("d")).ok());
  auto synced_file = fs->OpenDirect(dir.Sub("d/synced"), /*create=*/true);
  ASSERT_TRUE(synced_file.ok());
  ASSERT_TRUE(fs->Allocate(synced_file->get(), 0, 2 * kIoAlignment).ok());
  ASSERT_TRUE(fs->SyncDir(dir.Sub("d")).ok());
  auto engine = UringEngine::Create({.queue_depth = 2, .max_io_bytes = kIoAlignment});
  ASSERT_TRUE(engine.ok());
  std::unique_ptr<IoEngine> io = loss.WrapEngine(std::move(engine).value());
  const std::vector<std::byte> ones(kIoAlignment, std::byte{1});
  const std::vector<std::byte> twos(kIoAlignment, std::byte{2});
  ASSERT_TRUE(WriteBlocking(*io, {synced_file->get(), 0}, ones.data(), ones.size()).ok());
  std::optional<Status> synced;
  io->SubmitSync(synced_file->get(), [&](Status s) { synced = s; });
  while (!synced.has_value()) io->WaitAndReap();
  ASSERT_TRUE(synced->ok());
  ASSERT_TRUE(
      WriteBlocking(*io, {synced_file->get(), kIoAlignment}, twos.data(), twos.size()).ok());
  EXPECT_EQ(loss.unsynced_writes(), 1u);
  auto unsynced_file = fs->OpenDirect(dir.Sub("d/unsynced"), /*create=*/true);
  ASSERT_TRUE(unsynced_file.ok());
  io.reset();
  loss.Crash(LostWrites::kDropped);

  std::vector<std::byte> got(2 * kIoAlignment);
  {
    std::ifstream in(dir.Sub("d/synced"), std::ios::binary);
    in.read(reinterpret_cast<char*>(got.data()), std::streamsize(got.size()));
  }
  EXPECT_TRUE(std::equal(ones.begin(), ones.end(), got.begin())) << "a synced write was undone";
  EXPECT_TRUE(std::all_of(got.begin() + kIoAlignment, got.end(), [](std::byte b) {
    return b == std::byte{0};
  })) << "an unsynced write survived";
  EXPECT_FALSE(std::filesystem::exists(dir.Sub("d/unsynced")));
}

}  // namespace
}  // namespace tierkv::nvme
