#include "tierkv/tier_kind.h"

namespace tierkv {

std::string_view TierName(TierKind tier) {
  switch (tier) {
    case TierKind::kNone: return "none";
    case TierKind::kGpu: return "gpu";
    case TierKind::kHost: return "host";
    case TierKind::kNvme: return "nvme";
    case TierKind::kRemote: return "remote";
  }
  return "unknown";
}

}  // namespace tierkv
