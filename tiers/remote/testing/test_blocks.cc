#include "tiers/remote/testing/test_blocks.h"

#include <numeric>

namespace tierkv::remote::testing {

RemoteBlock ChainBlock(const Key128& namespace_id, uint32_t index) {
  return Chain(namespace_id, index + 1).back();
}

std::vector<RemoteBlock> Chain(const Key128& namespace_id, uint32_t count) {
  std::vector<RemoteBlock> blocks;
  Key128 parent = namespace_id;
  for (uint32_t i = 0; i < count; ++i) {
    RemoteBlock block;
    block.namespace_id = namespace_id;
    block.parent = parent;
    block.tokens.resize(kTestBlockTokens);
    std::iota(block.tokens.begin(), block.tokens.end(), i * kTestBlockTokens);
    block.key = NextBlockKey(parent, block.tokens);
    parent = block.key;
    blocks.push_back(std::move(block));
  }
  return blocks;
}

std::vector<std::byte> TestPayload(uint64_t seed, size_t bytes) {
  std::vector<std::byte> payload(bytes);
  uint64_t x = seed * 0x9E3779B97F4A7C15ull + 1;
  for (size_t i = 0; i < bytes; ++i) {
    x ^= x << 13;
    x ^= x >> 7;
    x ^= x << 17;
    payload[i] = static_cast<std::byte>(x);
  }
  return payload;
}

}  // namespace tierkv::remote::testing
