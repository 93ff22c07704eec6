#include "tiers/nvme/nvme_store.h"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include <cerrno>
#include <set>

#include "tiers/nvme/testing/fault_injection_file_system.h"
#include "tiers/nvme/testing/fault_injection_io_engine.h"
#include "tiers/nvme/testing/store_fixture.h"

namespace tierkv::nvme {
namespace {

using testing::FaultInjectionFileSystem;
using testing::FaultInjectionIoEngine;
using testing::FsOp;
using testing::IoOp;
using testing::TestKey;
using testing::TestMeta;
using testing::TestPayload;

class NvmeStoreTest : public testing::NvmeStoreFixture {
 protected:
  // Flips one byte of block i's slot in its slab file, behind the store's back.
  void CorruptOnDisk(const BlockRecord& record) {
    std::string path = StoreDir() + "/slabs/slab-" + std::to_string(record.slot.slot_bytes) + "-" +
                       std::to_string(record.slot.file) + ".dat";
    int fd = ::open(path.c_str(), O_RDWR);
    ASSERT_GE(fd, 0);
    off_t at = off_t(record.slot.index) * record.slot.slot_bytes + record.length / 2;
    char byte;
    ASSERT_EQ(::pread(fd, &byte, 1, at), 1);
    byte = char(byte ^ 0x5A);
    ASSERT_EQ(::pwrite(fd, &byte, 1, at), 1);
    ASSERT_EQ(::fsync(fd), 0);
    ::close(fd);
  }

