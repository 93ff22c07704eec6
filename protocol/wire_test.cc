#include <gtest/gtest.h>

#include "protocol/messages.h"
#include "protocol/status_codes.h"
#include "protocol/wire.h"

namespace tierkv::wire {
namespace {

BlockChain MakeChain(uint32_t blocks, uint32_t block_tokens) {
  BlockChain c;
  c.parent = {1, 2};
  std::vector<TokenId> tokens(size_t{blocks} * block_tokens);
  for (size_t i = 0; i < tokens.size(); ++i) tokens[i] = static_cast<TokenId>(i);
  c.keys = ChainBlockKeys(c.parent, tokens, block_tokens);
  c.tokens = tokens;
  return c;
}

TEST(WireTest, HeaderRoundTrip) {
  FrameHeader h{kFrameMagic, 1, static_cast<uint16_t>(MessageType::kLookup), 77, 1234};
  uint8_t buf[kHeaderBytes];
  EncodeHeader(h, buf);
  FrameHeader g = DecodeHeader(buf);
  EXPECT_EQ(g.type, h.type);
  EXPECT_EQ(g.request_id, 77u);
  EXPECT_EQ(g.body_bytes, 1234u);
  EXPECT_TRUE(ValidateHeader(g).ok());
}

TEST(WireTest, BadMagicAndOversizedBodyAreRejected) {
  FrameHeader h;
  h.magic = 0xdeadbeef;
  EXPECT_EQ(ValidateHeader(h).code(), StatusCode::kProtocolError);
  h.magic = kFrameMagic;
  h.body_bytes = kMaxBodyBytes + 1;
  EXPECT_EQ(ValidateHeader(h).code(), StatusCode::kProtocolError);
}

TEST(WireTest, LookupRoundTrip) {
  LookupRequest req;
  req.ns_handle = 3;
  req.flags = kFlagPrefetch;
  req.chain = MakeChain(5, 16);
  std::vector<uint8_t> body;
  Writer w(&body);
  req.Encode(w);
  LookupRequest got;
  Reader r(body);
  ASSERT_TRUE(LookupRequest::Decode(r, &got));
  EXPECT_EQ(got.ns_handle, 3u);
  EXPECT_EQ(got.flags, kFlagPrefetch);
  EXPECT_EQ(got.chain.keys, req.chain.keys);
  EXPECT_EQ(got.chain.tokens, req.chain.tokens);
  EXPECT_EQ(got.chain.parent, req.chain.parent);
}

// The client sends a chain's keys and tokens straight from its own arrays:
// the fields, the chain head and the raw arrays must be exactly what
// Encode writes, for every request that carries a chain.
TEST(WireTest, ChainSentFromCallerArraysIsTheEncodedChain) {
  AcquireRequest req;
  req.ns_handle = 9;
  req.flags = kFlagInline;
  req.max_blocks = 3;
  req.chain = MakeChain(4, 16);
  std::vector<uint8_t> encoded;
  Writer ew(&encoded);
  req.Encode(ew);

  std::vector<uint8_t> sent;
  Writer w(&sent);
  req.EncodeFields(w);
  EncodeChainHead(w, req.chain.parent, 4, 16);
  for (std::span<const std::byte> part : {KeyBytes(req.chain.keys), TokenBytes(req.chain.tokens)}) {
    const auto* bytes = reinterpret_cast<const uint8_t*>(part.data());
    sent.insert(sent.end(), bytes, bytes + part.size());
  }
  EXPECT_EQ(sent, encoded);
  AcquireRequest got;
  Reader r(sent);
  ASSERT_TRUE(AcquireRequest::Decode(r, &got));
  EXPECT_EQ(got.max_blocks, 3u);
  EXPECT_EQ(got.chain.keys, req.chain.keys);
  EXPECT_EQ(got.chain.tokens, req.chain.tokens);
}

// Found by fuzz_protocol: an empty chain read its 0 tokens with memcpy into
// an empty vector's null data(), which is undefined (UBSan reports it).
TEST(WireTest, EmptyChainDecodes) {
  LookupRequest req;
  req.ns_handle = 3;
  std::vector<uint8_t> body;
  Writer w(&body);
  req.Encode(w);
  Reader r(body);
  LookupRequest got;
  ASSERT_TRUE(LookupRequest::Decode(r, &got));
  EXPECT_TRUE(got.chain.keys.empty());
  EXPECT_TRUE(got.chain.tokens.empty());
  Reader empty(std::span<const uint8_t>{});
  empty.Raw(nullptr, 0);
  EXPECT_TRUE(empty.done());
}

TEST(WireTest, EveryTruncationOfALookupIsRejected) {
  LookupRequest req;
  req.chain = MakeChain(2, 4);
  std::vector<uint8_t> body;
  Writer w(&body);
  req.Encode(w);
  for (size_t n = 0; n < body.size(); ++n) {
    LookupRequest got;
    Reader r(std::span<const uint8_t>(body).first(n));
    EXPECT_FALSE(LookupRequest::Decode(r, &got)) << "accepted " << n << " of " << body.size();
  }
  std::vector<uint8_t> longer = body;
  longer.push_back(0);
  LookupRequest got;
  Reader r(longer);
  EXPECT_FALSE(LookupRequest::Decode(r, &got)) << "trailing bytes accepted";
}

TEST(WireTest, HostileCountsDoNotAllocate) {
  std::vector<uint8_t> body;
  Writer w(&body);
  w.U32(0);  // ns
  w.U8(0);
  w.Key({});
  w.U32(kMaxBlocksPerRequest);  // claims 4096 blocks of 4096 tokens, sends none
  w.U32(kMaxBlockTokens);
  LookupRequest got;
  Reader r(body);
  EXPECT_FALSE(LookupRequest::Decode(r, &got));
  EXPECT_TRUE(got.chain.tokens.empty());

  std::vector<uint8_t> too_many;
  Writer w2(&too_many);
  w2.U32(0);
  w2.U8(0);
  w2.Key({});
  w2.U32(kMaxBlocksPerRequest + 1);
  w2.U32(1);
  Reader r2(too_many);
  EXPECT_FALSE(LookupRequest::Decode(r2, &got));
}

TEST(WireTest, StringsAreBounded) {
  std::vector<uint8_t> body;
  Writer w(&body);
  w.U16(1);
  w.U16(1);
  w.U32(0xffffffff);  // a name claiming 4 GiB
  HelloRequest got;
  Reader r(body);
  EXPECT_FALSE(HelloRequest::Decode(r, &got));
}

TEST(WireTest, StatusRoundTripAndUnknownCodes) {
  std::vector<uint8_t> body;
  Writer w(&body);
  EncodeStatus(w, Status::ResourceExhausted("host tier is full"));
  Reader r(body);
  Status s = DecodeStatus(r);
  EXPECT_TRUE(s.IsResourceExhausted());
  EXPECT_EQ(s.message(), "host tier is full");
  EXPECT_EQ(WireToStatusCode(999), StatusCode::kInternal);
  EXPECT_EQ(WireToStatusCode(StatusToWire(StatusCode::kCorruption)), StatusCode::kCorruption);
}

TEST(WireTest, ReaderPoisonsAfterOverrun) {
  std::vector<uint8_t> body = {1, 2, 3};
  Reader r(body);
  EXPECT_EQ(r.U16(), 0x0201);
  EXPECT_EQ(r.U32(), 0u);
  EXPECT_FALSE(r.ok());
  EXPECT_EQ(r.U8(), 0u);  // still poisoned: a later short read must not succeed
}

}  // namespace
}  // namespace tierkv::wire
