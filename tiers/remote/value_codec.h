// The remote tier's key scheme and value layout: one Redis string per block.
//
// Key (ASCII, 54 bytes):   "tkv1:" NSTAG ":" KEY
//   NSTAG  16 hex digits: XXH3-64 of the namespace id. It tells one
//          namespace's (one tenant's) keys from another's (SCAN MATCH
//          tkv1:NSTAG:*) without writing the chain root itself into every name.
//   KEY    the block key, 32 hex digits (tierkv::ToHex). Block keys are keyed
//          hashes of the whole prefix, rooted at a secret-derived namespace id,
//          so a name reveals no token.
//   No hash tag: a key's slot is CRC16 of the whole name, so the blocks of one
//   prefix spread over every master (docs/architecture.md says why).
//
// Value, little-endian:
//
//   | offset  | bytes | field                                           |
//   |---------|-------|-------------------------------------------------|
//   | 0       | 4     | magic "TKVR"                                    |
//   | 4       | 2     | layout version, 1                               |
//   | 6       | 2     | reserved, 0                                     |
//   | 8       | 16    | namespace id (lo, hi)                           |
//   | 24      | 16    | block key (lo, hi)                              |
//   | 40      | 16    | parent key (lo, hi); the namespace id for block 0 |
//   | 56      | 4     | token count n, 1 to kMaxRemoteBlockTokens       |
//   | 60      | 4     | reserved, 0                                     |
//   | 64      | 8     | payload length                                  |
//   | 72      | 8     | payload checksum, XXH3-64 (tierkv::PayloadChecksum) |
//   | 80      | 4n    | token ids, u32                                  |
//   | 80 + 4n | len   | payload                                         |
//
// The remote store is not trusted. Verification of a value read for a block
// the caller describes (namespace, key, parent, tokens, payload length) has
// three outcomes:
//   OK          the value is that block, byte for byte as written.
//   Corruption  the value is damaged or does not belong under this name: short
//               or trailing bytes, bad magic, nonzero reserved fields, a header
//               naming another namespace or key, a parent and tokens that do
//               not hash to the key, the wrong payload length, a payload
//               failing its checksum. The owner deletes it and counts it.
//   NotFound    the value is a sound block of this key but not the one asked
//               for (other parent or tokens: a client asked with tokens that do
//               not hash to the key), or of a layout version this build does
//               not read. A miss; the value is kept, it may serve others.
// Integrity here is against damage and misplacement, not against a writer
// with access to Redis who computes checksums: keep Redis reachable only by
// the daemons (AUTH, a private network).
//
// Thread safety: pure functions.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "tierkv/keys.h"
#include "tierkv/status.h"

namespace tierkv::remote {

inline constexpr uint32_t kRemoteLayoutVersion = 1;
inline constexpr size_t kRemoteHeaderBytes = 80;
// Tokens per block a value may carry; the wire protocol's bound too.
inline constexpr uint32_t kMaxRemoteBlockTokens = 4096;
inline constexpr size_t kRemoteKeyNameBytes = 54;

// What the owner knows of a block: what it writes, and what it asks for.
struct RemoteBlock {
  Key128 namespace_id;
  Key128 key;
  Key128 parent;
  std::vector<TokenId> tokens;
};

// The Redis key of block `key` in namespace `namespace_id`.
std::string RemoteKeyName(const Key128& namespace_id, const Key128& key);

// Bytes before the payload: the fixed header and `tokens` token ids.
constexpr size_t RemotePrefixBytes(size_t tokens) {
  return kRemoteHeaderBytes + sizeof(TokenId) * tokens;
}

// Appends the header and token ids describing `block` with `payload` to `out`.
// The value is what this appends followed by the payload bytes.
void AppendValuePrefix(const RemoteBlock& block, std::span<const std::byte> payload,
                       std::string& out);

// The whole value, prefix and payload, in one string (tests, tools).
std::string EncodeValue(const RemoteBlock& block, std::span<const std::byte> payload);

// Verifies a whole value read for `asked` (see the file comment). On OK the
// payload is value.substr(RemotePrefixBytes(asked.tokens.size())).
Status VerifyValue(const RemoteBlock& asked, std::string_view value, uint64_t payload_bytes);

// Verifies the first RemotePrefixBytes(asked.tokens.size()) bytes of a value
// (a GETRANGE), everything but the payload itself: OK means the block is
// present, with the expected length. `prefix` shorter than that: Corruption.
Status VerifyValuePrefix(const RemoteBlock& asked, std::string_view prefix, uint64_t payload_bytes);

}  // namespace tierkv::remote
