#include "daemon/config.h"

#include <CLI/CLI.hpp>
#include <toml++/toml.h>

#include <cctype>
#include <charconv>
#include <fstream>
#include <iostream>
#include <sstream>

namespace tierkv {
namespace {

constexpr const char* kVersion = "tierkvd 0.1.0";
// Smallest max_frame_bytes: a hello, a namespace open and a 64-block lookup fit.
constexpr uint64_t kMinFrameBytes = 64 * 1024;
constexpr uint64_t kMaxCount = 1ull << 32;

}  // namespace

Result<uint64_t> ParseByteSize(const std::string& text) {
  uint64_t value = 0;
  const char* begin = text.data();
  const char* end = text.data() + text.size();
  auto [p, err] = std::from_chars(begin, end, value);
  if (err != std::errc() || p == begin) {
    return Status::InvalidArgument("'" + text + "' is not a byte size (e.g. 1073741824, 512MiB)");
  }
  std::string unit(p, end);
  for (char& c : unit) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  uint64_t mult = 1;
  if (unit.empty() || unit == "b") mult = 1;
  else if (unit == "k" || unit == "kb" || unit == "kib") mult = 1ull << 10;
  else if (unit == "m" || unit == "mb" || unit == "mib") mult = 1ull << 20;
  else if (unit == "g" || unit == "gb" || unit == "gib") mult = 1ull << 30;
  else if (unit == "t" || unit == "tb" || unit == "tib") mult = 1ull << 40;
  else return Status::InvalidArgument("unknown unit '" + unit + "' in byte size '" + text + "'");
  if (value > UINT64_MAX / mult) return Status::InvalidArgument("byte size overflows: " + text);
  return value * mult;
}

namespace {

Status ReadSize(const toml::table& t, const char* key, uint64_t* out) {
  const toml::node* n = t.get(key);
  if (!n) return Status::Ok();
  if (const auto* i = n->as_integer()) {
    if (i->get() <= 0) return Status::InvalidArgument(std::string(key) + " must be positive");
    *out = static_cast<uint64_t>(i->get());
    return Status::Ok();
  }
  if (const auto* s = n->as_string()) {
    TIERKV_ASSIGN_OR_RETURN(*out, ParseByteSize(s->get()));
    return Status::Ok();
  }
  return Status::InvalidArgument(std::string(key) + " must be an integer or a size string");
}

// ReadSize for a tier's size, where 0 is allowed: it turns the tier off.
Status ReadTierSize(const toml::table& t, const char* key, uint64_t* out) {
  if (const toml::node* n = t.get(key)) {
    if (const auto* i = n->as_integer(); i && i->get() == 0) {
      *out = 0;
      return Status::Ok();
    }
  }
  return ReadSize(t, key, out);
}

// A positive integer up to kMaxCount (counts and milliseconds).
Status ReadCount(const toml::table& t, const char* key, uint64_t* out) {
  const toml::node* n = t.get(key);
  if (!n) return Status::Ok();
  const auto* i = n->as_integer();
  if (!i || i->get() <= 0 || static_cast<uint64_t>(i->get()) > kMaxCount) {
    return Status::InvalidArgument(std::string(key) + " must be a positive integer");
  }
  *out = static_cast<uint64_t>(i->get());
  return Status::Ok();
}

Status ReadString(const toml::table& t, const char* key, std::string* out) {
  const toml::node* n = t.get(key);
  if (!n) return Status::Ok();
  const auto* s = n->as_string();
  if (!s) return Status::InvalidArgument(std::string(key) + " must be a string");
  *out = s->get();
  return Status::Ok();
}

}  // namespace

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
  static const char* kKnown[] = {"socket",
                                 "tcp",
                                 "data_dir",
                                 "host_bytes",
                                 "slab_bytes",
                                 "nvme_bytes",
                                 "nvme_sync_index",
                                 "nvme_max_block_bytes",
                                 "log_level",
                                 "admin_token",
                                 "tenants",
                                 "gpu_bytes",
                                 "gpu_device",
                                 "max_frame_bytes",
                                 "frame_idle_timeout_ms",
                                 "max_connections",
                                 "accept_backoff_ms"};
  for (const auto& [key, value] : t) {
    bool known = false;
    for (const char* k : kKnown) known |= key.str() == k;
    if (!known) return Status::InvalidArgument(path + ": unknown key '" + std::string(key.str()) + "'");
  }
  TIERKV_RETURN_IF_ERROR(ReadString(t, "socket", &config->socket));
  TIERKV_RETURN_IF_ERROR(ReadString(t, "tcp", &config->tcp));
  TIERKV_RETURN_IF_ERROR(ReadString(t, "data_dir", &config->data_dir));
  TIERKV_RETURN_IF_ERROR(ReadString(t, "log_level", &config->log_level));
  TIERKV_RETURN_IF_ERROR(ReadString(t, "admin_token", &config->admin_token));
  TIERKV_RETURN_IF_ERROR(ReadSize(t, "host_bytes", &config->host_bytes));
  TIERKV_RETURN_IF_ERROR(ReadSize(t, "slab_bytes", &config->slab_bytes));
  TIERKV_RETURN_IF_ERROR(ReadTierSize(t, "nvme_bytes", &config->nvme_bytes));
  TIERKV_RETURN_IF_ERROR(ReadSize(t, "nvme_max_block_bytes", &config->nvme_max_block_bytes));
  TIERKV_RETURN_IF_ERROR(ReadTierSize(t, "gpu_bytes", &config->gpu_bytes));
  TIERKV_RETURN_IF_ERROR(ReadSize(t, "max_frame_bytes", &config->max_frame_bytes));
  TIERKV_RETURN_IF_ERROR(ReadCount(t, "frame_idle_timeout_ms", &config->frame_idle_timeout_ms));
  TIERKV_RETURN_IF_ERROR(ReadCount(t, "max_connections", &config->max_connections));
  TIERKV_RETURN_IF_ERROR(ReadCount(t, "accept_backoff_ms", &config->accept_backoff_ms));
  if (const toml::node* n = t.get("gpu_device")) {
    const auto* i = n->as_integer();
    if (!i || i->get() < 0 || i->get() > 1024) {
      return Status::InvalidArgument(path + ": gpu_device must be a CUDA device number");
    }
    config->gpu_device = static_cast<int>(i->get());
  }
  if (const toml::node* n = t.get("nvme_sync_index")) {
    const auto* b = n->as_boolean();
    if (!b) return Status::InvalidArgument("nvme_sync_index must be true or false");
    config->nvme_sync_index = b->get();
  }
  if (const toml::node* n = t.get("tenants")) {
    const toml::table* tenants = n->as_table();
    if (!tenants) return Status::InvalidArgument(path + ": [tenants] must be a table");
    for (const auto& [name, token] : *tenants) {
      const auto* s = token.as_string();
      if (!s) return Status::InvalidArgument(path + ": tenant tokens must be strings");
      config->tenant_tokens[std::string(name.str())] = s->get();
    }
  }
  return Status::Ok();
}

