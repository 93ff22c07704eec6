#include "tiers/remote/reply_reader.h"

#include <gtest/gtest.h>
#include <hiredis/hiredis.h>

#include <string>

namespace tierkv::remote {
namespace {

// Feeds `resp` to a bounded reader; returns the reply, or null on an error.
redisReply* Read(const std::string& resp, redisReader* reader) {
  BoundReplies(reader);
  redisReaderFeed(reader, resp.data(), resp.size());
  void* reply = nullptr;
  if (redisReaderGetReply(reader, &reply) != REDIS_OK) return nullptr;
  return static_cast<redisReply*>(reply);
}

TEST(ReplyReaderTest, BuildsTheUsualReplies) {
  redisReader* reader = redisReaderCreate();
  redisReply* reply = Read("*3\r\n$5\r\nhello\r\n:42\r\n*2\r\n$-1\r\n+OK\r\n", reader);
  ASSERT_NE(reply, nullptr);
  ASSERT_EQ(reply->type, REDIS_REPLY_ARRAY);
  ASSERT_EQ(reply->elements, 3u);
  EXPECT_EQ(std::string(reply->element[0]->str, reply->element[0]->len), "hello");
  EXPECT_EQ(reply->element[1]->integer, 42);
  EXPECT_EQ(reply->element[2]->element[0]->type, REDIS_REPLY_NIL);
  EXPECT_EQ(reply->element[2]->element[1]->type, REDIS_REPLY_STATUS);
  freeReplyObject(reply);
  redisReaderFree(reader);
}

TEST(ReplyReaderTest, RefusesAnArrayCountItCannotNeed) {
  redisReader* reader = redisReaderCreate();
  EXPECT_EQ(Read("*2000000000\r\n", reader), nullptr);
  EXPECT_NE(reader->err, 0);
  redisReaderFree(reader);
  reader = redisReaderCreate();
  redisReply* fits = Read("*" + std::to_string(kMaxReplyArrayElements) + "\r\n", reader);
  EXPECT_EQ(fits, nullptr);  // allowed, but incomplete: no reply yet and no error
  EXPECT_EQ(reader->err, 0);
  redisReaderFree(reader);
}

}  // namespace
}  // namespace tierkv::remote
