// Picks the PrefixCache an engine process uses: tierkvd at `address`.
#pragma once

#include <memory>
#include <string>

#include "core/in_process_prefix_cache.h"
#include "core/prefix_cache.h"
#include "tierkv/namespace_spec.h"

namespace tierkv::core {

// Null when `address` is empty, or (after one warning saying why) when the
// daemon cannot be reached or refuses the namespace: the engine then runs cold.
std::unique_ptr<PrefixCache> OpenEngineCache(const std::string& address, const NamespaceSpec& spec);

}  // namespace tierkv::core
