// The daemon's secret: salts namespace ids so that clients cannot compute
// another tenant's keys. Kept in one file (secret_file; by default
// data_dir/secret), created once (random, mode 0600) and reused on every
// start, so ids, and with them the persistent tiers, survive restarts.
// Daemons that share a remote tier are given one secret file (a copy of it,
// or one path on shared storage) so that they derive the same ids.
#pragma once

#include <string>

#include "tierkv/status.h"

namespace tierkv {

// The secret's length in bytes; a file of any other length is refused.
inline constexpr size_t kSecretBytes = 32;

// Reads the secret at `path`, or creates it (and its directory) when the file
// does not exist. Several processes may call this at once on one path: one
// creates the file and all of them return its contents. Corruption for a file
// of the wrong length, IOError (with the path) when it cannot be read or made.
Result<std::string> LoadOrCreateSecret(const std::string& path);

}  // namespace tierkv
