// Admin operations that can take minutes on a full daemon (flush of 400k
// blocks, evict --all): they wait as long as the daemon works unless a
// --timeout is given, and meanwhile say on stderr how far they got.
#pragma once

#include <cstdint>
#include <functional>
#include <nlohmann/json.hpp>
#include <string>

#include "tierkv/client.h"

namespace tierkv::cli {

// ConnectOptions::timeout_ms for "wait as long as it takes".
inline constexpr double kNoTimeout = 0;

// Runs `operation` (one request on its own connection, whose timeout is
// `timeout_s`; negative: none) and prints a progress line about once a second
// while it runs: the time so far and, for "flush", what a second connection's
// stats show of the NVMe writes. On a timeout the error says that the daemon
// goes on with the operation.
Result<uint64_t> RunWithProgress(const std::string& name, const ConnectOptions& connect,
                                 double timeout_s,
                                 const std::function<Result<uint64_t>()>& operation);

// The progress line of a flush `seconds` in, from stats documents taken at
// its start and now: NVMe blocks written since, writes still queued.
std::string FlushProgress(const nlohmann::json& at_start, const nlohmann::json& now,
                          double seconds);

}  // namespace tierkv::cli
