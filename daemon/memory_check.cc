#include "daemon/memory_check.h"

#include <fstream>
#include <sstream>

#include "base/byte_size.h"

namespace tierkv {
namespace {

constexpr std::string_view kMemAvailable = "MemAvailable:";
constexpr uint64_t kKiB = 1024;

}  // namespace

std::optional<uint64_t> ParseMemAvailable(const std::string& meminfo) {
  std::istringstream in(meminfo);
  std::string line;
  while (std::getline(in, line)) {
    if (!line.starts_with(kMemAvailable)) continue;
    std::istringstream fields(line.substr(kMemAvailable.size()));
    uint64_t kib = 0;
    if (fields >> kib) return kib * kKiB;  // the kernel writes it in kB (KiB)
  }
  return std::nullopt;
}

std::optional<uint64_t> AvailableMemoryBytes() {
  std::ifstream in("/proc/meminfo");
  std::stringstream text;
  text << in.rdbuf();
  return ParseMemAvailable(text.str());
}

Status CheckPoolFitsMemory(uint64_t pool_bytes, std::optional<uint64_t> available_bytes) {
  if (!available_bytes || pool_bytes <= *available_bytes) return Status::Ok();
  return Status::ResourceExhausted(
      "host_bytes " + FormatBytes(pool_bytes) + " is more than the " +
      FormatBytes(*available_bytes) +
      " of memory available now; give a smaller --host-bytes, or --force-host-bytes to "
      "start anyway");
}

}  // namespace tierkv
