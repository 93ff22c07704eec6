// The BLAS behind prefill's products (OpenBLAS), set up for the CPU it runs on.
//
// Debian's OpenBLAS is built with DYNAMIC_ARCH: when the library loads, it
// picks its kernels from the CPU's family and model numbers, and for a model
// it does not know (a newer Xeon, many VMs' CPUs) it falls back to its oldest
// x86-64 kernels ("Prescott", SSE3), 3 to 5x slower than the AVX-512 ones the
// same CPU runs. Its only documented override is the OPENBLAS_CORETYPE
// environment variable, read by the library's initializer, which has run
// before any code of ours. So tierkv reads the CPU's features itself
// (cpu_features.h) and, before its first BLAS call, sets OPENBLAS_CORETYPE
// and runs OpenBLAS's dynamic-arch initialization again (the exported
// gotoblas_dynamic_quit/gotoblas_dynamic_init pair, the code path the
// variable takes at load; looked up with dlsym, so a BLAS without them is
// left as it is): AVX-512 F/BW/DQ/VL gets "SkylakeX", AVX2 + FMA gets "Zen"
// on AMD and "Haswell" elsewhere, anything older is left to OpenBLAS. A value
// already in the environment is kept (the user's choice).
//
// Every BLAS call of the kernels is preceded by EnsureBlasSetUp(); nothing
// else in tierkv calls the BLAS.
//
#pragma once

#include <string>
#include <string_view>

#include "kernels/cpu_features.h"

namespace tierkv::kernels {

// The OPENBLAS_CORETYPE that suits `cpu`; empty when OpenBLAS's own choice
// is as good as any (no AVX2).
std::string_view OpenBlasCoreFor(const CpuFeatures& cpu);

struct BlasSetup {
  std::string requested;           // OPENBLAS_CORETYPE at start-up ("" if none)
  bool requested_by_user = false;  // it was in the environment before tierkv looked
  std::string in_use;              // the kernels OpenBLAS runs (openblas_get_corename)
};
// Makes OpenBLAS run the kernels of `core` (an OPENBLAS_CORETYPE name) from
// now on, through its dynamic-arch initialization; false when this BLAS
// cannot switch (not a DYNAMIC_ARCH OpenBLAS). The CPU must be able to run
// them. Call while no other thread is inside the BLAS.
bool SelectOpenBlasCore(const std::string& core);

// Sets OpenBLAS up on the first call (thread-safe), then returns what it did.
// Call before the first BLAS call, while no other thread is inside the BLAS.
const BlasSetup& EnsureBlasSetUp();

// One line for logs and --version: the CPU, the BLAS kernels and the
// matrix-vector path, e.g. "cpu AMD EPYC (AuthenticAMD): avx2 fma f16c;
// sgemm OpenBLAS Zen (chosen by tierkv for this CPU: Zen); matvec avx2".
std::string DescribeKernelPaths();

// OpenBLAS's thread count (process-wide).
int BlasThreads();
void SetBlasThreads(int threads);

}  // namespace tierkv::kernels
