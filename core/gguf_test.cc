#include <gtest/gtest.h>
#include <unistd.h>

#include <algorithm>
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
  // Quantized rows must fill whole blocks, and the bytes must be the blocks'.
  EXPECT_FALSE(w.AddTensor("q", {48, 2}, GgmlType::kQ8_0, std::vector<std::byte>(102)).ok());
  EXPECT_FALSE(w.AddTensor("q", {64, 2}, GgmlType::kQ8_0, std::vector<std::byte>(128)).ok());
  EXPECT_TRUE(w.AddTensor("q", {64, 2}, GgmlType::kQ8_0, std::vector<std::byte>(4 * 34)).ok());
}

// Offset of the type field of tensor `name`'s info in a file written by GgufWriter.
size_t TensorTypeOffset(const std::vector<char>& bytes, const std::string& name, int n_dims) {
  std::string key(8, '\0');
  const uint64_t len = name.size();
  std::memcpy(key.data(), &len, 8);
  key += name;
  const auto at = std::search(bytes.begin(), bytes.end(), key.begin(), key.end());
  EXPECT_NE(at, bytes.end());
  return static_cast<size_t>(at - bytes.begin()) + key.size() + 4 + 8 * n_dims;
}

TEST_F(GgufTest, QuantizedTensorsReadBackAsBlocks) {
  GgufWriter w;
  std::vector<std::byte> q4k(3 * 144), q6k(2 * 210), q4(4 * 18);
  for (size_t i = 0; i < q4k.size(); ++i) q4k[i] = static_cast<std::byte>(i * 7);
  ASSERT_TRUE(w.AddTensor("k4", {256, 3}, GgmlType::kQ4_K, q4k).ok());
  ASSERT_TRUE(w.AddTensor("k6", {512}, GgmlType::kQ6_K, q6k).ok());
  ASSERT_TRUE(w.AddTensor("q4", {32, 4}, GgmlType::kQ4_0, q4).ok());
  ASSERT_TRUE(w.Write(Path("q.gguf")).ok());
  auto f = GgufFile::Open(Path("q.gguf"));
  ASSERT_TRUE(f.ok()) << f.status().ToString();
  const GgufTensorInfo* t = (*f)->FindTensor("k4");
  EXPECT_EQ(t->type, GgmlType::kQ4_K);
  ASSERT_EQ(t->data.size(), q4k.size());
  EXPECT_EQ(0, std::memcmp(t->data.data(), q4k.data(), q4k.size()));
  EXPECT_EQ((*f)->FindTensor("k6")->data.size(), q6k.size());
  EXPECT_EQ((*f)->FindTensor("q4")->data.size(), q4.size());

  // A type the reader does not know is named in the refusal.
  std::vector<char> bytes = ReadAll(Path("q.gguf"));
  std::vector<char> q4_1 = bytes;
  const uint32_t kQ4_1 = 3;
  std::memcpy(&q4_1[TensorTypeOffset(bytes, "q4", 2)], &kQ4_1, 4);
  f = GgufFile::Open(WriteRaw("q4_1.gguf", q4_1));
  EXPECT_EQ(f.status().code(), StatusCode::kUnsupported);
  EXPECT_NE(f.status().message().find("tensor q4 has ggml type 3 (q4_1)"), std::string_view::npos)
      << f.status().ToString();
  // Rows that do not fill whole blocks are corrupt: 32-value rows relabelled Q4_K.
  std::vector<char> short_rows = bytes;
  const uint32_t kQ4K = 12;
  std::memcpy(&short_rows[TensorTypeOffset(bytes, "q4", 2)], &kQ4K, 4);
  f = GgufFile::Open(WriteRaw("rows.gguf", short_rows));
  EXPECT_TRUE(f.status().IsCorruption()) << f.status().ToString();
  EXPECT_NE(f.status().message().find("rows of 32 values, not a multiple of the q4_K block of 256"),
            std::string_view::npos)
      << f.status().ToString();
}

}  // namespace
}  // namespace tierkv::core
