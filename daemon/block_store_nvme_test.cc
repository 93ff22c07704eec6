// The NVMe tier's rules inside BlockStore, on a real NvmeStore (io_uring slab
// files, RocksDB) whose writes a fault-injecting engine can hold back or fail:
// what waits for host room waits for the disk without blocking anything else,
// in order, and a write that fails drops the block that had to leave.
#include <gtest/gtest.h>
#include <poll.h>

#include <chrono>
#include <functional>
#include <optional>
#include <unordered_set>
#include <vector>

#include "daemon/block_store.h"
#include "daemon/block_store_fixture.h"
#include "daemon/store_observer.h"
#include "tiers/nvme/testing/fault_injection_io_engine.h"
#include "tiers/nvme/testing/temp_dir.h"
#include "tiers/nvme/uring_engine.h"

namespace tierkv {
namespace {

using nvme::testing::FaultInjectionIoEngine;
using nvme::testing::IoOp;

constexpr auto kReapDeadline = std::chrono::seconds(10);

class BlockStoreNvmeTest : public testing::BlockStoreFixture {
 protected:
  void SetUp() override {
    cleaning_.clean_above = 1.0;  // no background cleaning: every write is one a test asked for
    BlockStoreFixture::SetUp();
  }
  void AttachTiers() override {
    nvme::NvmeStoreOptions options;
    options.capacity_bytes = 16 << 20;
    options.slab_bytes = 1 << 20;
    options.max_block_bytes = kBlockBytes;
    options.queue_depth = 8;
    nvme::UringEngineOptions engine_options;
    engine_options.queue_depth = options.queue_depth;
    engine_options.max_io_bytes = nvme::RoundUpToIo(options.max_block_bytes);
    engine_options.durability = options.durability;
    auto uring = nvme::UringEngine::Create(engine_options);
    ASSERT_TRUE(uring.ok()) << uring.status().ToString();
    auto engine = std::make_unique<FaultInjectionIoEngine>(std::move(uring).value());
    engine_ = engine.get();
    auto opened = nvme::NvmeStore::Open(dir_.Sub("nvme-" + std::to_string(++opened_)), options, {},
                                        std::move(engine));
    ASSERT_TRUE(opened.ok()) << opened.status().ToString();
    nvme_ = std::move(opened).value();
    store_->AttachNvme(nvme_.get(), {});
  }
  void TearDown() override {
    engine_->ReleaseHeldWrites();
    store_->DrainNvme();
    store_.reset();
    nvme_.reset();
  }

  // Runs NVMe completions as the event loop does, until `done()`; false when
  // it is not done within kReapDeadline.
  bool ReapUntil(const std::function<bool()>& done) {
    const auto deadline = std::chrono::steady_clock::now() + kReapDeadline;
    while (!done()) {
      if (std::chrono::steady_clock::now() > deadline) return false;
      pollfd p{store_->nvme()->event_fd(), POLLIN, 0};
      ::poll(&p, 1, 100);
      store_->ReapNvme();
    }
    return true;
  }

  // Starts a reserve that is expected to wait for room; its result lands in `*out`.
  void ReserveWaiting(const wire::BlockChain& c, std::optional<Result<BlockStore::Reserved>>* out) {
    auto now = store_->Reserve(
        *ns_, c, {}, [out](Result<BlockStore::Reserved> r) { out->emplace(std::move(r)); });
    EXPECT_FALSE(now.has_value()) << "the reserve did not wait for room";
  }

