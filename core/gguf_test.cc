#include <gtest/gtest.h>
#include <unistd.h>

#include <cstring>
#include <filesystem>
#include <fstream>

#include "core/gguf_reader.h"
#include "core/gguf_writer.h"
#include "core/llama_config.h"
#include "core/random_model.h"

namespace tierkv::core {
namespace {

std::vector<std::byte> Bytes(const std::vector<float>& v) {
  std::vector<std::byte> b(v.size() * sizeof(float));
  std::memcpy(b.data(), v.data(), b.size());
  return b;
}

class GgufTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = std::filesystem::temp_directory_path() /
           ("gguf_test." + std::to_string(::getpid()) + "." +
            ::testing::UnitTest::GetInstance()->current_test_info()->name());
    std::filesystem::create_directories(dir_);
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }
  std::string Path(const std::string& name) const { return (dir_ / name).string(); }

  // A small file with one of each metadata kind and two tensors.
  std::string WriteSample(uint64_t alignment = 0) {
    GgufWriter w;
    if (alignment != 0) w.SetMetadata("general.alignment", GgufValue::U32(alignment));
    w.SetMetadata("a.u32", GgufValue::U32(7));
    w.SetMetadata("a.i32", GgufValue::I32(-3));
    w.SetMetadata("a.f32", GgufValue::F32(0.25f));
    w.SetMetadata("a.bool", GgufValue::Bool(true));
    w.SetMetadata("a.str", GgufValue::Str("hello"));
    w.SetMetadata("a.strs", GgufValue::StrArray({"x", "", "zz"}));
    w.SetMetadata("a.u64", GgufValue::U64(1ull << 40));
    EXPECT_TRUE(w.AddTensor("t0", {3, 2}, GgmlType::kF32, Bytes({1, 2, 3, 4, 5, 6})).ok());
    EXPECT_TRUE(
        w.AddTensor("t1", {5}, GgmlType::kF16, std::vector<std::byte>(10, std::byte{9})).ok());
    const std::string path = Path("sample.gguf");
    EXPECT_TRUE(w.Write(path).ok());
    return path;
  }

  std::vector<char> ReadAll(const std::string& path) {
    std::ifstream in(path, std::ios::binary);
    return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
  }
  std::string WriteRaw(const std::string& name, const std::vector<char>& bytes) {
    const std::string path = Path(name);
    std::ofstream(path, std::ios::binary).write(bytes.data(), static_cast<long>(bytes.size()));
    return path;
  }

  std::filesystem::path dir_;
};

TEST_F(GgufTest, RoundTripKeepsMetadataAndTensors) {
  for (uint64_t alignment : {0ull, 64ull}) {
    auto f = GgufFile::Open(WriteSample(alignment));
    ASSERT_TRUE(f.ok()) << f.status().ToString();
    EXPECT_EQ((*f)->alignment(), alignment ? alignment : kGgufDefaultAlignment);
    EXPECT_EQ(*(*f)->GetUint("a.u32"), 7u);
    EXPECT_EQ(*(*f)->GetFloat("a.i32"), -3.0);
    EXPECT_EQ(*(*f)->GetFloat("a.f32"), 0.25);
    EXPECT_EQ(*(*f)->GetString("a.str"), "hello");
    EXPECT_EQ(*(*f)->GetUint("a.u64"), 1ull << 40);
    EXPECT_EQ(*(*f)->Find("a.strs"), GgufValue::StrArray({"x", "", "zz"}));
    EXPECT_EQ(std::get<bool>((*f)->Find("a.bool")->scalar), true);
    EXPECT_FALSE((*f)->GetUint("a.str").ok());
    EXPECT_TRUE((*f)->GetUint("nope").status().IsNotFound());

    const GgufTensorInfo* t0 = (*f)->FindTensor("t0");
    ASSERT_NE(t0, nullptr);
    EXPECT_EQ(t0->dims, (std::vector<int64_t>{3, 2}));
    EXPECT_EQ(t0->type, GgmlType::kF32);
    float v[6];
    std::memcpy(v, t0->data.data(), sizeof(v));
    EXPECT_EQ(v[5], 6.0f);
    const GgufTensorInfo* t1 = (*f)->FindTensor("t1");
    ASSERT_NE(t1, nullptr);
    EXPECT_EQ(t1->data.size(), 10u);
    EXPECT_EQ(t1->offset % (*f)->alignment(), 0u);
    EXPECT_EQ(t1->data[9], std::byte{9});
  }
}

