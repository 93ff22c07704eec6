// The tierkv wire format: framing and a bounds-checked little-endian codec.
//
// Every message, request or reply, is one frame:
//
//   offset  size  field
//   0       4     magic        kFrameMagic ("TKV1" little-endian)
//   4       2     version      protocol version of the sender
//   6       2     type         MessageType; a reply sets kReplyBit
//   8       4     request_id   echoed in the reply
//   12      4     body_bytes   length of the body that follows, <= kMaxBodyBytes
//
// A reply body starts with a status (u16 code, string message); the typed
// fields follow only when the status is OK. Strings are u32 length + bytes.
// Keys are 16 bytes (lo, hi). Decoding never trusts a length: every read is
// checked against what is left, and a failed read poisons the Reader.
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "tierkv/keys.h"
#include "tierkv/status.h"

namespace tierkv::wire {

inline constexpr uint32_t kFrameMagic = 0x31564B54;  // "TKV1"
// 2: acquire replies name each block's tier; gpu_pool.
inline constexpr uint16_t kProtocolVersion = 2;
inline constexpr uint16_t kMinProtocolVersion = 2;
inline constexpr size_t kHeaderBytes = 16;
// Large enough for an inline TCP put or get of 64 blocks of 4 MiB.
inline constexpr uint32_t kMaxBodyBytes = 272u << 20;
inline constexpr uint16_t kReplyBit = 0x8000;

enum class MessageType : uint16_t {
  kHello = 1,
  kOpenNamespace = 2,
  kLookup = 3,
  kAcquire = 4,
  kRelease = 5,
  kReserve = 6,
  kCommit = 7,
  kAbort = 8,
  kStats = 9,
  kEvict = 10,
  kHealth = 11,
  kFlush = 12,
  kGpuPool = 13,
};
std::string_view MessageTypeName(uint16_t type);

struct FrameHeader {
  uint32_t magic = kFrameMagic;
  uint16_t version = kProtocolVersion;
  uint16_t type = 0;
  uint32_t request_id = 0;
  uint32_t body_bytes = 0;
};

void EncodeHeader(const FrameHeader& h, uint8_t* out);
FrameHeader DecodeHeader(const uint8_t* in);
// Checks magic and size; version is checked by the receiver of the message.
Status ValidateHeader(const FrameHeader& h);

// Appends little-endian fields to a byte vector.
class Writer {
 public:
  explicit Writer(std::vector<uint8_t>* out) : out_(out) {}
  void U8(uint8_t v) { out_->push_back(v); }
  void U16(uint16_t v) { Raw(&v, sizeof v); }
  void U32(uint32_t v) { Raw(&v, sizeof v); }
  void U64(uint64_t v) { Raw(&v, sizeof v); }
  void Key(const Key128& k) { U64(k.lo); U64(k.hi); }
  void Str(std::string_view s) { U32(static_cast<uint32_t>(s.size())); Raw(s.data(), s.size()); }
  void Raw(const void* p, size_t n) {
    const auto* b = static_cast<const uint8_t*>(p);
    out_->insert(out_->end(), b, b + n);
  }
  // Grows the output by n bytes and returns where they start, for bulk copies.
  uint8_t* Extend(size_t n) {
    size_t at = out_->size();
    out_->resize(at + n);
    return out_->data() + at;
  }

 private:
  std::vector<uint8_t>* out_;
};

// Reads little-endian fields from a byte span. After any out-of-bounds read,
// ok() is false and every further read returns zeros.
class Reader {
 public:
  explicit Reader(std::span<const uint8_t> in) : in_(in) {}
  uint8_t U8() { uint8_t v = 0; Raw(&v, 1); return v; }
  uint16_t U16() { uint16_t v = 0; Raw(&v, 2); return v; }
  uint32_t U32() { uint32_t v = 0; Raw(&v, 4); return v; }
  uint64_t U64() { uint64_t v = 0; Raw(&v, 8); return v; }
  Key128 Key() { Key128 k; k.lo = U64(); k.hi = U64(); return k; }
  std::string Str(size_t max_bytes = 4096);
  // A view of the next n bytes, or an empty span (and !ok()) when fewer are left.
  std::span<const uint8_t> Bytes(size_t n);
  void Raw(void* out, size_t n);
  bool ok() const { return ok_; }
  size_t remaining() const { return in_.size() - pos_; }
  // True when every byte was consumed and no read failed.
  bool done() const { return ok_ && pos_ == in_.size(); }

 private:
  std::span<const uint8_t> in_;
  size_t pos_ = 0;
  bool ok_ = true;
};

}  // namespace tierkv::wire
