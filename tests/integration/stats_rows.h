// Reading a running daemon's statistics in tests: tier rows found by name
// (the list's order depends on which tiers are on: with a GPU the gpu row
// comes first), and waits on a condition with a generous deadline instead of
// a wall-clock bound on how fast the daemon must be.
#pragma once

#include <chrono>
#include <functional>
#include <nlohmann/json.hpp>
#include <string>

#include "tierkv/client.h"

namespace tierkv::testing {

// The row of the tier called `name` ("gpu", "host", "nvme"). Fails the
// current test (and returns an empty row) when stats fail or name no such tier.
TierStats TierRow(Client& client, const std::string& name);

// The same row as the daemon's JSON document, with every field it sends
// (e.g. nvme's corrupt_dropped); null, and a test failure, when absent.
// Read fields with .at() so that a field the row lacks fails the test.
nlohmann::json TierJson(Client& client, const std::string& name);

// The whole statistics document.
nlohmann::json StatsJson(Client& client);

// Long enough that only a defect, not a loaded 2-core CI machine, makes a
// condition miss it.
inline constexpr auto kGenerousDeadline = std::chrono::seconds(60);

// Calls `done` until it returns true or `deadline` passes; returns its last result.
bool WaitUntil(const std::function<bool()>& done,
               std::chrono::milliseconds deadline = kGenerousDeadline);

}  // namespace tierkv::testing
