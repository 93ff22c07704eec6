// tierkvd's configuration: built-in defaults, then an optional TOML file
// (--config), then command-line flags, each overriding the one before.
// Every key of the file is also a flag of the same name (dashes for
// underscores); the keys are listed once, in config.cc, and both the file
// reader and the flags come from that list. configs/tierkvd.toml documents
// each key and its default.
//
// Errors name where the bad value came from: "FILE:LINE: KEY: why" for the
// file, "--flag: why" for a flag.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <span>
#include <string>
#include <string_view>

#include "protocol/wire.h"
#include "tierkv/status.h"

namespace tierkv {

// The protocol's own frame ceiling: the largest max_frame_bytes may be.
inline constexpr uint64_t kMaxFrameBytesCeiling = wire::kMaxBodyBytes;

struct DaemonConfig {
  std::string socket = "/tmp/tierkv.sock";   // Unix socket for local engines
  std::string tcp = "127.0.0.1:7470";        // TCP listener; empty disables it
  std::string data_dir = "/var/tmp/tierkv";  // persistent state (secret, NVMe tier)
  // The secret that roots every namespace id; empty means data_dir/secret.
  // Daemons sharing a remote tier share this file.
  std::string secret_file;
  uint64_t host_bytes = 1ull << 30;          // CPU tier (shared pool) size
  // Start even when host_bytes is more than the memory available now.
  bool force_host_bytes = false;
  uint64_t slab_bytes = 64ull << 20;  // CPU tier slab size (largest block)
  uint64_t nvme_bytes = 4ull << 30;   // NVMe tier cap (data_dir/nvme); 0 disables
  bool nvme_sync_index = false;       // fsync the index WAL per write (power loss)
  // After the disk refused a new slab file (ENOSPC), no new file is tried
  // for this long: blocks that need one are refused at once.
  uint64_t nvme_disk_full_retry_ms = 10000;
  // Largest block the NVMe tier takes; each of its 32 registered staging
  // buffers is this large. Larger blocks live on the host tier only.
  uint64_t nvme_max_block_bytes = 4ull << 20;
  // GPU tier: device memory on CUDA device gpu_device, when the build has
  // CUDA and a device is present; 0 turns it off.
  uint64_t gpu_bytes = 2ull << 30;
  int gpu_device = 0;
  std::string log_level = "info";                    // one of kLogLevels
  std::string admin_token;                           // needed for evict and flush when set
  std::map<std::string, std::string> tenant_tokens;  // tenant -> token ([tenants])
  // Limits on what one client can hold (docs/security.md).
  uint64_t max_frame_bytes = kMaxFrameBytesCeiling;  // largest request frame body
  uint64_t frame_idle_timeout_ms = 10000;  // a partial frame with no bytes this long closes
  uint64_t max_connections = 1024;         // connections served at once
  // Namespaces are never closed while the daemon runs (data_dir/namespaces
  // keeps them): new ones beyond these are refused.
  uint64_t max_namespaces_per_tenant = 256;
  uint64_t max_namespaces = 4096;
  uint64_t accept_backoff_ms = 100;        // out of descriptors: pause accepting this long
  // The remote tier: redis://[user:pass@]HOST:PORT or
  // redis-cluster://[user:pass@]HOST:PORT[,HOST:PORT...]; empty turns it off.
  std::string remote_url;
  std::string remote_write = "through";  // through | evict (daemon/remote_mover.h)
  // Prometheus /metrics (HOST:PORT, port 0 picks one); empty (off) disables it.
  std::string metrics_listen = "127.0.0.1:9470";
  // KV events for routers (docs/events.md): ZeroMQ endpoints, empty (off)
  // disables each; the topic is kv@<node>@<model>, node empty: the host name.
  std::string kv_events_endpoint;
  std::string kv_events_replay_endpoint;
  std::string kv_events_node;
  std::string kv_events_model = "tierkvd";

  // Where each key's value came from ("FILE:LINE" or "--flag"), for errors
  // found after parsing; keys left at their default are absent.
  std::map<std::string, std::string, std::less<>> origins;
};

// The log levels tierkvd accepts, in increasing severity.
inline constexpr std::string_view kLogLevels[] = {"trace", "debug",    "info", "warn",
                                                  "error", "critical", "off"};

// Where the daemon secret lives: secret_file, or data_dir/secret by default.
inline std::string SecretFilePath(const DaemonConfig& config) {
  return config.secret_file.empty() ? config.data_dir + "/secret" : config.secret_file;
}


// Reads a TOML config file into `config` (keys it does not set keep their values).
Status LoadConfigFile(const std::string& path, DaemonConfig* config);
// The same for TOML text already in memory; `path` names it in error messages.
Status LoadConfigText(std::string_view text, const std::string& path, DaemonConfig* config);

// Checks what no single key can: values that contradict each other or the
// tiers' limits. Errors name the key and where its value came from.
Status ValidateConfig(const DaemonConfig& config);

// The configuration as --check-config prints it: one "key = value" line per
// key with where the value came from; tokens show as (set), never their value.
std::string DescribeConfig(const DaemonConfig& config);

struct DaemonArgs {
  DaemonConfig config;
  bool check_config = false;     // --check-config: validate, print and exit
  std::optional<int> exit_code;  // --help, --version or a bad flag: exit now with it
};

// Builds the configuration from argv (defaults, --config file, flags) and
// validates it. Bad flags set exit_code after printing CLI11's message.
Result<DaemonArgs> ParseDaemonArgs(int argc, char** argv);

// Internal to config.cc and config_flags.cc: sets one key from text, as a
// flag or a TOML string gives it. `origin` prefixes error messages.
Status SetConfigKey(std::string_view key, std::string_view text, std::string_view origin,
                    DaemonConfig* config);

struct ConfigKeyInfo {
  std::string_view name;
  std::string_view help;
  bool is_bool;                 // a flag without a value (--nvme-sync-index)
  std::string_view value_name;  // SIZE, ADDRESS, ... in --help
};
// Every key, in the order configs/tierkvd.toml documents them.
std::span<const ConfigKeyInfo> ConfigKeys();
// A key's value in `config` as text ("1 GiB", "true", a path).
std::string ConfigValueText(std::string_view key, const DaemonConfig& config);

}  // namespace tierkv
