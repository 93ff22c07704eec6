// What the CPU this process runs on can execute, detected once at first use.
//
// A feature counts only when both the CPU reports it (cpuid) and the operating
// system saves the registers it needs (xgetbv: YMM state for AVX/AVX2, the
// opmask/ZMM state for AVX-512, the tile state for AMX), so a VM whose
// hypervisor hides a state component never gets a path that would fault.
// Kernels choose their path from HostCpuFeatures(); tests pass a CpuFeatures
// of their own to check each path the machine can run.
//
// Thread safety: HostCpuFeatures() is safe from any thread (a function-local static).
#pragma once

#include <string>

namespace tierkv::kernels {

struct CpuFeatures {
  std::string vendor;  // "GenuineIntel", "AuthenticAMD", ...
  std::string brand;   // the processor brand string, trimmed
  bool avx2 = false;   // with FMA and F16C, the x86-64-v3 level the kernels are built for
  bool fma = false;
  bool f16c = false;
  bool avx512f = false;  // with BW, DQ and VL: the Skylake-X subset every AVX-512 path assumes
  bool avx512bw = false;
  bool avx512dq = false;
  bool avx512vl = false;
  bool avx512_vnni = false;
  bool avx512_bf16 = false;
  bool avx512_fp16 = false;
  bool avx_vnni = false;
  bool amx_tile = false;  // AMX tile state enabled by the OS (arch_prctl permission aside)
  bool amx_bf16 = false;
  bool amx_int8 = false;

  // x86-64-v3: AVX2, FMA and F16C together.
  bool has_avx2_fma() const { return avx2 && fma && f16c; }
  // AVX-512 F, BW, DQ and VL together (x86-64-v4).
  bool has_avx512() const { return avx512f && avx512bw && avx512dq && avx512vl; }
};

// The features of the CPU this process runs on.
const CpuFeatures& HostCpuFeatures();

// One line naming the CPU and its usable vector features, for logs and --version:
// "AMD EPYC (AuthenticAMD): avx2 fma f16c".
std::string DescribeCpu(const CpuFeatures& features);

}  // namespace tierkv::kernels
