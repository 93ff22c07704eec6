#include "kernels/blas_setup.h"

#include <cblas.h>
#include <dlfcn.h>
#include <strings.h>

#include <cstdlib>

#include "kernels/matvec_f16_ref.h"

namespace tierkv::kernels {
namespace {

constexpr char kCoreTypeVariable[] = "OPENBLAS_CORETYPE";

using OpenBlasHook = void (*)();

BlasSetup SetUp() {
  BlasSetup setup;
  if (const char* user = std::getenv(kCoreTypeVariable)) {
    setup.requested = user;
    setup.requested_by_user = true;
  } else if (const std::string_view core = OpenBlasCoreFor(HostCpuFeatures()); !core.empty()) {
    if (SelectOpenBlasCore(std::string(core))) setup.requested = core;
  }
  setup.in_use = openblas_get_corename();
  return setup;
}

}  // namespace

std::string_view OpenBlasCoreFor(const CpuFeatures& cpu) {
  if (!cpu.has_avx2_fma()) return {};
  if (cpu.has_avx512()) return "SkylakeX";
  return cpu.vendor == "AuthenticAMD" ? "Zen" : "Haswell";
}

bool SelectOpenBlasCore(const std::string& core) {
  // Present only in DYNAMIC_ARCH builds, whose kernels can be chosen.
  auto quit = reinterpret_cast<OpenBlasHook>(dlsym(RTLD_DEFAULT, "gotoblas_dynamic_quit"));
  auto init = reinterpret_cast<OpenBlasHook>(dlsym(RTLD_DEFAULT, "gotoblas_dynamic_init"));
  if (quit == nullptr || init == nullptr) return false;
  if (strcasecmp(openblas_get_corename(), core.c_str()) == 0) return true;
  setenv(kCoreTypeVariable, core.c_str(), /*overwrite=*/1);
  quit();
  init();
  return true;
}

const BlasSetup& EnsureBlasSetUp() {
  static const BlasSetup setup = SetUp();
  return setup;
}

std::string DescribeKernelPaths() {
  const BlasSetup& blas = EnsureBlasSetUp();
  std::string out = "cpu " + DescribeCpu(HostCpuFeatures()) + "; sgemm OpenBLAS " + blas.in_use;
  if (!blas.requested.empty()) {
    out += blas.requested_by_user
               ? std::string(" (") + kCoreTypeVariable + "=" + blas.requested + " from the environment)"
               : " (chosen by tierkv for this CPU: " + blas.requested + ")";
  }
  out += "; matvec ";
  out += MatVecPathName(BestMatVecPath(HostCpuFeatures()));
  return out;
}

int BlasThreads() { return openblas_get_num_threads(); }

void SetBlasThreads(int threads) { openblas_set_num_threads(threads); }

}  // namespace tierkv::kernels
