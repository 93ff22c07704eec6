// Tells systemd how the daemon is doing (sd_notify(3)): "READY=1" once the
// tiers are up and the sockets listen, "STOPPING=1" when shutdown begins,
// "STATUS=..." for `systemctl status`. Does nothing when the daemon was not
// started by systemd with Type=notify (NOTIFY_SOCKET unset).
#pragma once

#include <string>

namespace tierkv {

void NotifySystemd(const std::string& state);

}  // namespace tierkv
