#include "core/llama_model.h"

#include <gtest/gtest.h>

#include <cstring>
#include <filesystem>
#include <functional>

#include "core/gguf_reader.h"
#include "core/gguf_writer.h"
#include "core/random_model.h"
#include "core/test_model.h"
#include "kernels/half.h"

namespace tierkv::core {
namespace {

class LlamaModelTest : public ::testing::Test {
 protected:
  void SetUp() override {
    source_ = testing::TempPath("llama_model_src");
    RandomModelOptions o;
    o.config = testing::TinyConfig();
    o.format = WeightFormat::kF16;
    ASSERT_TRUE(WriteRandomLlamaGguf(o, source_).ok());
  }
  void TearDown() override {
    std::filesystem::remove(source_);
    std::filesystem::remove(broken_);
  }

  // Copies the source model through `edit`, which may change metadata and
  // drop tensors (by returning false for them); returns the load status.
  Status LoadEdited(const std::function<void(GgufWriter&)>& edit_metadata,
                    const std::string& drop_tensor = "") {
    auto src = GgufFile::Open(source_);
    EXPECT_TRUE(src.ok());
    GgufWriter w;
    for (const auto& [k, v] : (*src)->metadata()) w.SetMetadata(k, v);
    edit_metadata(w);
    for (const GgufTensorInfo& t : (*src)->tensors()) {
      if (t.name == drop_tensor) continue;
      EXPECT_TRUE(
          w.AddTensor(t.name, t.dims, t.type, std::vector<std::byte>(t.data.begin(), t.data.end()))
              .ok());
    }
    broken_ = testing::TempPath("llama_model_broken");
    EXPECT_TRUE(w.Write(broken_).ok());
    auto m = LlamaModel::Load(broken_);
    return m.ok() ? Status::Ok() : m.status();
  }

  std::string source_, broken_;
};

TEST_F(LlamaModelTest, LoadsWithSameWeightsAsTheFile) {
  auto m = LlamaModel::Load(source_);
  ASSERT_TRUE(m.ok()) << m.status().ToString();
  auto f = GgufFile::Open(source_);
  ASSERT_TRUE(f.ok());
  const GgufTensorInfo* t = (*f)->FindTensor("blk.1.ffn_down.weight");
  const Matrix& w = (*m)->layers()[1].w_down;
  EXPECT_EQ(w.rows, testing::TinyConfig().dim);
  EXPECT_EQ(w.cols, testing::TinyConfig().ffn_dim);
  ASSERT_EQ(w.f16.size() * 2, t->data.size());
  EXPECT_EQ(0, std::memcmp(w.f16.data(), t->data.data(), t->data.size()));
  EXPECT_EQ(w.f32[5], kernels::F16ToF32(w.f16[5]));
  EXPECT_EQ((*m)->fingerprint().size(), 32u);
}

TEST_F(LlamaModelTest, MissingTensorIsNamed) {
  const Status s = LoadEdited([](GgufWriter&) {}, "blk.1.ffn_up.weight");
  EXPECT_TRUE(s.IsNotFound()) << s.ToString();
  EXPECT_NE(s.message().find("missing tensor blk.1.ffn_up.weight"), std::string_view::npos)
      << s.ToString();
}

TEST_F(LlamaModelTest, ShapeMismatchIsNamed) {
  const Status s = LoadEdited(
      [](GgufWriter& w) { w.SetMetadata("llama.feed_forward_length", GgufValue::U32(128)); });
  EXPECT_TRUE(s.IsInvalidArgument()) << s.ToString();
  EXPECT_NE(s.message().find("tensor blk.0.ffn_gate.weight has shape [64, 96], expected [64, 128]"),
            std::string_view::npos)
      << s.ToString();
}

TEST_F(LlamaModelTest, WrongArchitectureAndBadHyperparameters) {
  Status s = LoadEdited(
      [](GgufWriter& w) { w.SetMetadata("general.architecture", GgufValue::Str("gpt2")); });
  EXPECT_EQ(s.code(), StatusCode::kUnsupported) << s.ToString();
  s = LoadEdited(
      [](GgufWriter& w) { w.SetMetadata("llama.attention.head_count_kv", GgufValue::U32(3)); });
  EXPECT_TRUE(s.IsInvalidArgument()) << s.ToString();
  EXPECT_NE(s.message().find("head_count_kv"), std::string_view::npos) << s.ToString();
}

}  // namespace
}  // namespace tierkv::core
