#include "protocol/wire.h"

namespace tierkv::wire {

std::string_view MessageTypeName(uint16_t type) {
  switch (static_cast<MessageType>(type & ~kReplyBit)) {
    case MessageType::kHello: return "hello";
    case MessageType::kOpenNamespace: return "open_namespace";
    case MessageType::kLookup: return "lookup";
    case MessageType::kAcquire: return "acquire";
    case MessageType::kRelease: return "release";
    case MessageType::kReserve: return "reserve";
    case MessageType::kCommit: return "commit";
    case MessageType::kAbort: return "abort";
    case MessageType::kStats: return "stats";
    case MessageType::kEvict: return "evict";
    case MessageType::kHealth: return "health";
    case MessageType::kFlush: return "flush";
    case MessageType::kGpuPool: return "gpu_pool";
  }
  return "unknown";
}

void EncodeHeader(const FrameHeader& h, uint8_t* out) {
  std::memcpy(out, &h.magic, 4);
  std::memcpy(out + 4, &h.version, 2);
  std::memcpy(out + 6, &h.type, 2);
  std::memcpy(out + 8, &h.request_id, 4);
  std::memcpy(out + 12, &h.body_bytes, 4);
}

FrameHeader DecodeHeader(const uint8_t* in) {
  FrameHeader h;
  std::memcpy(&h.magic, in, 4);
  std::memcpy(&h.version, in + 4, 2);
  std::memcpy(&h.type, in + 6, 2);
  std::memcpy(&h.request_id, in + 8, 4);
  std::memcpy(&h.body_bytes, in + 12, 4);
  return h;
}

Status ValidateHeader(const FrameHeader& h) {
  if (h.magic != kFrameMagic) return Status::ProtocolError("bad frame magic");
  if (h.body_bytes > kMaxBodyBytes) {
    return Status::ProtocolError("frame body of " + std::to_string(h.body_bytes) +
                                 " bytes exceeds the limit of " + std::to_string(kMaxBodyBytes));
  }
  return Status::Ok();
}

std::string Reader::Str(size_t max_bytes) {
  uint32_t n = U32();
  if (n > max_bytes) {
    ok_ = false;
    return {};
  }
  auto b = Bytes(n);
  return std::string(reinterpret_cast<const char*>(b.data()), b.size());
}

std::span<const uint8_t> Reader::Bytes(size_t n) {
  if (!ok_ || n > remaining()) {
    ok_ = false;
    return {};
  }
  auto out = in_.subspan(pos_, n);
  pos_ += n;
  return out;
}

void Reader::Raw(void* out, size_t n) {
  auto b = Bytes(n);
  // An empty read may come with a null `out` (an empty vector's data()), and
  // memcpy with a null pointer is undefined even for 0 bytes.
  if (ok_ && n > 0) std::memcpy(out, b.data(), n);
}

}  // namespace tierkv::wire
