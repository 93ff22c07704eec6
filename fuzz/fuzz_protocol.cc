// Fuzzes the wire protocol codec: the frame header, then every request and
// reply body decoder on the same bytes. Decoding must never read out of
// bounds, allocate beyond the protocol's bounds, or crash; and whatever
// decodes must survive an encode/decode round trip unchanged.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <span>
#include <vector>

#include "protocol/messages.h"
#include "protocol/wire.h"

namespace tierkv::wire {
namespace {

std::vector<uint8_t> EncodeToBytes(const auto& message) {
  std::vector<uint8_t> out;
  Writer w(&out);
  message.Encode(w);
  return out;
}

// Decodes `body` as T; when that succeeds, the message's encoding must decode
// again to the same encoding.
template <typename T>
void DecodeAndRoundTrip(std::span<const uint8_t> body) {
  Reader r(body);
  T message;
  if (!T::Decode(r, &message)) return;
  const std::vector<uint8_t> encoded = EncodeToBytes(message);
  Reader again(encoded);
  T decoded;
  if (!T::Decode(again, &decoded)) std::abort();
  if (EncodeToBytes(decoded) != encoded) std::abort();
}

}  // namespace
}  // namespace tierkv::wire

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace tierkv::wire;
  std::span<const uint8_t> in(data, size);
  if (in.size() >= kHeaderBytes) {
    const FrameHeader h = DecodeHeader(in.data());
    (void)ValidateHeader(h);
    (void)MessageTypeName(h.type);
    in = in.subspan(kHeaderBytes);
  }
  DecodeAndRoundTrip<HelloRequest>(in);
  DecodeAndRoundTrip<OpenNamespaceRequest>(in);
  DecodeAndRoundTrip<LookupRequest>(in);
  DecodeAndRoundTrip<AcquireRequest>(in);
  DecodeAndRoundTrip<IdRequest>(in);
  DecodeAndRoundTrip<ReserveRequest>(in);
  DecodeAndRoundTrip<EvictRequest>(in);
  DecodeAndRoundTrip<HelloReply>(in);
  DecodeAndRoundTrip<OpenNamespaceReply>(in);
  DecodeAndRoundTrip<LookupReply>(in);
  DecodeAndRoundTrip<AcquireReply>(in);
  DecodeAndRoundTrip<ReserveReply>(in);
  DecodeAndRoundTrip<CountReply>(in);
  DecodeAndRoundTrip<TextReply>(in);
  DecodeAndRoundTrip<HealthReply>(in);
  DecodeAndRoundTrip<GpuPoolReply>(in);
  Reader r(in);
  (void)DecodeStatus(r);
  return 0;
}
