// Deterministic blocks and payloads for the remote tier's tests and bench.
#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

#include "tierkv/keys.h"
#include "tiers/remote/value_codec.h"

namespace tierkv::remote::testing {

inline constexpr uint32_t kTestBlockTokens = 16;

// Block `index` of a chain rooted at `namespace_id` whose blocks hold tokens
// index * kTestBlockTokens ...: block 0's parent is the namespace id, block
// i's parent block i - 1's key.
RemoteBlock ChainBlock(const Key128& namespace_id, uint32_t index);

// The first `count` blocks of that chain.
std::vector<RemoteBlock> Chain(const Key128& namespace_id, uint32_t count);

// `bytes` bytes that depend on `seed` and on every position.
std::vector<std::byte> TestPayload(uint64_t seed, size_t bytes);

}  // namespace tierkv::remote::testing
