#include "core/in_process_prefix_cache.h"

#include <xxhash.h>

#include <algorithm>
#include <cstring>
#include <string>

namespace tierkv::core {

Key128 LocalNamespaceId(const NamespaceSpec& spec) {
  // Fields joined with a separator that cannot occur in them.
  const std::string text = spec.model_fingerprint + '\0' + spec.tenant + '\0' + spec.adapter_id +
                           '\0' + spec.kv_dtype + '\0' + spec.kv_layout + '\0' +
                           std::to_string(spec.block_tokens) + '\0' +
                           std::to_string(spec.block_bytes);
  const XXH128_hash_t h = XXH3_128bits(text.data(), text.size());
  return {h.low64, h.high64};
}

InProcessPrefixCache::InProcessPrefixCache(const NamespaceSpec& spec)
    : namespace_id_(LocalNamespaceId(spec)),
      block_tokens_(spec.block_tokens),
      block_bytes_(spec.block_bytes) {}

const InProcessPrefixCache::Block* InProcessPrefixCache::Find(std::span<const Key128> keys,
                                                              std::span<const TokenId> tokens,
                                                              size_t i) const {
  auto it = blocks_.find(keys[i]);
  if (it == blocks_.end()) return nullptr;
  const Block& b = it->second;
  const Key128 parent = i == 0 ? namespace_id_ : keys[i - 1];
  const auto own = tokens.subspan(i * block_tokens_, block_tokens_);
  if (!(b.parent == parent) ||
      !std::equal(own.begin(), own.end(), b.tokens.begin(), b.tokens.end())) {
    return nullptr;
  }
  return &b;
}

Result<uint32_t> InProcessPrefixCache::Lookup(std::span<const Key128> keys,
                                              std::span<const TokenId> tokens) {
  if (tokens.size() != keys.size() * block_tokens_) {
    return Status::InvalidArgument("lookup: tokens do not cover the keys' blocks");
  }
  uint32_t n = 0;
  while (n < keys.size() && Find(keys, tokens, n) != nullptr) ++n;
  return n;
}

Result<uint32_t> InProcessPrefixCache::Load(std::span<const Key128> keys,
                                            std::span<const TokenId> tokens,
                                            std::span<const std::span<std::byte>> dst) {
  if (tokens.size() != keys.size() * block_tokens_ || dst.size() > keys.size()) {
    return Status::InvalidArgument("load: keys, tokens and destinations disagree");
  }
  uint32_t n = 0;
  for (; n < dst.size(); ++n) {
    const Block* b = Find(keys, tokens, n);
    if (b == nullptr) break;
    if (dst[n].size() != block_bytes_) return Status::InvalidArgument("load: wrong block size");
    std::memcpy(dst[n].data(), b->payload.data(), block_bytes_);
  }
  return n;
}

Status InProcessPrefixCache::Store(std::span<const Key128> keys, std::span<const TokenId> tokens,
                                   std::span<const std::span<const std::byte>> src) {
  if (tokens.size() != keys.size() * block_tokens_ || src.size() != keys.size()) {
    return Status::InvalidArgument("store: keys, tokens and payloads disagree");
  }
  // Without the parent of keys[0] the chain cannot be verified: callers pass
  // the whole chain from the first block, and blocks already stored are skipped.
  for (size_t i = 0; i < keys.size(); ++i) {
    if (src[i].size() != block_bytes_) return Status::InvalidArgument("store: wrong block size");
    if (blocks_.contains(keys[i])) continue;
    const auto own = tokens.subspan(i * block_tokens_, block_tokens_);
    blocks_.emplace(keys[i], Block{i == 0 ? namespace_id_ : keys[i - 1],
                                   std::vector<TokenId>(own.begin(), own.end()),
                                   std::vector<std::byte>(src[i].begin(), src[i].end())});
  }
  return Status::Ok();
}

}  // namespace tierkv::core
