#include "daemon/config.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <fstream>

namespace tierkv {
namespace {

std::string WriteTemp(const std::string& text) {
  char path[] = "/tmp/tierkv-config-XXXXXX";
  int fd = mkstemp(path);
  close(fd);
  std::ofstream(path) << text;
  return path;
}

Result<DaemonArgs> Parse(std::vector<std::string> args) {
  args.insert(args.begin(), "tierkvd");
  std::vector<char*> argv;
  for (auto& a : args) argv.push_back(a.data());
  return ParseDaemonArgs(static_cast<int>(argv.size()), argv.data());
}

std::string ErrorOf(const Result<DaemonArgs>& r) {
  EXPECT_FALSE(r.ok());
  return r.ok() ? "" : std::string(r.status().message());
}

std::string ErrorOfText(const std::string& toml) {
  DaemonConfig c;
  Status s = LoadConfigText(toml, "t.toml", &c);
  EXPECT_FALSE(s.ok()) << toml;
  return std::string(s.message());
}

TEST(ConfigTest, FileThenFlags) {
  const std::string path = WriteTemp(
      "socket = \"/tmp/a.sock\"\nhost_bytes = \"64MiB\"\ntcp = \"\"\n[tenants]\nacme = \"t0k\"\n");
  auto c = Parse({"--config", path, "--socket", "/tmp/b.sock"});
  ASSERT_TRUE(c.ok()) << c.status().ToString();
  EXPECT_FALSE(c->exit_code);
  EXPECT_EQ(c->config.socket, "/tmp/b.sock");  // flag wins
  EXPECT_EQ(c->config.host_bytes, 64ull << 20);
  EXPECT_EQ(c->config.tcp, "");
  EXPECT_EQ(c->config.tenant_tokens.at("acme"), "t0k");
  EXPECT_EQ(c->config.origins.at("host_bytes"), path + ":2");
  EXPECT_EQ(c->config.origins.at("socket"), "--socket");
  unlink(path.c_str());
}

TEST(ConfigTest, AFlagGivenTwiceTakesItsLastValue) {
  auto c = Parse({"--host-bytes", "1GiB", "--host-bytes", "2GiB"});
  ASSERT_TRUE(c.ok()) << c.status().ToString();
  EXPECT_EQ(c->config.host_bytes, 2ull << 30);
}

TEST(ConfigTest, SizesTakeSiAndIecUnitsInFlagsAndFile) {
  auto c = Parse({"--host-bytes", "1.5GiB", "--nvme-bytes", "1 GiB", "--slab-bytes", "8MB"});
  ASSERT_TRUE(c.ok()) << c.status().ToString();
  EXPECT_EQ(c->config.host_bytes, 3ull << 29);
  EXPECT_EQ(c->config.nvme_bytes, 1ull << 30);
  EXPECT_EQ(c->config.slab_bytes, 8000000u);  // SI: 1GB is not 1GiB
  DaemonConfig f;
  ASSERT_TRUE(
      LoadConfigText("host_bytes = \"2GB\"\nnvme_bytes = 0\ngpu_bytes = 4096\n", "t", &f).ok());
  EXPECT_EQ(f.host_bytes, 2000000000u);
  EXPECT_EQ(f.nvme_bytes, 0u);
  EXPECT_EQ(f.gpu_bytes, 4096u);
}

TEST(ConfigTest, BoolFlagsTakeNoValueOrAnExplicitOne) {
  auto on = Parse({"--nvme-sync-index"});
  ASSERT_TRUE(on.ok()) << on.status().ToString();
  EXPECT_TRUE(on->config.nvme_sync_index);
  const std::string path = WriteTemp("nvme_sync_index = true\n");
  auto off = Parse({"--config", path, "--nvme-sync-index=false"});
  ASSERT_TRUE(off.ok()) << off.status().ToString();
  EXPECT_FALSE(off->config.nvme_sync_index);
  unlink(path.c_str());
}

TEST(ConfigTest, UnknownLogLevelsAreRefusedWithTheValidOnes) {
  const std::string from_flag = ErrorOf(Parse({"--log-level", "verbose"}));
  EXPECT_NE(from_flag.find("--log-level: log_level: 'verbose' is not a log level (one of trace, "
                           "debug, info, warn, error, critical, off)"),
            std::string::npos)
      << from_flag;
  const std::string from_file = ErrorOfText("socket = \"/s\"\nlog_level = \"loud\"\n");
  EXPECT_NE(from_file.find("t.toml:2: log_level: 'loud' is not a log level"), std::string::npos)
      << from_file;
  auto upper = Parse({"--log-level", "WARN"});
  ASSERT_TRUE(upper.ok()) << upper.status().ToString();
  EXPECT_EQ(upper->config.log_level, "warn");
}

TEST(ConfigTest, EveryFileErrorNamesFileLineAndKey) {
  EXPECT_NE(ErrorOfText("socket = \"/s\"\nnvme_sync_index = \"yes\"\n")
                .find("t.toml:2: nvme_sync_index: must be true or false"),
            std::string::npos);
  EXPECT_NE(ErrorOfText("\n\nhost_bytes = true\n").find("t.toml:3: host_bytes: must be a size"),
            std::string::npos);
  EXPECT_NE(ErrorOfText("host_bytes = \"lots\"\n")
                .find("t.toml:1: host_bytes: 'lots' is not a byte size"),
            std::string::npos);
  EXPECT_NE(ErrorOfText("host_bytes = 0\n").find("t.toml:1: host_bytes: must be more than 0"),
            std::string::npos);
  EXPECT_NE(ErrorOfText("socket = 5\n").find("t.toml:1: socket: must be a string"),
            std::string::npos);
  EXPECT_NE(ErrorOfText("gpu_device = 5000\n").find("t.toml:1: gpu_device: '5000' is not a CUDA"),
            std::string::npos);
  EXPECT_NE(ErrorOfText("tcp = \"localhost:http\"\n").find("t.toml:1: tcp: "), std::string::npos);
  EXPECT_NE(ErrorOfText("\nx = 1\n").find("t.toml:2: unknown key 'x'"), std::string::npos);
  EXPECT_NE(ErrorOfText("sockett = \"x\"\n")
                .find("t.toml:1: unknown key 'sockett' (did you mean 'socket'?)"),
            std::string::npos);
  EXPECT_NE(ErrorOfText("[tenants]\nacme = 5\n").find("t.toml:2: tenants.acme: "),
            std::string::npos);
  EXPECT_NE(ErrorOfText("tenants = 3\n").find("t.toml:1: tenants: must be a table"),
            std::string::npos);
  EXPECT_NE(ErrorOfText("socket = \n").find("t.toml:1:"), std::string::npos);
  DaemonConfig c;
  EXPECT_TRUE(LoadConfigFile("/nonexistent/tierkvd.toml", &c).IsInvalidArgument());
}

TEST(ConfigTest, TooSmallASlabIsNamedAsTheSlab) {
  const std::string message = ErrorOf(Parse({"--slab-bytes", "1KiB"}));
  EXPECT_NE(message.find("--slab-bytes: slab_bytes: 1 KiB is smaller than one 4 KiB slot"),
            std::string::npos)
      << message;
  const std::string path = WriteTemp("\nhost_bytes = 100\n");
  EXPECT_NE(ErrorOf(Parse({"--config", path})).find(path + ":2: host_bytes: 100 bytes is smaller"),
            std::string::npos);
  unlink(path.c_str());
}

TEST(ConfigTest, AddressesTakeOneSyntaxWithOrWithoutPrefix) {
  auto c = Parse({"--tcp", "tcp:127.0.0.1:9000", "--socket", "unix:/tmp/x.sock"});
  ASSERT_TRUE(c.ok()) << c.status().ToString();
  EXPECT_EQ(c->config.tcp, "127.0.0.1:9000");
  EXPECT_EQ(c->config.socket, "/tmp/x.sock");
  auto bare = Parse({"--tcp", "[::1]:9000"});
  ASSERT_TRUE(bare.ok()) << bare.status().ToString();
  EXPECT_EQ(bare->config.tcp, "[::1]:9000");
  auto off = Parse({"--tcp", "off"});
  ASSERT_TRUE(off.ok());
  EXPECT_EQ(off->config.tcp, "");
  EXPECT_NE(ErrorOf(Parse({"--socket", "127.0.0.1:7470"})).find("is a TCP address"),
            std::string::npos);
}

TEST(ConfigTest, TcpListensOnLoopbackByDefault) {
  auto c = Parse({});
  ASSERT_TRUE(c.ok()) << c.status().ToString();
  EXPECT_EQ(c->config.tcp.rfind("127.0.0.1:", 0), 0u) << c->config.tcp;
}

TEST(ConfigTest, VersionAndHelpExitAtOnce) {
  auto version = Parse({"--version"});
  ASSERT_TRUE(version.ok());
  EXPECT_EQ(version->exit_code, 0);
  auto bad = Parse({"--no-such-flag"});
  ASSERT_TRUE(bad.ok());
  ASSERT_TRUE(bad->exit_code.has_value());
  EXPECT_NE(*bad->exit_code, 0);
}

TEST(ConfigTest, SecretFileDefaultsToTheDataDirAndFlagsOverrideTheFile) {
  DaemonConfig c;
  c.data_dir = "/srv/tierkv";
  EXPECT_EQ(SecretFilePath(c), "/srv/tierkv/secret");
  const std::string path = WriteTemp("secret_file = \"/etc/tierkv/fleet.secret\"\n");
  ASSERT_TRUE(LoadConfigFile(path, &c).ok());
  EXPECT_EQ(SecretFilePath(c), "/etc/tierkv/fleet.secret");
  auto flags = Parse({"--config", path, "--secret-file", "/run/s"});
  ASSERT_TRUE(flags.ok()) << flags.status().ToString();
  EXPECT_EQ(SecretFilePath(flags->config), "/run/s");
  EXPECT_TRUE(LoadConfigText("secret_file = 7\n", "inline", &c).IsInvalidArgument());
  unlink(path.c_str());
}

TEST(ConfigTest, DescribeShowsValuesAndOriginsButNoTokens) {
  DaemonConfig c;
  ASSERT_TRUE(LoadConfigText("admin_token = \"s3cret\"\nhost_bytes = \"2GiB\"\n[tenants]\n"
                             "acme = \"t0k\"\n",
                             "t.toml", &c)
                  .ok());
  const std::string text = DescribeConfig(c);
  EXPECT_EQ(text.find("s3cret"), std::string::npos) << text;
  EXPECT_EQ(text.find("t0k"), std::string::npos) << text;
  EXPECT_NE(text.find("host_bytes = \"2 GiB\"  # t.toml:2"), std::string::npos) << text;
  EXPECT_NE(text.find("socket = \"/tmp/tierkv.sock\"  # built-in default"), std::string::npos)
      << text;
}

TEST(ConfigTest, SampleConfigParsesToTheDefaults) {
  DaemonConfig sample;
  ASSERT_TRUE(
      LoadConfigFile(std::string(TIERKV_SOURCE_DIR) + "/configs/tierkvd.toml", &sample).ok());
  const DaemonConfig defaults;
  for (const ConfigKeyInfo& key : ConfigKeys()) {
    EXPECT_EQ(ConfigValueText(key.name, sample), ConfigValueText(key.name, defaults)) << key.name;
  }
}

TEST(ConfigTest, ConnectionLimitsFromFileAndFlags) {
  const std::string path =
      WriteTemp("max_frame_bytes = \"1MiB\"\nframe_idle_timeout_ms = 500\nmax_connections = 8\n");
  auto c = Parse({"--config", path, "--max-connections", "16"});
  ASSERT_TRUE(c.ok()) << c.status().ToString();
  EXPECT_EQ(c->config.max_frame_bytes, 1ull << 20);
  EXPECT_EQ(c->config.frame_idle_timeout_ms, 500u);
  EXPECT_EQ(c->config.max_connections, 16u);  // flag wins
  unlink(path.c_str());
}

TEST(ConfigTest, NamespaceLimitsFromFileAndFlags) {
  EXPECT_EQ(Parse({})->config.max_namespaces_per_tenant, 256u);
  EXPECT_EQ(Parse({})->config.max_namespaces, 4096u);
  const std::string path = WriteTemp("max_namespaces_per_tenant = 8\nmax_namespaces = 100\n");
  auto c = Parse({"--config", path, "--max-namespaces", "50"});
  ASSERT_TRUE(c.ok()) << c.status().ToString();
  EXPECT_EQ(c->config.max_namespaces_per_tenant, 8u);
  EXPECT_EQ(c->config.max_namespaces, 50u);  // flag wins
  EXPECT_NE(ErrorOfText("max_namespaces_per_tenant = 0\n").find("max_namespaces_per_tenant"),
            std::string::npos);
  unlink(path.c_str());
}

TEST(ConfigTest, DiskFullRetryFromFileAndFlag) {
  EXPECT_EQ(Parse({})->config.nvme_disk_full_retry_ms, 10000u);
  auto flag = Parse({"--nvme-disk-full-retry-ms", "250"});
  ASSERT_TRUE(flag.ok()) << flag.status().ToString();
  EXPECT_EQ(flag->config.nvme_disk_full_retry_ms, 250u);
  EXPECT_NE(ErrorOfText("nvme_disk_full_retry_ms = \"soon\"\n").find("nvme_disk_full_retry_ms"),
            std::string::npos);
}

TEST(ConfigTest, RemoteTierSettingsAreCheckedBeforeStartUp) {
  auto ok = Parse({"--remote-url", "redis-cluster://10.0.0.1:7001,10.0.0.2:7002",
                   "--remote-write", "evict"});
  ASSERT_TRUE(ok.ok()) << ok.status().ToString();
  EXPECT_EQ(ok->config.remote_write, "evict");
  const std::string policy = ErrorOf(Parse({"--remote-write", "sometimes"}));
  EXPECT_NE(policy.find("--remote-write: remote_write must be 'through' or 'evict'"),
            std::string::npos)
      << policy;
  const std::string url = ErrorOf(Parse({"--remote-url", "http://10.0.0.1"}));
  EXPECT_NE(url.find("--remote-url: remote_url:"), std::string::npos) << url;
}

TEST(ConfigTest, ConnectionLimitsOutOfRangeAreRefusedWithTheRange) {
  const std::string small = ErrorOf(Parse({"--max-frame-bytes", "1KiB"}));
  EXPECT_NE(small.find("--max-frame-bytes: max_frame_bytes: must be between 64 KiB and 272 MiB"),
            std::string::npos)
      << small;
  EXPECT_FALSE(Parse({"--max-frame-bytes", "1GiB"}).ok());
  DaemonConfig c;
  const std::string zero = WriteTemp("max_connections = 0\n");
  EXPECT_TRUE(LoadConfigFile(zero, &c).IsInvalidArgument());
  const std::string text = WriteTemp("frame_idle_timeout_ms = \"soon\"\n");
  EXPECT_TRUE(LoadConfigFile(text, &c).IsInvalidArgument());
  for (const auto& p : {zero, text}) unlink(p.c_str());
}

}  // namespace
}  // namespace tierkv
