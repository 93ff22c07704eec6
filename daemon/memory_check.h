// Refuses a CPU tier larger than the memory the machine has free, before the
// daemon spends seconds faulting it in (or the kernel kills it halfway).
#pragma once

#include <cstdint>
#include <optional>
#include <string>

#include "tierkv/status.h"

namespace tierkv {

// MemAvailable from a /proc/meminfo text, in bytes; nullopt if absent.
std::optional<uint64_t> ParseMemAvailable(const std::string& meminfo);

// OK when `pool_bytes` fits in `available_bytes`. Otherwise ResourceExhausted,
// naming both sizes and the way out (a smaller host_bytes, or
// force_host_bytes). `available_bytes` unknown: OK.
Status CheckPoolFitsMemory(uint64_t pool_bytes, std::optional<uint64_t> available_bytes);

// This machine's MemAvailable now.
std::optional<uint64_t> AvailableMemoryBytes();

}  // namespace tierkv
