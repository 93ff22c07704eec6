// A warning that a hostile or broken client can trigger at will is logged at
// most once per interval, with the number of times it was held back, so that
// no client can fill the disk with the daemon's log.
#pragma once

#include <chrono>
#include <cstdint>

namespace tierkv {

class RateLimitedLog {
 public:
  using Clock = std::chrono::steady_clock;
  static constexpr std::chrono::seconds kDefaultInterval{10};

  explicit RateLimitedLog(Clock::duration interval = kDefaultInterval) : interval_(interval) {}

  // True when the event at `now` may be logged; *suppressed is then set to
  // the number of events held back since the last one logged.
  bool ShouldLog(Clock::time_point now, uint64_t* suppressed) {
    if (logged_once_ && now - last_logged_ < interval_) {
      ++suppressed_;
      return false;
    }
    logged_once_ = true;
    last_logged_ = now;
    *suppressed = suppressed_;
    suppressed_ = 0;
    return true;
  }
  bool ShouldLog(uint64_t* suppressed) { return ShouldLog(Clock::now(), suppressed); }

 private:
  Clock::duration interval_;
  Clock::time_point last_logged_{};
  bool logged_once_ = false;
  uint64_t suppressed_ = 0;
};

}  // namespace tierkv
