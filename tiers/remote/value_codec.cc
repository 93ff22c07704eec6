#include "tiers/remote/value_codec.h"

#include <xxhash.h>

#include <cstring>

namespace tierkv::remote {
namespace {

constexpr char kMagic[4] = {'T', 'K', 'V', 'R'};
constexpr std::string_view kKeyPrefix = "tkv1:";
constexpr uint64_t kNamespaceTagSeed = 0x746B762D6E737467ull;  // "tkv-nstg"

// Field offsets of the fixed header (value_codec.h's table).
constexpr size_t kVersionAt = 4;
constexpr size_t kReserved16At = 6;
constexpr size_t kNamespaceAt = 8;
constexpr size_t kKeyAt = 24;
constexpr size_t kParentAt = 40;
constexpr size_t kTokenCountAt = 56;
constexpr size_t kReserved32At = 60;
constexpr size_t kPayloadLengthAt = 64;
constexpr size_t kChecksumAt = 72;
static_assert(kChecksumAt + sizeof(uint64_t) == kRemoteHeaderBytes);

template <typename T>
void Put(std::string& out, T value) {
  char bytes[sizeof(T)];
  std::memcpy(bytes, &value, sizeof(T));  // little-endian hosts only (x86-64, aarch64)
  out.append(bytes, sizeof(T));
}

void PutKey(std::string& out, const Key128& key) {
  Put(out, key.lo);
  Put(out, key.hi);
}

template <typename T>
T Get(std::string_view bytes, size_t at) {
  T value;
  std::memcpy(&value, bytes.data() + at, sizeof(T));
  return value;
}

Key128 GetKey(std::string_view bytes, size_t at) {
  return {Get<uint64_t>(bytes, at), Get<uint64_t>(bytes, at + 8)};
}

struct Header {
  uint16_t version;
  Key128 namespace_id;
  Key128 key;
  Key128 parent;
  uint32_t tokens;
  uint64_t payload_length;
  uint64_t checksum;
};

// Checks what the header says about itself and against `asked`; the token ids
// (which must follow in `value`) are checked too. `value` holds at least the
// whole prefix when this returns OK.
// `whole`: `value` is the whole value, not a prefix read.
Status VerifyPrefix(const RemoteBlock& asked, std::string_view value, uint64_t payload_bytes,
                    bool whole, Header& header) {
  if (value.size() < kRemoteHeaderBytes) {
    return Status::Corruption("value of " + std::to_string(value.size()) +
                              " bytes is shorter than the " + std::to_string(kRemoteHeaderBytes) +
                              "-byte header");
  }
  if (std::memcmp(value.data(), kMagic, sizeof(kMagic)) != 0) {
    return Status::Corruption("value does not start with the TKVR magic");
  }
  header.version = Get<uint16_t>(value, kVersionAt);
  if (header.version != kRemoteLayoutVersion) {
    return Status::NotFound("value has layout version " + std::to_string(header.version) +
                            "; this build reads version " + std::to_string(kRemoteLayoutVersion));
  }
  if (Get<uint16_t>(value, kReserved16At) != 0 || Get<uint32_t>(value, kReserved32At) != 0) {
    return Status::Corruption("reserved header fields are not zero");
  }
  header.namespace_id = GetKey(value, kNamespaceAt);
  header.key = GetKey(value, kKeyAt);
  header.parent = GetKey(value, kParentAt);
  header.tokens = Get<uint32_t>(value, kTokenCountAt);
  header.payload_length = Get<uint64_t>(value, kPayloadLengthAt);
  header.checksum = Get<uint64_t>(value, kChecksumAt);
  if (header.namespace_id != asked.namespace_id || header.key != asked.key) {
    return Status::Corruption("header names block " + ToHex(header.key) + " of namespace " +
                              ToHex(header.namespace_id) + ", not the one stored under this key");
  }
  if (header.tokens == 0 || header.tokens > kMaxRemoteBlockTokens) {
    return Status::Corruption("header claims " + std::to_string(header.tokens) + " tokens (1 to " +
                              std::to_string(kMaxRemoteBlockTokens) + ")");
  }
  if (header.payload_length != payload_bytes) {
    return Status::Corruption("payload length " + std::to_string(header.payload_length) +
                              " is not the namespace's " + std::to_string(payload_bytes));
  }
  const size_t prefix_bytes = RemotePrefixBytes(header.tokens);
  if (value.size() < prefix_bytes) {
    if (!whole && header.tokens != asked.tokens.size()) {
      // A prefix read sized for the tokens asked: the stored ids are not all
      // here, so the chain check cannot run. A full read settles it.
      return Status::NotFound("block has " + std::to_string(header.tokens) +
                              " tokens, asked with " + std::to_string(asked.tokens.size()));
    }
    return Status::Corruption("value of " + std::to_string(value.size()) +
                              " bytes ends inside its token ids");
  }
  std::vector<TokenId> stored(header.tokens);
  std::memcpy(stored.data(), value.data() + kRemoteHeaderBytes, sizeof(TokenId) * header.tokens);
  if (NextBlockKey(header.parent, stored) != header.key) {
    return Status::Corruption("parent and tokens in the header do not hash to its key");
  }
  if (header.parent != asked.parent || stored != asked.tokens) {
    return Status::NotFound("stored block " + ToHex(header.key) +
                            " has other parent or tokens than asked");
  }
  return Status::Ok();
}

}  // namespace

std::string RemoteKeyName(const Key128& namespace_id, const Key128& key) {
  std::string ns_bytes;
  PutKey(ns_bytes, namespace_id);
  const uint64_t tag = XXH3_64bits_withSeed(ns_bytes.data(), ns_bytes.size(), kNamespaceTagSeed);
  static constexpr char kHex[] = "0123456789abcdef";
  std::string name(kKeyPrefix);
  name.reserve(kRemoteKeyNameBytes);
  for (int shift = 60; shift >= 0; shift -= 4) name.push_back(kHex[(tag >> shift) & 0xF]);
  name.push_back(':');
  name += ToHex(key);
  return name;
}

void AppendValuePrefix(const RemoteBlock& block, std::span<const std::byte> payload,
                       std::string& out) {
  out.reserve(out.size() + RemotePrefixBytes(block.tokens.size()));
  out.append(kMagic, sizeof(kMagic));
  Put<uint16_t>(out, kRemoteLayoutVersion);
  Put<uint16_t>(out, 0);
  PutKey(out, block.namespace_id);
  PutKey(out, block.key);
  PutKey(out, block.parent);
  Put<uint32_t>(out, static_cast<uint32_t>(block.tokens.size()));
  Put<uint32_t>(out, 0);
  Put<uint64_t>(out, payload.size());
  Put<uint64_t>(out, PayloadChecksum(payload));
  for (TokenId token : block.tokens) Put<uint32_t>(out, token);
}

std::string EncodeValue(const RemoteBlock& block, std::span<const std::byte> payload) {
  std::string value;
  value.reserve(RemotePrefixBytes(block.tokens.size()) + payload.size());
  AppendValuePrefix(block, payload, value);
  value.append(reinterpret_cast<const char*>(payload.data()), payload.size());
  return value;
}

Status VerifyValuePrefix(const RemoteBlock& asked, std::string_view prefix,
                         uint64_t payload_bytes) {
  Header header;
  return VerifyPrefix(asked, prefix, payload_bytes, /*whole=*/false, header);
}

Status VerifyValue(const RemoteBlock& asked, std::string_view value, uint64_t payload_bytes) {
  Header header;
  TIERKV_RETURN_IF_ERROR(VerifyPrefix(asked, value, payload_bytes, /*whole=*/true, header));
  const size_t prefix_bytes = RemotePrefixBytes(header.tokens);
  if (value.size() - prefix_bytes != header.payload_length) {
    return Status::Corruption("value holds " + std::to_string(value.size() - prefix_bytes) +
                              " payload bytes, header says " +
                              std::to_string(header.payload_length));
  }
  const auto* payload = reinterpret_cast<const std::byte*>(value.data() + prefix_bytes);
  if (PayloadChecksum({payload, header.payload_length}) != header.checksum) {
    return Status::Corruption("payload fails its checksum");
  }
  return Status::Ok();
}

}  // namespace tierkv::remote
