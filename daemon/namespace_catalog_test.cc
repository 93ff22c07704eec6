#include "daemon/namespace_catalog.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>

#include "daemon/namespace_registry.h"

namespace tierkv {
namespace {

wire::OpenNamespaceRequest Spec(const std::string& model, const std::string& tenant = "default") {
  wire::OpenNamespaceRequest spec;
  spec.model_fingerprint = model;
  spec.tenant = tenant;
  spec.kv_dtype = "f16";
  spec.block_tokens = 16;
  spec.block_bytes = 4096;
  return spec;
}

class NamespaceCatalogTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/tierkv-catalog-XXXXXX";
    dir_ = mkdtemp(tmpl);
    path_ = dir_ + "/namespaces";
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }
  std::string dir_;
  std::string path_;
};

TEST_F(NamespaceCatalogTest, ARestartedRegistryKnowsTheSameNamespaces) {
  Key128 id;
  {
    std::vector<wire::OpenNamespaceRequest> recorded;
    auto catalog = NamespaceCatalog::Open(path_, &recorded);
    ASSERT_TRUE(catalog.ok()) << catalog.status().ToString();
    EXPECT_TRUE(recorded.empty());
    NamespaceRegistry registry("secret", {}, 1 << 20);
    registry.AttachCatalog(&*catalog, recorded);
    auto ns = registry.Open(Spec("llama", "acme"), {});
    ASSERT_TRUE(ns.ok());
    id = (*ns)->id;
    ASSERT_TRUE(registry.Open(Spec("llama", "acme"), {}).ok());  // recorded once
  }
  std::vector<wire::OpenNamespaceRequest> recorded;
  auto catalog = NamespaceCatalog::Open(path_, &recorded);
  ASSERT_TRUE(catalog.ok());
  ASSERT_EQ(recorded.size(), 1u);
  NamespaceRegistry registry("secret", {}, 1 << 20);
  registry.AttachCatalog(&*catalog, recorded);
  NamespaceInfo* restored = registry.FindById(id);
  ASSERT_NE(restored, nullptr);
  EXPECT_EQ(restored->spec.tenant, "acme");
  EXPECT_EQ(restored->spec.model_fingerprint, "llama");
  EXPECT_EQ(registry.Find(restored->handle), restored);
}

TEST_F(NamespaceCatalogTest, ATornTailIsCutAndTheRestKept) {
  {
    std::vector<wire::OpenNamespaceRequest> recorded;
    auto catalog = NamespaceCatalog::Open(path_, &recorded);
    ASSERT_TRUE(catalog->Append(Spec("a")).ok());
    ASSERT_TRUE(catalog->Append(Spec("b")).ok());
  }
  const auto full = std::filesystem::file_size(path_);
  std::filesystem::resize_file(path_, full - 3);  // a crash mid-append
  std::vector<wire::OpenNamespaceRequest> recorded;
  auto catalog = NamespaceCatalog::Open(path_, &recorded);
  ASSERT_TRUE(catalog.ok());
  ASSERT_EQ(recorded.size(), 1u);
  EXPECT_EQ(recorded[0].model_fingerprint, "a");
  ASSERT_TRUE(catalog->Append(Spec("c")).ok());  // appends after the good part
  recorded.clear();
  auto again = NamespaceCatalog::Open(path_, &recorded);
  ASSERT_EQ(recorded.size(), 2u);
  EXPECT_EQ(recorded[1].model_fingerprint, "c");
}

TEST_F(NamespaceCatalogTest, FlippedBytesEndTheCatalogThere) {
  {
    std::vector<wire::OpenNamespaceRequest> recorded;
    auto catalog = NamespaceCatalog::Open(path_, &recorded);
    ASSERT_TRUE(catalog->Append(Spec("a")).ok());
    ASSERT_TRUE(catalog->Append(Spec("b")).ok());
  }
  std::fstream f(path_, std::ios::in | std::ios::out | std::ios::binary);
  f.seekp(-12, std::ios::end);
  f.put('\x5a');
  f.close();
  std::vector<wire::OpenNamespaceRequest> recorded;
  ASSERT_TRUE(NamespaceCatalog::Open(path_, &recorded).ok());
  ASSERT_EQ(recorded.size(), 1u);
  EXPECT_EQ(recorded[0].model_fingerprint, "a");
}

}  // namespace
}  // namespace tierkv
