// The daemon's secret: salts namespace ids so that clients cannot compute
// another tenant's keys. Created once (random, mode 0600) in the data
// directory and reused on every start, so ids, and with them the persistent
// tiers, survive restarts.
#pragma once

#include <string>

#include "tierkv/status.h"

namespace tierkv {

Result<std::string> LoadOrCreateSecret(const std::string& data_dir);

}  // namespace tierkv
