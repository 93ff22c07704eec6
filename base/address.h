// One syntax for every tierkv address: the daemon's listeners, the CLI's
// --socket, the benches and the client's ConnectOptions::address.
//
//   unix:PATH        a Unix socket
//   PATH             a Unix socket, when it contains a '/' or no ':'
//   tcp:HOST:PORT    TCP; HOST is a name, an IPv4 address or [IPv6]
//   HOST:PORT        TCP, when it contains no '/'
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "tierkv/status.h"

namespace tierkv {

struct Address {
  enum class Kind { kUnix, kTcp };
  Kind kind = Kind::kUnix;
  std::string path;   // kUnix
  std::string host;   // kTcp, without brackets
  uint16_t port = 0;  // kTcp

  // "unix:/tmp/tierkv.sock" or "tcp:127.0.0.1:7470" (IPv6 hosts bracketed).
  std::string ToString() const;
};

// Parses any of the forms above; errors say which part is wrong.
Result<Address> ParseAddress(std::string_view text);

}  // namespace tierkv
