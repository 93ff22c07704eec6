// BlockRecord: what the NVMe tier's persistent index keeps per block, and its
// byte encoding as a RocksDB key and value.
//
// Key: the block key as 16 bytes, hi then lo, big-endian (so keys sort like
// 128-bit integers). Value, little-endian, version 1:
//   u8 version | u32 slot_bytes | u32 file | u32 slot | u32 length |
//   u64 checksum | 16B parent | 16B namespace | u64 last_access |
//   u32 token_count | token_count x u32 tokens
// A value with another version or length is Corruption, never guessed at.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "tierkv/keys.h"
#include "tierkv/status.h"
#include "tiers/nvme/slab_set.h"

namespace tierkv::nvme {

struct BlockRecord {
  Key128 key;
  SlotId slot;
  uint32_t length = 0;    // payload bytes; the slot may be longer
  uint64_t checksum = 0;  // PayloadChecksum of the payload
  Key128 parent;
  Key128 namespace_id;
  uint64_t last_access = 0;  // the owner's clock; the tier only stores it
  std::vector<TokenId> tokens;
};

inline constexpr size_t kEncodedKeyBytes = 16;

std::string EncodeIndexKey(const Key128& key);
// False unless `bytes` is exactly kEncodedKeyBytes long.
bool DecodeIndexKey(std::string_view bytes, Key128* key);

// Encodes everything but `record.key`.
std::string EncodeRecordValue(const BlockRecord& record);
// Fills everything but `record->key`. Corruption on a malformed value.
Status DecodeRecordValue(std::string_view value, BlockRecord* record);

}  // namespace tierkv::nvme
