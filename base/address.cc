#include "base/address.h"

#include <charconv>

namespace tierkv {
namespace {

constexpr std::string_view kUnixPrefix = "unix:";
constexpr std::string_view kTcpPrefix = "tcp:";
constexpr unsigned kMaxPort = 65535;

Result<Address> ParseTcp(std::string_view original, std::string_view host_port) {
  const size_t colon = host_port.rfind(':');
  if (colon == std::string_view::npos) {
    return Status::InvalidArgument("'" + std::string(original) +
                                   "' is not a TCP address: it needs a port (HOST:PORT)");
  }
  std::string_view host = host_port.substr(0, colon);
  const std::string_view port_text = host_port.substr(colon + 1);
  if (host.size() >= 2 && host.front() == '[' && host.back() == ']') {
    host = host.substr(1, host.size() - 2);
  } else if (host.find(':') != std::string_view::npos) {
    return Status::InvalidArgument("'" + std::string(original) +
                                   "': an IPv6 host goes in brackets, e.g. tcp:[::1]:7470");
  }
  if (host.empty()) {
    return Status::InvalidArgument("'" + std::string(original) + "' names no host (HOST:PORT)");
  }
  unsigned port = 0;
  auto [end, err] = std::from_chars(port_text.data(), port_text.data() + port_text.size(), port);
  if (port_text.empty() || err != std::errc() || end != port_text.data() + port_text.size() ||
      port > kMaxPort) {
    return Status::InvalidArgument("'" + std::string(original) + "': '" + std::string(port_text) +
                                   "' is not a TCP port (0-65535)");
  }
  Address a;
  a.kind = Address::Kind::kTcp;
  a.host = std::string(host);
  a.port = static_cast<uint16_t>(port);
  return a;
}

Result<Address> Unix(std::string_view original, std::string_view path) {
  if (path.empty()) {
    return Status::InvalidArgument("'" + std::string(original) + "' names no socket path");
  }
  Address a;
  a.path = std::string(path);
  return a;
}

}  // namespace

std::string Address::ToString() const {
  if (kind == Kind::kUnix) return std::string(kUnixPrefix) + path;
  const bool v6 = host.find(':') != std::string::npos;
  return std::string(kTcpPrefix) + (v6 ? "[" + host + "]" : host) + ":" + std::to_string(port);
}

Result<Address> ParseAddress(std::string_view text) {
  if (text.starts_with(kUnixPrefix)) return Unix(text, text.substr(kUnixPrefix.size()));
  if (text.starts_with(kTcpPrefix)) return ParseTcp(text, text.substr(kTcpPrefix.size()));
  const bool looks_like_path =
      text.find('/') != std::string_view::npos || text.find(':') == std::string_view::npos;
  if (looks_like_path) return Unix(text, text);
  return ParseTcp(text, text);
}

}  // namespace tierkv
