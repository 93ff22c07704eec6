#include "daemon/auth.h"

#include <gtest/gtest.h>

namespace tierkv {
namespace {

TEST(ConstantTimeEqualsTest, EqualOnlyForTheSameBytes) {
  EXPECT_TRUE(ConstantTimeEquals("s3cret", "s3cret"));
  EXPECT_TRUE(ConstantTimeEquals("", ""));
  EXPECT_FALSE(ConstantTimeEquals("s3cres", "s3cret"));
  EXPECT_FALSE(ConstantTimeEquals("x3cret", "s3cret"));
  EXPECT_FALSE(ConstantTimeEquals("s3cre", "s3cret"));     // a prefix
  EXPECT_FALSE(ConstantTimeEquals("s3cret!", "s3cret"));   // longer
  EXPECT_FALSE(ConstantTimeEquals("", "s3cret"));
  EXPECT_FALSE(ConstantTimeEquals(std::string_view("s3cret\0", 7), "s3cret"));
}

constexpr uid_t kDaemonUid = 1234;
constexpr uid_t kOtherUid = 999;

TEST(IsAdminTest, TcpNeedsTheToken) {
  const AdminPolicy with_token{"adm1n", kDaemonUid};
  const AdminPolicy without_token{"", kDaemonUid};
  bool wrong = false;
  EXPECT_TRUE(IsAdmin(with_token, "adm1n", std::nullopt, &wrong));
  EXPECT_FALSE(wrong);
  EXPECT_FALSE(IsAdmin(with_token, "guess", std::nullopt, &wrong));
  EXPECT_TRUE(wrong);
  EXPECT_FALSE(IsAdmin(with_token, "", std::nullopt, &wrong));
  EXPECT_FALSE(wrong);
  // No token configured: no TCP client is admin, whatever it sends.
  EXPECT_FALSE(IsAdmin(without_token, "", std::nullopt, &wrong));
  EXPECT_FALSE(IsAdmin(without_token, "anything", std::nullopt, &wrong));
  EXPECT_TRUE(wrong);
}

TEST(IsAdminTest, UnixPeersAreAdminAsTheDaemonsUserOrRoot) {
  const AdminPolicy policy{"adm1n", kDaemonUid};
  bool wrong = false;
  EXPECT_TRUE(IsAdmin(policy, "", kDaemonUid, &wrong));
  EXPECT_TRUE(IsAdmin(policy, "", uid_t{0}, &wrong));
  EXPECT_FALSE(IsAdmin(policy, "", kOtherUid, &wrong));
  EXPECT_TRUE(IsAdmin(policy, "adm1n", kOtherUid, &wrong));
  // A wrong token is reported even when the uid makes the peer admin.
  EXPECT_TRUE(IsAdmin(policy, "guess", kDaemonUid, &wrong));
  EXPECT_TRUE(wrong);
}

TEST(AuthFailuresTest, CountsEveryFailure) {
  AuthFailures failures;
  for (int i = 0; i < 5; ++i) failures.Record("test");
  EXPECT_EQ(failures.count(), 5u);
}

}  // namespace
}  // namespace tierkv
