// The tierkv CLI as an operator runs it, against a real daemon: options
// before or after the command, one address syntax, what a refused socket
// says, tables that fit 100 columns, --watch, --version, long operations with
// --timeout, and namespaces restored from NVMe that stats names and evict
// finds.
#include <gtest/gtest.h>
#include <signal.h>
#include <unistd.h>

#include <nlohmann/json.hpp>
#include <sstream>

#include "tests/integration/daemon_process.h"
#include "tests/integration/run_command.h"

namespace tierkv::testing {
namespace {

using nlohmann::json;

constexpr uint64_t kBlockBytes = 64 * 1024;
constexpr uid_t kNobody = 65534;
constexpr size_t kMaxColumns = 100;
constexpr size_t kHelpNameColumns = 30;

std::string Cli() { return BinDir() + "/tierkv"; }

CommandResult Tierkv(const std::vector<std::string>& args, const CommandOptions& options = {}) {
  std::vector<std::string> argv = {Cli()};
  argv.insert(argv.end(), args.begin(), args.end());
  return RunCommand(argv, options);
}

size_t Columns(const std::string& line) {
  size_t n = 0;
  for (unsigned char c : line) n += (c & 0xC0) != 0x80;
  return n;
}

class CliTest : public ::testing::Test {
 protected:
  void SetUp() override { StartDaemon(); }

  void StartDaemon(std::vector<std::string> flags = {}) {
    daemon_ = std::make_unique<DaemonProcess>(std::move(flags));
    ASSERT_TRUE(daemon_->Start()) << daemon_->log();
  }

  // Stores `blocks` blocks in a namespace of `spec`; returns its id (hex).
  std::string Store(const NamespaceSpec& spec, size_t blocks, TokenId first = 1) {
    auto client = daemon_->Connect();
    EXPECT_TRUE(client.ok());
    auto ns = (*client)->OpenNamespace(spec);
    EXPECT_TRUE(ns.ok()) << ns.status().ToString();
    const Prompt p = MakePrompt(*ns, blocks, first);
    EXPECT_TRUE((*client)->Put(*ns, ns->id, p.keys, p.tokens, Payload(*ns, blocks, 3)).ok());
    return ToHex(ns->id);
  }

  json StatsJson() {
    auto r = Tierkv({"--socket", daemon_->socket_path(), "stats", "--json"});
    EXPECT_EQ(r.exit_code, 0) << r.err;
    return json::parse(r.out, nullptr, false);
  }

  static json Tier(const json& doc, const std::string& name) {
    for (const auto& t : doc["tiers"]) {
      if (t["name"] == name) return t;
    }
    return json::object();
  }

