#include "tiers/nvme/block_index.h"

#include <gtest/gtest.h>
#include <rocksdb/db.h>

#include "tiers/nvme/testing/temp_dir.h"
#include "tiers/nvme/testing/test_blocks.h"

namespace tierkv::nvme {
namespace {

using testing::TempDir;
using testing::TestKey;

BlockRecord Record(uint64_t i) {
  BlockRecord r;
  r.key = TestKey(i);
  r.slot = SlotId{4096, 0, uint32_t(i)};
  r.length = 4096;
  r.checksum = i;
  r.tokens = {uint32_t(i)};
  return r;
}

class BlockIndexTest : public ::testing::Test {
 protected:
  std::unique_ptr<BlockIndex> Open() {
    Result<std::unique_ptr<BlockIndex>> index = BlockIndex::Open(dir_.Sub("index"), {});
    EXPECT_TRUE(index.ok()) << index.status().ToString();
    return index.ok() ? std::move(index).value() : nullptr;
  }
  std::vector<BlockRecord> ScanAll(BlockIndex& index, IndexScanStats* stats,
                                   std::vector<uint64_t>* progress = nullptr) {
    std::vector<BlockRecord> out;
    Status s = index.Scan([&](BlockRecord&& r) { out.push_back(std::move(r)); },
                          [&](uint64_t n) {
                            if (progress) progress->push_back(n);
                          },
                          /*progress_every=*/4, stats);
    EXPECT_TRUE(s.ok()) << s.ToString();
    return out;
  }

  TempDir dir_;
};

TEST_F(BlockIndexTest, PutGetDeleteSurviveReopen) {
  {
    auto index = Open();
    std::vector<BlockRecord> records{Record(1), Record(2), Record(3)};
    ASSERT_TRUE(index->Put(records).ok());
    const Key128 gone[] = {TestKey(2)};
    ASSERT_TRUE(index->Delete(gone).ok());
  }
  auto index = Open();
  Result<BlockRecord> r = index->Get(TestKey(3));
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->slot.index, 3u);
  EXPECT_EQ(r->tokens, std::vector<TokenId>{3});
  EXPECT_TRUE(index->Get(TestKey(2)).status().IsNotFound());
  IndexScanStats stats;
  EXPECT_EQ(ScanAll(*index, &stats).size(), 2u);
  EXPECT_EQ(stats.records, 2u);
}

TEST_F(BlockIndexTest, ScanReportsProgressAndDeletesMalformedEntries) {
  {
    auto index = Open();
    std::vector<BlockRecord> records;
    for (int i = 0; i < 10; ++i) records.push_back(Record(i));
    ASSERT_TRUE(index->Put(records).ok());
  }
  {
    rocksdb::DB* raw = nullptr;
    ASSERT_TRUE(rocksdb::DB::Open(rocksdb::Options(), dir_.Sub("index"), &raw).ok());
    std::unique_ptr<rocksdb::DB> db(raw);
    ASSERT_TRUE(db->Put(rocksdb::WriteOptions(), "odd-key", "x").ok());
    ASSERT_TRUE(db->Put(rocksdb::WriteOptions(), EncodeIndexKey(TestKey(99)), "bad").ok());
  }
  auto index = Open();
  IndexScanStats stats;
  std::vector<uint64_t> progress;
  EXPECT_EQ(ScanAll(*index, &stats, &progress).size(), 10u);
  EXPECT_EQ(stats.malformed, 2u);
  EXPECT_EQ(progress, (std::vector<uint64_t>{4, 8, 12}));
  EXPECT_EQ(ScanAll(*index, &stats).size(), 10u);
  EXPECT_EQ(stats.malformed, 0u);
}

}  // namespace
}  // namespace tierkv::nvme
