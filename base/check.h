// TIERKV_CHECK: an invariant that, when broken, means a bug in tierkv itself
// (never bad input: that gets a Status). It is checked in every build type,
// and a broken one prints where and why on stderr and aborts, since going on
// would act on state that is already wrong.
#pragma once

#include <cstdio>
#include <cstdlib>

#define TIERKV_CHECK(condition, message)                                                    \
  do {                                                                                      \
    if (!(condition)) [[unlikely]] {                                                        \
      std::fprintf(stderr, "%s:%d: check failed: %s: %s\n", __FILE__, __LINE__, #condition, \
                   message);                                                                \
      std::abort();                                                                         \
    }                                                                                       \
  } while (false)
