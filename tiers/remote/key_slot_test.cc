#include "tiers/remote/key_slot.h"

#include <gtest/gtest.h>

namespace tierkv::remote {
namespace {

TEST(KeySlotTest, Crc16MatchesTheXmodemCheckValue) {
  EXPECT_EQ(Crc16Xmodem("123456789"), 0x31C3);
  EXPECT_EQ(Crc16Xmodem(""), 0);
}

// Values from the Redis Cluster specification and CLUSTER KEYSLOT.
TEST(KeySlotTest, SlotsMatchRedis) {
  EXPECT_EQ(KeySlot("foo"), 12182);
  EXPECT_EQ(KeySlot("bar"), 5061);
  EXPECT_EQ(KeySlot("123456789"), 0x31C3 % kClusterSlots);
}

TEST(KeySlotTest, HashTagsFollowTheSpecification) {
  EXPECT_EQ(HashTag("{user1000}.following"), "user1000");
  EXPECT_EQ(KeySlot("{user1000}.following"), KeySlot("{user1000}.followers"));
  EXPECT_EQ(HashTag("foo{}{bar}"), "foo{}{bar}");  // empty first tag: the whole key
  EXPECT_EQ(HashTag("foo{{bar}}zap"), "{bar");
  EXPECT_EQ(HashTag("foo{bar}{zap}"), "bar");
  EXPECT_EQ(HashTag("no-tag"), "no-tag");
  EXPECT_EQ(HashTag("open{only"), "open{only");
}

}  // namespace
}  // namespace tierkv::remote
