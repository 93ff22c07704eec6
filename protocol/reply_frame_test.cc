#include "protocol/reply_frame.h"

#include <gtest/gtest.h>

#include "protocol/messages.h"

namespace tierkv::wire {
namespace {

FrameHeader Request(MessageType type, uint32_t id) {
  FrameHeader h;
  h.type = static_cast<uint16_t>(type);
  h.request_id = id;
  return h;
}

// Decodes the frame at `at`: its header, its status, and a reader on its fields.
struct Parsed {
  FrameHeader header;
  Status status;
  std::vector<uint8_t> fields;
};
Parsed Parse(const std::vector<uint8_t>& out, size_t at) {
  Parsed p;
  p.header = DecodeHeader(out.data() + at);
  Reader r(std::span<const uint8_t>(out).subspan(at + kHeaderBytes, p.header.body_bytes));
  p.status = DecodeStatus(r);
  auto rest = r.Bytes(r.remaining());
  p.fields.assign(rest.begin(), rest.end());
  return p;
}

TEST(ReplyFrameTest, AReplyEchoesTheRequestAndItsBodyLengthIsTheBodys) {
  std::vector<uint8_t> out;
  ReplyFrame frame(Request(MessageType::kEvict, 42), &out);
  CountReply{7}.Encode(frame.fields());
  frame.Finish();
  Parsed p = Parse(out, 0);
  EXPECT_EQ(p.header.type, uint16_t(MessageType::kEvict) | kReplyBit);
  EXPECT_EQ(p.header.request_id, 42u);
  EXPECT_EQ(p.header.body_bytes, out.size() - kHeaderBytes);
  EXPECT_TRUE(ValidateHeader(p.header).ok());
  EXPECT_TRUE(p.status.ok());
  Reader fields(p.fields);
  CountReply count;
  ASSERT_TRUE(CountReply::Decode(fields, &count));
  EXPECT_EQ(count.count, 7u);
}

TEST(ReplyFrameTest, FailDropsTheFieldsWrittenSoFar) {
  std::vector<uint8_t> out;
  ReplyFrame frame(Request(MessageType::kLookup, 1), &out);
  frame.fields().U64(123);
  frame.Fail(Status::NotFound("no such namespace"));
  frame.Finish();
  Parsed p = Parse(out, 0);
  EXPECT_EQ(p.status.code(), StatusCode::kNotFound);
  EXPECT_EQ(p.status.message(), "no such namespace");
  EXPECT_TRUE(p.fields.empty());
}

TEST(ReplyFrameTest, FramesFollowEachOtherAndADiscardedOneLeavesNothing) {
  std::vector<uint8_t> out;
  AppendErrorReply(Request(MessageType::kHello, 1), Status::ProtocolError("bad"), &out);
  const size_t second = out.size();
  {
    ReplyFrame discarded(Request(MessageType::kAcquire, 2), &out);
    discarded.fields().U64(9);
    discarded.Discard();
  }
  EXPECT_EQ(out.size(), second);
  AppendReply(
      Request(MessageType::kCommit, 3), Status::Ok(), [](Writer& w) { CountReply{2}.Encode(w); },
      &out);
  EXPECT_EQ(Parse(out, 0).status.code(), StatusCode::kProtocolError);
  Parsed p = Parse(out, second);
  EXPECT_EQ(p.header.request_id, 3u);
  EXPECT_TRUE(p.status.ok());
  EXPECT_EQ(second + kHeaderBytes + p.header.body_bytes, out.size());
}

}  // namespace
}  // namespace tierkv::wire
