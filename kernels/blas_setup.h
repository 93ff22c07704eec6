// Makes OpenBLAS use its AVX-512 kernels on CPUs it does not recognize.
//
// Debian 12's OpenBLAS (0.3.21) does not know AMD Zen 4 and falls back to its
// Haswell (AVX2) kernels, whose sgemm runs at about 55% of the SkylakeX
// (AVX-512) kernels on the same CPU (194 vs 340 GFLOPS on 2 cores here).
// OpenBLAS picks kernels when it loads, before main(), from the environment
// variable OPENBLAS_CORETYPE, so the only remedy from inside the process is to
// set it and re-execute once. A user-set OPENBLAS_CORETYPE is always respected.
#pragma once

namespace tierkv::kernels {

// Call first thing in main(). Returns normally when nothing needs doing (or
// the re-exec failed); otherwise does not return.
void PreferAvx512BlasKernels(char** argv);

}  // namespace tierkv::kernels
