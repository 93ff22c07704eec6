#include "protocol/stats_document.h"

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

namespace tierkv::wire {
namespace {

// A tier whose every common counter is distinct, starting at `base`.
TierStats Tier(const std::string& name, uint64_t base) {
  TierStats t;
  t.name = name;
  t.capacity_bytes = base << 20;
  t.used_bytes = base + 1;
  t.blocks = base + 2;
  t.pinned_blocks = name == "nvme" ? 0 : base + 3;
  t.hits = base + 4;
  t.misses = base + 5;
  t.evictions = base + 6;
  t.bytes_in = base + 7;
  t.bytes_out = base + 8;
  return t;
}

Stats FullStats() {
  Stats s;
  s.version = "tierkvd test";
  s.uptime_s = 12;
  s.connections = 3;
  s.indexed_blocks = 1000;
  s.promotions = 4;
  s.demotions = 5;
  s.dropped_blocks = 6;
  s.namespaces_omitted = 7;
  s.rss_anon_bytes = 7 << 20;
  TierStats gpu = Tier("gpu", 100);
  gpu.gpu.emplace();
  gpu.gpu->copies_in_flight = 3;
  gpu.gpu->copy_errors = 1;
  TierStats host = Tier("host", 200);
  host.host.emplace();
  host.host->huge_pages = true;
  TierStats nvme = Tier("nvme", 300);
  NvmeTierStats& n = nvme.nvme.emplace();
  n.file_bytes = 1;
  n.bytes_read = 2;
  n.bytes_written = 3;
  n.queue_depth = 4;
  n.queued = 5;
  n.read_bytes_per_s = 1.5e9;
  n.write_bytes_per_s = 0.25;
  n.read_errors = 6;
  n.write_errors = 7;
  n.corrupt_dropped = 8;
  n.loaded_blocks = 9;
  n.dropped_at_load = 10;
  TierStats remote = Tier("remote", 0);
  RemoteTierStats& r = remote.remote.emplace();
  r.state = "degraded";
  r.reason = "127.0.0.1:7001: connect: Connection refused";
  r.write_policy = "through";
  r.nodes.push_back({"127.0.0.1:7000", "up", "", 8192});
  r.nodes.push_back({"127.0.0.1:7001", "down", "connect: Connection refused", 8192});
  r.blocks_read = 11;
  r.blocks_written = 12;
  r.bytes_read = 13;
  r.bytes_written = 14;
  r.errors = 15;
  r.corrupt_dropped = 16;
  r.timeouts = 17;
  r.reconnects = 18;
  r.queue_depth = 19;
  r.write_bytes_queued = 20;
  r.write_overflows = 21;
  r.promotions = 22;
  s.tiers = {gpu, host, nvme, remote};
  s.gpu_tier.enabled = true;
  s.gpu_tier.device = "test device";
  NamespaceStats& ns = s.namespaces.emplace_back();
  ns.id_hex = std::string(32, 'a');
  ns.handle = 1;
  ns.tenant = "acme";
  ns.model_fingerprint = "m";
  ns.block_tokens = 16;
  ns.block_bytes = 65536;
  ns.blocks = 48;
  ns.hits = 7;
  ns.misses = 8;
  return s;
}

TEST(StatsDocumentTest, WhatTheDaemonEncodesTheClientDecodesUnchanged) {
  const Stats in = FullStats();
  const std::string text = EncodeStats(in);
  Result<Stats> out = DecodeStats(text);
  ASSERT_TRUE(out.ok()) << out.status().ToString();
  EXPECT_EQ(out->raw_json, text);
  Stats decoded = *out;
  decoded.raw_json.clear();
  EXPECT_EQ(decoded, in);
}

TEST(StatsDocumentTest, ATiersOwnFieldsSitBesideTheCommonOnesOnThatTierOnly) {
  const auto doc = nlohmann::json::parse(EncodeStats(FullStats()));
  const auto& tiers = doc["tiers"];
  ASSERT_EQ(tiers.size(), 4u);
  EXPECT_EQ(tiers[0]["copies_in_flight"], 3);
  EXPECT_FALSE(tiers[0].contains("huge_pages"));
  EXPECT_EQ(tiers[1]["huge_pages"], true);
  EXPECT_FALSE(tiers[1].contains("queue_depth"));
  EXPECT_EQ(tiers[2]["read_bytes_per_s"], 1.5e9);
  EXPECT_EQ(tiers[2]["pinned_blocks"], 0);
  EXPECT_FALSE(tiers[2].contains("write_policy"));
  EXPECT_EQ(tiers[3]["state"], "degraded");
  EXPECT_EQ(tiers[3]["nodes"][1]["reason"], "connect: Connection refused");
  EXPECT_FALSE(tiers[3].contains("read_bytes_per_s"));
  EXPECT_EQ(doc["gpu_tier"]["device"], "test device");
  EXPECT_FALSE(doc["gpu_tier"].contains("reason"));
  EXPECT_EQ(doc["namespaces"][0]["id"], std::string(32, 'a'));
}

TEST(StatsDocumentTest, AnOffGpuTierCarriesItsReason) {
  Stats s;
  s.gpu_tier.reason = "gpu_bytes is 0";
  const auto doc = nlohmann::json::parse(EncodeStats(s));
  EXPECT_EQ(doc["gpu_tier"]["enabled"], false);
  EXPECT_EQ(doc["gpu_tier"]["reason"], "gpu_bytes is 0");
  EXPECT_FALSE(doc["gpu_tier"].contains("device"));
}

TEST(StatsDocumentTest, MissingFieldsKeepTheirDefaults) {
  Result<Stats> s = DecodeStats(R"({"connections": 2, "tiers": [{"name": "host", "blocks": 4}]})");
  ASSERT_TRUE(s.ok()) << s.status().ToString();
  EXPECT_EQ(s->connections, 2u);
  EXPECT_EQ(s->uptime_s, 0u);
  ASSERT_EQ(s->tiers.size(), 1u);
  EXPECT_EQ(s->tiers[0].blocks, 4u);
  ASSERT_TRUE(s->tiers[0].host.has_value());
  EXPECT_FALSE(s->tiers[0].host->huge_pages);
  EXPECT_FALSE(s->tiers[0].nvme.has_value());
}

TEST(StatsDocumentTest, AFieldOfTheWrongTypeOrNoObjectIsAProtocolErrorNamingIt) {
  Result<Stats> bad =
      DecodeStats(R"({"tiers": [{"name": "host"}, {"name": "nvme", "used_bytes": "x"}]})");
  ASSERT_EQ(bad.status().code(), StatusCode::kProtocolError);
  EXPECT_NE(bad.status().message().find("tiers[1].used_bytes"), std::string::npos)
      << bad.status().ToString();
  EXPECT_EQ(DecodeStats(R"({"connections": -1})").status().code(), StatusCode::kProtocolError);
  EXPECT_EQ(DecodeStats(R"({"namespaces": [{"block_tokens": 4294967296}]})").status().code(),
            StatusCode::kProtocolError);
  EXPECT_EQ(DecodeStats("[1, 2]").status().code(), StatusCode::kProtocolError);
  EXPECT_EQ(DecodeStats("not json").status().code(), StatusCode::kProtocolError);
}

TEST(StatsDocumentTest, NamesThatAreNotUtf8AreReplacedNotFatal) {
  Stats s;
  s.namespaces.emplace_back().tenant = "bad\xff\xfe name";
  const std::string text = EncodeStats(s);
  Result<Stats> out = DecodeStats(text);
  ASSERT_TRUE(out.ok()) << out.status().ToString();
  EXPECT_EQ(out->namespaces[0].tenant, "bad\xEF\xBF\xBD\xEF\xBF\xBD name");
}

}  // namespace
}  // namespace tierkv::wire
