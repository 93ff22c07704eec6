#include "tiers/nvme/index_record.h"

#include <gtest/gtest.h>

#include "tiers/nvme/testing/test_blocks.h"

namespace tierkv::nvme {
namespace {

BlockRecord Sample() {
  BlockRecord r;
  r.key = Key128{0x0102030405060708, 0x1112131415161718};
  r.slot = SlotId{8192, 3, 77};
  r.length = 5000;
  r.checksum = 0xDEADBEEFCAFEF00Dull;
  r.parent = Key128{1, 2};
  r.namespace_id = Key128{3, 4};
  r.last_access = 123456789;
  r.tokens = {1, 2, 3, 0xFFFFFFFF};
  return r;
}

TEST(IndexRecordTest, ValueRoundTrips) {
  BlockRecord in = Sample(), out;
  ASSERT_TRUE(DecodeRecordValue(EncodeRecordValue(in), &out).ok());
  EXPECT_EQ(out.slot, in.slot);
  EXPECT_EQ(out.length, in.length);
  EXPECT_EQ(out.checksum, in.checksum);
  EXPECT_EQ(out.parent, in.parent);
  EXPECT_EQ(out.namespace_id, in.namespace_id);
  EXPECT_EQ(out.last_access, in.last_access);
  EXPECT_EQ(out.tokens, in.tokens);
}

TEST(IndexRecordTest, KeysRoundTripAndSortAsIntegers) {
  Key128 k{0xAAAA, 0x1};
  Key128 out;
  ASSERT_TRUE(DecodeIndexKey(EncodeIndexKey(k), &out));
  EXPECT_EQ(out, k);
  EXPECT_LT(EncodeIndexKey(Key128{0xFFFF, 1}), EncodeIndexKey(Key128{0, 2}));
  EXPECT_FALSE(DecodeIndexKey("short", &out));
}

TEST(IndexRecordTest, MalformedValuesAreCorruption) {
  std::string v = EncodeRecordValue(Sample());
  BlockRecord out;
  EXPECT_TRUE(DecodeRecordValue(v.substr(0, 20), &out).IsCorruption());
  EXPECT_TRUE(DecodeRecordValue(v + "x", &out).IsCorruption());
  std::string bad_version = v;
  bad_version[0] = 9;
  EXPECT_TRUE(DecodeRecordValue(bad_version, &out).IsCorruption());
  BlockRecord too_long = Sample();
  too_long.length = too_long.slot.slot_bytes + 1;
  EXPECT_TRUE(DecodeRecordValue(EncodeRecordValue(too_long), &out).IsCorruption());
}

}  // namespace
}  // namespace tierkv::nvme