TEST_F(GgufTest, RandomModelReadsBackAsLlama) {
  RandomModelOptions o;
  o.config = {.n_layers = 2,
              .dim = 32,
              .n_head = 4,
              .n_head_kv = 2,
              .ffn_dim = 48,
              .vocab = 300,
              .context_length = 128,
              .rot_dim = 8};
  o.seed = 5;
  const std::string path = Path("m.gguf");
  ASSERT_TRUE(WriteRandomLlamaGguf(o, path).ok());
  auto f = GgufFile::Open(path);
  ASSERT_TRUE(f.ok()) << f.status().ToString();
  auto c = LlamaConfig::FromGguf(**f);
  ASSERT_TRUE(c.ok()) << c.status().ToString();
  EXPECT_EQ(c->n_layers, 2);
  EXPECT_EQ(c->n_head_kv, 2);
  EXPECT_EQ(c->vocab, 300);
  EXPECT_EQ(c->rot_dim, 8);
  EXPECT_EQ((*f)->Find("tokenizer.ggml.tokens")->array.size(), 300u);
  EXPECT_EQ(*(*f)->GetString("tokenizer.ggml.model"), "llama");
  const int64_t q_dims[] = {32, 32};
  EXPECT_TRUE((*f)->RequireTensor("blk.1.attn_q.weight", q_dims).ok());
  EXPECT_EQ((*f)->FindTensor("blk.1.attn_q.weight")->type, GgmlType::kF16);
  EXPECT_EQ((*f)->FindTensor("blk.1.attn_norm.weight")->type, GgmlType::kF32);
  // Same seed, same bytes.
  ASSERT_TRUE(WriteRandomLlamaGguf(o, Path("m2.gguf")).ok());
  EXPECT_EQ(ReadAll(path), ReadAll(Path("m2.gguf")));
}

TEST_F(GgufTest, MissingTensorAndShapeMismatchAreClear) {
  auto f = GgufFile::Open(WriteSample());
  ASSERT_TRUE(f.ok());
  const int64_t dims[] = {3, 2};
  auto missing = (*f)->RequireTensor("blk.0.attn_q.weight", dims);
  EXPECT_TRUE(missing.status().IsNotFound());
  EXPECT_NE(missing.status().message().find("missing tensor blk.0.attn_q.weight"),
            std::string_view::npos);
  const int64_t wrong[] = {2, 3};
  auto mismatch = (*f)->RequireTensor("t0", wrong);
  EXPECT_TRUE(mismatch.status().IsInvalidArgument());
  EXPECT_NE(mismatch.status().message().find("has shape [3, 2], expected [2, 3]"),
            std::string_view::npos)
      << mismatch.status().ToString();
}

TEST_F(GgufTest, TruncatedFileIsCorruptionAtEveryCut) {
  const std::string sample = WriteSample();
  const std::vector<char> full = ReadAll(sample);
  // Cutting only the padding after the last tensor loses nothing; any cut before its end must fail.
  auto whole = GgufFile::Open(sample);
  ASSERT_TRUE(whole.ok());
  const GgufTensorInfo* last = (*whole)->FindTensor("t1");
  const size_t data_end =
      static_cast<size_t>(last->data.data() + last->data.size() - (*whole)->bytes().data());
  ASSERT_LT(data_end, full.size());
  for (size_t cut = 0; cut < data_end; ++cut) {
    const std::string path =
        WriteRaw("cut.gguf", std::vector<char>(full.begin(), full.begin() + cut));
    auto f = GgufFile::Open(path);
    ASSERT_FALSE(f.ok()) << "cut at " << cut;
    EXPECT_TRUE(f.status().IsCorruption()) << f.status().ToString();
    EXPECT_NE(f.status().message().find("truncated"), std::string_view::npos)
        << "cut at " << cut << ": " << f.status().ToString();
  }
}

TEST_F(GgufTest, WrongMagicAndVersion) {
  std::vector<char> bytes = ReadAll(WriteSample());
  std::vector<char> bad_magic = bytes;
  std::memcpy(bad_magic.data(), "GGML", 4);
  auto f = GgufFile::Open(WriteRaw("magic.gguf", bad_magic));
  EXPECT_TRUE(f.status().IsCorruption());
  EXPECT_NE(f.status().message().find("not a GGUF file"), std::string_view::npos);
  std::vector<char> bad_version = bytes;
  bad_version[4] = 2;
  f = GgufFile::Open(WriteRaw("version.gguf", bad_version));
  EXPECT_EQ(f.status().code(), StatusCode::kUnsupported);
  EXPECT_NE(f.status().message().find("version 2"), std::string_view::npos);
  f = GgufFile::Open(Path("does-not-exist.gguf"));
  EXPECT_FALSE(f.ok());
}

TEST_F(GgufTest, WriterRejectsBadTensors) {
  GgufWriter w;
  EXPECT_FALSE(w.AddTensor("t", {4}, GgmlType::kF32, std::vector<std::byte>(15)).ok());
  EXPECT_TRUE(w.AddTensor("t", {4}, GgmlType::kF32, std::vector<std::byte>(16)).ok());
  EXPECT_FALSE(w.AddTensor("t", {4}, GgmlType::kF32, std::vector<std::byte>(16)).ok());
}

}  // namespace
}  // namespace tierkv::core
