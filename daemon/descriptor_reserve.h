// A few file descriptors held back for when the process has none left.
//
// Out of descriptors, the daemon still has to schedule its accept back-off,
// write its log and, in sanitizer builds, let the runtime check memory (UBSan
// and ASan open a pipe for that; without one they report a false error and
// stop the daemon). The server releases the reserve when an accept fails for
// lack of descriptors and takes it back before it accepts again.
//
// Not thread-safe: used from the server's io_context thread only.
#pragma once

#include <array>

namespace tierkv {

class DescriptorReserve {
 public:
  // Enough for a pipe and a file opened while the listeners wait.
  static constexpr int kDescriptors = 4;

  DescriptorReserve() { Acquire(); }
  ~DescriptorReserve() { Release(); }
  DescriptorReserve(const DescriptorReserve&) = delete;
  DescriptorReserve& operator=(const DescriptorReserve&) = delete;

  // Takes back as many of the reserved descriptors as the process can open;
  // true when all are held.
  bool Acquire();
  // Closes the reserved descriptors, so that others can be opened in their place.
  void Release();

 private:
  std::array<int, kDescriptors> fds_{-1, -1, -1, -1};
};

}  // namespace tierkv
