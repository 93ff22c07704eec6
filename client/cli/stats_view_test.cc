#include "client/cli/stats_view.h"

#include <gtest/gtest.h>

#include <sstream>

#include "client/cli/long_operation.h"

namespace tierkv::cli {
namespace {

using nlohmann::json;

size_t Columns(const std::string& line) {
  size_t n = 0;
  for (unsigned char c : line) n += (c & 0xC0) != 0x80;
  return n;
}

std::vector<std::string> Lines(const std::string& text) {
  std::vector<std::string> lines;
  std::istringstream in(text);
  for (std::string line; std::getline(in, line);) lines.push_back(line);
  return lines;
}

json Tier(const std::string& name, uint64_t scale) {
  return {{"name", name},
          {"capacity_bytes", 64ull << 30},
          {"used_bytes", 48ull << 30},
          {"blocks", 1234567 * scale},
          {"pinned_blocks", 12},
          {"hits", 987654321 * scale},
          {"misses", 123456789 * scale},
          {"evictions", 5555555 * scale},
          {"bytes_in", 3ull << 40},
          {"bytes_out", 7ull << 40},
          {"bytes_read", 1ull << 40},
          {"bytes_written", 2ull << 40},
          {"read_bytes_per_s", 123.0e6},
          {"write_bytes_per_s", 45.0e6},
          {"queue_depth", 32},
          {"queued", 123456},
          {"loaded_blocks", 400000},
          {"copies_in_flight", 3}};
}

// A busy daemon with every tier, long names and large counters.
json BusyDaemon() {
  json ns1 = {{"id", "0123456789abcdef0123456789abcdef"},
              {"handle", 1},
              {"tenant", "a-tenant-with-a-very-long-name"},
              {"model_fingerprint", "meta-llama/Llama-3.1-70B-Instruct@sha256:abcdef"},
              {"block_tokens", 16},
              {"block_bytes", 2ull << 20},
              {"blocks", 99999999},
              {"hits", 3},
              {"misses", 1}};
  json ns2 = {{"id", "fedcba9876543210fedcba9876543210"},
              {"handle", 2},
              {"tenant", "default"},
              {"model_fingerprint", "tiny"},
              {"block_tokens", 256},
              {"block_bytes", 64 << 10},
              {"blocks", 1},
              {"hits", 0},
              {"misses", 0}};
  return {{"version", "tierkvd 0.1.0"},
          {"uptime_s", 93784},
          {"connections", 1},
          {"indexed_blocks", 123456789},
          {"promotions", 1},
          {"demotions", 2},
          {"dropped_blocks", 3},
          {"tiers", {Tier("gpu", 1), Tier("host", 10), Tier("nvme", 100)}},
          {"gpu_tier", {{"enabled", true}, {"device", "NVIDIA H200 (device 0)"}}},
          {"namespaces", {ns1, ns2}}};
}

TEST(StatsViewTest, EveryLineFitsAHundredColumns) {
  const std::string text = RenderStats(BusyDaemon());
  for (const std::string& line : Lines(text)) {
    EXPECT_LE(Columns(line), kMaxColumns) << "'" << line << "'";
  }
  json small = BusyDaemon();
  small["gpu_tier"] = {{"enabled", false}, {"reason", "this build has no CUDA"}};
  small["tiers"] = {Tier("host", 1), Tier("nvme", 1)};
  for (const std::string& line : Lines(RenderStats(small))) {
    EXPECT_LE(Columns(line), kMaxColumns) << "'" << line << "'";
  }
}

TEST(StatsViewTest, ReadsLikeEnglishAndUsesOneKindOfUnit) {
  const std::string text = RenderStats(BusyDaemon());
  EXPECT_NE(text.find("tierkvd 0.1.0, up 1d 02h, 1 connection, 123.5M blocks indexed"),
            std::string::npos)
      << text;
  EXPECT_EQ(text.find("1 connections"), std::string::npos);
  EXPECT_EQ(text.find("BLOCK TOKENS"), std::string::npos);
  EXPECT_NE(text.find("TOK/BLK"), std::string::npos);
  EXPECT_EQ(text.find("MB/s"), std::string::npos) << text;  // IEC beside IEC
  EXPECT_NE(text.find("117.3 MiB/s now"), std::string::npos) << text;
  EXPECT_NE(text.find("gpu: 3.0 TiB in, 7.0 TiB out; NVIDIA H200 (device 0)"), std::string::npos)
      << text;
}

TEST(StatsViewTest, SaysHowManyNamespacesTheDaemonLeftOut) {
  json doc = BusyDaemon();
  EXPECT_EQ(RenderStats(doc).find("not listed"), std::string::npos);
  doc["namespaces_omitted"] = 3000;
  EXPECT_NE(RenderStats(doc).find("(3,000 more namespaces, with fewer blocks, not listed)"),
            std::string::npos)
      << RenderStats(doc);
}

TEST(StatsViewTest, RemoteTierShowsItsStateAndEachMasterWithinAHundredColumns) {
  json doc = BusyDaemon();
  json remote = Tier("remote", 1000);
  remote.update({{"state", "degraded"},
                 {"reason", "1 of 3 masters unreachable"},
                 {"write_policy", "through"},
                 {"blocks_read", 4096},
                 {"blocks_written", 1},
                 {"errors", 7},
                 {"timeouts", 2},
                 {"nodes",
                  {{{"address", "10.0.0.1:7001"}, {"state", "up"}, {"slots", 5461}},
                   {{"address", "10.0.0.2:7002"},
                    {"state", "down"},
                    {"slots", 5462},
                    {"reason", "connect: Connection refused"}}}}});
  doc["tiers"].push_back(remote);
  const std::string text = RenderStats(doc);
  for (const std::string& line : Lines(text)) {
    EXPECT_LE(Columns(line), kMaxColumns) << "'" << line << "'";
  }
  EXPECT_NE(text.find("remote: 3.0 TiB in, 7.0 TiB out; degraded (1 of 3 masters unreachable), "
                      "write through"),
            std::string::npos)
      << text;
  EXPECT_NE(text.find("read 4,096 blocks"), std::string::npos) << text;
  EXPECT_NE(text.find("written 1 block ("), std::string::npos) << text;
  EXPECT_NE(text.find("errors: 7 (2 timeouts)"), std::string::npos) << text;
  EXPECT_NE(text.find("10.0.0.2:7002 down, 5,462 slots (connect: Connection refused)"),
            std::string::npos)
      << text;
}

TEST(StatsViewTest, LongNamesAreCutWithAnEllipsis) {
  const std::string text = RenderStats(BusyDaemon());
  EXPECT_NE(text.find("a-tenant-wi\u2026 meta-llama/Llama-\u2026"), std::string::npos) << text;
  EXPECT_NE(text.find("default      tiny"), std::string::npos) << text;
  EXPECT_EQ(FitLeft("abc", 5), "abc  ");
  EXPECT_EQ(FitLeft("abcdef", 5), "abcd\u2026");
  EXPECT_EQ(FitLeft("\u00e9t\u00e9", 3), "\u00e9t\u00e9");  // counted in characters
}

TEST(StatsViewTest, CountsStayNarrow) {
  EXPECT_EQ(CompactCount(0), "0");
  EXPECT_EQ(CompactCount(1234567), "1,234,567");
  EXPECT_EQ(CompactCount(9999999), "9,999,999");
  EXPECT_EQ(CompactCount(12345678), "12.3M");
  EXPECT_EQ(CompactCount(987654321000ull), "987.7G");
  EXPECT_EQ(CompactCount(UINT64_MAX), "18.4E");
}

TEST(StatsViewTest, WatchLinesShowRatesBetweenSamplesAndFit) {
  json before = BusyDaemon();
  json after = before;
  after["tiers"][0]["hits"] = before["tiers"][0]["hits"].get<uint64_t>() + 300;
  after["tiers"][0]["misses"] = before["tiers"][0]["misses"].get<uint64_t>() + 100;
  after["tiers"][1]["hits"] = before["tiers"][1]["hits"].get<uint64_t>() + 100;
  after["tiers"][1]["bytes_in"] = before["tiers"][1]["bytes_in"].get<uint64_t>() + (20 << 20);
  const std::string header = RenderWatchHeader(after);
  const std::string first = RenderWatchLine(json(), before, 0, "12:00:00");
  const std::string line = RenderWatchLine(before, after, 2.0, "12:00:02");
  for (const auto& l : {header, first, line}) EXPECT_LE(Columns(l), kMaxColumns + 1) << l;
  EXPECT_NE(header.find("LOOKUP/S"), std::string::npos);
  // 400 blocks asked in 2 s, 400 hits on some tier, 20 MiB committed.
  EXPECT_NE(line.find("      200 100.0%   10.0 MiB/s"), std::string::npos) << header << line;
  EXPECT_NE(first.find(" -"), std::string::npos) << first;
  json two_tiers = BusyDaemon();
  two_tiers["tiers"] = {Tier("host", 1), Tier("nvme", 1)};
  EXPECT_NE(RenderWatchHeader(two_tiers).find("NVME BLKS"), std::string::npos);
  EXPECT_LE(Columns(RenderWatchLine(two_tiers, two_tiers, 1, "12:00:00")), kMaxColumns + 1);
}

TEST(StatsViewTest, FlushProgressCountsWritesSinceItsStart) {
  json start = {{"tiers", {{{"name", "nvme"}, {"blocks", 100}}}}};
  json now = {
      {"tiers", {{{"name", "nvme"}, {"blocks", 1600}, {"queue_depth", 32}, {"queued", 468}}}}};
  EXPECT_EQ(FlushProgress(start, now, 3.2),
            "flush: 3 s, 1,500 blocks written to nvme, 500 writes in flight or queued");
  EXPECT_EQ(FlushProgress(json(), json(), 1), "flush: 1 s");
}

}  // namespace
}  // namespace tierkv::cli
