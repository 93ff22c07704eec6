#include "tests/security/security_fixture.h"

namespace tierkv::testing {
namespace {

constexpr uint64_t kOwnerSeed = 1111;

}  // namespace

void SecurityTest::StartDaemon(std::vector<std::string> flags) {
  daemon_ = std::make_unique<DaemonProcess>(std::move(flags));
  ASSERT_TRUE(daemon_->Start()) << daemon_->log();
  auto owner = daemon_->Connect();
  ASSERT_TRUE(owner.ok()) << owner.status().ToString();
  auto ns = (*owner)->OpenNamespace(TestSpec(kBlockBytes));
  ASSERT_TRUE(ns.ok()) << ns.status().ToString();
  owner_prompt_ = MakePrompt(*ns, kOwnerBlocks);
  owner_payload_ = Payload(*ns, kOwnerBlocks, kOwnerSeed);
  ASSERT_TRUE(
      (*owner)->Put(*ns, ns->id, owner_prompt_.keys, owner_prompt_.tokens, owner_payload_).ok());
}

void SecurityTest::ExpectOwnerBlocksByteExact() {
  auto owner = daemon_->Connect();
  ASSERT_TRUE(owner.ok()) << owner.status().ToString();
  auto ns = (*owner)->OpenNamespace(TestSpec(kBlockBytes));
  ASSERT_TRUE(ns.ok()) << ns.status().ToString();
  std::vector<std::byte> out(owner_payload_.size());
  auto found = (*owner)->Get(*ns, owner_prompt_.keys, owner_prompt_.tokens, out);
  ASSERT_TRUE(found.ok()) << found.status().ToString();
  EXPECT_EQ(*found, kOwnerBlocks);
  EXPECT_TRUE(out == owner_payload_) << "a stored block changed";
}

}  // namespace tierkv::testing
