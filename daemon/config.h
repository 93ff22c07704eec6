// tierkvd's configuration: built-in defaults, then an optional TOML file
// (--config), then command-line flags, each overriding the one before.
// Every key of the file is also a flag of the same name (dashes for
// underscores). configs/tierkvd.toml documents each key and its default.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "protocol/wire.h"
#include "tierkv/status.h"

namespace tierkv {

// The protocol's own frame ceiling: the largest max_frame_bytes may be.
inline constexpr uint64_t kMaxFrameBytesCeiling = wire::kMaxBodyBytes;

struct DaemonConfig {
  std::string socket = "/tmp/tierkv.sock";  // Unix socket for local engines
  std::string tcp = "127.0.0.1:7470";       // TCP listener; empty disables it
  std::string data_dir = "/var/tmp/tierkv";  // persistent state (secret, NVMe tier)
  uint64_t host_bytes = 1ull << 30;          // CPU tier (shared pool) size
  uint64_t slab_bytes = 64ull << 20;         // CPU tier slab size (largest block)
  uint64_t nvme_bytes = 4ull << 30;          // NVMe tier cap (data_dir/nvme); 0 disables
  bool nvme_sync_index = false;              // fsync the index WAL per write (power loss)
  // Largest block the NVMe tier takes; each of its 32 registered staging
  // buffers is this large. Larger blocks live on the host tier only.
  uint64_t nvme_max_block_bytes = 4ull << 20;
  // GPU tier: device memory on CUDA device gpu_device, when the build has
  // CUDA and a device is present; 0 turns it off.
  uint64_t gpu_bytes = 2ull << 30;
  int gpu_device = 0;
  std::string log_level = "info";
  std::string admin_token;                   // needed for evict/flush when set
  std::map<std::string, std::string> tenant_tokens;  // tenant -> token ([tenants])
  // Limits on what one client can hold (docs/security.md).
  uint64_t max_frame_bytes = kMaxFrameBytesCeiling;  // largest request frame body
  uint64_t frame_idle_timeout_ms = 10000;  // a partial frame with no bytes this long closes
  uint64_t max_connections = 1024;         // connections served at once
  uint64_t accept_backoff_ms = 100;        // out of descriptors: pause accepting this long
};

// Parses "1073741824", "512MiB", "4GiB", "64k"... into bytes.
Result<uint64_t> ParseByteSize(const std::string& text);

// Reads a TOML config file into `config` (keys it does not set keep their values).
Status LoadConfigFile(const std::string& path, DaemonConfig* config);
// The same for TOML text already in memory; `path` names it in error messages.
Status LoadConfigText(std::string_view text, const std::string& path, DaemonConfig* config);

// Builds the configuration from argv. Returns NotFound-free errors for bad
// flags or files; sets *exit_now (with the exit code) for --help and --version.
Result<DaemonConfig> ParseDaemonArgs(int argc, char** argv, bool* exit_now, int* exit_code);

}  // namespace tierkv
