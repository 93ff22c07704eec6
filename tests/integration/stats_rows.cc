#include "tests/integration/stats_rows.h"

#include <gtest/gtest.h>

#include <thread>

namespace tierkv::testing {
namespace {

constexpr auto kWaitPoll = std::chrono::milliseconds(5);

}  // namespace

TierStats TierRow(Client& client, const std::string& name) {
  auto stats = client.GetStats();
  if (!stats.ok()) {
    ADD_FAILURE() << "stats: " << stats.status().ToString();
    return {};
  }
  for (const TierStats& row : stats->tiers) {
    if (row.name == name) return row;
  }
  ADD_FAILURE() << "stats have no tier named " << name << ": " << stats->raw_json;
  return {};
}

nlohmann::json StatsJson(Client& client) {
  auto stats = client.GetStats();
  if (!stats.ok()) {
    ADD_FAILURE() << "stats: " << stats.status().ToString();
    return nullptr;
  }
  return nlohmann::json::parse(stats->raw_json);
}

nlohmann::json TierJson(Client& client, const std::string& name) {
  const nlohmann::json doc = StatsJson(client);
  if (doc.is_null()) return nullptr;
  for (const auto& row : doc.at("tiers")) {
    if (row.at("name") == name) return row;
  }
  ADD_FAILURE() << "stats have no tier named " << name << ": " << doc.dump();
  return nullptr;
}

bool WaitUntil(const std::function<bool()>& done, std::chrono::milliseconds deadline) {
  const auto until = std::chrono::steady_clock::now() + deadline;
  while (!done()) {
    if (std::chrono::steady_clock::now() >= until) return done();
    std::this_thread::sleep_for(kWaitPoll);
  }
  return true;
}

}  // namespace tierkv::testing
