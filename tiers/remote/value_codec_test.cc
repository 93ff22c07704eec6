#include "tiers/remote/value_codec.h"

#include <gtest/gtest.h>

#include <cstring>
#include <numeric>

#include "tiers/remote/key_slot.h"

namespace tierkv::remote {
namespace {

constexpr Key128 kNamespace{0x1111, 0x2222};
constexpr size_t kPayloadBytes = 1000;

RemoteBlock Block(uint32_t first_token, const Key128& parent = kNamespace) {
  RemoteBlock block;
  block.namespace_id = kNamespace;
  block.parent = parent;
  block.tokens.resize(16);
  std::iota(block.tokens.begin(), block.tokens.end(), first_token);
  block.key = NextBlockKey(block.parent, block.tokens);
  return block;
}

std::vector<std::byte> Payload(uint8_t seed) {
  std::vector<std::byte> payload(kPayloadBytes);
  for (size_t i = 0; i < payload.size(); ++i) payload[i] = std::byte(seed + i * 7);
  return payload;
}

TEST(ValueCodecTest, KeyNamesCarryTheNamespaceAndNoTokens) {
  const RemoteBlock block = Block(500);
  const std::string name = RemoteKeyName(block.namespace_id, block.key);
  EXPECT_EQ(name.size(), kRemoteKeyNameBytes);
  EXPECT_TRUE(name.starts_with("tkv1:"));
  EXPECT_EQ(name.substr(name.size() - 32), ToHex(block.key));
  EXPECT_EQ(name.find(ToHex(kNamespace)), std::string::npos);  // the chain root is not in it
  EXPECT_EQ(HashTag(name), name);                              // no hash tag: spread by key
  const std::string other_ns = RemoteKeyName({0x3333, 0x4444}, block.key);
  EXPECT_NE(other_ns.substr(0, 22), name.substr(0, 22));
  EXPECT_EQ(RemoteKeyName(block.namespace_id, Block(900).key).substr(0, 22), name.substr(0, 22));
}

TEST(ValueCodecTest, RoundTripsAndReadsTheHeaderAlone) {
  const RemoteBlock block = Block(1);
  const auto payload = Payload(3);
  const std::string value = EncodeValue(block, payload);
  ASSERT_EQ(value.size(), RemotePrefixBytes(16) + kPayloadBytes);
  ASSERT_TRUE(VerifyValue(block, value, kPayloadBytes).ok());
  EXPECT_EQ(std::memcmp(value.data() + RemotePrefixBytes(16), payload.data(), kPayloadBytes), 0);
  EXPECT_TRUE(VerifyValuePrefix(block, value.substr(0, RemotePrefixBytes(16)), kPayloadBytes).ok());
}

TEST(ValueCodecTest, DamageIsCorruption) {
  const RemoteBlock block = Block(1);
  const std::string value = EncodeValue(block, Payload(3));
  auto corrupt = [&](std::string damaged) {
    return VerifyValue(block, damaged, kPayloadBytes).IsCorruption();
  };
  EXPECT_TRUE(corrupt("garbage"));
  EXPECT_TRUE(corrupt(value.substr(0, value.size() - 1)));  // truncated payload
  EXPECT_TRUE(corrupt(value + "x"));                        // trailing bytes
  EXPECT_TRUE(corrupt(value.substr(0, 100)));               // ends inside the token ids
  std::string flipped = value;
  flipped[RemotePrefixBytes(16) + 10] ^= 1;  // one payload bit
  EXPECT_TRUE(corrupt(flipped));
  std::string magic = value;
  magic[0] = 'X';
  EXPECT_TRUE(corrupt(magic));
  std::string reserved = value;
  reserved[6] = 1;
  EXPECT_TRUE(corrupt(reserved));
  std::string token = value;
  token[kRemoteHeaderBytes] ^= 1;  // tokens no longer hash to the key
  EXPECT_TRUE(corrupt(token));
  EXPECT_TRUE(VerifyValuePrefix(block, token.substr(0, RemotePrefixBytes(16)), kPayloadBytes)
                  .IsCorruption());
  EXPECT_TRUE(VerifyValue(block, value, kPayloadBytes + 1).IsCorruption());  // wrong length
  std::string no_tokens = value;
  std::memset(no_tokens.data() + 56, 0, 4);  // a block of no tokens cannot exist
  EXPECT_TRUE(corrupt(no_tokens));
}

TEST(ValueCodecTest, AnotherBlocksValueUnderThisKeyIsCorruption) {
  const RemoteBlock asked = Block(1);
  const std::string other = EncodeValue(Block(100), Payload(3));
  const Status status = VerifyValue(asked, other, kPayloadBytes);
  EXPECT_TRUE(status.IsCorruption()) << status.ToString();
  EXPECT_NE(status.message().find("not the one stored under this key"), std::string_view::npos);
  RemoteBlock other_namespace = asked;
  other_namespace.namespace_id = {9, 9};
  EXPECT_TRUE(
      VerifyValue(other_namespace, EncodeValue(asked, Payload(3)), kPayloadBytes).IsCorruption());
}

TEST(ValueCodecTest, ASoundBlockAskedWithOtherTokensIsAMissNotDamage) {
  const RemoteBlock stored = Block(1);
  const std::string value = EncodeValue(stored, Payload(3));
  RemoteBlock lying = stored;  // same key, tokens that do not hash to it
  lying.tokens[0] = 999;
  EXPECT_TRUE(VerifyValue(lying, value, kPayloadBytes).IsNotFound());
  lying.tokens.pop_back();
  EXPECT_TRUE(VerifyValue(lying, value, kPayloadBytes).IsNotFound());
  EXPECT_TRUE(
      VerifyValuePrefix(lying, value.substr(0, RemotePrefixBytes(15)), kPayloadBytes).IsNotFound());
}

TEST(ValueCodecTest, AnUnknownLayoutVersionIsAMiss) {
  const RemoteBlock block = Block(1);
  std::string value = EncodeValue(block, Payload(3));
  value[4] = 2;
  EXPECT_TRUE(VerifyValue(block, value, kPayloadBytes).IsNotFound());
}

}  // namespace
}  // namespace tierkv::remote
