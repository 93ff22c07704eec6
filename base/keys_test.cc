#include "tierkv/keys.h"

#include <gtest/gtest.h>
#include <xxhash.h>

#include <cstring>
#include <numeric>
#include <unordered_set>

namespace tierkv {
namespace {

std::vector<TokenId> Iota(size_t n, TokenId start = 0) {
  std::vector<TokenId> v(n);
  std::iota(v.begin(), v.end(), start);
  return v;
}

TEST(KeysTest, KeyIsXxh3OfParentThenTokens) {
  const Key128 parent{0x0123456789abcdefull, 0xfedcba9876543210ull};
  const auto tokens = Iota(16, 100);
  std::vector<uint8_t> bytes(16 + tokens.size() * 4);
  std::memcpy(bytes.data(), &parent.lo, 8);
  std::memcpy(bytes.data() + 8, &parent.hi, 8);
  std::memcpy(bytes.data() + 16, tokens.data(), tokens.size() * 4);
  XXH128_hash_t want = XXH3_128bits(bytes.data(), bytes.size());
  Key128 got = NextBlockKey(parent, tokens);
  EXPECT_EQ(got.lo, want.low64);
  EXPECT_EQ(got.hi, want.high64);
}

TEST(KeysTest, LongBlocksHashLikeShortOnes) {
  const Key128 parent{1, 2};
  const auto tokens = Iota(1000);
  std::vector<uint8_t> bytes(16 + tokens.size() * 4);
  std::memcpy(bytes.data(), &parent.lo, 8);
  std::memcpy(bytes.data() + 8, &parent.hi, 8);
  std::memcpy(bytes.data() + 16, tokens.data(), tokens.size() * 4);
  XXH128_hash_t want = XXH3_128bits(bytes.data(), bytes.size());
  EXPECT_EQ(NextBlockKey(parent, tokens), (Key128{want.low64, want.high64}));
}

TEST(KeysTest, ChainNamesWholePrefixes) {
  const Key128 ns{7, 9};
  const auto tokens = Iota(16 * 4 + 5);
  auto keys = ChainBlockKeys(ns, tokens, 16);
  ASSERT_EQ(keys.size(), 4u);  // the partial block gets no key
  EXPECT_EQ(keys[0], NextBlockKey(ns, std::span(tokens).subspan(0, 16)));
  EXPECT_EQ(keys[3], NextBlockKey(keys[2], std::span(tokens).subspan(48, 16)));

  // Same block tokens after a different prefix give a different key.
  auto other = tokens;
  other[0] = 999;
  auto other_keys = ChainBlockKeys(ns, other, 16);
  for (size_t i = 0; i < keys.size(); ++i) EXPECT_NE(keys[i], other_keys[i]) << i;
}

TEST(KeysTest, NamespacesSeparateIdenticalTokens) {
  const auto tokens = Iota(32);
  EXPECT_NE(ChainBlockKeys({1, 0}, tokens, 16)[0], ChainBlockKeys({2, 0}, tokens, 16)[0]);
}

TEST(KeysTest, NoCollisionsAcrossManyPrefixes) {
  std::unordered_set<Key128, Key128Hash> seen;
  for (TokenId t = 0; t < 20000; ++t) {
    std::vector<TokenId> block(16, t);
    ASSERT_TRUE(seen.insert(NextBlockKey({3, 4}, block)).second);
  }
}

TEST(KeysTest, HexIsHiThenLo) {
  EXPECT_EQ(ToHex({0x1, 0xab}), "00000000000000ab0000000000000001");
}

TEST(KeysTest, ChecksumSeesEveryByte) {
  std::vector<std::byte> a(4096, std::byte{1});
  auto b = a;
  b[4095] = std::byte{2};
  EXPECT_NE(PayloadChecksum(a), PayloadChecksum(b));
  EXPECT_EQ(PayloadChecksum(a), XXH3_64bits(a.data(), a.size()));
}

}  // namespace
}  // namespace tierkv
