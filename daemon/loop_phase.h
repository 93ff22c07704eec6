// The rule that keeps the event loop simple: completions (NVMe and GPU
// callbacks, and the deferred replies they finish) run only from the reap
// pumps, never nested inside a request handler. A request therefore sees the
// store unchanged from its start to its reply, and needs no "look again"
// re-checks after a call into the store.
//
// RequestScope marks a request being handled on this thread; every place that
// runs completions, or delivers a deferred reply, calls CheckNotInRequest
// first. Running them while a RequestScope is open is a bug in tierkv: the
// check prints what ran and aborts, in every build type (it is one
// thread-local read per reap and per deferred reply).
#pragma once

namespace tierkv {

class RequestScope {
 public:
  RequestScope();
  ~RequestScope();
  RequestScope(const RequestScope&) = delete;
  RequestScope& operator=(const RequestScope&) = delete;

  // True while a request is being handled on this thread.
  static bool active();
};

// Aborts, naming `what` (the completions about to run), when a request is
// being handled on this thread.
void CheckNotInRequest(const char* what);

}  // namespace tierkv
