#include "base/version.h"

namespace tierkv {

std::string_view Version() { return TIERKV_VERSION; }

}  // namespace tierkv