  nvme::testing::TempDir dir_{"tierkv-store-nvme-"};
  int opened_ = 0;
  FaultInjectionIoEngine* engine_ = nullptr;
  std::unique_ptr<nvme::NvmeStore> nvme_;
};

// The sets of blocks per medium that the store's notices describe; a copy is
// never added twice nor removed when absent.
class MediaRecorder final : public StoreObserver {
 public:
  void OnCopyAdded(const BlockEntry& e, Medium m) override {
    EXPECT_TRUE(media_[Index(m)].insert(e.key).second) << "added twice on " << MediumName(m);
  }
  void OnCopyRemoved(const BlockEntry& e, Medium m) override {
    EXPECT_EQ(media_[Index(m)].erase(e.key), 1u) << "removed, not there, on " << MediumName(m);
  }
  void OnAllCleared() override {
    for (auto& blocks : media_) blocks.clear();
  }
  size_t on(Medium m) const { return media_[Index(m)].size(); }
  bool holds(Medium m, const Key128& key) const { return media_[Index(m)].contains(key); }

 private:
  static size_t Index(Medium m) { return static_cast<size_t>(m); }
  std::unordered_set<Key128, Key128Hash> media_[3];
};

TEST_F(BlockStoreNvmeTest, TheObserverHearsEveryCopyEachMediumGainsAndLoses) {
  MediaRecorder media;
  store_->set_observer(&media);
  auto a = Chain(4);
  Put(a);
  EXPECT_EQ(media.on(Medium::kCpu), 4u);
  bool flushed = false;
  if (!store_->Flush([&](FlushResult) { flushed = true; })) {
    ASSERT_TRUE(ReapUntil([&] { return flushed; }));
  }
  EXPECT_EQ(media.on(Medium::kDisk), 4u);  // durable on NVMe, still on the host
  Put(Chain(32, 5000));                    // a's clean host copies leave (demotion)
  for (const BlockEntry* e : Match(a)) {
    EXPECT_EQ(media.holds(Medium::kCpu, e->key), e->residency.on_host());
    EXPECT_TRUE(media.holds(Medium::kDisk, e->key));
  }
  EXPECT_EQ(media.on(Medium::kCpu), store_->counters().host_blocks);

  bool ready = false;
  if (store_->WhenOnHost(a.keys, [&] { ready = true; })) {
    ASSERT_TRUE(ReapUntil([&] { return ready; }));
  }
  for (const BlockEntry* e : Match(a)) EXPECT_TRUE(media.holds(Medium::kCpu, e->key));  // promoted
  EXPECT_EQ(media.on(Medium::kCpu), store_->counters().host_blocks);
  EXPECT_EQ(media.on(Medium::kDisk), nvme_->Stats().blocks);

  store_->Evict(nullptr);
  EXPECT_EQ(media.on(Medium::kCpu), 0u);
  EXPECT_EQ(media.on(Medium::kDisk), 0u);
  store_->set_observer(nullptr);
}

TEST_F(BlockStoreNvmeTest, AReserveWaitsForTheWriteThatMakesRoomWhileMatchesGoOn) {
  auto a = Chain(32);
  Put(a);  // the host tier is full, and nothing is on NVMe yet
  engine_->HoldWrites();
  std::optional<Result<BlockStore::Reserved>> got;
  ReserveWaiting(Chain(1, 9000), &got);
  EXPECT_EQ(engine_->held_writes(), 1) << "the LRU tail's write makes the room";
  // Meanwhile the store serves everything it holds, from the host.
  EXPECT_EQ(Matched(a), 32u);
  store_->ReapNvme();
  EXPECT_FALSE(got.has_value()) << "the reserve completed before its write";

  engine_->ReleaseHeldWrites();
  ASSERT_TRUE(ReapUntil([&] { return got.has_value(); }));
  ASSERT_TRUE(got->ok()) << got->status().ToString();
  ASSERT_NE((**got)[0], nullptr);
  store_->Commit(Slots(**got));
  // The tail left the host for NVMe: nothing was dropped.
  auto m = Match(a);
  ASSERT_EQ(m.size(), 32u);
  EXPECT_EQ(m.front()->tier(), TierKind::kHost);
  EXPECT_EQ(m.back()->tier(), TierKind::kNvme);
  EXPECT_EQ(store_->counters().dropped_blocks, 0u);
  EXPECT_EQ(Matched(Chain(1, 9000)), 1u);
}

TEST_F(BlockStoreNvmeTest, AReserveBehindAWaitingOneWaitsForItAndTheyEndInOrder) {
  auto a = Chain(32);
  Put(a);
  engine_->HoldWrites();
  std::vector<int> order;
  auto first = store_->Reserve(*ns_, Chain(1, 9000), {}, [&](Result<BlockStore::Reserved> r) {
    EXPECT_TRUE(r.ok());
    store_->Commit(Slots(*r));
    order.push_back(1);
  });
  ASSERT_FALSE(first.has_value());
  // Needs no room at all (every block is stored), yet room goes in order.
  auto second = store_->Reserve(*ns_, a, {}, [&](Result<BlockStore::Reserved> r) {
    EXPECT_TRUE(r.ok());
    EXPECT_TRUE(Slots(*r).empty());
    order.push_back(2);
  });
  ASSERT_FALSE(second.has_value());
  engine_->ReleaseHeldWrites();
  ASSERT_TRUE(ReapUntil([&] { return order.size() == 2; }));
  EXPECT_EQ(order, (std::vector<int>{1, 2}));
}

TEST_F(BlockStoreNvmeTest, AFailedWriteDropsTheBlockThatHadToLeave) {
  auto a = Chain(32);
  Put(a);
  engine_->InjectError(IoOp::kWrite, EIO, 1);
  std::optional<Result<BlockStore::Reserved>> got;
  ReserveWaiting(Chain(1, 9000), &got);
  ASSERT_TRUE(ReapUntil([&] { return got.has_value(); }));
  ASSERT_TRUE(got->ok()) << got->status().ToString();
  store_->Commit(Slots(**got));
  EXPECT_EQ(store_->counters().dropped_blocks, 1u);
  EXPECT_EQ(Matched(a), 31u) << "the tail, which could not be written, is gone";
}

TEST_F(BlockStoreNvmeTest, APromotionWaitsForRoomTooAndEndsWithThePrefixOnTheHost) {
  auto a = Chain(4);
  Put(a);
  bool flushed = false;
  if (!store_->Flush([&](FlushResult) { flushed = true; })) {
    ASSERT_TRUE(ReapUntil([&] { return flushed; }));
  }
  Put(Chain(32, 5000));  // a's clean host copies leave for these
  auto before = Match(a);
  ASSERT_EQ(before.size(), 4u);
  for (const BlockEntry* e : before) ASSERT_EQ(e->tier(), TierKind::kNvme);

  engine_->HoldWrites();  // the host is full of blocks not on NVMe
  bool ready = false;
  ASSERT_TRUE(store_->WhenOnHost(a.keys, [&] { ready = true; }));
  store_->ReapNvme();
  EXPECT_FALSE(ready);
  engine_->ReleaseHeldWrites();
  ASSERT_TRUE(ReapUntil([&] { return ready; }));
  for (const BlockEntry* e : Match(a)) EXPECT_EQ(e->tier(), TierKind::kHost);
  EXPECT_EQ(store_->counters().promotions, 4u);
}

TEST_F(BlockStoreNvmeTest, FlushAnswersAtOnceWhenNothingIsLeftToWrite) {
  Put(Chain(2));
  bool called = false;
  auto first = store_->Flush([&](FlushResult r) {
    EXPECT_TRUE(r.first_error.ok());
    EXPECT_EQ(r.written, 2u);
    called = true;
  });
  ASSERT_FALSE(first.has_value());
  ASSERT_TRUE(ReapUntil([&] { return called; }));
  auto again = store_->Flush([](FlushResult) { ADD_FAILURE() << "nothing was in flight"; });
  ASSERT_TRUE(again.has_value());
  EXPECT_EQ(again->written, 0u);
  EXPECT_TRUE(again->first_error.ok());
}

}  // namespace
}  // namespace tierkv
