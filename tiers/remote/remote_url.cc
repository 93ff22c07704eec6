#include "tiers/remote/remote_url.h"

#include <cctype>
#include <charconv>
#include <string>

namespace tierkv::remote {
namespace {

constexpr std::string_view kSingleScheme = "redis://";
constexpr std::string_view kClusterScheme = "redis-cluster://";
constexpr uint32_t kMaxPort = 65535;
// Redis's default `databases` is 16; a server may be configured with more.
constexpr uint32_t kMaxDatabase = 1u << 20;

Status Bad(std::string_view url, std::string_view what) {
  return Status::InvalidArgument("remote url \"" + RedactedUrl(url) + "\": " + std::string(what));
}

int HexDigit(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

Result<std::string> PercentDecode(std::string_view url, std::string_view text,
                                  std::string_view field) {
  std::string out;
  out.reserve(text.size());
  for (size_t i = 0; i < text.size(); ++i) {
    if (text[i] != '%') {
      out.push_back(text[i]);
      continue;
    }
    const int hi = i + 2 < text.size() ? HexDigit(text[i + 1]) : -1;
    const int lo = i + 2 < text.size() ? HexDigit(text[i + 2]) : -1;
    if (hi < 0 || lo < 0) {
      return Bad(url, std::string(field) + " has a '%' not followed by two hex digits");
    }
    out.push_back(static_cast<char>(hi * 16 + lo));
    i += 2;
  }
  return out;
}

Result<uint32_t> ParseNumber(std::string_view text, uint32_t max) {
  uint32_t value = 0;
  const char* end = text.data() + text.size();
  auto [ptr, ec] = std::from_chars(text.data(), end, value);
  if (text.empty() || ec != std::errc() || ptr != end || value > max) {
    return Status::InvalidArgument("not a number");
  }
  return value;
}

}  // namespace

std::string ToString(const HostPort& address) {
  const bool v6 = address.host.find(':') != std::string::npos;
  return (v6 ? "[" + address.host + "]" : address.host) + ":" + std::to_string(address.port);
}

Result<HostPort> ParseHostPort(std::string_view text) {
  HostPort out;
  std::string_view port_text;
  bool has_port = false;
  if (!text.empty() && text.front() == '[') {
    const size_t close = text.find(']');
    if (close == std::string_view::npos) {
      return Status::InvalidArgument("\"" + std::string(text) + "\": '[' without ']'");
    }
    out.host = std::string(text.substr(1, close - 1));
    std::string_view rest = text.substr(close + 1);
    if (!rest.empty()) {
      if (rest.front() != ':') {
        return Status::InvalidArgument("\"" + std::string(text) + "\": junk after ']'");
      }
      port_text = rest.substr(1);
      has_port = true;
    }
  } else {
    const size_t colon = text.rfind(':');
    if (colon != std::string_view::npos) {
      if (text.find(':') != colon) {
        return Status::InvalidArgument("\"" + std::string(text) +
                                       "\": an IPv6 address needs brackets ([::1]:6379)");
      }
      port_text = text.substr(colon + 1);
      has_port = true;
    }
    out.host = std::string(text.substr(0, colon));
  }
  if (out.host.empty()) {
    return Status::InvalidArgument("\"" + std::string(text) + "\": empty host");
  }
  for (char c : out.host) {
    const bool ok = std::isalnum(static_cast<unsigned char>(c)) || c == '.' || c == '-' ||
                    c == '_' || c == ':' || c == '%';
    if (!ok) {
      return Status::InvalidArgument("\"" + std::string(text) + "\": host has '" +
                                     std::string(1, c) + "'");
    }
  }
  if (has_port) {
    auto port = ParseNumber(port_text, kMaxPort);
    if (!port.ok() || *port == 0) {
      return Status::InvalidArgument("\"" + std::string(text) + "\": port \"" +
                                     std::string(port_text) + "\" is not in [1, 65535]");
    }
    out.port = static_cast<uint16_t>(*port);
  }
  return out;
}

Result<RemoteUrl> ParseRemoteUrl(std::string_view url) {
  RemoteUrl out;
  std::string_view rest;
  if (url.starts_with(kClusterScheme)) {
    out.mode = RemoteMode::kCluster;
    rest = url.substr(kClusterScheme.size());
  } else if (url.starts_with(kSingleScheme)) {
    out.mode = RemoteMode::kSingle;
    rest = url.substr(kSingleScheme.size());
  } else {
    return Bad(url, "expected redis://HOST:PORT or redis-cluster://HOST:PORT[,HOST:PORT...]");
  }

  // Credentials end at the last '@' (a password may hold '@' only escaped, but
  // be lenient with the common mistake of a raw one).
  const size_t at = rest.rfind('@');
  if (at != std::string_view::npos) {
    std::string_view credentials = rest.substr(0, at);
    rest = rest.substr(at + 1);
    const size_t colon = credentials.find(':');
    std::string_view user = credentials.substr(0, colon);
    std::string_view password =
        colon == std::string_view::npos ? std::string_view() : credentials.substr(colon + 1);
    if (colon == std::string_view::npos) {
      // "redis://secret@host": a lone field is the password, as in redis-cli -u.
      password = user;
      user = {};
    }
    TIERKV_ASSIGN_OR_RETURN(out.user, PercentDecode(url, user, "user"));
    TIERKV_ASSIGN_OR_RETURN(out.password, PercentDecode(url, password, "password"));
    if (out.password.empty()) return Bad(url, "credentials without a password");
  }

  const size_t slash = rest.find('/');
  if (slash != std::string_view::npos) {
    std::string_view db = rest.substr(slash + 1);
    rest = rest.substr(0, slash);
    if (out.mode == RemoteMode::kCluster) {
      return Bad(url, "a cluster has no database number (Redis Cluster serves database 0 only)");
    }
    if (!db.empty()) {
      auto number = ParseNumber(db, kMaxDatabase);
      if (!number.ok()) return Bad(url, "database \"" + std::string(db) + "\" is not a number");
      out.database = *number;
    }
  }
  if (rest.empty()) return Bad(url, "no host");

  size_t begin = 0;
  while (true) {
    const size_t comma = rest.find(',', begin);
    std::string_view item =
        rest.substr(begin, comma == std::string_view::npos ? rest.npos : comma - begin);
    if (item.empty()) return Bad(url, "empty address in the node list");
    auto node = ParseHostPort(item);
    if (!node.ok()) return Bad(url, node.status().message());
    out.nodes.push_back(*node);
    if (comma == std::string_view::npos) break;
    begin = comma + 1;
  }
  if (out.mode == RemoteMode::kSingle && out.nodes.size() > 1) {
    return Bad(url, "redis:// names one server; use redis-cluster:// for several nodes");
  }
  return out;
}

std::string RedactedUrl(std::string_view url) {
  const size_t scheme_end = url.find("://");
  const size_t at = url.rfind('@');
  if (scheme_end == std::string_view::npos || at == std::string_view::npos || at < scheme_end) {
    return std::string(url);
  }
  const size_t credentials = scheme_end + 3;
  const size_t colon = url.find(':', credentials);
  const size_t password_begin =
      (colon != std::string_view::npos && colon < at) ? colon + 1 : credentials;
  return std::string(url.substr(0, password_begin)) + "***" + std::string(url.substr(at));
}

}  // namespace tierkv::remote
