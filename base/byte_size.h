// Byte sizes as people write them, parsed and printed in one place for the
// daemon's config and flags, the CLI and the benches.
//
// Accepted: a number, optionally with a decimal fraction, then optional
// spaces and a unit (case-insensitive):
//   B                         bytes
//   kB MB GB TB PB            SI, powers of 1000 ("1GB" is 10^9 bytes)
//   KiB MiB GiB TiB PiB       IEC, powers of 1024
//   K M G T P                 IEC too, as GNU tools read them
// "1.5GiB", "1 GiB", "64KiB", "4096" and "0.5 MB" are sizes; a fraction that
// leaves part of a byte is rounded down. Negative numbers, other units and
// values above 2^64-1 are refused with a message that says why.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "tierkv/status.h"

namespace tierkv {

Result<uint64_t> ParseByteSize(std::string_view text);

// IEC with one decimal ("1.5 GiB", "64.0 KiB"), whole bytes below 1 KiB
// ("512 B"). Parsing the result gives the size back to within 0.05 of a unit.
std::string FormatBytes(uint64_t bytes);

// Exactly, for messages about limits: "64 MiB" when a whole number of the
// largest unit that divides it, else "67108865 bytes".
std::string FormatBytesExact(uint64_t bytes);

}  // namespace tierkv
