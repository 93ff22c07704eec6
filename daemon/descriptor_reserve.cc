#include "daemon/descriptor_reserve.h"

#include <fcntl.h>
#include <unistd.h>

namespace tierkv {

bool DescriptorReserve::Acquire() {
  bool all = true;
  for (int& fd : fds_) {
    if (fd < 0) fd = ::open("/dev/null", O_RDONLY | O_CLOEXEC);
    all = all && fd >= 0;
  }
  return all;
}

void DescriptorReserve::Release() {
  for (int& fd : fds_) {
    if (fd >= 0) ::close(fd);
    fd = -1;
  }
}

}  // namespace tierkv
