#include "daemon/namespace_registry.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace tierkv {
namespace {

constexpr uint64_t kMaxBlockBytes = 1 << 20;

wire::OpenNamespaceRequest Spec(const std::string& tenant, int model) {
  wire::OpenNamespaceRequest spec;
  spec.model_fingerprint = "model-" + std::to_string(model);
  spec.tenant = tenant;
  spec.kv_dtype = "f16";
  spec.block_tokens = 16;
  spec.block_bytes = 4096;
  return spec;
}

TEST(NamespaceRegistryTest, ANewNamespaceBeyondItsTenantsLimitIsRefusedAnOpenOneIsNot) {
  NamespaceRegistry registry("secret", {}, kMaxBlockBytes, {.per_tenant = 2, .total = 100});
  ASSERT_TRUE(registry.Open(Spec("acme", 0), {}).ok());
  ASSERT_TRUE(registry.Open(Spec("acme", 1), {}).ok());
  auto refused = registry.Open(Spec("acme", 2), {});
  EXPECT_EQ(refused.status().code(), StatusCode::kResourceExhausted);
  EXPECT_NE(refused.status().message().find("max_namespaces_per_tenant"), std::string::npos)
      << refused.status().ToString();
  EXPECT_NE(refused.status().message().find("'acme'"), std::string::npos);
  EXPECT_TRUE(registry.Open(Spec("acme", 1), {}).ok());  // the same spec: not a new one
  EXPECT_TRUE(registry.Open(Spec("globex", 0), {}).ok());
  EXPECT_EQ(registry.all().size(), 3u);
}

TEST(NamespaceRegistryTest, NamespacesOfAllTenantsStopAtTheTotal) {
  NamespaceRegistry registry("secret", {}, kMaxBlockBytes, {.per_tenant = 10, .total = 3});
  for (int t = 0; t < 3; ++t) ASSERT_TRUE(registry.Open(Spec("t" + std::to_string(t), 0), {}).ok());
  auto refused = registry.Open(Spec("t3", 0), {});
  EXPECT_EQ(refused.status().code(), StatusCode::kResourceExhausted);
  EXPECT_NE(refused.status().message().find("(max_namespaces)"), std::string::npos)
      << refused.status().ToString();
  EXPECT_TRUE(registry.Open(Spec("t0", 0), {}).ok());
}

TEST(NamespaceRegistryTest, RecordedNamespacesCountAndAreAllRegistered) {
  NamespaceRegistry registry("secret", {}, kMaxBlockBytes, {.per_tenant = 2, .total = 100});
  const std::vector<wire::OpenNamespaceRequest> recorded = {Spec("acme", 0), Spec("acme", 1),
                                                            Spec("acme", 2)};
  registry.AttachCatalog(nullptr, recorded);
  EXPECT_EQ(registry.all().size(), 3u);  // an older run's, beyond the limit: still named
  EXPECT_TRUE(registry.Open(Spec("acme", 2), {}).ok());
  EXPECT_EQ(registry.Open(Spec("acme", 3), {}).status().code(), StatusCode::kResourceExhausted);
}

}  // namespace
}  // namespace tierkv
