#include "daemon/kv_event.h"

#include <msgpack.hpp>

namespace tierkv {
namespace {

constexpr size_t kHashBytes = 16;
constexpr uint32_t kBatchFields = 2;
constexpr uint32_t kStoredFields = 7;
constexpr uint32_t kRemovedFields = 3;
constexpr uint32_t kClearedFields = 1;

void PackHash(msgpack::packer<msgpack::sbuffer>& pk, const Key128& key) {
  char bytes[kHashBytes];
  for (int i = 0; i < 8; ++i) {
    bytes[i] = static_cast<char>(key.hi >> (56 - 8 * i));
    bytes[8 + i] = static_cast<char>(key.lo >> (56 - 8 * i));
  }
  pk.pack_bin(kHashBytes);
  pk.pack_bin_body(bytes, kHashBytes);
}

void PackString(msgpack::packer<msgpack::sbuffer>& pk, std::string_view s) {
  pk.pack_str(static_cast<uint32_t>(s.size()));
  pk.pack_str_body(s.data(), static_cast<uint32_t>(s.size()));
}

void PackHashes(msgpack::packer<msgpack::sbuffer>& pk, const std::vector<Key128>& hashes) {
  pk.pack_array(static_cast<uint32_t>(hashes.size()));
  for (const Key128& h : hashes) PackHash(pk, h);
}

}  // namespace

std::string_view MediumName(Medium medium) {
  switch (medium) {
    case Medium::kGpu:
      return "GPU";
    case Medium::kCpu:
      return "CPU";
    case Medium::kDisk:
      return "DISK";
  }
  return "?";
}

std::string EncodeKvEventBatch(double unix_seconds, std::span<const KvEvent> events) {
  msgpack::sbuffer buffer;
  msgpack::packer<msgpack::sbuffer> pk(buffer);
  pk.pack_array(kBatchFields);
  pk.pack_double(unix_seconds);
  pk.pack_array(static_cast<uint32_t>(events.size()));
  for (const KvEvent& e : events) {
    switch (e.kind) {
      case KvEvent::Kind::kStored:
        pk.pack_array(kStoredFields);
        PackString(pk, "BlockStored");
        PackHashes(pk, e.hashes);
        PackHash(pk, e.parent);
        pk.pack_array(static_cast<uint32_t>(e.tokens.size()));
        for (TokenId t : e.tokens) pk.pack_uint32(t);
        pk.pack_uint32(e.block_tokens);
        pk.pack_nil();  // lora_id
        PackString(pk, MediumName(e.medium));
        break;
      case KvEvent::Kind::kRemoved:
        pk.pack_array(kRemovedFields);
        PackString(pk, "BlockRemoved");
        PackHashes(pk, e.hashes);
        PackString(pk, MediumName(e.medium));
        break;
      case KvEvent::Kind::kAllCleared:
        pk.pack_array(kClearedFields);
        PackString(pk, "AllBlocksCleared");
        break;
    }
  }
  return std::string(buffer.data(), buffer.size());
}

}  // namespace tierkv
