// Block keys: 128-bit names for whole token prefixes.
//
//   key[i] = XXH3_128(key[i-1] || tokens of block i),   key[-1] = namespace id
//
// so a key names a prefix, not a block's own tokens. Keys are computed by the
// client, locally, with no round trip. Only full blocks get keys. Token ids are
// hashed as little-endian uint32 values; the parent key as lo then hi, little-endian.
//
// Thread safety: every function here is pure and safe to call from any thread.
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "tierkv/span.h"

namespace tierkv {

using TokenId = uint32_t;

struct Key128 {
  uint64_t lo = 0;
  uint64_t hi = 0;
  friend bool operator==(const Key128& a, const Key128& b) { return a.lo == b.lo && a.hi == b.hi; }
  friend bool operator!=(const Key128& a, const Key128& b) { return !(a == b); }
};

// 32 lower-case hex digits, hi first.
std::string ToHex(const Key128& key);

// The key of the block that follows `parent` and holds `block_tokens`.
Key128 NextBlockKey(const Key128& parent, Span<const TokenId> block_tokens);

// Keys of every full block of `tokens`, rooted at `namespace_id`.
// Returns tokens.size() / block_tokens keys; a trailing partial block gets none.
std::vector<Key128> ChainBlockKeys(const Key128& namespace_id, Span<const TokenId> tokens,
                                   uint32_t block_tokens);

// A 64-bit checksum of a block payload (XXH3-64), as the daemon stores it.
uint64_t PayloadChecksum(Span<const std::byte> payload);

// Mixes both halves (a murmur3 finalizer), so keys that differ only in a few
// bits of either half, such as structured test keys, still spread.
struct Key128Hash {
  size_t operator()(const Key128& k) const noexcept {
    uint64_t x = k.lo ^ (k.hi * 0x9E3779B97F4A7C15ull + 0x632BE59BD9B4E019ull);
    x ^= x >> 33;
    x *= 0xFF51AFD7ED558CCDull;
    x ^= x >> 33;
    x *= 0xC4CEB9FE1A85EC53ull;
    x ^= x >> 33;
    return static_cast<size_t>(x);
  }
};

}  // namespace tierkv
