#include "base/address.h"

#include <gtest/gtest.h>

namespace tierkv {
namespace {

Address Parse(std::string_view text) {
  auto a = ParseAddress(text);
  EXPECT_TRUE(a.ok()) << text << ": " << a.status().ToString();
  return a.ok() ? *a : Address{};
}

TEST(AddressTest, UnixSocketsWithOrWithoutPrefix) {
  for (std::string_view text : {"/tmp/tierkv.sock", "unix:/tmp/tierkv.sock"}) {
    const Address a = Parse(text);
    EXPECT_EQ(a.kind, Address::Kind::kUnix);
    EXPECT_EQ(a.path, "/tmp/tierkv.sock");
    EXPECT_EQ(a.ToString(), "unix:/tmp/tierkv.sock");
  }
  EXPECT_EQ(Parse("tierkv.sock").path, "tierkv.sock");
  EXPECT_EQ(Parse("./odd:name").path, "./odd:name");
  EXPECT_EQ(Parse("unix:odd:name").path, "odd:name");
}

TEST(AddressTest, TcpWithOrWithoutPrefix) {
  for (std::string_view text : {"127.0.0.1:7470", "tcp:127.0.0.1:7470"}) {
    const Address a = Parse(text);
    EXPECT_EQ(a.kind, Address::Kind::kTcp);
    EXPECT_EQ(a.host, "127.0.0.1");
    EXPECT_EQ(a.port, 7470);
    EXPECT_EQ(a.ToString(), "tcp:127.0.0.1:7470");
  }
  EXPECT_EQ(Parse("localhost:0").port, 0);
  const Address v6 = Parse("tcp:[::1]:9");
  EXPECT_EQ(v6.host, "::1");
  EXPECT_EQ(v6.ToString(), "tcp:[::1]:9");
}

TEST(AddressTest, BadAddressesSayWhatIsWrong) {
  auto message = [](std::string_view text) {
    auto a = ParseAddress(text);
    EXPECT_FALSE(a.ok()) << text;
    return a.ok() ? std::string() : std::string(a.status().message());
  };
  EXPECT_NE(message("localhost:http").find("not a TCP port"), std::string::npos);
  EXPECT_NE(message("127.0.0.1:70000").find("not a TCP port"), std::string::npos);
  EXPECT_NE(message("tcp:127.0.0.1").find("needs a port"), std::string::npos);
  EXPECT_NE(message("tcp::7470").find("no host"), std::string::npos);
  EXPECT_NE(message("::1:7470").find("brackets"), std::string::npos);
  EXPECT_NE(message("unix:").find("no socket path"), std::string::npos);
  EXPECT_NE(message("").find("no socket path"), std::string::npos);
}

}  // namespace
}  // namespace tierkv
