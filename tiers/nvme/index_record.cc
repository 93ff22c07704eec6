#include "tiers/nvme/index_record.h"

#include <cstring>

namespace tierkv::nvme {
namespace {

constexpr uint8_t kRecordVersion = 1;
// version + slot_bytes, file, slot, length + checksum + parent + namespace +
// last_access + token_count.
constexpr size_t kFixedValueBytes = 1 + 4 * 4 + 8 + 16 + 16 + 8 + 4;

template <typename T>
void PutLe(std::string* out, T v) {
  for (size_t i = 0; i < sizeof(T); ++i) out->push_back(char((uint64_t(v) >> (8 * i)) & 0xff));
}

template <typename T>
T GetLe(const char*& p) {
  uint64_t v = 0;
  for (size_t i = 0; i < sizeof(T); ++i) v |= uint64_t(uint8_t(p[i])) << (8 * i);
  p += sizeof(T);
  return T(v);
}

void PutKeyLe(std::string* out, const Key128& k) {
  PutLe(out, k.lo);
  PutLe(out, k.hi);
}

Key128 GetKeyLe(const char*& p) {
  Key128 k;
  k.lo = GetLe<uint64_t>(p);
  k.hi = GetLe<uint64_t>(p);
  return k;
}

void PutBe64(std::string* out, uint64_t v) {
  for (int i = 7; i >= 0; --i) out->push_back(char((v >> (8 * i)) & 0xff));
}

uint64_t GetBe64(const char* p) {
  uint64_t v = 0;
  for (int i = 0; i < 8; ++i) v = (v << 8) | uint8_t(p[i]);
  return v;
}

}  // namespace

std::string EncodeIndexKey(const Key128& key) {
  std::string out;
  out.reserve(kEncodedKeyBytes);
  PutBe64(&out, key.hi);
  PutBe64(&out, key.lo);
  return out;
}

bool DecodeIndexKey(std::string_view bytes, Key128* key) {
  if (bytes.size() != kEncodedKeyBytes) return false;
  key->hi = GetBe64(bytes.data());
  key->lo = GetBe64(bytes.data() + 8);
  return true;
}

std::string EncodeRecordValue(const BlockRecord& r) {
  std::string out;
  out.reserve(kFixedValueBytes + 4 * r.tokens.size());
  PutLe<uint8_t>(&out, kRecordVersion);
  PutLe(&out, r.slot.slot_bytes);
  PutLe(&out, r.slot.file);
  PutLe(&out, r.slot.index);
  PutLe(&out, r.length);
  PutLe(&out, r.checksum);
  PutKeyLe(&out, r.parent);
  PutKeyLe(&out, r.namespace_id);
  PutLe(&out, r.last_access);
  PutLe(&out, uint32_t(r.tokens.size()));
  for (TokenId t : r.tokens) PutLe(&out, t);
  return out;
}

Status DecodeRecordValue(std::string_view value, BlockRecord* r) {
  if (value.size() < kFixedValueBytes) {
    return Status::Corruption("nvme index: record of " + std::to_string(value.size()) +
                              " bytes is too short");
  }
  const char* p = value.data();
  if (uint8_t version = GetLe<uint8_t>(p); version != kRecordVersion) {
    return Status::Corruption("nvme index: unknown record version " + std::to_string(version));
  }
  r->slot.slot_bytes = GetLe<uint32_t>(p);
  r->slot.file = GetLe<uint32_t>(p);
  r->slot.index = GetLe<uint32_t>(p);
  r->length = GetLe<uint32_t>(p);
  r->checksum = GetLe<uint64_t>(p);
  r->parent = GetKeyLe(p);
  r->namespace_id = GetKeyLe(p);
  r->last_access = GetLe<uint64_t>(p);
  const uint32_t count = GetLe<uint32_t>(p);
  if (value.size() != kFixedValueBytes + uint64_t{4} * count) {
    return Status::Corruption("nvme index: record length does not match its token count");
  }
  r->tokens.resize(count);
  for (uint32_t i = 0; i < count; ++i) r->tokens[i] = GetLe<uint32_t>(p);
  if (r->length == 0 || r->length > r->slot.slot_bytes) {
    return Status::Corruption("nvme index: payload length exceeds its slot");
  }
  return Status::Ok();
}

}  // namespace tierkv::nvme
