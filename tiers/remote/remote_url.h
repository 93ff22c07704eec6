// Where the remote tier lives, as a URL:
//
//   redis://[[USER]:PASSWORD@]HOST[:PORT][/DB]         one server (PORT 6379, DB 0)
//   redis-cluster://[[USER]:PASSWORD@]HOST[:PORT][,HOST[:PORT]...]
//                                                      a cluster's seed nodes
//
// HOST is a name, an IPv4 address or a bracketed IPv6 address ("[::1]").
// USER and PASSWORD may hold percent-escapes ("p%40ss" for "p@ss"); USER is
// optional ("redis://:secret@host" authenticates the default user). A cluster
// has no DB (Redis Cluster serves database 0 only).
//
// Thread safety: pure functions.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "tierkv/status.h"

namespace tierkv::remote {

inline constexpr uint16_t kDefaultRedisPort = 6379;

struct HostPort {
  std::string host;
  uint16_t port = kDefaultRedisPort;
  friend bool operator==(const HostPort&, const HostPort&) = default;
};

// "host:port", or "[v6]:port" for an IPv6 address; the form MOVED/ASK
// replies and CLUSTER SLOTS use for node addresses.
std::string ToString(const HostPort& address);

enum class RemoteMode { kSingle, kCluster };

struct RemoteUrl {
  RemoteMode mode = RemoteMode::kSingle;
  std::vector<HostPort> nodes;  // the server, or the cluster's seeds; never empty
  std::string user;             // empty: the default user
  std::string password;         // empty: no AUTH
  uint32_t database = 0;        // SELECTed on each connection (single mode only)
};

// Parses `url`. InvalidArgument, naming what is wrong and where, for anything
// else: an unknown scheme, an empty or malformed host, a port that is not a
// number in [1, 65535], a bad percent-escape, a database in a cluster URL.
Result<RemoteUrl> ParseRemoteUrl(std::string_view url);

// Parses "host:port" or "[v6]:port" as a node address appears in a MOVED or
// ASK error and in CLUSTER SLOTS. InvalidArgument if malformed.
Result<HostPort> ParseHostPort(std::string_view text);

// `url` with its password replaced by "***", for logs and stats.
std::string RedactedUrl(std::string_view url);

}  // namespace tierkv::remote
