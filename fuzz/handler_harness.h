// A daemon without sockets, for fuzzing: a small real host tier, a block
// store, a namespace registry and a RequestHandler, fed raw request frames
// as one connection would send them. Shared by the request handler fuzzer and
// the seed corpus generator.
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <vector>

#include "protocol/messages.h"
#include "protocol/wire.h"

namespace tierkv::fuzzing {

inline constexpr char kSecret[] = "tierkv-fuzz-secret-0123456789abc";
inline constexpr char kAdminToken[] = "admin";
inline constexpr char kTenant[] = "acme";
inline constexpr char kTenantToken[] = "t0k";
inline constexpr uint64_t kPoolBytes = 16ull << 20;
inline constexpr uint64_t kSlabBytes = 1ull << 20;

// Feeds `frames` (header + body, back to back) to a fresh daemon state as one
// connection. Stops where the session would close the connection (a bad
// header) or wait for more bytes. Aborts when a reply frame is malformed,
// when a block is pinned between requests while the connection holds no
// lease, when a pool is over-full, or when pins or pool space outlive the
// connection.
void RunFrames(std::span<const uint8_t> frames);

// Appends one request frame to `out`.
void AppendFrame(wire::MessageType type, const std::vector<uint8_t>& body,
                 std::vector<uint8_t>* out);
template <typename T>
void AppendMessage(wire::MessageType type, const T& message, std::vector<uint8_t>* out) {
  std::vector<uint8_t> body;
  wire::Writer w(&body);
  message.Encode(w);
  AppendFrame(type, body, out);
}

// The id the harness's daemon gives `spec` (its secret is fixed).
Key128 NamespaceIdFor(const wire::OpenNamespaceRequest& spec);

}  // namespace tierkv::fuzzing