Result<DaemonConfig> ParseDaemonArgs(int argc, char** argv, bool* exit_now, int* exit_code) {
  *exit_now = false;
  *exit_code = 0;
  DaemonConfig config;
  CLI::App app{"tierkvd: the tierkv multi-tier KV cache daemon.\n"
               "Serves KV blocks to LLM engines over a Unix socket (shared-memory data path)\n"
               "and TCP. Runs with no config file; flags override the file's keys.",
               "tierkvd"};
  std::string config_path, socket, tcp, data_dir, host_bytes, slab_bytes, nvme_bytes, log_level,
      admin_token, nvme_max_block_bytes, gpu_bytes, max_frame_bytes;
  uint64_t frame_idle_timeout_ms = 0, max_connections = 0, accept_backoff_ms = 0;
  int gpu_device = -1;
  bool nvme_sync_index = false;
  bool version = false;
  app.add_option("--config", config_path, "TOML config file (see configs/tierkvd.toml)");
  app.add_option("--socket", socket, "Unix socket path [default: /tmp/tierkv.sock]");
  app.add_option("--tcp", tcp,
                 "TCP listen address HOST:PORT, or 'off' [default: 127.0.0.1:7470]");
  app.add_option("--data-dir", data_dir, "Directory for persistent state [default: /var/tmp/tierkv]");
  app.add_option("--host-bytes", host_bytes, "CPU tier size, e.g. 1GiB [default: 1GiB]");
  app.add_option("--slab-bytes", slab_bytes, "CPU tier slab size = largest block [default: 64MiB]");
  app.add_option("--nvme-bytes", nvme_bytes,
                 "NVMe tier size in data-dir/nvme, 0 turns it off [default: 4GiB]");
  app.add_option("--nvme-max-block-bytes", nvme_max_block_bytes,
                 "Largest block the NVMe tier takes (staging buffers) [default: 4MiB]");
  app.add_flag("--nvme-sync-index", nvme_sync_index,
               "fsync the NVMe index per write (survive power loss, not just crashes)");
  app.add_option("--gpu-bytes", gpu_bytes,
                 "GPU tier size on the CUDA device, 0 turns it off [default: 2GiB]");
  app.add_option("--gpu-device", gpu_device, "CUDA device of the GPU tier [default: 0]")
      ->check(CLI::Range(0, 1024));
  app.add_option("--log-level", log_level, "trace|debug|info|warn|error [default: info]");
  app.add_option("--admin-token", admin_token, "Token that evict and flush require");
  app.add_option("--max-frame-bytes", max_frame_bytes,
                 "Largest request frame, 64KiB to 272MiB [default: 272MiB]");
  app.add_option("--frame-idle-timeout-ms", frame_idle_timeout_ms,
                 "Close a connection that sent part of a frame, then nothing this long "
                 "[default: 10000]")
      ->check(CLI::Range(uint64_t{1}, kMaxCount));
  app.add_option("--max-connections", max_connections,
                 "Connections served at once; more are refused [default: 1024]")
      ->check(CLI::Range(uint64_t{1}, kMaxCount));
  app.add_option("--accept-backoff-ms", accept_backoff_ms,
                 "Out of file descriptors: stop accepting for this long [default: 100]")
      ->check(CLI::Range(uint64_t{1}, kMaxCount));
  app.add_flag("--version", version, "Print the version and exit");
  // A flag given twice takes its last value, so wrappers can append overrides.
  for (CLI::Option* opt : app.get_options()) opt->multi_option_policy(CLI::MultiOptionPolicy::TakeLast);
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    *exit_now = true;
    *exit_code = app.exit(e);
    return config;
  }
  if (version) {
    std::cout << kVersion << "\n";
    *exit_now = true;
    return config;
  }
  if (!config_path.empty()) TIERKV_RETURN_IF_ERROR(LoadConfigFile(config_path, &config));
  if (!socket.empty()) config.socket = socket;
  if (!tcp.empty()) config.tcp = tcp == "off" ? "" : tcp;
  if (!data_dir.empty()) config.data_dir = data_dir;
  if (!host_bytes.empty()) {
    TIERKV_ASSIGN_OR_RETURN(config.host_bytes, ParseByteSize(host_bytes));
  }
  if (!slab_bytes.empty()) {
    TIERKV_ASSIGN_OR_RETURN(config.slab_bytes, ParseByteSize(slab_bytes));
  }
  if (!nvme_bytes.empty()) {
    TIERKV_ASSIGN_OR_RETURN(config.nvme_bytes, ParseByteSize(nvme_bytes));
  }
  if (nvme_sync_index) config.nvme_sync_index = true;
  if (!nvme_max_block_bytes.empty()) {
    TIERKV_ASSIGN_OR_RETURN(config.nvme_max_block_bytes, ParseByteSize(nvme_max_block_bytes));
  }
  if (!gpu_bytes.empty()) {
    TIERKV_ASSIGN_OR_RETURN(config.gpu_bytes, ParseByteSize(gpu_bytes));
  }
  if (gpu_device >= 0) config.gpu_device = gpu_device;
  if (!log_level.empty()) config.log_level = log_level;
  if (!admin_token.empty()) config.admin_token = admin_token;
  if (!max_frame_bytes.empty()) {
    TIERKV_ASSIGN_OR_RETURN(config.max_frame_bytes, ParseByteSize(max_frame_bytes));
  }
  if (frame_idle_timeout_ms > 0) config.frame_idle_timeout_ms = frame_idle_timeout_ms;
  if (max_connections > 0) config.max_connections = max_connections;
  if (accept_backoff_ms > 0) config.accept_backoff_ms = accept_backoff_ms;
  if (config.max_frame_bytes < kMinFrameBytes || config.max_frame_bytes > kMaxFrameBytesCeiling) {
    return Status::InvalidArgument("max_frame_bytes must be between 64KiB and 272MiB, got " +
                                   std::to_string(config.max_frame_bytes));
  }
  if (config.tcp == "off") config.tcp.clear();
  return config;
}

}  // namespace tierkv
