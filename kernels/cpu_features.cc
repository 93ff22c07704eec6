#include "kernels/cpu_features.h"

#include <cpuid.h>

#include <cstdint>
#include <cstring>

namespace tierkv::kernels {
namespace {

// XCR0 state components (Intel SDM vol. 1, 13.1).
constexpr uint64_t kXcr0Sse = 1u << 1;
constexpr uint64_t kXcr0Avx = 1u << 2;
constexpr uint64_t kXcr0Opmask = 1u << 5;
constexpr uint64_t kXcr0ZmmHi256 = 1u << 6;
constexpr uint64_t kXcr0Hi16Zmm = 1u << 7;
constexpr uint64_t kXcr0TileCfg = 1u << 17;
constexpr uint64_t kXcr0TileData = 1u << 18;

constexpr uint64_t kYmmState = kXcr0Sse | kXcr0Avx;
constexpr uint64_t kZmmState = kYmmState | kXcr0Opmask | kXcr0ZmmHi256 | kXcr0Hi16Zmm;
constexpr uint64_t kTileState = kXcr0TileCfg | kXcr0TileData;

bool Bit(uint32_t reg, int bit) { return (reg >> bit) & 1u; }

struct Regs {
  uint32_t a = 0, b = 0, c = 0, d = 0;
};

Regs Cpuid(uint32_t leaf, uint32_t subleaf) {
  Regs r;
  __cpuid_count(leaf, subleaf, r.a, r.b, r.c, r.d);
  return r;
}

uint64_t Xgetbv0() {
  uint32_t lo = 0, hi = 0;
  __asm__ volatile("xgetbv" : "=a"(lo), "=d"(hi) : "c"(0));
  return (static_cast<uint64_t>(hi) << 32) | lo;
}

std::string Trim(std::string s) {
  const size_t end = s.find_last_not_of(" \t");
  const size_t begin = s.find_first_not_of(" \t");
  return begin == std::string::npos ? std::string() : s.substr(begin, end - begin + 1);
}

std::string Brand(uint32_t max_extended_leaf) {
  constexpr uint32_t kFirstBrandLeaf = 0x80000002;
  constexpr uint32_t kLastBrandLeaf = 0x80000004;
  if (max_extended_leaf < kLastBrandLeaf) return {};
  char brand[49] = {};
  for (uint32_t leaf = kFirstBrandLeaf; leaf <= kLastBrandLeaf; ++leaf) {
    const Regs r = Cpuid(leaf, 0);
    const uint32_t words[] = {r.a, r.b, r.c, r.d};
    std::memcpy(brand + (leaf - kFirstBrandLeaf) * sizeof(words), words, sizeof(words));
  }
  return Trim(brand);
}

CpuFeatures Detect() {
  CpuFeatures f;
  const Regs leaf0 = Cpuid(0, 0);
  char vendor[13] = {};
  std::memcpy(vendor, &leaf0.b, 4);
  std::memcpy(vendor + 4, &leaf0.d, 4);
  std::memcpy(vendor + 8, &leaf0.c, 4);
  f.vendor = vendor;
  f.brand = Brand(Cpuid(0x80000000, 0).a);
  const uint32_t max_leaf = leaf0.a;
  if (max_leaf < 1) return f;

  const Regs leaf1 = Cpuid(1, 0);
  constexpr int kOsxsaveBit = 27;
  const uint64_t xcr0 = Bit(leaf1.c, kOsxsaveBit) ? Xgetbv0() : 0;
  const bool ymm = (xcr0 & kYmmState) == kYmmState;
  const bool zmm = (xcr0 & kZmmState) == kZmmState;
  const bool tiles = (xcr0 & kTileState) == kTileState;
  f.fma = ymm && Bit(leaf1.c, 12);
  f.f16c = ymm && Bit(leaf1.c, 29);
  if (max_leaf < 7) return f;

  const Regs leaf7 = Cpuid(7, 0);
  f.avx2 = ymm && Bit(leaf7.b, 5);
  f.avx512f = zmm && Bit(leaf7.b, 16);
  f.avx512dq = zmm && Bit(leaf7.b, 17);
  f.avx512bw = zmm && Bit(leaf7.b, 30);
  f.avx512vl = zmm && Bit(leaf7.b, 31);
  f.avx512_vnni = zmm && Bit(leaf7.c, 11);
  f.avx512_fp16 = zmm && Bit(leaf7.d, 23);
  f.amx_bf16 = tiles && Bit(leaf7.d, 22);
  f.amx_tile = tiles && Bit(leaf7.d, 24);
  f.amx_int8 = tiles && Bit(leaf7.d, 25);
  if (leaf7.a >= 1) {
    const Regs leaf7_1 = Cpuid(7, 1);
    f.avx_vnni = ymm && Bit(leaf7_1.a, 4);
    f.avx512_bf16 = zmm && Bit(leaf7_1.a, 5);
  }
  return f;
}

}  // namespace

const CpuFeatures& HostCpuFeatures() {
  static const CpuFeatures features = Detect();
  return features;
}

std::string DescribeCpu(const CpuFeatures& f) {
  std::string out =
      (f.brand.empty() ? std::string("unknown CPU") : f.brand) + " (" + f.vendor + "):";
  const std::pair<bool, const char*> named[] = {
      {f.avx2, "avx2"},
      {f.fma, "fma"},
      {f.f16c, "f16c"},
      {f.avx_vnni, "avx-vnni"},
      {f.avx512f, "avx512f"},
      {f.avx512bw, "avx512bw"},
      {f.avx512dq, "avx512dq"},
      {f.avx512vl, "avx512vl"},
      {f.avx512_vnni, "avx512-vnni"},
      {f.avx512_bf16, "avx512-bf16"},
      {f.avx512_fp16, "avx512-fp16"},
      {f.amx_tile, "amx-tile"},
      {f.amx_bf16, "amx-bf16"},
      {f.amx_int8, "amx-int8"},
  };
  bool any = false;
  for (const auto& [present, name] : named) {
    if (!present) continue;
    out += ' ';
    out += name;
    any = true;
  }
  if (!any) out += " no AVX2";
  return out;
}

}  // namespace tierkv::kernels
