#include "daemon/remote_setup.h"

#include <spdlog/spdlog.h>

#include <string>

#include "tiers/remote/remote_url.h"

namespace tierkv {

Result<std::unique_ptr<remote::RemoteStore>> OpenRemoteTier(const DaemonConfig& config,
                                                            BlockStore* store) {
  if (config.remote_url.empty()) {
    spdlog::info("remote tier: off (remote_url is empty)");
    return std::unique_ptr<remote::RemoteStore>();
  }
  RemoteMoverOptions mover;
  TIERKV_ASSIGN_OR_RETURN(mover.write, ParseRemoteWritePolicy(config.remote_write));
  remote::RemoteOptions options;
  options.url = config.remote_url;
  auto opened = remote::RemoteStore::Open(options);
  if (!opened.ok()) {
    return Status::InvalidArgument("remote_url: " + std::string(opened.status().message()));
  }
  store->AttachRemote(opened->get(), mover);
  spdlog::info("remote tier: {} (write {}), connecting", remote::RedactedUrl(config.remote_url),
               RemoteWritePolicyName(mover.write));
  return std::move(*opened);
}

}  // namespace tierkv
