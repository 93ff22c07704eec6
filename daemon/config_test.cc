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

TEST(ConfigTest, ByteSizes) {
  EXPECT_EQ(*ParseByteSize("4096"), 4096u);
  EXPECT_EQ(*ParseByteSize("512MiB"), 512ull << 20);
  EXPECT_EQ(*ParseByteSize("2g"), 2ull << 30);
  EXPECT_TRUE(ParseByteSize("lots").status().IsInvalidArgument());
  EXPECT_TRUE(ParseByteSize("5 parsecs").status().IsInvalidArgument());
  EXPECT_TRUE(ParseByteSize("99999999999999999999T").status().IsInvalidArgument());
}

TEST(ConfigTest, FileThenFlags) {
  const std::string path = WriteTemp(
      "socket = \"/tmp/a.sock\"\nhost_bytes = \"64MiB\"\ntcp = \"\"\n[tenants]\nacme = \"t0k\"\n");
  std::vector<std::string> args = {"tierkvd", "--config", path, "--socket", "/tmp/b.sock"};
  std::vector<char*> argv;
  for (auto& a : args) argv.push_back(a.data());
  bool exit_now = false;
  int code = 0;
  auto c = ParseDaemonArgs(static_cast<int>(argv.size()), argv.data(), &exit_now, &code);
  ASSERT_TRUE(c.ok()) << c.status().ToString();
  EXPECT_FALSE(exit_now);
  EXPECT_EQ(c->socket, "/tmp/b.sock");  // flag wins
  EXPECT_EQ(c->host_bytes, 64ull << 20);
  EXPECT_EQ(c->tcp, "");
  EXPECT_EQ(c->tenant_tokens.at("acme"), "t0k");
  unlink(path.c_str());
}

TEST(ConfigTest, BadFilesSayWhere) {
  DaemonConfig c;
  const std::string bad_syntax = WriteTemp("socket = \n");
  Status s = LoadConfigFile(bad_syntax, &c);
  EXPECT_TRUE(s.IsInvalidArgument());
  EXPECT_NE(s.message().find(":1:"), std::string::npos) << s.ToString();
  const std::string unknown = WriteTemp("sockett = \"x\"\n");
  EXPECT_NE(LoadConfigFile(unknown, &c).message().find("unknown key 'sockett'"),
            std::string::npos);
  const std::string wrong_type = WriteTemp("host_bytes = true\n");
  EXPECT_TRUE(LoadConfigFile(wrong_type, &c).IsInvalidArgument());
  EXPECT_TRUE(LoadConfigFile("/nonexistent/tierkvd.toml", &c).IsInvalidArgument());
  for (const auto& p : {bad_syntax, unknown, wrong_type}) unlink(p.c_str());
}

TEST(ConfigTest, TcpListensOnLoopbackByDefault) {
  std::vector<std::string> args = {"tierkvd"};
  std::vector<char*> argv;
  for (auto& a : args) argv.push_back(a.data());
  bool exit_now = false;
  int code = 0;
  auto c = ParseDaemonArgs(static_cast<int>(argv.size()), argv.data(), &exit_now, &code);
  ASSERT_TRUE(c.ok()) << c.status().ToString();
  EXPECT_EQ(c->tcp.rfind("127.0.0.1:", 0), 0u) << c->tcp;
  DaemonConfig from_file;
  const std::string path = WriteTemp("socket = \"/tmp/a.sock\"\n");
  ASSERT_TRUE(LoadConfigFile(path, &from_file).ok());
  EXPECT_EQ(from_file.tcp.rfind("127.0.0.1:", 0), 0u) << from_file.tcp;
  unlink(path.c_str());
}

TEST(ConfigTest, TextAndFileParseAlike) {
  DaemonConfig c;
  ASSERT_TRUE(LoadConfigText("host_bytes = \"2GiB\"\n[tenants]\nx = \"y\"\n", "inline", &c).ok());
  EXPECT_EQ(c.host_bytes, 2ull << 30);
  EXPECT_EQ(c.tenant_tokens.at("x"), "y");
  Status s = LoadConfigText("socket = \n", "inline.toml", &c);
  EXPECT_NE(s.message().find("inline.toml:1:"), std::string::npos) << s.ToString();
}

}  // namespace
}  // namespace tierkv

namespace tierkv {
namespace {

TEST(ConfigTest, SampleConfigParsesToTheDefaults) {
  DaemonConfig sample;
  ASSERT_TRUE(LoadConfigFile(std::string(TIERKV_SOURCE_DIR) + "/configs/tierkvd.toml", &sample).ok());
  const DaemonConfig defaults;
  EXPECT_EQ(sample.socket, defaults.socket);
  EXPECT_EQ(sample.tcp, defaults.tcp);
  EXPECT_EQ(sample.host_bytes, defaults.host_bytes);
  EXPECT_EQ(sample.nvme_bytes, defaults.nvme_bytes);
  EXPECT_EQ(sample.nvme_max_block_bytes, defaults.nvme_max_block_bytes);
  EXPECT_EQ(sample.slab_bytes, defaults.slab_bytes);
  EXPECT_EQ(sample.max_frame_bytes, defaults.max_frame_bytes);
  EXPECT_EQ(sample.frame_idle_timeout_ms, defaults.frame_idle_timeout_ms);
  EXPECT_EQ(sample.max_connections, defaults.max_connections);
  EXPECT_EQ(sample.accept_backoff_ms, defaults.accept_backoff_ms);
}

Result<DaemonConfig> Parse(std::vector<std::string> args) {
  args.insert(args.begin(), "tierkvd");
  std::vector<char*> argv;
  for (auto& a : args) argv.push_back(a.data());
  bool exit_now = false;
  int code = 0;
  return ParseDaemonArgs(static_cast<int>(argv.size()), argv.data(), &exit_now, &code);
}

TEST(ConfigTest, ConnectionLimitsFromFileAndFlags) {
  const std::string path =
      WriteTemp("max_frame_bytes = \"1MiB\"\nframe_idle_timeout_ms = 500\nmax_connections = 8\n");
  auto c = Parse({"--config", path, "--max-connections", "16"});
  ASSERT_TRUE(c.ok()) << c.status().ToString();
  EXPECT_EQ(c->max_frame_bytes, 1ull << 20);
  EXPECT_EQ(c->frame_idle_timeout_ms, 500u);
  EXPECT_EQ(c->max_connections, 16u);  // flag wins
  unlink(path.c_str());
}

TEST(ConfigTest, ConnectionLimitsOutOfRangeAreRefusedWithTheRange) {
  auto small = Parse({"--max-frame-bytes", "1KiB"});
  ASSERT_FALSE(small.ok());
  EXPECT_NE(small.status().message().find("between 64KiB and 272MiB"), std::string::npos);
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
