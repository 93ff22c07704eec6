// Runs a callback on the event loop whenever an eventfd is signalled (the
// NVMe tier's and the GPU tier's completions).
//
// The wait is a read of the counter, not a readiness wait: a read looks at the
// counter's current value first, so a completion signalled while callbacks
// were running is never missed (an edge-triggered readiness wait could miss it).
#pragma once

#include <unistd.h>

#include <boost/asio.hpp>
#include <functional>

namespace tierkv {

class EventFdPump {
 public:
  EventFdPump(boost::asio::io_context& io, int event_fd, std::function<void()> on_signal)
      : on_signal_(std::move(on_signal)), descriptor_(io, ::dup(event_fd)) {
    Wait();
  }
  void Stop() {
    boost::system::error_code ignored;
    descriptor_.cancel(ignored);
    descriptor_.close(ignored);
  }

 private:
  void Wait() {
    descriptor_.async_read_some(boost::asio::buffer(&counter_, sizeof counter_),
                                [this](const boost::system::error_code& ec, size_t) {
                                  if (ec) return;
                                  on_signal_();
                                  Wait();
                                });
  }
  std::function<void()> on_signal_;
  boost::asio::posix::stream_descriptor descriptor_;
  uint64_t counter_ = 0;
};

}  // namespace tierkv
