#include "kernels/cpu_features.h"

#include <gtest/gtest.h>

#include <fstream>
#include <set>
#include <sstream>
#include <string>

namespace tierkv::kernels {
namespace {

// The kernel's own view of the CPU: the flags line of /proc/cpuinfo.
std::set<std::string> ProcCpuinfoFlags() {
  std::ifstream in("/proc/cpuinfo");
  std::string line;
  while (std::getline(in, line)) {
    if (line.rfind("flags", 0) != 0) continue;
    std::istringstream words(line.substr(line.find(':') + 1));
    std::set<std::string> flags;
    for (std::string w; words >> w;) flags.insert(w);
    return flags;
  }
  return {};
}

TEST(CpuFeaturesTest, AgreesWithTheKernelsCpuinfo) {
  const std::set<std::string> flags = ProcCpuinfoFlags();
  if (flags.empty()) GTEST_SKIP() << "no flags line in /proc/cpuinfo";
  const CpuFeatures& f = HostCpuFeatures();
  // Linux lists a flag only when the OS also enables its register state, which
  // is what the detection checks through xgetbv.
  EXPECT_EQ(f.avx2, flags.count("avx2") == 1);
  EXPECT_EQ(f.fma, flags.count("fma") == 1);
  EXPECT_EQ(f.f16c, flags.count("f16c") == 1);
  EXPECT_EQ(f.avx512f, flags.count("avx512f") == 1);
  EXPECT_EQ(f.avx512bw, flags.count("avx512bw") == 1);
  EXPECT_EQ(f.avx512dq, flags.count("avx512dq") == 1);
  EXPECT_EQ(f.avx512vl, flags.count("avx512vl") == 1);
  EXPECT_EQ(f.avx512_bf16, flags.count("avx512_bf16") == 1);
  EXPECT_EQ(f.avx512_fp16, flags.count("avx512_fp16") == 1);
  EXPECT_EQ(f.amx_tile, flags.count("amx_tile") == 1);
  EXPECT_EQ(f.amx_bf16, flags.count("amx_bf16") == 1);
}

TEST(CpuFeaturesTest, DescriptionNamesVendorAndFeatures) {
  CpuFeatures f;
  f.vendor = "GenuineIntel";
  f.brand = "Test CPU";
  EXPECT_EQ(DescribeCpu(f), "Test CPU (GenuineIntel): no AVX2");
  f.avx2 = f.fma = f.f16c = true;
  f.avx512f = f.avx512bw = f.avx512dq = f.avx512vl = true;
  EXPECT_TRUE(f.has_avx2_fma());
  EXPECT_TRUE(f.has_avx512());
  EXPECT_EQ(DescribeCpu(f),
            "Test CPU (GenuineIntel): avx2 fma f16c avx512f avx512bw avx512dq avx512vl");
  f.avx512vl = false;
  EXPECT_FALSE(f.has_avx512());
}

}  // namespace
}  // namespace tierkv::kernels
