#include "base/byte_size.h"

#include <array>
#include <cctype>
#include <cstdio>

namespace tierkv {
namespace {

struct Unit {
  std::string_view name;  // lower case
  uint64_t bytes;
};

constexpr uint64_t kKi = 1ull << 10;
constexpr uint64_t kKilo = 1000;
constexpr std::array<Unit, 16> kUnits = {{
    {"b", 1},
    {"kb", kKilo},
    {"mb", kKilo* kKilo},
    {"gb", kKilo* kKilo* kKilo},
    {"tb", kKilo* kKilo* kKilo* kKilo},
    {"pb", kKilo* kKilo* kKilo* kKilo* kKilo},
    {"kib", kKi},
    {"mib", kKi << 10},
    {"gib", kKi << 20},
    {"tib", kKi << 30},
    {"pib", kKi << 40},
    {"k", kKi},
    {"m", kKi << 10},
    {"g", kKi << 20},
    {"t", kKi << 30},
    {"p", kKi << 40},
}};
constexpr std::array<std::string_view, 6> kIecNames = {"B", "KiB", "MiB", "GiB", "TiB", "PiB"};
// More fraction digits than this cannot change a 64-bit byte count.
constexpr int kMaxFractionDigits = 18;

std::string_view Trim(std::string_view s) {
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.front()))) s.remove_prefix(1);
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.back()))) s.remove_suffix(1);
  return s;
}

Status NotASize(std::string_view text, std::string_view why) {
  return Status::InvalidArgument("'" + std::string(text) + "' is not a byte size: " +
                                 std::string(why) + " (e.g. 4096, 512MiB, 1.5 GiB, 2GB)");
}

}  // namespace

Result<uint64_t> ParseByteSize(std::string_view text) {
  const std::string_view s = Trim(text);
  size_t i = 0;
  unsigned __int128 whole = 0;
  bool digits = false;
  while (i < s.size() && std::isdigit(static_cast<unsigned char>(s[i]))) {
    whole = whole * 10 + static_cast<unsigned>(s[i] - '0');
    if (whole > UINT64_MAX) return NotASize(text, "it is larger than 2^64-1 bytes");
    digits = true;
    ++i;
  }
  // The fraction as numerator / 10^fraction_digits.
  unsigned __int128 numerator = 0;
  unsigned __int128 denominator = 1;
  if (i < s.size() && s[i] == '.') {
    ++i;
    for (int kept = 0; i < s.size() && std::isdigit(static_cast<unsigned char>(s[i])); ++i) {
      digits = true;
      if (kept++ >= kMaxFractionDigits) continue;
      numerator = numerator * 10 + static_cast<unsigned>(s[i] - '0');
      denominator *= 10;
    }
  }
  if (!digits) {
    return NotASize(text, s.starts_with("-") ? "sizes cannot be negative" : "no number");
  }
  std::string unit;
  for (std::string_view u = Trim(s.substr(i)); char c : u) {
    unit.push_back(static_cast<char>(std::tolower(static_cast<unsigned char>(c))));
  }
  uint64_t multiplier = 0;
  for (const Unit& u : kUnits) {
    if (u.name == unit || (unit.empty() && u.bytes == 1)) multiplier = u.bytes;
  }
  if (multiplier == 0) {
    return NotASize(text, "unknown unit '" + unit + "' (B, kB, MB, GB, TB, KiB, MiB, GiB, TiB)");
  }
  const unsigned __int128 bytes = whole * multiplier + numerator * multiplier / denominator;
  if (bytes > UINT64_MAX) return NotASize(text, "it is larger than 2^64-1 bytes");
  return static_cast<uint64_t>(bytes);
}

std::string FormatBytes(uint64_t bytes) {
  double value = static_cast<double>(bytes);
  size_t unit = 0;
  while (value >= static_cast<double>(kKi) && unit + 1 < kIecNames.size()) {
    value /= static_cast<double>(kKi);
    ++unit;
  }
  char buf[32];
  if (unit == 0) {
    std::snprintf(buf, sizeof buf, "%llu B", static_cast<unsigned long long>(bytes));
  } else {
    std::snprintf(buf, sizeof buf, "%.1f %s", value, kIecNames[unit].data());
  }
  return buf;
}

std::string FormatBytesExact(uint64_t bytes) {
  size_t unit = 0;
  uint64_t value = bytes;
  while (value != 0 && value % kKi == 0 && unit + 1 < kIecNames.size()) {
    value /= kKi;
    ++unit;
  }
  if (unit == 0) return std::to_string(bytes) + (bytes == 1 ? " byte" : " bytes");
  return std::to_string(value) + " " + std::string(kIecNames[unit]);
}

}  // namespace tierkv