  const BlockRecord* Loaded(uint64_t i) const {
    for (const BlockRecord& r : loaded_) {
      if (r.key == TestKey(i)) return &r;
    }
    return nullptr;
  }
};

TEST_F(NvmeStoreTest, WritesAndReadsBlocksByteExact) {
  Open();
  for (size_t len : {size_t{1}, size_t{4096}, size_t{5000}, kBlock, size_t{64 * 1024}}) {
    ASSERT_TRUE(Put(len, len).ok());
    ExpectBlock(len, len);
  }
  NvmeStats stats = store_->Stats();
  EXPECT_EQ(stats.blocks, 5u);
  EXPECT_EQ(stats.writes, 5u);
  EXPECT_EQ(stats.reads, 5u);
  EXPECT_EQ(stats.bytes_written, 1u + 4096 + 5000 + kBlock + 64 * 1024);
  EXPECT_EQ(stats.bytes_read, stats.bytes_written);
  EXPECT_GT(stats.write_bytes_per_sec, 0);
  EXPECT_GT(stats.read_bytes_per_sec, 0);
  EXPECT_EQ(stats.queue_depth, 0u);
}

TEST_F(NvmeStoreTest, RejectsDuplicatesEmptyAndOversizedBlocks) {
  Open();
  ASSERT_TRUE(Put(1).ok());
  EXPECT_EQ(Put(1).code(), StatusCode::kAlreadyExists);
  EXPECT_TRUE(Put(2, 0).IsInvalidArgument());
  EXPECT_TRUE(Put(3, 64 * 1024 + 1).IsInvalidArgument());
  std::vector<std::byte> small(kBlock - 1);
  EXPECT_TRUE(store_->Read(TestKey(1), small, [](Status) {}).IsInvalidArgument());
  EXPECT_TRUE(store_->Read(TestKey(9), small, [](Status) {}).IsNotFound());
}

TEST_F(NvmeStoreTest, ReopenFindsEveryBlockWithItsMetadata) {
  Open();
  for (int i = 0; i < 20; ++i) ASSERT_TRUE(Put(i).ok());
  std::vector<uint64_t> progress;
  store_.reset();
  LoadCallbacks load;
  load.progress = [&](uint64_t n) { progress.push_back(n); };
  load.progress_every = 8;
  Result<std::unique_ptr<NvmeStore>> reopened = NvmeStore::Open(StoreDir(), SmallOptions(), load);
  ASSERT_TRUE(reopened.ok());
  EXPECT_EQ(progress, (std::vector<uint64_t>{8, 16, 20}));
  reopened = Result<std::unique_ptr<NvmeStore>>(Status::Unavailable("closed"));

  Open();
  ASSERT_EQ(loaded_.size(), 20u);
  for (int i = 0; i < 20; ++i) {
    ExpectBlock(i);
    const BlockRecord* r = Loaded(i);
    ASSERT_NE(r, nullptr);
    BlockMeta meta = TestMeta(i);
    EXPECT_EQ(r->parent, meta.parent);
    EXPECT_EQ(r->namespace_id, meta.namespace_id);
    EXPECT_EQ(r->tokens, meta.tokens);
    EXPECT_EQ(r->last_access, meta.last_access);
    EXPECT_EQ(r->length, kBlock);
  }
  EXPECT_EQ(store_->Stats().loaded_blocks, 20u);
  // The claimed slots are not handed out again.
  ASSERT_TRUE(Put(100).ok());
  for (int i = 0; i < 20; ++i) ExpectBlock(i);
}

TEST_F(NvmeStoreTest, CorruptSlabByteIsDetectedDroppedAndItsSlotReused) {
  Open();
  ASSERT_TRUE(Put(1).ok());
  ASSERT_TRUE(Put(2).ok());
  Open();
  ASSERT_NE(Loaded(1), nullptr);
  BlockRecord victim = *Loaded(1);
  store_.reset();
  CorruptOnDisk(victim);
  Open();
  std::vector<std::byte> out;
  Status s = Get(1, &out);
  EXPECT_TRUE(s.IsCorruption()) << s.ToString();
  EXPECT_FALSE(store_->Contains(TestKey(1)));
  EXPECT_EQ(store_->Stats().corrupt_dropped, 1u);
  ExpectBlock(2);
  ASSERT_TRUE(Put(3).ok());  // takes the dropped block's slot
  Open();
  EXPECT_EQ(Loaded(1), nullptr);
  ASSERT_NE(Loaded(3), nullptr);
  EXPECT_EQ(Loaded(3)->slot, victim.slot);
  ExpectBlock(3);
}

TEST_F(NvmeStoreTest, RecordsPointingPastTheSlabsOrAtAClaimedSlotAreDroppedAtLoad) {
  Open();
  ASSERT_TRUE(Put(1).ok());
  ASSERT_TRUE(Put(2).ok());
  Open();
  BlockRecord dup = *Loaded(1);
  store_.reset();
  {
    Result<std::unique_ptr<BlockIndex>> index = BlockIndex::Open(StoreDir() + "/index", {});
    ASSERT_TRUE(index.ok());
    BlockRecord past_end = dup;
    past_end.key = TestKey(50);
    past_end.slot.index = 1000;
    dup.key = TestKey(51);
    dup.checksum ^= 1;  // a stale record: its bytes were overwritten
    std::vector<BlockRecord> bad{past_end, dup};
    ASSERT_TRUE((*index)->Put(bad).ok());
  }
  Open();
  NvmeStats stats = store_->Stats();
  EXPECT_EQ(stats.dropped_at_load, 2u);
  EXPECT_EQ(stats.blocks + stats.dropped_at_load, 4u);
  EXPECT_FALSE(store_->Contains(TestKey(50)));
  // Of the two records sharing a slot only the first claimant (key order) is
  // kept; whichever it is, nothing wrong is served.
  EXPECT_NE(store_->Contains(TestKey(1)), store_->Contains(TestKey(51)));
  ExpectBlock(2);
  std::vector<std::byte> out;
  if (store_->Contains(TestKey(1))) {
    ExpectBlock(1);
  } else {
    EXPECT_TRUE(Get(51, &out).IsCorruption());
  }
  Open();
  EXPECT_EQ(store_->Stats().dropped_at_load, 0u);
}

TEST_F(NvmeStoreTest, CappedTierIsResourceExhaustedUntilABlockIsRemoved) {
  Open(SmallOptions(/*capacity=*/128 * 1024));  // two 64 KiB slabs, eight 16 KiB slots
  for (int i = 0; i < 8; ++i) ASSERT_TRUE(Put(i).ok());
  Status full = Put(8);
  EXPECT_TRUE(full.IsResourceExhausted()) << full.ToString();
  ExpectBlock(3);
  ASSERT_TRUE(store_->Remove(TestKey(3)).ok());
  EXPECT_TRUE(store_->Remove(TestKey(3)).IsNotFound());
  ASSERT_TRUE(Put(8).ok());
  NvmeStats stats = store_->Stats();
  EXPECT_EQ(stats.blocks, 8u);
  EXPECT_EQ(stats.file_bytes, 128u * 1024);
  EXPECT_EQ(stats.used_bytes, 8u * kBlock);
  Open(SmallOptions(128 * 1024));
  EXPECT_FALSE(store_->Contains(TestKey(3)));
  for (int i : {0, 1, 2, 4, 5, 6, 7, 8}) ExpectBlock(i);
}

TEST_F(NvmeStoreTest, DiskFullIsAClearErrorAndReadsKeepWorking) {
  FaultInjectionFileSystem fs(DefaultFileSystem());
  NvmeStoreOptions options = SmallOptions();
  options.file_system = &fs;
  options.disk_full_retry = std::chrono::milliseconds(0);  // tries the disk again at once
  Open(options);
  for (int i = 0; i < 4; ++i) ASSERT_TRUE(Put(i).ok());  // fills the first slab file
  fs.InjectError(FsOp::kAllocate, ENOSPC);
  Status s = Put(4);
  EXPECT_TRUE(s.IsResourceExhausted()) << s.ToString();
  EXPECT_NE(s.message().find("disk full"), std::string_view::npos) << s.ToString();
  for (int i = 0; i < 4; ++i) ExpectBlock(i);
  fs.Clear();
  ASSERT_TRUE(Put(4).ok());
  ExpectBlock(4);
}

TEST_F(NvmeStoreTest, BlocksThatAFullDiskCannotTakeAreCountedAndNotRetriedEach) {
  constexpr int kRefused = 20;
  FaultInjectionFileSystem fs(DefaultFileSystem());
  NvmeStoreOptions options = SmallOptions();
  options.file_system = &fs;
  Open(options);
  for (int i = 0; i < 4; ++i) ASSERT_TRUE(Put(i).ok());  // fills the first slab file
  fs.InjectError(FsOp::kAllocate, ENOSPC);
  for (int i = 4; i < 4 + kRefused; ++i) {
    Status s = Put(i);
    EXPECT_TRUE(s.IsResourceExhausted()) << s.ToString();
    EXPECT_NE(s.message().find("disk full"), std::string_view::npos) << s.ToString();
  }
  EXPECT_EQ(fs.injected_failures(FsOp::kAllocate), 1);
  EXPECT_EQ(store_->Stats().write_errors, uint64_t{kRefused});
  for (int i = 0; i < 4; ++i) ExpectBlock(i);
}

TEST_F(NvmeStoreTest, PayloadIoErrorsFailOnlyTheirRequest) {
  auto engine = std::make_unique<FaultInjectionIoEngine>(
      std::move(UringEngine::Create({4, 64 * 1024, WriteDurability::kDsync})).value());
  FaultInjectionIoEngine* faults = engine.get();
  Open(SmallOptions(), std::move(engine));
  ASSERT_TRUE(Put(1).ok());
  faults->InjectError(IoOp::kWrite, EIO, 1);
  Status w = Put(2);
  EXPECT_TRUE(w.IsIOError()) << w.ToString();
  EXPECT_NE(w.message().find("nvme write of block"), std::string_view::npos) << w.ToString();
  EXPECT_FALSE(store_->Contains(TestKey(2)));
  faults->InjectError(IoOp::kRead, EIO, 1);
  std::vector<std::byte> out;
  EXPECT_TRUE(Get(1, &out).IsIOError());
  ExpectBlock(1);  // a read error keeps the block
  NvmeStats stats = store_->Stats();
  EXPECT_EQ(stats.write_errors, 1u);
  EXPECT_EQ(stats.read_errors, 1u);
  EXPECT_EQ(stats.used_bytes, kBlock);  // the failed write's slot went back
  faults->InjectError(IoOp::kSync, EIO, 1);
  Status sync = Put(2);
  EXPECT_TRUE(sync.IsIOError()) << sync.ToString();
  EXPECT_FALSE(store_->Contains(TestKey(2)));
  EXPECT_EQ(store_->Stats().used_bytes, kBlock);
  ASSERT_TRUE(Put(2).ok());
  ExpectBlock(2);
  Open();
  EXPECT_EQ(loaded_.size(), 2u);
}

TEST_F(NvmeStoreTest, EveryDurabilityModeStoresAndReopens) {
  for (WriteDurability d : {WriteDurability::kNone, WriteDurability::kDsync,
                            WriteDurability::kFdatasync, WriteDurability::kGroupSync}) {
    NvmeStoreOptions options = SmallOptions();
    options.durability = d;
    Open(options);
    const uint64_t i = 10 + uint64_t(d);
    ASSERT_TRUE(Put(i).ok());
    Open(options);
    ExpectBlock(i);
  }
  EXPECT_EQ(loaded_.size(), 4u);
}

TEST_F(NvmeStoreTest, RemoveDuringAWriteAbandonsIt) {
  Open();
  std::vector<std::byte> payload = TestPayload(1, kBlock);
  std::optional<Status> result;
  ASSERT_TRUE(store_->Write(TestMeta(1), payload, [&](Status s) { result = s; }).ok());
  EXPECT_EQ(store_->Write(TestMeta(1), payload, [](Status) {}).code(), StatusCode::kAlreadyExists);
  ASSERT_TRUE(store_->Remove(TestKey(1)).ok());
  store_->Drain();
  ASSERT_TRUE(result.has_value());
  EXPECT_TRUE(result->IsNotFound()) << result->ToString();
  EXPECT_FALSE(store_->Contains(TestKey(1)));
  EXPECT_EQ(store_->Stats().used_bytes, 0u);
  Open();
  EXPECT_TRUE(loaded_.empty());
}

TEST_F(NvmeStoreTest, RemoveDuringAReadKeepsTheSlotUntilTheReadIsDone) {
  Open();
  ASSERT_TRUE(Put(1).ok());
  std::vector<std::byte> out(kBlock);
  std::optional<Status> read;
  ASSERT_TRUE(store_->Read(TestKey(1), out, [&](Status s) { read = s; }).ok());
  ASSERT_TRUE(store_->Remove(TestKey(1)).ok());
  EXPECT_EQ(store_->Stats().used_bytes, kBlock);
  ASSERT_TRUE(Put(2).ok());  // must not land in block 1's slot
  store_->Drain();
  ASSERT_TRUE(read.has_value() && read->ok());
  EXPECT_TRUE(out == TestPayload(1, kBlock));
  EXPECT_EQ(store_->Stats().used_bytes, kBlock);
  ExpectBlock(2);
}

TEST_F(NvmeStoreTest, ManyConcurrentReadsAndWritesStayByteExact) {
  constexpr int kBlocks = 64;
  Open(SmallOptions(/*capacity=*/4 << 20));
  std::vector<std::vector<std::byte>> in, out(kBlocks, std::vector<std::byte>(kBlock));
  for (int i = 0; i < kBlocks; ++i) in.push_back(TestPayload(i, kBlock));
  int writes_ok = 0, reads_ok = 0;
  size_t max_depth = 0;
  // Writes of the second half go out while the first half is being read back.
  for (int i = 0; i < kBlocks / 2; ++i) {
    ASSERT_TRUE(store_->Write(TestMeta(i), in[i], [&](Status s) { writes_ok += s.ok(); }).ok());
  }
  store_->Drain();
  for (int i = 0; i < kBlocks / 2; ++i) {
    ASSERT_TRUE(store_->Read(TestKey(i), out[i], [&](Status s) { reads_ok += s.ok(); }).ok());
    int j = kBlocks / 2 + i;
    ASSERT_TRUE(store_->Write(TestMeta(j), in[j], [&](Status s) { writes_ok += s.ok(); }).ok());
    max_depth = std::max<size_t>(max_depth, store_->Stats().queue_depth);
    store_->ReapCompletions();
  }
  store_->Drain();
  for (int i = kBlocks / 2; i < kBlocks; ++i) {
    ASSERT_TRUE(store_->Read(TestKey(i), out[i], [&](Status s) { reads_ok += s.ok(); }).ok());
  }
  store_->Drain();
  EXPECT_EQ(writes_ok, kBlocks);
  EXPECT_EQ(reads_ok, kBlocks);
  EXPECT_GE(max_depth, 4u);  // the four staging buffers, plus group fdatasyncs
  for (int i = 0; i < kBlocks; ++i) EXPECT_TRUE(in[i] == out[i]) << "block " << i;
  std::set<uint32_t> slots;
  Open(SmallOptions(4 << 20));
  for (const BlockRecord& r : loaded_) slots.insert(r.slot.file * 1000 + r.slot.index);
  EXPECT_EQ(slots.size(), size_t(kBlocks));
}

}  // namespace
}  // namespace tierkv::nvme
