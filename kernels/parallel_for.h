// A small persistent worker pool for the CPU kernels that are not BLAS calls.
//
// ParallelFor(n, fn) runs fn(i) for i in [0, n) over one thread per core (the
// caller included) and returns when all are done. Workers sleep between calls,
// so they never compete with OpenBLAS's own threads for the cores.
//
// Thread safety: calls from several threads are serialized.
#pragma once

#include <functional>

namespace tierkv::kernels {

void ParallelFor(int n, const std::function<void(int)>& fn);

}  // namespace tierkv::kernels
