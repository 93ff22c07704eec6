#include "tiers/remote/slot_map.h"

#include <gtest/gtest.h>
#include <hiredis/hiredis.h>

#include <memory>
#include <string>

namespace tierkv::remote {
namespace {

using ReplyPtr = std::unique_ptr<redisReply, void (*)(void*)>;

// Parses RESP bytes with hiredis, as a connection would receive them.
ReplyPtr Parse(const std::string& resp) {
  redisReader* reader = redisReaderCreate();
  redisReaderFeed(reader, resp.data(), resp.size());
  void* reply = nullptr;
  EXPECT_EQ(redisReaderGetReply(reader, &reply), REDIS_OK);
  redisReaderFree(reader);
  EXPECT_NE(reply, nullptr);
  return ReplyPtr(static_cast<redisReply*>(reply), freeReplyObject);
}

std::string Node(const std::string& ip, int port) {
  return "*3\r\n$" + std::to_string(ip.size()) + "\r\n" + ip + "\r\n:" + std::to_string(port) +
         "\r\n$2\r\nid\r\n";
}

std::string Range(int first, int last, const std::string& master, const std::string& replica) {
  return "*4\r\n:" + std::to_string(first) + "\r\n:" + std::to_string(last) + "\r\n" + master +
         replica;
}

const HostPort kQueried{"127.0.0.1", 7000};

TEST(SlotMapTest, ReadsClusterSlots) {
  const std::string reply = "*2\r\n" +
                            Range(0, 8191, Node("127.0.0.1", 7000), Node("127.0.0.1", 7003)) +
                            Range(8192, 16383, Node("127.0.0.1", 7001), Node("127.0.0.1", 7004));
  auto map = SlotMap::FromClusterSlots(*Parse(reply), kQueried);
  ASSERT_TRUE(map.ok()) << map.status().ToString();
  EXPECT_EQ(map->covered_slots(), kClusterSlots);
  EXPECT_EQ(*map->MasterOf(0), (HostPort{"127.0.0.1", 7000}));
  EXPECT_EQ(*map->MasterOf(8192), (HostPort{"127.0.0.1", 7001}));
  EXPECT_EQ(map->masters().size(), 2u);
  EXPECT_EQ(map->replicas().size(), 2u);
  EXPECT_EQ(map->SlotsOf({"127.0.0.1", 7000}), 8192u);
}

TEST(SlotMapTest, EmptyIpMeansTheQueriedHostAndGapsAreUncovered) {
  const std::string reply = "*1\r\n*3\r\n:10\r\n:19\r\n" + Node("", 7005);
  auto map = SlotMap::FromClusterSlots(*Parse(reply), kQueried);
  ASSERT_TRUE(map.ok()) << map.status().ToString();
  EXPECT_EQ(map->covered_slots(), 10u);
  EXPECT_EQ(map->MasterOf(9), nullptr);
  EXPECT_EQ(*map->MasterOf(10), (HostPort{"127.0.0.1", 7005}));
}

TEST(SlotMapTest, MovedPatchesOneSlot) {
  const std::string reply = "*1\r\n" + Range(0, 16383, Node("a", 1), Node("b", 2));
  auto map = SlotMap::FromClusterSlots(*Parse(reply), kQueried);
  ASSERT_TRUE(map.ok());
  map->Assign(42, {"c", 3});
  EXPECT_EQ(*map->MasterOf(42), (HostPort{"c", 3}));
  EXPECT_EQ(*map->MasterOf(43), (HostPort{"a", 1}));
  EXPECT_EQ(map->SlotsOf({"a", 1}), kClusterSlots - 1u);
}

TEST(SlotMapTest, RefusesMalformedReplies) {
  EXPECT_FALSE(SlotMap::FromClusterSlots(*Parse(":1\r\n"), kQueried).ok());
  EXPECT_FALSE(
      SlotMap::FromClusterSlots(*Parse("*1\r\n*3\r\n:5\r\n:4\r\n" + Node("a", 1)), kQueried).ok());
  EXPECT_FALSE(
      SlotMap::FromClusterSlots(*Parse("*1\r\n*3\r\n:0\r\n:16384\r\n" + Node("a", 1)), kQueried)
          .ok());
  EXPECT_FALSE(
      SlotMap::FromClusterSlots(*Parse("*1\r\n*3\r\n:0\r\n:1\r\n*2\r\n$1\r\na\r\n:0\r\n"), kQueried)
          .ok());
  auto error = SlotMap::FromClusterSlots(
      *Parse("-ERR This instance has cluster support disabled\r\n"), kQueried);
  ASSERT_FALSE(error.ok());
  EXPECT_NE(error.status().message().find("cluster support disabled"), std::string_view::npos);
}

TEST(SlotMapTest, SingleNodeServesEverySlot) {
  SlotMap map = SlotMap::SingleNode({"h", 6379});
  EXPECT_EQ(map.covered_slots(), kClusterSlots);
  EXPECT_EQ(*map.MasterOf(16383), (HostPort{"h", 6379}));
}

}  // namespace
}  // namespace tierkv::remote
