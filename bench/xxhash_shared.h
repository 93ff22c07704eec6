// XXH3-128 called through the shared libxxhash, for comparison with the
// header-inlined build that tierkv uses.
#pragma once

#include <cstddef>
#include <cstdint>

namespace tierkv::bench {

// Chains keys over `tokens` like ChainBlockKeys, calling the shared library.
// Returns a value derived from every key so the work cannot be optimized away.
uint64_t ChainKeysSharedLib(const uint32_t* tokens, size_t n_tokens, uint32_t block_tokens);

// XXH3-64 of each `chunk`-byte piece of data, through the shared library.
uint64_t ChecksumSharedLib(const std::byte* data, size_t bytes, size_t chunk);

}  // namespace tierkv::bench
