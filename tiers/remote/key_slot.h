// Redis Cluster key slots: which of the 16384 hash slots a key belongs to.
//
//   slot = CRC16-XMODEM(tag) mod 16384
//
// where tag is the whole key, or, when the key holds a '{' followed later by a
// '}' with at least one byte between them, the bytes between the first '{' and
// the first '}' after it (a "hash tag": keys with the same tag share a slot).
// This is the rule of the Redis Cluster specification, so every client and
// every server agree on it.
//
// Thread safety: pure functions.
#pragma once

#include <cstdint>
#include <string_view>

namespace tierkv::remote {

inline constexpr uint16_t kClusterSlots = 16384;

// CRC16 with polynomial 0x1021, initial value 0, no reflection (XMODEM).
uint16_t Crc16Xmodem(std::string_view bytes);

// The part of `key` that is hashed: its hash tag if it has one, else all of it.
std::string_view HashTag(std::string_view key);

// The cluster slot of `key`, in [0, kClusterSlots).
uint16_t KeySlot(std::string_view key);

}  // namespace tierkv::remote
