#include "tiers/remote/remote_url.h"

#include <gtest/gtest.h>

namespace tierkv::remote {
namespace {

TEST(RemoteUrlTest, ParsesOneServer) {
  auto url = ParseRemoteUrl("redis://127.0.0.1:7000");
  ASSERT_TRUE(url.ok()) << url.status().ToString();
  EXPECT_EQ(url->mode, RemoteMode::kSingle);
  ASSERT_EQ(url->nodes.size(), 1u);
  EXPECT_EQ(url->nodes[0], (HostPort{"127.0.0.1", 7000}));
  EXPECT_TRUE(url->password.empty());
  EXPECT_EQ(url->database, 0u);
}

TEST(RemoteUrlTest, DefaultsThePortAndReadsTheDatabase) {
  auto url = ParseRemoteUrl("redis://cache.internal/3");
  ASSERT_TRUE(url.ok()) << url.status().ToString();
  EXPECT_EQ(url->nodes[0], (HostPort{"cache.internal", kDefaultRedisPort}));
  EXPECT_EQ(url->database, 3u);
}

TEST(RemoteUrlTest, ParsesCredentialsWithEscapes) {
  auto url = ParseRemoteUrl("redis://tierkv:p%40ss%3Aword@10.0.0.5:6380");
  ASSERT_TRUE(url.ok()) << url.status().ToString();
  EXPECT_EQ(url->user, "tierkv");
  EXPECT_EQ(url->password, "p@ss:word");
  auto default_user = ParseRemoteUrl("redis://:secret@h:1");
  ASSERT_TRUE(default_user.ok());
  EXPECT_EQ(default_user->user, "");
  EXPECT_EQ(default_user->password, "secret");
  auto bare = ParseRemoteUrl("redis://secret@h:1");
  ASSERT_TRUE(bare.ok());
  EXPECT_EQ(bare->password, "secret");
}

TEST(RemoteUrlTest, ParsesClusterSeedsAndIpv6) {
  auto url = ParseRemoteUrl("redis-cluster://a:7000,b:7001,[::1]:7002");
  ASSERT_TRUE(url.ok()) << url.status().ToString();
  EXPECT_EQ(url->mode, RemoteMode::kCluster);
  ASSERT_EQ(url->nodes.size(), 3u);
  EXPECT_EQ(url->nodes[1], (HostPort{"b", 7001}));
  EXPECT_EQ(url->nodes[2], (HostPort{"::1", 7002}));
  EXPECT_EQ(ToString(url->nodes[2]), "[::1]:7002");
}

TEST(RemoteUrlTest, RefusesBadUrlsWithTheReason) {
  struct Case {
    const char* url;
    const char* says;
  };
  for (const Case& c : {
           Case{"http://h:1", "expected redis://"},
           Case{"redis://", "no host"},
           Case{"redis://h:0", "not in [1, 65535]"},
           Case{"redis://h:65536", "not in [1, 65535]"},
           Case{"redis://h:port", "not in [1, 65535]"},
           Case{"redis://h:1,g:2", "use redis-cluster://"},
           Case{"redis-cluster://h:1/2", "no database number"},
           Case{"redis-cluster://h:1,,g:2", "empty address"},
           Case{"redis://h:1/x", "database \"x\""},
           Case{"redis://u:p%4@h:1", "two hex digits"},
           Case{"redis://u:@h:1", "without a password"},
           Case{"redis://::1:7000", "needs brackets"},
           Case{"redis://[::1:7000", "without ']'"},
           Case{"redis://h st:1", "host has ' '"},
       }) {
    auto url = ParseRemoteUrl(c.url);
    ASSERT_FALSE(url.ok()) << c.url;
    EXPECT_TRUE(url.status().IsInvalidArgument()) << c.url;
    EXPECT_NE(url.status().message().find(c.says), std::string_view::npos)
        << c.url << " -> " << url.status().ToString();
  }
}

TEST(RemoteUrlTest, ErrorsAndRedactionNeverShowThePassword) {
  auto url = ParseRemoteUrl("redis://u:hunter2@h:0");
  ASSERT_FALSE(url.ok());
  EXPECT_EQ(url.status().message().find("hunter2"), std::string_view::npos);
  EXPECT_EQ(RedactedUrl("redis://u:hunter2@h:1"), "redis://u:***@h:1");
  EXPECT_EQ(RedactedUrl("redis://hunter2@h:1"), "redis://***@h:1");
  EXPECT_EQ(RedactedUrl("redis-cluster://h:1,g:2"), "redis-cluster://h:1,g:2");
}

TEST(RemoteUrlTest, ParsesRedirectAddresses) {
  auto node = ParseHostPort("127.0.0.1:30001");
  ASSERT_TRUE(node.ok());
  EXPECT_EQ(*node, (HostPort{"127.0.0.1", 30001}));
  EXPECT_FALSE(ParseHostPort(":30001").ok());
  EXPECT_FALSE(ParseHostPort("h:").ok());
}

}  // namespace
}  // namespace tierkv::remote
