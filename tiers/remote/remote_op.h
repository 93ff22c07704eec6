// RemoteOp: one block operation on its way through the cluster client, from
// Submit() to its completion. Owned by exactly one place at a time: the
// submission inbox, the ops waiting for a slot map or a retry, or a node
// connection's queue. Touched only by the store's I/O thread after Submit().
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <optional>
#include <span>
#include <string>

#include "tierkv/status.h"
#include "tiers/remote/remote_url.h"
#include "tiers/remote/resp.h"
#include "tiers/remote/value_codec.h"

namespace tierkv::remote {

using Clock = std::chrono::steady_clock;

enum class OpKind : uint8_t { kGet, kProbe, kPut, kDelete };

struct RemoteOp {
  OpKind kind = OpKind::kGet;
  RemoteBlock block;                   // a Delete uses namespace_id and key only
  std::string name;                    // RemoteKeyName(block.namespace_id, block.key)
  uint16_t slot = 0;                   // KeySlot(name)
  std::span<const std::byte> payload;  // Put
  std::span<std::byte> dst;            // Get
  uint64_t payload_bytes = 0;          // Get, Probe: expected; Put: payload.size()
  // Empty for the store's own operations (deleting a value that failed
  // verification), which complete silently.
  std::function<void(Status)> done;
  Clock::time_point deadline;
  Clock::time_point retry_at;  // while waiting to be retried
  uint32_t redirects = 0;
  uint32_t retries = 0;
  // Set by an ASK redirect: the next send goes to this node, after ASKING.
  std::optional<HostPort> ask_target;
  // The callback has run (the deadline passed) while the request was on the
  // wire; its reply, when it comes, is dropped.
  bool completed = false;
  // Validation failed at Submit(): completes with this status at once.
  Status invalid;
};

// The request that carries `op` (with ASKING in front when `asking`). A Put's
// payload goes as the body, borrowed from the caller.
Command FormatOp(const RemoteOp& op, bool asking);

}  // namespace tierkv::remote
