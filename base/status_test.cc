#include "tierkv/status.h"

#include <gtest/gtest.h>

#include <cerrno>

namespace tierkv {
namespace {

TEST(StatusTest, DefaultIsOk) {
  Status s;
  EXPECT_TRUE(s.ok());
  EXPECT_EQ(s.code(), StatusCode::kOk);
  EXPECT_EQ(s.ToString(), "ok");
}

TEST(StatusTest, CarriesCodeAndMessage) {
  Status s = Status::NotFound("no such namespace");
  EXPECT_FALSE(s.ok());
  EXPECT_TRUE(s.IsNotFound());
  EXPECT_EQ(s.ToString(), "not_found: no such namespace");
}

TEST(StatusTest, ErrnoMapsToCodes) {
  EXPECT_TRUE(Status::FromErrno(ENOSPC, "write").IsResourceExhausted());
  EXPECT_TRUE(Status::FromErrno(EIO, "read").IsIOError());
  EXPECT_EQ(Status::FromErrno(ENOENT, "open x").message(), "open x: No such file or directory");
}

Result<int> Half(int x) {
  if (x % 2) return Status::InvalidArgument("odd");
  return x / 2;
}

Status UseHalf(int x, int* out) {
  TIERKV_ASSIGN_OR_RETURN(*out, Half(x));
  return Status::Ok();
}

TEST(StatusTest, ResultAndMacros) {
  int v = 0;
  EXPECT_TRUE(UseHalf(8, &v).ok());
  EXPECT_EQ(v, 4);
  EXPECT_TRUE(UseHalf(3, &v).IsInvalidArgument());
  EXPECT_EQ(v, 4);
}

}  // namespace
}  // namespace tierkv
