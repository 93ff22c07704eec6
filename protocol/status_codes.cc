#include "protocol/status_codes.h"

namespace tierkv::wire {

// Wire codes are the StatusCode values; they are frozen once published, and new
// codes only ever get new numbers.
uint16_t StatusToWire(StatusCode code) { return static_cast<uint16_t>(code); }

StatusCode WireToStatusCode(uint16_t wire) {
  if (wire > static_cast<uint16_t>(StatusCode::kUnsupported)) return StatusCode::kInternal;
  return static_cast<StatusCode>(wire);
}

}  // namespace tierkv::wire
