// Picks the PrefixCache an engine process uses: tierkvd at `address` when this
// build has the daemon client and the daemon answers, else none.
#pragma once

#include <memory>
#include <string>

#include "core/in_process_prefix_cache.h"
#include "core/prefix_cache.h"
#include "tierkv/client.h"

namespace tierkv::core {

// Null when `address` is empty or the daemon cannot be used; then one warning
// says why and the engine runs cold.
std::unique_ptr<PrefixCache> OpenEngineCache(const std::string& address, const NamespaceSpec& spec);

}  // namespace tierkv::core
