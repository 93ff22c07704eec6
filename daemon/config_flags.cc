// tierkvd's command line: one flag per config key (config.cc lists them),
// plus --config, --check-config and --version.
#include <CLI/CLI.hpp>
#include <algorithm>
#include <memory>
#include <vector>

#include "base/version.h"
#include "daemon/config.h"

namespace tierkv {
namespace {

std::string FlagName(std::string_view key) {
  std::string flag = "--" + std::string(key);
  std::replace(flag.begin(), flag.end(), '_', '-');
  return flag;
}

}  // namespace

Result<DaemonArgs> ParseDaemonArgs(int argc, char** argv) {
  DaemonArgs args;
  CLI::App app{
      "tierkvd: the tierkv multi-tier KV cache daemon.\n"
      "Serves KV blocks to LLM engines over a Unix socket (shared-memory data path)\n"
      "and TCP. Runs with no config file; flags override the file's keys.\n"
      "Sizes take SI and IEC units (4GB = 4*10^9 bytes, 4GiB = 4*2^30, 1.5 GiB).\n"
      "Addresses: PATH or unix:PATH for Unix sockets, HOST:PORT or tcp:HOST:PORT.",
      "tierkvd"};
  std::string config_path;
  app.add_option("--config", config_path, "TOML config file (see configs/tierkvd.toml)");
  app.add_flag("--check-config", args.check_config,
               "Validate the config (file and flags), print it and exit: 0 if valid");
  app.set_version_flag("--version", "tierkvd " + std::string(Version()));
  const DaemonConfig defaults;
  // Each key's flag keeps its text; it is applied after the file, through the
  // same setter the file uses, so both report errors alike.
  std::vector<std::string> values(ConfigKeys().size());
  std::unique_ptr<bool[]> flags(new bool[ConfigKeys().size()]());
  std::vector<CLI::Option*> options;
  for (size_t i = 0; i < ConfigKeys().size(); ++i) {
    const ConfigKeyInfo& key = ConfigKeys()[i];
    const std::string help =
        std::string(key.help) + " [default: " + ConfigValueText(key.name, defaults) + "]";
    CLI::Option* opt = key.is_bool ? app.add_flag(FlagName(key.name), flags[i], help)
                                   : app.add_option(FlagName(key.name), values[i], help);
    if (!key.is_bool) opt->type_name(std::string(key.value_name));
    // A flag given twice takes its last value, so wrappers can append overrides.
    opt->multi_option_policy(CLI::MultiOptionPolicy::TakeLast);
    options.push_back(opt);
  }
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    args.exit_code = app.exit(e);
    return args;
  }
  if (!config_path.empty()) TIERKV_RETURN_IF_ERROR(LoadConfigFile(config_path, &args.config));
  for (size_t i = 0; i < options.size(); ++i) {
    if (options[i]->count() == 0) continue;
    const ConfigKeyInfo& key = ConfigKeys()[i];
    const std::string text = key.is_bool ? (flags[i] ? "true" : "false") : values[i];
    TIERKV_RETURN_IF_ERROR(SetConfigKey(key.name, text, FlagName(key.name), &args.config));
  }
  TIERKV_RETURN_IF_ERROR(ValidateConfig(args.config));
  return args;
}

}  // namespace tierkv
