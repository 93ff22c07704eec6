// One KV cache event, as tierkvd publishes it to routers (docs/events.md),
// and the msgpack encoding of a batch of them in the array layout of vLLM's
// KV events (msgspec array_like structs, tagged by class name):
//
//   batch         [ts, [event, ...]]                ts: float64, Unix seconds
//   BlockStored   ["BlockStored", [hash, ...], parent_hash, [token, ...],
//                  block_size, lora_id, medium]
//   BlockRemoved  ["BlockRemoved", [hash, ...], medium]
//   AllBlocksCleared ["AllBlocksCleared"]
//
// A hash is a 16-byte bin: the block key's hi then lo half, each big-endian,
// so its hex is what `tierkv stats` and ToHex() print. A BlockStored run is
// one chain in order; its parent_hash is the key before the first block (the
// namespace id when the run starts a prompt). block_size is tokens per
// block; lora_id is nil (adapters are part of the namespace, hence the
// hash); medium is "GPU", "CPU" or "DISK".
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <vector>

#include "daemon/store_observer.h"
#include "tierkv/keys.h"

namespace tierkv {

struct KvEvent {
  enum class Kind : uint8_t { kStored, kRemoved, kAllCleared };
  Kind kind = Kind::kStored;
  Medium medium = Medium::kCpu;
  std::vector<Key128> hashes;    // stored, removed
  Key128 parent;                 // stored: the key before hashes[0]
  std::vector<TokenId> tokens;   // stored: every block's tokens, in order
  uint32_t block_tokens = 0;     // stored
};

// The msgpack bytes of one batch taken at `unix_seconds`.
std::string EncodeKvEventBatch(double unix_seconds, std::span<const KvEvent> events);

}  // namespace tierkv
