// Runs a program (a built binary: tierkv, tierkvd --check-config, ...) to the
// end and returns what it printed and how it exited, for tests of what users
// see.
#pragma once

#include <sys/types.h>

#include <optional>
#include <string>
#include <vector>

namespace tierkv::testing {

struct CommandResult {
  int exit_code = -1;  // -1 when killed by a signal
  std::string out;     // stdout
  std::string err;     // stderr
};

struct CommandOptions {
  // Run as this user and group (the test must be root), e.g. to see what a
  // user without access to the socket is told.
  std::optional<uid_t> uid;
  std::optional<gid_t> gid;
};

// argv[0] is a path. Blocks until the program exits.
CommandResult RunCommand(const std::vector<std::string>& argv, const CommandOptions& options = {});

}  // namespace tierkv::testing
