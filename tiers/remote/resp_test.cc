#include "tiers/remote/resp.h"

#include <gtest/gtest.h>

#include <string>

namespace tierkv::remote {
namespace {

std::string Flatten(const Command& command) {
  std::string out = command.head;
  if (!command.body.empty()) {
    out.append(reinterpret_cast<const char*>(command.body.data()), command.body.size());
    out += "\r\n";
  }
  return out;
}

TEST(RespTest, FormatsCommandsAsRespArrays) {
  EXPECT_EQ(Flatten(MakeCommand({"GET", "k"})), "*2\r\n$3\r\nGET\r\n$1\r\nk\r\n");
  std::string two;
  AppendCommand(two, {"ASKING"});
  AppendCommand(two, {"DEL", "key"});
  EXPECT_EQ(two, "*1\r\n$6\r\nASKING\r\n*2\r\n$3\r\nDEL\r\n$3\r\nkey\r\n");
}

TEST(RespTest, TheLastArgumentCarriesItsBodyWithoutACopy) {
  const std::string payload = "PAYLOAD";
  std::span<const std::byte> body(reinterpret_cast<const std::byte*>(payload.data()),
                                  payload.size());
  Command command = MakeCommandWithBody({"SET", "k"}, "HDR", body);
  EXPECT_EQ(command.body.data(), body.data());
  EXPECT_EQ(Flatten(command), "*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$10\r\nHDRPAYLOAD\r\n");
  EXPECT_EQ(command.size(), Flatten(command).size());
  Command empty = MakeCommandWithBody({"SET", "k"}, "HDR", {});
  EXPECT_EQ(Flatten(empty), "*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$3\r\nHDR\r\n");
}

TEST(RespTest, ClassifiesClusterErrors) {
  EXPECT_EQ(ClassifyError("MOVED 3999 127.0.0.1:6381"), ErrorKind::kMoved);
  EXPECT_EQ(ClassifyError("ASK 3999 127.0.0.1:6381"), ErrorKind::kAsk);
  EXPECT_EQ(ClassifyError("TRYAGAIN Multiple keys request during rehashing of slot"),
            ErrorKind::kRetry);
  EXPECT_EQ(ClassifyError("CLUSTERDOWN The cluster is down"), ErrorKind::kRetry);
  EXPECT_EQ(ClassifyError("LOADING Redis is loading the dataset in memory"), ErrorKind::kRetry);
  EXPECT_EQ(ClassifyError("OOM command not allowed when used memory > 'maxmemory'."),
            ErrorKind::kOutOfMemory);
  EXPECT_EQ(ClassifyError("NOAUTH Authentication required."), ErrorKind::kAuth);
  EXPECT_EQ(ClassifyError("WRONGPASS invalid username-password pair"), ErrorKind::kAuth);
  EXPECT_EQ(ClassifyError("ERR Protocol error: unauthenticated bulk length"), ErrorKind::kAuth);
  EXPECT_EQ(ClassifyError("WRONGTYPE Operation against a key"), ErrorKind::kWrongType);
  EXPECT_EQ(ClassifyError("READONLY You can't write against a read only replica."),
            ErrorKind::kReadOnly);
  EXPECT_EQ(ClassifyError("ERR unknown command"), ErrorKind::kOther);
}

TEST(RespTest, ParsesRedirects) {
  auto moved = ParseRedirect("MOVED 3999 127.0.0.1:6381");
  ASSERT_TRUE(moved.ok()) << moved.status().ToString();
  EXPECT_EQ(moved->slot, 3999);
  EXPECT_EQ(moved->target, (HostPort{"127.0.0.1", 6381}));
  EXPECT_FALSE(ParseRedirect("MOVED 16384 h:1").ok());
  EXPECT_FALSE(ParseRedirect("MOVED x h:1").ok());
  EXPECT_FALSE(ParseRedirect("MOVED 12").ok());
  EXPECT_FALSE(ParseRedirect("ASK 12 h:0").ok());
}

}  // namespace
}  // namespace tierkv::remote
