// The one place where Status codes and wire status codes meet.
#pragma once

#include <cstdint>

#include "tierkv/status.h"

namespace tierkv::wire {

uint16_t StatusToWire(StatusCode code);
// Unknown wire codes (from a newer peer) become kInternal, never a crash.
StatusCode WireToStatusCode(uint16_t wire);

}  // namespace tierkv::wire
