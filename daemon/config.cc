#include "daemon/config.h"

#include <toml++/toml.h>

#include <algorithm>
#include <array>
#include <cctype>
#include <charconv>
#include <fstream>
#include <sstream>
#include <variant>

#include "base/address.h"
#include "base/byte_size.h"
#include "daemon/remote_mover.h"
#include "tiers/host/slab_allocator.h"
#include "tiers/remote/remote_url.h"

namespace tierkv {
namespace {

// How a key's text becomes its value.
enum class Kind {
  kUnixSocket,  // a Unix socket path (unix:PATH accepted)
  kTcp,         // HOST:PORT (tcp: accepted), or "off" / "" for none
  kPath,        // a directory
  kText,        // any string
  kSecret,      // any string, never printed
  kZmqEndpoint,  // a ZeroMQ endpoint (tcp://, ipc://), or "off" / "" for none
  kSize,        // a byte size, more than 0
  kTierSize,    // a byte size; 0 turns the tier off
  kBool,
  kDevice,  // a CUDA device number
  kLogLevel,
  kCount,  // a positive integer up to kMaxCount (counts and milliseconds)
};

using Field = std::variant<std::string DaemonConfig::*, uint64_t DaemonConfig::*,
                           bool DaemonConfig::*, int DaemonConfig::*>;

struct Key {
  ConfigKeyInfo info;
  Kind kind;
  Field field;
};

constexpr int kMaxGpuDevice = 1024;
// Smallest max_frame_bytes: a hello, a namespace open and a 64-block lookup fit.
constexpr uint64_t kMinFrameBytes = 64 * 1024;
constexpr uint64_t kMaxCount = 1ull << 32;
// Unknown keys within this edit distance of a known one get a suggestion.
constexpr size_t kSuggestDistance = 2;
constexpr std::string_view kTenantsTable = "tenants";

const std::array<Key, 28> kKeys = {{
    {{"socket", "Unix socket for local engines (PATH or unix:PATH)", false, "PATH"},
     Kind::kUnixSocket,
     &DaemonConfig::socket},
    {{"tcp", "TCP listener, HOST:PORT or tcp:HOST:PORT; off disables it", false, "ADDRESS"},
     Kind::kTcp,
     &DaemonConfig::tcp},
    {{"data_dir", "Directory for persistent state (secret, NVMe tier, lock)", false, "DIR"},
     Kind::kPath,
     &DaemonConfig::data_dir},
    {{"secret_file",
      "File of the secret that roots namespace ids; daemons sharing a remote tier share it "
      "(default: DATA_DIR/secret)",
      false, "PATH"},
     Kind::kText,
     &DaemonConfig::secret_file},
    {{"host_bytes", "CPU tier (shared pool) size, e.g. 4GiB or 1.5 GiB", false, "SIZE"},
     Kind::kSize,
     &DaemonConfig::host_bytes},
    {{"force_host_bytes", "Start even if host_bytes exceeds the memory available now", true, ""},
     Kind::kBool,
     &DaemonConfig::force_host_bytes},
    {{"slab_bytes", "CPU tier slab size, also the largest block", false, "SIZE"},
     Kind::kSize,
     &DaemonConfig::slab_bytes},
    {{"nvme_bytes", "NVMe tier size in data_dir/nvme; 0 turns it off", false, "SIZE"},
     Kind::kTierSize,
     &DaemonConfig::nvme_bytes},
    {{"nvme_max_block_bytes", "Largest block the NVMe tier takes (staging buffers)", false, "SIZE"},
     Kind::kSize,
     &DaemonConfig::nvme_max_block_bytes},
    {{"nvme_sync_index", "fsync the NVMe index per write (survive power loss)", true, ""},
     Kind::kBool,
     &DaemonConfig::nvme_sync_index},
    {{"nvme_disk_full_retry_ms",
      "After the disk refused a new slab file, try no new one for this long (ms)", false, "MS"},
     Kind::kCount,
     &DaemonConfig::nvme_disk_full_retry_ms},
    {{"gpu_bytes", "GPU tier size on the CUDA device; 0 turns it off", false, "SIZE"},
     Kind::kTierSize,
     &DaemonConfig::gpu_bytes},
    {{"gpu_device", "CUDA device of the GPU tier", false, "N"},
     Kind::kDevice,
     &DaemonConfig::gpu_device},
    {{"log_level", "trace, debug, info, warn, error, critical or off", false, "LEVEL"},
     Kind::kLogLevel,
     &DaemonConfig::log_level},
    {{"admin_token", "Token that evict and flush need (none: anyone may)", false, "TOKEN"},
     Kind::kSecret,
     &DaemonConfig::admin_token},
    {{"max_frame_bytes", "Largest request frame, 64KiB to 272MiB", false, "SIZE"},
     Kind::kSize,
     &DaemonConfig::max_frame_bytes},
    {{"frame_idle_timeout_ms",
      "Close a connection that sent part of a frame, then nothing this long (ms)", false, "MS"},
     Kind::kCount,
     &DaemonConfig::frame_idle_timeout_ms},
    {{"max_connections", "Connections served at once; more are refused", false, "N"},
     Kind::kCount,
     &DaemonConfig::max_connections},
    {{"max_namespaces_per_tenant", "Namespaces one tenant may have; a new one beyond is refused",
      false, "N"},
     Kind::kCount,
     &DaemonConfig::max_namespaces_per_tenant},
    {{"max_namespaces", "Namespaces of all tenants together; a new one beyond is refused", false,
      "N"},
     Kind::kCount,
     &DaemonConfig::max_namespaces},
    {{"accept_backoff_ms", "Out of file descriptors: stop accepting for this long (ms)", false,
      "MS"},
     Kind::kCount,
     &DaemonConfig::accept_backoff_ms},
    {{"metrics_listen", "Prometheus /metrics at HOST:PORT; off disables it", false, "ADDRESS"},
     Kind::kTcp,
     &DaemonConfig::metrics_listen},
    {{"remote_url",
      "Remote tier: redis://[user:pass@]HOST:PORT or "
      "redis-cluster://[user:pass@]HOST:PORT[,HOST:PORT...]; empty turns it off",
      false, "URL"},
     Kind::kText,
     &DaemonConfig::remote_url},
    {{"remote_write",
      "When blocks reach the remote tier: through (at commit) or evict (when their host copy "
      "leaves)",
      false, "POLICY"},
     Kind::kText,
     &DaemonConfig::remote_write},
    {{"kv_events_endpoint", "Publish KV events (ZeroMQ PUB) at tcp://HOST:PORT; off disables them",
      false, "ENDPOINT"},
     Kind::kZmqEndpoint,
     &DaemonConfig::kv_events_endpoint},
    {{"kv_events_replay_endpoint", "Resend KV events from a sequence number (ZeroMQ ROUTER)",
      false, "ENDPOINT"},
     Kind::kZmqEndpoint,
     &DaemonConfig::kv_events_replay_endpoint},
    {{"kv_events_node", "Node part of the KV event topic kv@NODE@MODEL (empty: the host name)",
      false, "NAME"},
     Kind::kText,
     &DaemonConfig::kv_events_node},
    {{"kv_events_model", "Model part of the KV event topic kv@NODE@MODEL", false, "NAME"},
     Kind::kText,
     &DaemonConfig::kv_events_model},
}};

const std::array<ConfigKeyInfo, kKeys.size()> kKeyInfos = [] {
  std::array<ConfigKeyInfo, kKeys.size()> infos{};
  for (size_t i = 0; i < kKeys.size(); ++i) infos[i] = kKeys[i].info;
  return infos;
}();

const Key* FindKey(std::string_view name) {
  for (const Key& k : kKeys) {
    if (k.info.name == name) return &k;
  }
  return nullptr;
}

size_t EditDistance(std::string_view a, std::string_view b) {
  std::vector<size_t> row(b.size() + 1);
  for (size_t j = 0; j <= b.size(); ++j) row[j] = j;
  for (size_t i = 1; i <= a.size(); ++i) {
    size_t diagonal = row[0];
    row[0] = i;
    for (size_t j = 1; j <= b.size(); ++j) {
      const size_t up = row[j];
      row[j] = std::min({row[j] + 1, row[j - 1] + 1, diagonal + (a[i - 1] != b[j - 1])});
      diagonal = up;
    }
  }
  return row[b.size()];
}

std::string UnknownKey(std::string_view name) {
  std::string message = "unknown key '" + std::string(name) + "'";
  for (const Key& k : kKeys) {
    if (EditDistance(name, k.info.name) <= kSuggestDistance) {
      return message + " (did you mean '" + std::string(k.info.name) + "'?)";
    }
  }
  return message;
}

std::string Lower(std::string_view s) {
  std::string out(s);
  for (char& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

Status KeyError(std::string_view origin, std::string_view key, std::string_view why) {
  std::string message(origin);
  if (!key.empty()) message += ": " + std::string(key);
  return Status::InvalidArgument(message + ": " + std::string(why));
}

// "FILE:LINE" of a TOML node.
std::string Where(const std::string& path, const toml::node& node) {
  return path + ":" + std::to_string(node.source().begin.line);
}

// The TOML value types a key of each kind takes, for type errors.
std::string_view Expected(Kind kind) {
  switch (kind) {
    case Kind::kSize:
    case Kind::kTierSize:
      return "must be a size: an integer number of bytes or a string such as \"4GiB\"";
    case Kind::kBool:
      return "must be true or false";
    case Kind::kDevice:
      return "must be a CUDA device number (an integer)";
    case Kind::kCount:
      return "must be a positive integer";
    default:
      return "must be a string";
  }
}

Status SetFromNode(const Key& key, const toml::node& node, const std::string& path,
                   DaemonConfig* config) {
  const std::string origin = Where(path, node);
  if (const auto* b = node.as_boolean()) {
    if (key.kind != Kind::kBool) return KeyError(origin, key.info.name, Expected(key.kind));
    config->*std::get<bool DaemonConfig::*>(key.field) = b->get();
    config->origins[std::string(key.info.name)] = origin;
    return Status::Ok();
  }
  if (const auto* i = node.as_integer()) {
    const bool numeric = key.kind == Kind::kSize || key.kind == Kind::kTierSize ||
                         key.kind == Kind::kDevice || key.kind == Kind::kCount;
    if (!numeric) return KeyError(origin, key.info.name, Expected(key.kind));
    return SetConfigKey(key.info.name, std::to_string(i->get()), origin, config);
  }
  if (const auto* s = node.as_string()) {
    if (key.kind == Kind::kBool || key.kind == Kind::kDevice || key.kind == Kind::kCount) {
      return KeyError(origin, key.info.name, Expected(key.kind));
    }
    return SetConfigKey(key.info.name, s->get(), origin, config);
  }
  return KeyError(origin, key.info.name, Expected(key.kind));
}

Status ReadTenants(const toml::node& node, const std::string& path, DaemonConfig* config) {
  const toml::table* tenants = node.as_table();
  if (!tenants) {
    return KeyError(Where(path, node), kTenantsTable,
                    "must be a table of tenant = \"token\" lines ([tenants])");
  }
  for (const auto& [name, token] : *tenants) {
    const auto* s = token.as_string();
    if (!s) {
      return KeyError(Where(path, token), "tenants." + std::string(name.str()),
                      "a tenant's token must be a string");
    }
    config->tenant_tokens[std::string(name.str())] = s->get();
  }
  return Status::Ok();
}

std::string OriginOf(const DaemonConfig& config, std::string_view key) {
  auto it = config.origins.find(key);
  return it == config.origins.end() ? "built-in default" : it->second;
}

}  // namespace

std::span<const ConfigKeyInfo> ConfigKeys() { return kKeyInfos; }

Status SetConfigKey(std::string_view name, std::string_view text, std::string_view origin,
                    DaemonConfig* config) {
  const Key* key = FindKey(name);
  if (!key) return KeyError(origin, "", UnknownKey(name));
  std::string value(text);
  switch (key->kind) {
    case Kind::kUnixSocket: {
      auto address = ParseAddress(text);
      if (!address.ok()) return KeyError(origin, name, address.status().message());
      if (address->kind != Address::Kind::kUnix) {
        return KeyError(origin, name,
                        "'" + value + "' is a TCP address; the tcp key sets the TCP listener");
      }
      value = address->path;
      break;
    }
    case Kind::kTcp: {
      if (value.empty() || value == "off") {
        value.clear();
        break;
      }
      auto address = ParseAddress(value.starts_with("tcp:") ? value : "tcp:" + value);
      if (!address.ok()) return KeyError(origin, name, address.status().message());
      value = address->ToString().substr(std::string_view("tcp:").size());
      break;
    }
    case Kind::kPath:
      if (value.empty()) return KeyError(origin, name, "must name a directory");
      break;
    case Kind::kZmqEndpoint:
      if (value == "off") value.clear();
      if (!value.empty() && !value.starts_with("tcp://") && !value.starts_with("ipc://")) {
        return KeyError(origin, name,
                        "'" + value + "' is not a ZeroMQ endpoint (tcp://HOST:PORT, " +
                            "tcp://HOST:* for any port, ipc://PATH) or off");
      }
      break;
    case Kind::kText:
    case Kind::kSecret:
    case Kind::kBool:
      break;
    case Kind::kSize:
    case Kind::kTierSize: {
      auto bytes = ParseByteSize(text);
      if (!bytes.ok()) return KeyError(origin, name, bytes.status().message());
      if (*bytes == 0 && key->kind == Kind::kSize) {
        return KeyError(origin, name, "must be more than 0 bytes");
      }
      config->*std::get<uint64_t DaemonConfig::*>(key->field) = *bytes;
      config->origins[std::string(name)] = std::string(origin);
      return Status::Ok();
    }
    case Kind::kDevice: {
      int device = -1;
      auto [end, err] = std::from_chars(text.data(), text.data() + text.size(), device);
      if (err != std::errc() || end != text.data() + text.size() || device < 0 ||
          device > kMaxGpuDevice) {
        return KeyError(origin, name,
                        "'" + value + "' is not a CUDA device number (0-" +
                            std::to_string(kMaxGpuDevice) + ")");
      }
      config->*std::get<int DaemonConfig::*>(key->field) = device;
      config->origins[std::string(name)] = std::string(origin);
      return Status::Ok();
    }
    case Kind::kCount: {
      uint64_t count = 0;
      auto [end, err] = std::from_chars(text.data(), text.data() + text.size(), count);
      if (err != std::errc() || end != text.data() + text.size() || count == 0 ||
          count > kMaxCount) {
        return KeyError(origin, name,
                        "'" + value + "' is not a positive integer (1-" +
                            std::to_string(kMaxCount) + ")");
      }
      config->*std::get<uint64_t DaemonConfig::*>(key->field) = count;
      config->origins[std::string(name)] = std::string(origin);
      return Status::Ok();
    }
    case Kind::kLogLevel: {
      value = Lower(text);
      const bool valid =
          std::find(std::begin(kLogLevels), std::end(kLogLevels), value) != std::end(kLogLevels);
      if (!valid) {
        std::string levels;
        for (std::string_view l : kLogLevels)
          levels += (levels.empty() ? "" : ", ") + std::string(l);
        return KeyError(origin, name,
                        "'" + std::string(text) + "' is not a log level (one of " + levels + ")");
      }
      break;
    }
  }
  if (key->kind == Kind::kBool) {
    const std::string lower = Lower(text);
    if (lower != "true" && lower != "false") return KeyError(origin, name, "must be true or false");
    config->*std::get<bool DaemonConfig::*>(key->field) = lower == "true";
  } else {
    config->*std::get<std::string DaemonConfig::*>(key->field) = std::move(value);
  }
  config->origins[std::string(name)] = std::string(origin);
  return Status::Ok();
}

std::string ConfigValueText(std::string_view name, const DaemonConfig& config) {
  const Key* key = FindKey(name);
  if (!key) return "";
  return std::visit(
      [&](auto field) -> std::string {
        const auto& value = config.*field;
        using T = std::decay_t<decltype(value)>;
        if constexpr (std::is_same_v<T, bool>) {
          return value ? "true" : "false";
        } else if constexpr (std::is_same_v<T, uint64_t>) {
          if (key->kind == Kind::kCount) return std::to_string(value);
          return FormatBytesExact(value);
        } else if constexpr (std::is_same_v<T, int>) {
          return std::to_string(value);
        } else {
          if (key->kind == Kind::kSecret) return value.empty() ? "(none)" : "(set)";
          if (key->kind == Kind::kZmqEndpoint && value.empty()) return "off";
          if (key->kind == Kind::kTcp && value.empty()) return "off";
          return value;
        }
      },
      key->field);
}

Status LoadConfigFile(const std::string& path, DaemonConfig* config) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return Status::InvalidArgument(path + ": cannot open the config file");
  std::stringstream text;
  text << in.rdbuf();
  return LoadConfigText(text.str(), path, config);
}

Status LoadConfigText(std::string_view text, const std::string& path, DaemonConfig* config) {
  toml::table t;
  try {
    t = toml::parse(text, path);
  } catch (const toml::parse_error& e) {
    const auto& where = e.source().begin;
    return Status::InvalidArgument(path + ":" + std::to_string(where.line) + ":" +
                                   std::to_string(where.column) + ": " +
                                   std::string(e.description()));
  }
  for (const auto& [name, node] : t) {
    if (name.str() == kTenantsTable) {
      TIERKV_RETURN_IF_ERROR(ReadTenants(node, path, config));
      continue;
    }
    const Key* key = FindKey(name.str());
    if (!key) return KeyError(Where(path, node), "", UnknownKey(name.str()));
    TIERKV_RETURN_IF_ERROR(SetFromNode(*key, node, path, config));
  }
  return Status::Ok();
}

Status ValidateConfig(const DaemonConfig& config) {
  const uint64_t slot = SlabAllocator::kSlotAlignment;
  auto too_small = [&](std::string_view key, uint64_t bytes, std::string_view why) {
    return KeyError(OriginOf(config, key), key,
                    FormatBytesExact(bytes) + " is smaller than one " + FormatBytesExact(slot) +
                        " slot; " + std::string(why));
  };
  if (config.slab_bytes < slot) {
    return too_small("slab_bytes", config.slab_bytes,
                     "a slab holds whole slots and is the largest block (default 64MiB)");
  }
  if (config.host_bytes < slot) {
    return too_small("host_bytes", config.host_bytes, "the CPU tier needs room for one block");
  }
  if (config.nvme_max_block_bytes < slot) {
    return too_small("nvme_max_block_bytes", config.nvme_max_block_bytes,
                     "it is the largest block the NVMe tier takes (default 4MiB)");
  }
  if (config.nvme_bytes != 0 && config.nvme_bytes < slot) {
    return too_small("nvme_bytes", config.nvme_bytes, "use 0 to turn the NVMe tier off");
  }
  if (config.gpu_bytes != 0 && config.gpu_bytes < slot) {
    return too_small("gpu_bytes", config.gpu_bytes, "use 0 to turn the GPU tier off");
  }
  if (config.max_frame_bytes < kMinFrameBytes || config.max_frame_bytes > kMaxFrameBytesCeiling) {
    return KeyError(OriginOf(config, "max_frame_bytes"), "max_frame_bytes",
                    "must be between " + FormatBytesExact(kMinFrameBytes) + " and " +
                        FormatBytesExact(kMaxFrameBytesCeiling) + ", got " +
                        FormatBytesExact(config.max_frame_bytes));
  }
  if (config.socket.empty()) return KeyError(OriginOf(config, "socket"), "socket", "is empty");
  // The remote tier's settings are checked here, before the pool is faulted
  // in, so a typo costs no start-up time.
  if (!config.remote_url.empty()) {
    if (auto url = remote::ParseRemoteUrl(config.remote_url); !url.ok()) {
      return KeyError(OriginOf(config, "remote_url"), "remote_url", url.status().message());
    }
  }
  if (auto policy = ParseRemoteWritePolicy(config.remote_write); !policy.ok()) {
    // The policy's message names the key already.
    return KeyError(OriginOf(config, "remote_write"), "", policy.status().message());
  }
  return Status::Ok();
}

std::string DescribeConfig(const DaemonConfig& config) {
  std::string out;
  for (const Key& key : kKeys) {
    std::string value = ConfigValueText(key.info.name, config);
    const bool quoted =
        key.kind != Kind::kBool && key.kind != Kind::kDevice && key.kind != Kind::kCount;
    out += std::string(key.info.name) + " = " + (quoted ? "\"" + value + "\"" : value);
    out += "  # " + OriginOf(config, key.info.name) + "\n";
  }
  if (!config.tenant_tokens.empty()) {
    out += "[tenants]\n";
    for (const auto& [tenant, token] : config.tenant_tokens) out += tenant + " = \"(set)\"\n";
  }
  return out;
}

}  // namespace tierkv
