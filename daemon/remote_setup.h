// Opens the remote tier for the daemon (remote_url, remote_write) and
// attaches it to the block store. Opening never waits for a server: the
// remote store connects on its own thread, and a tier that cannot reach its
// servers shows down in stats while the local tiers serve.
#pragma once

#include <memory>

#include "daemon/block_store.h"
#include "daemon/config.h"
#include "tiers/remote/remote_store.h"

namespace tierkv {

// Returns null (and logs why) when the config turns the tier off;
// InvalidArgument for a bad URL or write policy.
Result<std::unique_ptr<remote::RemoteStore>> OpenRemoteTier(const DaemonConfig& config,
                                                            BlockStore* store);

}  // namespace tierkv
