#include "daemon/loop_phase.h"

#include <cstdio>
#include <cstdlib>

namespace tierkv {
namespace {

thread_local int requests_open = 0;

}  // namespace

RequestScope::RequestScope() { ++requests_open; }
RequestScope::~RequestScope() { --requests_open; }
bool RequestScope::active() { return requests_open > 0; }

void CheckNotInRequest(const char* what) {
  if (requests_open == 0) [[likely]] {
    return;
  }
  std::fprintf(stderr,
               "tierkv bug: %s ran inside a request handler; completions run only from the "
               "reap pumps\n",
               what);
  std::abort();
}

}  // namespace tierkv
