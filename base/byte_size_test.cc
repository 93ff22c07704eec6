#include "base/byte_size.h"

#include <gtest/gtest.h>

namespace tierkv {
namespace {

uint64_t Parse(std::string_view text) {
  auto r = ParseByteSize(text);
  EXPECT_TRUE(r.ok()) << text << ": " << r.status().ToString();
  return r.ok() ? *r : 0;
}

std::string Refusal(std::string_view text) {
  auto r = ParseByteSize(text);
  EXPECT_FALSE(r.ok()) << text << " parsed as " << (r.ok() ? *r : 0);
  return r.ok() ? "" : std::string(r.status().message());
}

TEST(ByteSizeTest, BareNumbersAreBytes) {
  EXPECT_EQ(Parse("0"), 0u);
  EXPECT_EQ(Parse("4096"), 4096u);
  EXPECT_EQ(Parse("18446744073709551615"), UINT64_MAX);
  EXPECT_EQ(Parse("512 B"), 512u);
}

TEST(ByteSizeTest, IecUnitsArePowersOf1024) {
  EXPECT_EQ(Parse("64KiB"), 64u << 10);
  EXPECT_EQ(Parse("512MiB"), 512ull << 20);
  EXPECT_EQ(Parse("4GiB"), 4ull << 30);
  EXPECT_EQ(Parse("1TiB"), 1ull << 40);
  EXPECT_EQ(Parse("2gib"), 2ull << 30);
  EXPECT_EQ(Parse("64k"), 64u << 10);
  EXPECT_EQ(Parse("2G"), 2ull << 30);
}

TEST(ByteSizeTest, SiUnitsArePowersOf1000) {
  EXPECT_EQ(Parse("1GB"), 1000000000u);
  EXPECT_EQ(Parse("64kB"), 64000u);
  EXPECT_EQ(Parse("3 MB"), 3000000u);
  EXPECT_EQ(Parse("2TB"), 2000000000000u);
}

TEST(ByteSizeTest, FractionsAndSpaces) {
  EXPECT_EQ(Parse("1.5GiB"), 3ull << 29);
  EXPECT_EQ(Parse("1 GiB"), 1ull << 30);
  EXPECT_EQ(Parse("  0.5 MB "), 500000u);
  EXPECT_EQ(Parse(".25KiB"), 256u);
  EXPECT_EQ(Parse("1.0001KiB"), 1024u);  // part of a byte is rounded down
}

TEST(ByteSizeTest, RefusalsSayWhy) {
  EXPECT_NE(Refusal("lots").find("no number"), std::string::npos);
  EXPECT_NE(Refusal("").find("no number"), std::string::npos);
  EXPECT_NE(Refusal("-1GiB").find("negative"), std::string::npos);
  EXPECT_NE(Refusal("5 parsecs").find("unknown unit 'parsecs'"), std::string::npos);
  EXPECT_NE(Refusal("99999999999999999999").find("2^64"), std::string::npos);
  EXPECT_NE(Refusal("16384PiB").find("2^64"), std::string::npos);
  EXPECT_NE(Refusal("1GiBs").find("unknown unit"), std::string::npos);
  EXPECT_NE(Refusal("1.2.3MiB").find("unknown unit"), std::string::npos);
}

TEST(ByteSizeTest, FormatsReadBackAsTheSameSize) {
  EXPECT_EQ(FormatBytes(0), "0 B");
  EXPECT_EQ(FormatBytes(1023), "1023 B");
  EXPECT_EQ(FormatBytes(64 << 10), "64.0 KiB");
  EXPECT_EQ(FormatBytes(3ull << 29), "1.5 GiB");
  for (uint64_t b : {1ull << 20, 3ull << 29, 123456789ull, 5ull << 40}) {
    const double back = static_cast<double>(Parse(FormatBytes(b)));
    EXPECT_NEAR(back, static_cast<double>(b), static_cast<double>(b) * 0.05) << FormatBytes(b);
  }
  EXPECT_EQ(FormatBytesExact(64ull << 20), "64 MiB");
  EXPECT_EQ(FormatBytesExact(1024), "1 KiB");
  EXPECT_EQ(FormatBytesExact(1025), "1025 bytes");
  EXPECT_EQ(FormatBytesExact(1), "1 byte");
}

}  // namespace
}  // namespace tierkv
