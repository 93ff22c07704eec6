// Namespaces a client cannot pile up (issue 11): namespaces are never closed
// while the daemon runs, so 40,000 opens with 1 KiB names once added 208 MB
// that was never freed and made `tierkv stats` fail for everyone. Each test
// opens new namespaces until the daemon refuses, and asserts the refusal
// names the limit, that namespaces already open still open, and that stats
// still answers; TearDown checks the blocks stored before.
#include <gtest/gtest.h>

#include <string>

#include "tests/security/security_fixture.h"

namespace tierkv::testing {
namespace {

// A name as long as the protocol allows, distinct for each `i`.
std::string LongName(const std::string& prefix, size_t i) {
  std::string name = prefix + "-" + std::to_string(i) + "-";
  name.resize(wire::kMaxNameBytes, 'x');
  return name;
}

class NamespacesTest : public SecurityTest {
 protected:
  // A tenant's namespace of another model (a new namespace for each `model`).
  static wire::OpenNamespaceRequest ModelSpec(const std::string& tenant, size_t model) {
    wire::OpenNamespaceRequest spec = SpecFor(tenant);
    spec.model_fingerprint = LongName("model", model);
    return spec;
  }
};

size_t NamespacesOf(const Stats& stats, const std::string& tenant) {
  size_t n = 0;
  for (const NamespaceStats& ns : stats.namespaces) n += ns.tenant == tenant;
  return n;
}

TEST_F(NamespacesTest, ANewNamespaceBeyondTheTenantsLimitIsRefusedAndOpenOnesStillOpen) {
  constexpr size_t kPerTenant = 8;
  ASSERT_NO_FATAL_FAILURE(StartDaemon({"--max-namespaces-per-tenant", std::to_string(kPerTenant)}));
  auto acme = RawAs(kAcmeToken);
  ASSERT_TRUE(acme);
  // The fixture's namespace is one of acme's.
  for (size_t i = 1; i < kPerTenant; ++i) {
    auto opened = acme->Open(ModelSpec("acme", i));
    ASSERT_TRUE(opened.ok()) << i << ": " << opened.status().ToString();
  }
  auto refused = acme->Open(ModelSpec("acme", kPerTenant));
  ASSERT_FALSE(refused.ok());
  EXPECT_EQ(refused.status().code(), StatusCode::kResourceExhausted) << refused.status().ToString();
  EXPECT_NE(refused.status().message().find("max_namespaces_per_tenant"), std::string::npos)
      << refused.status().ToString();
  EXPECT_NE(refused.status().message().find("'acme'"), std::string::npos)
      << refused.status().ToString();

  // An open namespace is not a new one: it opens again, with its handle.
  auto again = acme->Open(SpecFor("acme"));
  ASSERT_TRUE(again.ok()) << again.status().ToString();
  EXPECT_EQ(again->handle, acme_.ns.handle);
  EXPECT_TRUE(acme->Open(ModelSpec("acme", 1)).ok());
  // Another tenant is not held back by acme's namespaces.
  auto globex = RawAs(kGlobexToken);
  ASSERT_TRUE(globex);
  auto other = globex->Open(ModelSpec("globex", 1));
  EXPECT_TRUE(other.ok()) << other.status().ToString();

  auto admin = ConnectAs("", kAdminToken);
  ASSERT_TRUE(admin);
  auto stats = admin->GetStats();
  ASSERT_TRUE(stats.ok()) << stats.status().ToString();
  EXPECT_EQ(NamespacesOf(*stats, "acme"), kPerTenant);
  EXPECT_EQ(stats->namespaces_omitted, 0u);
  EXPECT_NE(daemon().log().find("max_namespaces_per_tenant"), std::string::npos);
}

TEST_F(NamespacesTest, ManyTenantsStopAtMaxNamespacesAndStatsStillAnswersEveryone) {
  // More namespaces than one stats document lists, each with two 1 KiB names.
  constexpr size_t kTotal = Stats::kMaxListedNamespaces + 6;
  constexpr size_t kPerTenant = 64;
  ASSERT_NO_FATAL_FAILURE(StartDaemon({"--max-namespaces", std::to_string(kTotal),
                                       "--max-namespaces-per-tenant", std::to_string(kPerTenant)}));
  // Tenants not listed in [tenants] need no token: any client can name new ones.
  auto squatter = RawUnix();
  ASSERT_TRUE(squatter->Hello().ok());
  size_t opened = 2;  // acme's and globex's, by the fixture
  Status refused;
  for (size_t i = 0; opened <= kTotal; ++i) {
    auto r = squatter->Open(ModelSpec(LongName("tenant", i / kPerTenant), i));
    if (!r.ok()) {
      refused = r.status();
      break;
    }
    ++opened;
  }
  EXPECT_EQ(opened, kTotal);
  EXPECT_EQ(refused.code(), StatusCode::kResourceExhausted) << refused.ToString();
  EXPECT_NE(refused.message().find("(max_namespaces)"), std::string::npos) << refused.ToString();
  // Open namespaces still open at the limit.
  auto acme = RawAs(kAcmeToken);
  ASSERT_TRUE(acme);
  EXPECT_TRUE(acme->Open(SpecFor("acme")).ok());

  // An admin sees the namespaces holding blocks first, and how many were left out.
  auto admin = ConnectAs("", kAdminToken);
  ASSERT_TRUE(admin);
  auto stats = admin->GetStats();
  ASSERT_TRUE(stats.ok()) << stats.status().ToString();
  EXPECT_EQ(stats->namespaces.size(), Stats::kMaxListedNamespaces);
  EXPECT_EQ(stats->namespaces_omitted, kTotal - Stats::kMaxListedNamespaces);
  EXPECT_EQ(NamespacesOf(*stats, "acme"), 1u);
  EXPECT_EQ(NamespacesOf(*stats, "globex"), 1u);
  // A tenant, and a client with no credentials, still get their stats.
  auto globex = ConnectAs(kGlobexToken);
  ASSERT_TRUE(globex);
  ASSERT_TRUE(globex->OpenNamespace(TestSpec(kBlockBytes, kBlockTokens, "globex")).ok());
  auto own = globex->GetStats();
  ASSERT_TRUE(own.ok()) << own.status().ToString();
  EXPECT_EQ(NamespacesOf(*own, "globex"), 1u);
  auto anonymous = RawAs("", "", /*tcp=*/true);
  ASSERT_TRUE(anonymous);
  EXPECT_TRUE(anonymous->StatsText().ok());
}

}  // namespace
}  // namespace tierkv::testing
