#include "daemon/systemd_notify.h"

#include <spdlog/spdlog.h>
#include <systemd/sd-daemon.h>

#include <cstring>

namespace tierkv {

void NotifySystemd(const std::string& state) {
  const int rc = sd_notify(/*unset_environment=*/0, state.c_str());
  if (rc < 0) spdlog::warn("sd_notify: {}", std::strerror(-rc));
}

}  // namespace tierkv
