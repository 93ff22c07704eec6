// RESP (the Redis protocol) pieces the cluster client needs on top of hiredis:
// commands built so that a block payload is sent straight from the caller's
// buffer (hiredis would copy it into its output buffer, then memmove the rest
// of that buffer after every partial write), and the error replies a cluster
// client must understand (MOVED, ASK, TRYAGAIN, ...). Replies themselves are
// parsed by hiredis's redisReader.
//
// Thread safety: pure functions and plain values.
#pragma once

#include <cstddef>
#include <cstdint>
#include <initializer_list>
#include <span>
#include <string>
#include <string_view>

#include "tierkv/status.h"
#include "tiers/remote/remote_url.h"

namespace tierkv::remote {

// One or more commands ready to send: `head`, then `body` (borrowed, may be
// empty), then "\r\n" if `body` is not empty. A body is the tail of the last
// command's last argument, whose length `head` already announced.
struct Command {
  std::string head;
  std::span<const std::byte> body;
  // Replies the server sends for these bytes (more than 1 with ASKING in front).
  uint32_t replies = 1;

  size_t size() const { return head.size() + (body.empty() ? 0 : body.size() + 2); }
};

// Appends one whole command of `args` to `out`.
void AppendCommand(std::string& out, std::initializer_list<std::string_view> args);

// A command of `args` alone.
Command MakeCommand(std::initializer_list<std::string_view> args);

// A command whose last argument is `last_prefix` followed by `body`:
// `args...` then one bulk string of last_prefix.size() + body.size() bytes.
Command MakeCommandWithBody(std::initializer_list<std::string_view> args,
                            std::string_view last_prefix, std::span<const std::byte> body);

// What an error reply asks of a cluster client.
enum class ErrorKind {
  kMoved,        // MOVED slot host:port: the slot lives elsewhere now
  kAsk,          // ASK slot host:port: this one key, once, at host:port with ASKING
  kRetry,        // TRYAGAIN, CLUSTERDOWN, LOADING, MASTERDOWN: try again shortly
  kReadOnly,     // READONLY: we reached a replica; the slot map is stale
  kOutOfMemory,  // OOM: the server refuses writes (maxmemory, noeviction)
  kAuth,         // NOAUTH, WRONGPASS, NOPERM, "Protocol error: unauthenticated ...":
                 // credentials are missing or wrong
  kWrongType,    // WRONGTYPE: the key holds something other than a string
  kOther,
};

ErrorKind ClassifyError(std::string_view error);

struct Redirect {
  uint16_t slot = 0;
  HostPort target;
};

// Parses "MOVED 3999 127.0.0.1:6381" or "ASK 3999 127.0.0.1:6381".
Result<Redirect> ParseRedirect(std::string_view error);

}  // namespace tierkv::remote
