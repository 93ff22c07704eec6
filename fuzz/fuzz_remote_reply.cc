// Fuzzes what the remote tier reads from an untrusted Redis: replies parsed by
// hiredis (with the bounds of reply_reader.h) and handed to the slot map, redirect and value
// checks, and edited copies of a valid block value; and remote URLs. The first byte picks:
//   0  a RESP reply stream: every reply goes where the client would send it
//   1  a valid value with the input's edits applied (XOR at offsets, then a
//      length change): any edit must fail verification, none must pass
//   2  a remote URL
#include <hiredis/hiredis.h>

#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <numeric>
#include <string>
#include <string_view>

#include "tiers/remote/remote_url.h"
#include "tiers/remote/reply_reader.h"
#include "tiers/remote/resp.h"
#include "tiers/remote/slot_map.h"
#include "tiers/remote/value_codec.h"

namespace {

using tierkv::Key128;
using tierkv::remote::RemoteBlock;

constexpr size_t kPayloadBytes = 256;
constexpr size_t kMaxReplies = 64;

const RemoteBlock& AskedBlock() {
  static const RemoteBlock block = [] {
    RemoteBlock b;
    b.namespace_id = {0x1234, 0x5678};
    b.parent = b.namespace_id;
    b.tokens.resize(16);
    std::iota(b.tokens.begin(), b.tokens.end(), 7);
    b.key = tierkv::NextBlockKey(b.parent, b.tokens);
    return b;
  }();
  return block;
}

void CheckValue(std::string_view value) {
  const RemoteBlock& asked = AskedBlock();
  (void)tierkv::remote::VerifyValue(asked, value, kPayloadBytes);
  const size_t prefix = tierkv::remote::RemotePrefixBytes(asked.tokens.size());
  (void)tierkv::remote::VerifyValuePrefix(asked, value.substr(0, prefix), kPayloadBytes);
}

void ReplyStream(std::string_view bytes) {
  redisReader* reader = redisReaderCreate();
  tierkv::remote::BoundReplies(reader);
  redisReaderFeed(reader, bytes.data(), bytes.size());
  const tierkv::remote::HostPort queried{"127.0.0.1", 7000};
  for (size_t n = 0; n < kMaxReplies; ++n) {
    void* raw = nullptr;
    if (redisReaderGetReply(reader, &raw) != REDIS_OK || raw == nullptr) break;
    const auto* reply = static_cast<redisReply*>(raw);
    switch (reply->type) {
      case REDIS_REPLY_STRING:
        CheckValue({reply->str, reply->len});
        break;
      case REDIS_REPLY_ERROR: {
        const std::string_view error(reply->str, reply->len);
        (void)tierkv::remote::ClassifyError(error);
        (void)tierkv::remote::ParseRedirect(error);
        break;
      }
      default:
        break;
    }
    auto map = tierkv::remote::SlotMap::FromClusterSlots(*reply, queried);
    if (map.ok()) {
      for (uint32_t slot = 0; slot < tierkv::remote::kClusterSlots; slot += 997) {
        (void)map->MasterOf(static_cast<uint16_t>(slot));
      }
    }
    freeReplyObject(raw);
  }
  redisReaderFree(reader);
}

void EditedValue(std::string_view edits) {
  std::vector<std::byte> payload(kPayloadBytes);
  for (size_t i = 0; i < payload.size(); ++i) payload[i] = std::byte(i * 31 + 5);
  const std::string original = tierkv::remote::EncodeValue(AskedBlock(), payload);
  std::string value = original;
  size_t i = 0;
  for (; i + 3 <= edits.size() && edits[i] != '!'; i += 3) {
    const size_t at =
        (static_cast<uint8_t>(edits[i]) | static_cast<uint8_t>(edits[i + 1]) << 8) % value.size();
    value[at] = static_cast<char>(value[at] ^ edits[i + 2]);
  }
  if (i + 2 <= edits.size() && edits[i] == '!') {
    value.resize(static_cast<uint8_t>(edits[i + 1]) * value.size() / 128, 'x');
  }
  const tierkv::Status status = tierkv::remote::VerifyValue(AskedBlock(), value, kPayloadBytes);
  if (status.ok() != (value == original)) std::abort();  // an edit got through, or none failed
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) return 0;
  const std::string_view rest(reinterpret_cast<const char*>(data) + 1, size - 1);
  switch (data[0] % 3) {
    case 0:
      ReplyStream(rest);
      break;
    case 1:
      EditedValue(rest);
      break;
    case 2: {
      auto url = tierkv::remote::ParseRemoteUrl(rest);
      (void)tierkv::remote::RedactedUrl(rest);
      if (url.ok() && url->nodes.empty()) std::abort();
      break;
    }
  }
  return 0;
}
