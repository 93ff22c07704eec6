// Fuzzes the daemon's request dispatch: raw frames, as one connection sends
// them, into a RequestHandler over a real host tier and block store. Bad
// input must get an error reply, never a crash; and when the connection
// ends, no pin and no byte of pool space may be left behind.
#include <cstddef>
#include <cstdint>
#include <span>

#include "fuzz/handler_harness.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  tierkv::fuzzing::RunFrames(std::span<const uint8_t>(data, size));
  return 0;
}