  std::unique_ptr<DaemonProcess> daemon_;
};

TEST_F(CliTest, OptionsGoBeforeOrAfterTheCommand) {
  const std::string s = daemon_->socket_path();
  for (const auto& args :
       std::vector<std::vector<std::string>>{{"--socket", s, "stats", "--json"},
                                             {"--json", "--socket", s, "stats"},
                                             {"stats", "--socket", s, "--json"}}) {
    auto r = Tierkv(args);
    EXPECT_EQ(r.exit_code, 0) << r.err;
    const json doc = json::parse(r.out, nullptr, false);
    EXPECT_TRUE(doc.is_object()) << r.out;
  }
}

TEST_F(CliTest, OneAddressSyntaxReachesTheDaemonEverywhere) {
  const std::string tcp = daemon_->tcp_address();  // tcp:127.0.0.1:PORT
  for (const std::string& address :
       {tcp, tcp.substr(4), "unix:" + daemon_->socket_path(), daemon_->socket_path()}) {
    auto r = Tierkv({"--socket", address, "health"});
    EXPECT_EQ(r.exit_code, 0) << address << ": " << r.err;
    EXPECT_EQ(r.out.rfind("ok: tierkvd ", 0), 0u) << r.out;
  }
  // The daemon's --tcp takes the same forms.
  DaemonProcess prefixed({"--tcp", "tcp:127.0.0.1:0"});
  ASSERT_TRUE(prefixed.Start()) << prefixed.log();
}

TEST_F(CliTest, ARefusedSocketDoesNotSuggestTheDaemonIsDown) {
  if (geteuid() != 0) GTEST_SKIP() << "needs root to run the CLI as another user";
  // The test directory is mode 0700: another user may not reach the socket.
  auto r = Tierkv({"--socket", daemon_->socket_path(), "health"}, {kNobody, kNobody});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_NE(r.err.find("Permission denied"), std::string::npos) << r.err;
  EXPECT_EQ(r.err.find("is the daemon running"), std::string::npos) << r.err;
  auto gone = Tierkv({"--socket", daemon_->dir() + "/no-such.sock", "health"});
  EXPECT_EQ(gone.exit_code, 1);
  EXPECT_NE(gone.err.find("is the daemon running?"), std::string::npos) << gone.err;
}

TEST_F(CliTest, HealthPrintsSizesForPeople) {
  Store(TestSpec(kBlockBytes), 16);
  auto r = Tierkv({"--socket", daemon_->socket_path(), "health"});
  EXPECT_EQ(r.exit_code, 0);
  EXPECT_NE(r.out.find("host tier 1.0 MiB of 64.0 MiB used (1.6%)"), std::string::npos) << r.out;
}

TEST_F(CliTest, VersionAndHelpAgreeWithTheDaemon) {
  auto version = Tierkv({"--version"});
  EXPECT_EQ(version.exit_code, 0) << version.err;
  EXPECT_EQ(version.out.rfind("tierkv ", 0), 0u) << version.out;
  auto help = Tierkv({"--help"});
  auto daemon_help = RunCommand({BinDir() + "/tierkvd", "--help"});
  EXPECT_NE(help.out.find("evict and flush need the admin token"), std::string::npos) << help.out;
  EXPECT_NE(daemon_help.out.find("Token that evict and flush need"), std::string::npos)
      << daemon_help.out;
}

TEST_F(CliTest, TheStatsTableFitsAHundredColumns) {
  NamespaceSpec spec = TestSpec(kBlockBytes, 16, "a-tenant-with-a-very-long-name");
  spec.model_fingerprint = "meta-llama/Llama-3.1-70B-Instruct-with-a-long-suffix";
  Store(spec, 8);
  auto r = Tierkv({"--socket", daemon_->socket_path(), "stats"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  std::istringstream lines(r.out);
  for (std::string line; std::getline(lines, line);) {
    EXPECT_LE(Columns(line), kMaxColumns) << "'" << line << "'";
  }
  EXPECT_NE(r.out.find(", 1 connection, "), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("a-tenant-wi\u2026"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("meta-llama/Llama-\u2026"), std::string::npos) << r.out;
}

TEST_F(CliTest, WatchPrintsOneLinePerSample) {
  auto r = Tierkv({"--socket", daemon_->socket_path(), "stats", "--watch", "0.1", "--count", "3"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  std::istringstream lines(r.out);
  std::vector<std::string> got;
  for (std::string line; std::getline(lines, line);) got.push_back(line);
  ASSERT_EQ(got.size(), 4u) << r.out;  // the header and three samples
  EXPECT_EQ(got[0].rfind("TIME", 0), 0u) << got[0];
  EXPECT_NE(got[0].find("HOST USED"), std::string::npos) << got[0];
  for (const auto& line : got) EXPECT_LE(Columns(line), kMaxColumns);
}

TEST_F(CliTest, FlushReportsWhatItWroteAndTimeoutsSayTheDaemonGoesOn) {
  Store(TestSpec(kBlockBytes), 32);
  auto r = Tierkv({"--socket", daemon_->socket_path(), "flush"});
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.out.find("flushed 32 blocks to nvme"), std::string::npos) << r.out;
  // A daemon that does not answer: the CLI gives up at --timeout, with a message.
  kill(daemon_->pid(), SIGSTOP);
  auto stalled = Tierkv({"--socket", daemon_->socket_path(), "--timeout", "0.5", "flush"});
  kill(daemon_->pid(), SIGCONT);
  EXPECT_EQ(stalled.exit_code, 1);
  EXPECT_NE(stalled.err.find("timed out"), std::string::npos) << stalled.err;
}

TEST_F(CliTest, RestoredNamespacesAreListedAndEvictableByIdAfterARestart) {
  NamespaceSpec spec = TestSpec(kBlockBytes, 16, "acme");
  const std::string id = Store(spec, 10);
  ASSERT_EQ(daemon_->Stop(), 0);  // SIGTERM flushes the host tier to NVMe
  ASSERT_TRUE(daemon_->Start()) << daemon_->log();
  const json doc = StatsJson();
  ASSERT_EQ(doc["namespaces"].size(), 1u) << doc.dump();
  EXPECT_EQ(doc["namespaces"][0]["id"], id);
  EXPECT_EQ(doc["namespaces"][0]["tenant"], "acme");
  EXPECT_EQ(doc["namespaces"][0]["blocks"], 10);
  auto table = Tierkv({"--socket", daemon_->socket_path(), "stats"});
  EXPECT_NE(table.out.find(id + " acme"), std::string::npos) << table.out;

  auto bad = Tierkv({"--socket", daemon_->socket_path(), "evict", "--namespace", "xyz"});
  EXPECT_EQ(bad.exit_code, 1);
  EXPECT_NE(bad.err.find("'xyz' is not a namespace id"), std::string::npos) << bad.err;
  auto unknown =
      Tierkv({"--socket", daemon_->socket_path(), "evict", "--namespace", std::string(32, 'f')});
  EXPECT_EQ(unknown.exit_code, 1);
  EXPECT_NE(unknown.err.find("tierkvd has no namespace ffff"), std::string::npos) << unknown.err;

  auto evicted = Tierkv({"--socket", daemon_->socket_path(), "evict", "--namespace", id});
  EXPECT_EQ(evicted.exit_code, 0) << evicted.err;
  EXPECT_NE(evicted.out.find("evicted 10 blocks"), std::string::npos) << evicted.out;
  EXPECT_EQ(StatsJson()["namespaces"][0]["blocks"], 0);
}

TEST_F(CliTest, EvictingNvmeOnlyBlocksCountsThemOnNvme) {
  Store(TestSpec(kBlockBytes), 12);
  ASSERT_EQ(daemon_->Stop(), 0);
  ASSERT_TRUE(daemon_->Start()) << daemon_->log();  // the blocks are on NVMe only now
  ASSERT_EQ(Tier(StatsJson(), "nvme")["blocks"], 12);
  auto r = Tierkv({"--socket", daemon_->socket_path(), "evict", "--all"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.out.find("evicted 12 blocks"), std::string::npos) << r.out;
  const json doc = StatsJson();
  EXPECT_EQ(Tier(doc, "nvme")["evictions"], 12) << doc.dump();
  EXPECT_EQ(Tier(doc, "host")["evictions"], 0) << doc.dump();
  EXPECT_EQ(Tier(doc, "nvme")["blocks"], 0);
}

// Options whose --help line says nothing after the name. CLI11 writes the
// name in the first kHelpNameColumns columns and the description after; a
// longer name gets its description on the next, deeply indented line.
std::vector<std::string> UndescribedOptions(const std::string& help) {
  std::vector<std::string> lines;
  std::istringstream in(help);
  for (std::string line; std::getline(in, line);) lines.push_back(line);
  std::vector<std::string> bare;
  for (size_t i = 0; i < lines.size(); ++i) {
    const std::string& line = lines[i];
    const size_t start = line.find_first_not_of(' ');
    if (start == std::string::npos || start > 4 || line[start] != '-') continue;
    const bool name_fits = line.size() > kHelpNameColumns && line[kHelpNameColumns - 1] == ' ';
    const bool described_here =
        name_fits && line.find_first_not_of(' ', kHelpNameColumns) != std::string::npos;
    const bool described_below =
        i + 1 < lines.size() && lines[i + 1].rfind(std::string(kHelpNameColumns, ' '), 0) == 0;
    if (!described_here && !described_below) bare.push_back(line);
  }
  return bare;
}

TEST(HelpTest, EveryOptionOfEveryBinaryIsDescribed) {
  const std::vector<std::vector<std::string>> commands = {
      {"tierkvd"},           {"tierkv"},         {"tierkv", "stats"}, {"tierkv", "evict"},
      {"tierkv", "flush"},   {"tierkv-bench"},   {"tierkv-engine", "bench"},
      {"tierkv-engine", "generate"},             {"tierkv-mkmodel"}, {"tierkv-load-bench"}};
  for (auto command : commands) {
    const std::string binary = BinDir() + "/" + command[0];
    if (access(binary.c_str(), X_OK) != 0) continue;  // benches may be off in this build
    command[0] = binary;
    command.push_back("--help");
    auto r = RunCommand(command);
    EXPECT_EQ(r.exit_code, 0) << command[0];
    EXPECT_NE(r.out.find("Options:"), std::string::npos) << command[0] << r.out;
    for (const std::string& bare : UndescribedOptions(r.out)) {
      ADD_FAILURE() << command[0] << " " << (command.size() > 2 ? command[1] : "")
                    << ": undescribed option '" << bare << "'";
    }
  }
}

TEST_F(CliTest, BenchVerifyFailsOnMissingBlocksAndSpeaksPlainlyWithoutJson) {
  const std::string bench = BinDir() + "/tierkv-bench";
  if (access(bench.c_str(), X_OK) != 0) GTEST_SKIP() << "tierkv-bench is not built here";
  const std::vector<std::string> common = {bench, "--socket", daemon_->socket_path(),
                                           "--block-bytes", "64KiB", "--blocks", "32"};
  auto with = [&](std::vector<std::string> extra) {
    std::vector<std::string> argv = common;
    argv.insert(argv.end(), extra.begin(), extra.end());
    return RunCommand(argv);
  };
  auto fill = with({"--workload", "fill"});
  ASSERT_EQ(fill.exit_code, 0) << fill.err;
  EXPECT_EQ(fill.out, "fill: 32 blocks of 64.0 KiB stored (seed 1)\n");
  auto verify = with({"--workload", "verify", "--json"});
  EXPECT_EQ(verify.exit_code, 0) << verify.err;
  EXPECT_EQ(json::parse(verify.out)["found"], 32) << verify.out;
  ASSERT_EQ(Tierkv({"--socket", daemon_->socket_path(), "evict", "--all"}).exit_code, 0);
  auto missing = with({"--workload", "verify"});
  EXPECT_EQ(missing.exit_code, 3) << missing.out << missing.err;
  EXPECT_NE(missing.out.find("0 found exact, 32 missing, 0 corrupt"), std::string::npos)
      << missing.out;
  EXPECT_NE(missing.err.find("32 blocks missing"), std::string::npos) << missing.err;
}

}  // namespace
}  // namespace tierkv::testing
