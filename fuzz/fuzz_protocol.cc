// Fuzzes the wire protocol codec: the frame header, then every request and
// reply body decoder on the same bytes, and every reply decoder as the
// client reads a reply (a status, then on OK the fields). Decoding must never
// read out of bounds, allocate beyond the protocol's bounds, or crash; and
// whatever decodes must survive an encode/decode round trip unchanged.
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

template <typename... Ts>
void DecodeEach(std::span<const uint8_t> body) {
  (DecodeAndRoundTrip<Ts>(body), ...);
}

// A reply body as the client reads it: the status, and the fields after an
// OK one. A status that decodes round-trips too.
void DecodeReply(std::span<const uint8_t> body) {
  Reader r(body);
  const Status status = DecodeStatus(r);
  if (!r.ok()) return;
  std::vector<uint8_t> encoded;
  Writer w(&encoded);
  EncodeStatus(w, status);
  Reader again(encoded);
  const Status decoded = DecodeStatus(again);
  if (!again.ok() || decoded.code() != status.code() || decoded.message() != status.message()) {
    std::abort();
  }
  if (!status.ok()) return;
  const std::span<const uint8_t> fields = body.subspan(body.size() - r.remaining());
  DecodeEach<HelloReply, OpenNamespaceReply, LookupReply, AcquireReply, ReserveReply, CountReply,
             TextReply, HealthReply, GpuPoolReply>(fields);
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
  DecodeEach<HelloRequest, OpenNamespaceRequest, LookupRequest, AcquireRequest, IdRequest,
             ReserveRequest, EvictRequest, HelloReply, OpenNamespaceReply, LookupReply,
             AcquireReply, ReserveReply, CountReply, TextReply, HealthReply, GpuPoolReply>(in);
  DecodeReply(in);
  return 0;
}
