// Deterministic blocks for tests and benchmarks: the i-th block's key,
// metadata and payload are a pure function of i, so a process that restarts
// (or a parent of a crashed child) can recompute what it should find.
#pragma once

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <vector>

#include "tierkv/keys.h"
#include "tiers/nvme/nvme_store.h"

namespace tierkv::nvme::testing {

inline uint64_t SplitMix64(uint64_t x) {
  x += 0x9E3779B97F4A7C15ull;
  x = (x ^ (x >> 30)) * 0xBF58476D1CE4E5B9ull;
  x = (x ^ (x >> 27)) * 0x94D049BB133111EBull;
  return x ^ (x >> 31);
}

inline Key128 TestKey(uint64_t i) { return Key128{SplitMix64(i), SplitMix64(~i)}; }

inline BlockMeta TestMeta(uint64_t i) {
  BlockMeta meta;
  meta.key = TestKey(i);
  meta.parent = i == 0 ? Key128{7, 7} : TestKey(i - 1);
  meta.namespace_id = Key128{7, 7};
  for (uint32_t t = 0; t < 16; ++t) meta.tokens.push_back(uint32_t(i * 16 + t));
  meta.last_access = 1'000'000 + i;
  return meta;
}

inline std::vector<std::byte> TestPayload(uint64_t i, size_t len) {
  std::vector<std::byte> out(len);
  for (size_t off = 0; off < len; off += sizeof(uint64_t)) {
    uint64_t word = SplitMix64(i * 0x100000001B3ull + off);
    std::memcpy(out.data() + off, &word, std::min(sizeof(word), len - off));
  }
  return out;
}

}  // namespace tierkv::nvme::testing
