// Compiled without XXH_INLINE_ALL and linked against libxxhash.so.
#include "bench/xxhash_shared.h"

#include <xxhash.h>

#include <cstring>
#include <vector>

namespace tierkv::bench {

uint64_t ChainKeysSharedLib(const uint32_t* tokens, size_t n_tokens, uint32_t block_tokens) {
  XXH128_hash_t parent{0, 0};
  std::vector<uint8_t> buf(16 + block_tokens * sizeof(uint32_t));
  uint64_t acc = 0;
  for (size_t i = 0; i + block_tokens <= n_tokens; i += block_tokens) {
    std::memcpy(buf.data(), &parent.low64, 8);
    std::memcpy(buf.data() + 8, &parent.high64, 8);
    std::memcpy(buf.data() + 16, tokens + i, block_tokens * sizeof(uint32_t));
    parent = XXH3_128bits(buf.data(), buf.size());
    acc ^= parent.low64;
  }
  return acc;
}

uint64_t ChecksumSharedLib(const std::byte* data, size_t bytes, size_t chunk) {
  uint64_t acc = 0;
  for (size_t off = 0; off + chunk <= bytes; off += chunk) acc ^= XXH3_64bits(data + off, chunk);
  return acc;
}

}  // namespace tierkv::bench
