#include "client/cli/stats_view.h"

#include <cstdio>
#include <vector>

#include "base/byte_size.h"

namespace tierkv::cli {
namespace {

using nlohmann::json;

constexpr uint64_t kCompactAbove = 9999999;
constexpr int kSecondsPerMinute = 60;
constexpr int kSecondsPerHour = 3600;
constexpr int kSecondsPerDay = 86400;
constexpr std::string_view kEllipsis = "\u2026";
constexpr std::string_view kDetailIndent = "      ";
// Column widths of the tier table.
constexpr size_t kTierNameWidth = 5;
constexpr size_t kBytesWidth = 10;
constexpr size_t kPercentWidth = 6;
constexpr size_t kCountWidth = 9;
// Column widths of the namespace table.
constexpr size_t kNamespaceIdWidth = 32;
constexpr size_t kTenantWidth = 12;
constexpr size_t kModelWidth = 18;
constexpr size_t kBlockTokensWidth = 7;
// Column widths of the watch line.
constexpr size_t kTimeWidth = 8;
constexpr size_t kConnectionsWidth = 5;

uint64_t U64(const json& j, const char* key) { return j.value(key, uint64_t{0}); }

size_t DisplayWidth(std::string_view s) {
  size_t width = 0;
  for (unsigned char c : s) width += (c & 0xC0) != 0x80;  // count UTF-8 lead bytes
  return width;
}

std::string FitRight(const std::string& text, size_t columns) {
  const size_t width = DisplayWidth(text);
  if (width >= columns) return text;
  return std::string(columns - width, ' ') + text;
}

struct Cell {
  std::string text;
  size_t width;
  bool left = false;
};

std::string Row(const std::vector<Cell>& cells) {
  std::string line;
  for (size_t i = 0; i < cells.size(); ++i) {
    if (i > 0) line += ' ';
    line += cells[i].left ? FitLeft(cells[i].text, cells[i].width)
                          : FitRight(cells[i].text, cells[i].width);
  }
  while (!line.empty() && line.back() == ' ') line.pop_back();
  return line + "\n";
}

std::string Percent(uint64_t part, uint64_t whole) {
  if (whole == 0) return "-";
  char buf[16];
  std::snprintf(buf, sizeof buf, "%.1f%%", 100.0 * static_cast<double>(part) / whole);
  return buf;
}

std::string Plural(uint64_t n, const char* one) {
  return CompactCount(n) + " " + one + (n == 1 ? "" : "s");
}

std::string Uptime(uint64_t s) {
  char buf[32];
  if (s < kSecondsPerMinute) {
    std::snprintf(buf, sizeof buf, "%llus", static_cast<unsigned long long>(s));
  } else if (s < kSecondsPerHour) {
    std::snprintf(buf, sizeof buf, "%llum %02llus", static_cast<unsigned long long>(s / 60),
                  static_cast<unsigned long long>(s % 60));
  } else if (s < kSecondsPerDay) {
    std::snprintf(buf, sizeof buf, "%lluh %02llum",
                  static_cast<unsigned long long>(s / kSecondsPerHour),
                  static_cast<unsigned long long>(s % kSecondsPerHour / 60));
  } else {
    std::snprintf(buf, sizeof buf, "%llud %02lluh",
                  static_cast<unsigned long long>(s / kSecondsPerDay),
                  static_cast<unsigned long long>(s % kSecondsPerDay / kSecondsPerHour));
  }
  return buf;
}

std::string Rate(double bytes_per_s) {
  return FormatBytes(static_cast<uint64_t>(bytes_per_s)) + "/s";
}

// "name: part; part; part" wrapped at kMaxColumns between parts.
std::string Detail(const std::string& name, const std::vector<std::string>& parts) {
  std::string out = name + ":";
  size_t line_width = DisplayWidth(out);
  for (size_t i = 0; i < parts.size(); ++i) {
    const std::string piece = parts[i] + (i + 1 < parts.size() ? ";" : "");
    if (line_width + 1 + DisplayWidth(piece) > kMaxColumns && line_width > kDetailIndent.size()) {
      out += "\n" + std::string(kDetailIndent) + piece;
      line_width = kDetailIndent.size() + DisplayWidth(piece);
    } else {
      out += " " + piece;
      line_width += 1 + DisplayWidth(piece);
    }
  }
  return out + "\n";
}

std::string TierTable(const json& tiers) {
  std::string out = Row({{"TIER", kTierNameWidth, true},
                         {"CAPACITY", kBytesWidth},
                         {"USED", kBytesWidth},
                         {"USE%", kPercentWidth},
                         {"BLOCKS", kCountWidth},
                         {"PINNED", kCountWidth},
                         {"HITS", kCountWidth},
                         {"MISSES", kCountWidth},
                         {"HIT%", kPercentWidth},
                         {"EVICTIONS", kCountWidth}});
  for (const auto& t : tiers) {
    const uint64_t hits = U64(t, "hits");
    out += Row({{t.value("name", "?"), kTierNameWidth, true},
                {FormatBytes(U64(t, "capacity_bytes")), kBytesWidth},
                {FormatBytes(U64(t, "used_bytes")), kBytesWidth},
                {Percent(U64(t, "used_bytes"), U64(t, "capacity_bytes")), kPercentWidth},
                {CompactCount(U64(t, "blocks")), kCountWidth},
                {CompactCount(U64(t, "pinned_blocks")), kCountWidth},
                {CompactCount(hits), kCountWidth},
                {CompactCount(U64(t, "misses")), kCountWidth},
                {Percent(hits, hits + U64(t, "misses")), kPercentWidth},
                {CompactCount(U64(t, "evictions")), kCountWidth}});
  }
  return out;
}

std::string TierDetails(const json& doc) {
  std::string out;
  const json gpu = doc.value("gpu_tier", json::object());
  for (const auto& t : doc.value("tiers", json::array())) {
    const std::string name = t.value("name", "?");
    std::vector<std::string> parts = {FormatBytes(U64(t, "bytes_in")) + " in, " +
                                      FormatBytes(U64(t, "bytes_out")) + " out"};
    if (name == "host") {
      parts.push_back(std::string(t.value("huge_pages", false) ? "huge" : "4 KiB") + " pages");
    } else if (name == "gpu") {
      parts.push_back(gpu.value("device", std::string("?")));
      parts.push_back(CompactCount(U64(t, "copies_in_flight")) + " copies up in flight, " +
                      CompactCount(U64(t, "copy_errors")) + " copy errors");
    } else if (name == "nvme") {
      parts.push_back("read " + FormatBytes(U64(t, "bytes_read")) + " (" +
                      Rate(t.value("read_bytes_per_s", 0.0)) + " now), written " +
                      FormatBytes(U64(t, "bytes_written")) + " (" +
                      Rate(t.value("write_bytes_per_s", 0.0)) + " now)");
      parts.push_back("queue depth " + CompactCount(U64(t, "queue_depth")) + " (+" +
                      CompactCount(U64(t, "queued")) + " waiting)");
      parts.push_back("errors: " + CompactCount(U64(t, "read_errors")) + " read, " +
                      CompactCount(U64(t, "write_errors")) + " write, " +
                      CompactCount(U64(t, "corrupt_dropped")) + " corrupt blocks dropped");
      parts.push_back("restored at start: " + Plural(U64(t, "loaded_blocks"), "block") + " (" +
                      CompactCount(U64(t, "dropped_at_load")) + " damaged entries dropped)");
    } else if (name == "remote") {
      const std::string reason = t.value("reason", std::string());
      parts.push_back(t.value("state", std::string("?")) + (reason.empty() ? "" : " (" + reason + ")") +
                      ", write " + t.value("write_policy", std::string("?")));
      parts.push_back("read " + Plural(U64(t, "blocks_read"), "block") + " (" +
                      FormatBytes(U64(t, "bytes_read")) + "), written " +
                      Plural(U64(t, "blocks_written"), "block") + " (" +
                      FormatBytes(U64(t, "bytes_written")) + ")");
      parts.push_back("errors: " + CompactCount(U64(t, "errors")) + " (" +
                      CompactCount(U64(t, "timeouts")) + " timeouts), " +
                      CompactCount(U64(t, "corrupt_dropped")) + " corrupt blocks dropped");
      parts.push_back("queue depth " + CompactCount(U64(t, "queue_depth")) + ", " +
                      CompactCount(U64(t, "write_overflows")) + " write overflows, " +
                      CompactCount(U64(t, "reconnects")) + " reconnects");
    }
    out += Detail(name, parts);
    if (name == "remote") {
      for (const auto& n : t.value("nodes", json::array())) {
        const std::string why = n.value("reason", std::string());
        out += std::string(kDetailIndent) + n.value("address", std::string()) + " " +
               n.value("state", std::string()) + ", " + Plural(U64(n, "slots"), "slot") +
               (why.empty() ? "" : " (" + why + ")") + "\n";
      }
    }
  }
  if (!gpu.value("enabled", false)) {
    out += Detail("gpu", {"off (" + gpu.value("reason", std::string("no reason given")) + ")"});
  }
  out += Detail("movement", {Plural(U64(doc, "promotions"), "promotion") + ", " +
                             Plural(U64(doc, "demotions"), "demotion") + ", " +
                             Plural(U64(doc, "dropped_blocks"), "block") + " dropped"});
  return out;
}

std::string NamespaceTable(const json& namespaces) {
  std::string out = Row({{"NAMESPACE", kNamespaceIdWidth, true},
                         {"TENANT", kTenantWidth, true},
                         {"MODEL", kModelWidth, true},
                         {"BLOCK", kBytesWidth},
                         {"TOK/BLK", kBlockTokensWidth},
                         {"BLOCKS", kCountWidth},
                         {"HIT%", kPercentWidth}});
  if (namespaces.empty()) return out + "(none)\n";
  for (const auto& n : namespaces) {
    const uint64_t hits = U64(n, "hits");
    out += Row({{n.value("id", "?"), kNamespaceIdWidth, true},
                {n.value("tenant", ""), kTenantWidth, true},
                {n.value("model_fingerprint", ""), kModelWidth, true},
                {FormatBytes(U64(n, "block_bytes")), kBytesWidth},
                {CompactCount(U64(n, "block_tokens")), kBlockTokensWidth},
                {CompactCount(U64(n, "blocks")), kCountWidth},
                {Percent(hits, hits + U64(n, "misses")), kPercentWidth}});
  }
  return out;
}

// Blocks asked for by lookups and acquires: the fastest tier counts every
// block as a hit or a miss. Hits: on any tier.
struct Traffic {
  uint64_t asked = 0;
  uint64_t hits = 0;
  uint64_t bytes_in = 0;   // committed by clients
  uint64_t bytes_out = 0;  // handed to clients
};

Traffic TrafficOf(const json& doc) {
  Traffic t;
  const json tiers = doc.value("tiers", json::array());
  if (!tiers.empty()) t.asked = U64(tiers.front(), "hits") + U64(tiers.front(), "misses");
  for (const auto& tier : tiers) {
    t.hits += U64(tier, "hits");
    // Lower tiers hand their bytes to the host tier, not to clients.
    const std::string name = tier.value("name", "");
    if (name != "nvme" && name != "remote") t.bytes_out += U64(tier, "bytes_out");
    if (tier.value("name", "") == "host") t.bytes_in += U64(tier, "bytes_in");
  }
  return t;
}

// Watch columns per tier: its use, and its blocks unless there are three
// tiers (then the line would not fit).
bool WatchShowsBlocks(const json& doc) { return doc.value("tiers", json::array()).size() <= 2; }

}  // namespace

std::string CompactCount(uint64_t n) {
  if (n <= kCompactAbove) {
    std::string digits = std::to_string(n);
    for (int i = static_cast<int>(digits.size()) - 3; i > 0; i -= 3) digits.insert(i, ",");
    return digits;
  }
  static constexpr const char* kSuffixes[] = {"K", "M", "G", "T", "P", "E"};
  double value = static_cast<double>(n);
  size_t suffix = 0;
  for (value /= 1000; value >= 999.95 && suffix + 1 < std::size(kSuffixes); value /= 1000) {
    ++suffix;
  }
  char buf[16];
  std::snprintf(buf, sizeof buf, "%.1f%s", value, kSuffixes[suffix]);
  return buf;
}

std::string FitLeft(const std::string& text, size_t columns) {
  std::string out;
  size_t width = 0;
  const size_t keep = DisplayWidth(text) > columns ? columns - 1 : columns;
  for (size_t i = 0; i < text.size(); ++i) {
    const bool lead = (static_cast<unsigned char>(text[i]) & 0xC0) != 0x80;
    if (lead && width == keep) break;
    width += lead;
    out += text[i];
  }
  if (DisplayWidth(text) > columns) {
    out += kEllipsis;
    ++width;
  }
  return out + std::string(columns - width, ' ');
}

std::string RenderStats(const json& doc) {
  std::string out = doc.value("version", std::string("tierkvd")) + ", up " +
                    Uptime(U64(doc, "uptime_s")) + ", " +
                    Plural(U64(doc, "connections"), "connection") + ", " +
                    Plural(U64(doc, "indexed_blocks"), "block") + " indexed\n\n";
  out += TierTable(doc.value("tiers", json::array()));
  out += "\n" + TierDetails(doc);
  out += "\n" + NamespaceTable(doc.value("namespaces", json::array()));
  if (const uint64_t omitted = U64(doc, "namespaces_omitted"); omitted > 0) {
    out += "(" + Plural(omitted, "more namespace") + ", with fewer blocks, not listed)\n";
  }
  return out;
}

std::string RenderWatchHeader(const json& doc) {
  std::vector<Cell> cells = {{"TIME", kTimeWidth, true}, {"CONNS", kConnectionsWidth}};
  for (const auto& t : doc.value("tiers", json::array())) {
    std::string name = t.value("name", "?");
    for (char& c : name) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
    cells.push_back({name + " USED", kBytesWidth});
    if (WatchShowsBlocks(doc)) cells.push_back({name + " BLKS", kCountWidth});
  }
  cells.push_back({"LOOKUP/S", kCountWidth});
  cells.push_back({"HIT%", kPercentWidth});
  cells.push_back({"IN/S", kBytesWidth + 2});
  cells.push_back({"OUT/S", kBytesWidth + 2});
  return Row(cells);
}

std::string RenderWatchLine(const json& previous, const json& current, double seconds,
                            const std::string& time_of_day) {
  std::vector<Cell> cells = {{time_of_day, kTimeWidth, true},
                             {CompactCount(U64(current, "connections")), kConnectionsWidth}};
  for (const auto& t : current.value("tiers", json::array())) {
    cells.push_back({FormatBytes(U64(t, "used_bytes")), kBytesWidth});
    if (WatchShowsBlocks(current)) cells.push_back({CompactCount(U64(t, "blocks")), kCountWidth});
  }
  if (previous.is_null() || seconds <= 0) {
    for (size_t w : {kCountWidth, kPercentWidth, kBytesWidth + 2, kBytesWidth + 2}) {
      cells.push_back({"-", w});
    }
    return Row(cells);
  }
  const Traffic before = TrafficOf(previous);
  const Traffic now = TrafficOf(current);
  // Counters only grow while one daemon runs; a restart in between resets them.
  auto delta = [](uint64_t a, uint64_t b) { return b >= a ? b - a : b; };
  const uint64_t asked = delta(before.asked, now.asked);
  cells.push_back({CompactCount(static_cast<uint64_t>(asked / seconds)), kCountWidth});
  cells.push_back({Percent(delta(before.hits, now.hits), asked), kPercentWidth});
  cells.push_back({Rate(delta(before.bytes_in, now.bytes_in) / seconds), kBytesWidth + 2});
  cells.push_back({Rate(delta(before.bytes_out, now.bytes_out) / seconds), kBytesWidth + 2});
  return Row(cells);
}

}  // namespace tierkv::cli
