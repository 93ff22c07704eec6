#include "blas_setup.h"

#include <cblas.h>
#include <unistd.h>

#include <cstdlib>
#include <cstring>

namespace tierkv::kernels {

void PreferAvx512BlasKernels(char** argv) {
  if (std::getenv("OPENBLAS_CORETYPE") != nullptr) return;
  const bool avx512 = __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512bw") &&
                      __builtin_cpu_supports("avx512vl") && __builtin_cpu_supports("avx512dq");
  const char* core = openblas_get_corename();
  if (!avx512 || core == nullptr ||
      (std::strcmp(core, "Haswell") != 0 && std::strcmp(core, "Zen") != 0)) {
    return;
  }
  ::setenv("OPENBLAS_CORETYPE", "SkylakeX", /*overwrite=*/1);
  ::execv("/proc/self/exe", argv);
}

}  // namespace tierkv::kernels
