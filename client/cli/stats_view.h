// What `tierkv stats` prints: the daemon's statistics document (JSON, as the
// stats request returns it) as tables that fit kMaxColumns, and the one-line
// samples of `tierkv stats --watch`. Pure functions of the documents, so the
// layout is tested without a daemon.
#pragma once

#include <cstdint>
#include <nlohmann/json.hpp>
#include <string>

namespace tierkv::cli {

inline constexpr size_t kMaxColumns = 100;

// The full report: a summary line, the tier table, each tier's details, and
// the namespace table.
std::string RenderStats(const nlohmann::json& doc);

// `stats --watch`: the column header, and one line per sample. A line's rates
// are per second between `previous` and `current`, taken `seconds` apart;
// with no previous sample (null) they show "-".
std::string RenderWatchHeader(const nlohmann::json& doc);
std::string RenderWatchLine(const nlohmann::json& previous, const nlohmann::json& current,
                            double seconds, const std::string& time_of_day);

// Counts for fixed-width columns: "9,999,999" up to seven digits, then
// "12.3M", "4.6G", "7.0T".
std::string CompactCount(uint64_t n);

// `text` cut to `columns` characters (UTF-8 aware), its last one an ellipsis
// when cut, then padded with spaces to exactly `columns` (left-aligned).
std::string FitLeft(const std::string& text, size_t columns);

}  // namespace tierkv::cli
