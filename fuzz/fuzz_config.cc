// Fuzzes the daemon's TOML config parser (LoadConfigText). Any text must give
// either a config or an InvalidArgument status; never a crash, a hang or an
// uncaught exception.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "daemon/config.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  tierkv::DaemonConfig config;
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  const tierkv::Status s = tierkv::LoadConfigText(text, "fuzz.toml", &config);
  if (!s.ok() && !s.IsInvalidArgument()) std::abort();
  return 0;
}
