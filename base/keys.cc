#include "tierkv/keys.h"

#include <xxhash.h>

#include <bit>
#include <cstring>

namespace tierkv {
namespace {

// Blocks of up to this many tokens are hashed from one stack buffer; longer
// ones use the streaming state.
constexpr size_t kStackTokens = 256;

}  // namespace

std::string ToHex(const Key128& key) {
  static constexpr char kDigits[] = "0123456789abcdef";
  std::string out(32, '0');
  for (int i = 0; i < 16; ++i) {
    out[15 - i] = kDigits[(key.hi >> (4 * i)) & 0xf];
    out[31 - i] = kDigits[(key.lo >> (4 * i)) & 0xf];
  }
  return out;
}

Key128 NextBlockKey(const Key128& parent, Span<const TokenId> block_tokens) {
  static_assert(std::endian::native == std::endian::little, "keys assume a little-endian host");
  XXH128_hash_t h;
  if (block_tokens.size() <= kStackTokens) {
    uint8_t buf[sizeof(Key128) + kStackTokens * sizeof(TokenId)];
    std::memcpy(buf, &parent.lo, 8);
    std::memcpy(buf + 8, &parent.hi, 8);
    std::memcpy(buf + 16, block_tokens.data(), block_tokens.size_bytes());
    h = XXH3_128bits(buf, 16 + block_tokens.size_bytes());
  } else {
    XXH3_state_t state;
    XXH3_128bits_reset(&state);
    XXH3_128bits_update(&state, &parent.lo, 8);
    XXH3_128bits_update(&state, &parent.hi, 8);
    XXH3_128bits_update(&state, block_tokens.data(), block_tokens.size_bytes());
    h = XXH3_128bits_digest(&state);
  }
  return Key128{h.low64, h.high64};
}

std::vector<Key128> ChainBlockKeys(const Key128& namespace_id, Span<const TokenId> tokens,
                                   uint32_t block_tokens) {
  std::vector<Key128> keys;
  if (block_tokens == 0) return keys;
  const size_t n = tokens.size() / block_tokens;
  keys.reserve(n);
  Key128 parent = namespace_id;
  for (size_t i = 0; i < n; ++i) {
    parent = NextBlockKey(parent, tokens.subspan(i * block_tokens, block_tokens));
    keys.push_back(parent);
  }
  return keys;
}

uint64_t PayloadChecksum(Span<const std::byte> payload) {
  return XXH3_64bits(payload.data(), payload.size());
}

}  // namespace tierkv
