#include "core/sentencepiece_model.h"

#include <gtest/gtest.h>

#include <cstring>
#include <string>

namespace tierkv::core {
namespace {

// A protocol buffer writer for hand-built ModelProtos.
class Proto {
 public:
  Proto& Varint(uint32_t field, uint64_t v) {
    Key(field, 0);
    Raw(v);
    return *this;
  }
  Proto& Float(uint32_t field, float f) {
    Key(field, 5);
    char b[4];
    std::memcpy(b, &f, 4);
    out_.append(b, 4);
    return *this;
  }
  Proto& Bytes(uint32_t field, const std::string& s) {
    Key(field, 2);
    Raw(s.size());
    out_ += s;
    return *this;
  }
  Proto& Message(uint32_t field, const Proto& m) { return Bytes(field, m.out_); }
  const std::string& str() const { return out_; }

 private:
  void Key(uint32_t field, uint32_t wire) { Raw(static_cast<uint64_t>(field) << 3 | wire); }
  void Raw(uint64_t v) {
    do {
      out_ += static_cast<char>((v & 0x7f) | (v >= 0x80 ? 0x80 : 0));
      v >>= 7;
    } while (v != 0);
  }
  std::string out_;
};

Proto Piece(const std::string& text, float score, int type) {
  return Proto().Bytes(1, text).Float(2, score).Varint(3, type);
}

// A Llama-style model: BPE with byte fallback, identity normalizer, kept whitespace.
Proto Model(int64_t model_type = 2, bool remove_extra_whitespaces = false) {
  Proto m;
  m.Message(1, Piece("<unk>", 0, 2)).Message(1, Piece("<s>", 0, 3)).Message(1, Piece("</s>", 0, 3));
  m.Message(1, Piece("<0x41>", 0, 6));
  m.Message(1, Piece("\xe2\x96\x81"
                     "a",
                     -1.5f, 1))
      .Message(1, Proto().Bytes(1, "b"));
  m.Message(2, Proto()
                   .Bytes(1, "corpus.txt")  // an unknown-to-us string field, skipped
                   .Varint(3, static_cast<uint64_t>(model_type))
                   .Varint(35, 1)
                   .Varint(43, static_cast<uint64_t>(-1)));  // pad_id -1: a 10-byte varint
  m.Message(3, Proto().Bytes(1, "identity").Varint(4, remove_extra_whitespaces ? 1 : 0));
  return m;
}

Result<TokenizerSpec> Parse(const std::string& bytes) {
  return ParseSentencePieceModel(std::as_bytes(std::span(bytes.data(), bytes.size())));
}

TEST(SentencePieceModelTest, ReadsPiecesAndSettings) {
  auto spec = Parse(Model().str());
  ASSERT_TRUE(spec.ok()) << spec.status().ToString();
  ASSERT_EQ(spec->pieces.size(), 6u);
  EXPECT_EQ(spec->pieces[4].text,
            "\xe2\x96\x81"
            "a");
  EXPECT_EQ(spec->pieces[4].score, -1.5f);
  EXPECT_EQ(spec->pieces[3].type, TokenType::kByte);
  EXPECT_EQ(spec->pieces[1].type, TokenType::kControl);
  EXPECT_EQ(spec->pieces[5].type, TokenType::kNormal);  // the proto's default type
  EXPECT_EQ(spec->unk, 0u);
  EXPECT_EQ(spec->bos, 1u);
  EXPECT_EQ(spec->eos, 2u);
  EXPECT_FALSE(spec->pad.has_value());
  EXPECT_TRUE(spec->add_space_prefix);
}

TEST(SentencePieceModelTest, ModelsEncodedDifferentlyAreUnsupported) {
  Status s = Parse(Model(/*model_type=*/1).str()).status();
  EXPECT_EQ(s.code(), StatusCode::kUnsupported);
  EXPECT_NE(s.message().find("unigram"), std::string_view::npos) << s.ToString();
  s = Parse(Model(2, /*remove_extra_whitespaces=*/true).str()).status();
  EXPECT_EQ(s.code(), StatusCode::kUnsupported);
  EXPECT_NE(s.message().find("extra whitespace"), std::string_view::npos) << s.ToString();
  Proto nfkc = Model();
  nfkc.Message(3, Proto().Bytes(1, "nmt_nfkc").Varint(4, 0));  // the later field wins
  s = Parse(nfkc.str()).status();
  EXPECT_EQ(s.code(), StatusCode::kUnsupported);
  EXPECT_NE(s.message().find("nmt_nfkc"), std::string_view::npos) << s.ToString();
}

TEST(SentencePieceModelTest, DamagedBytesAreCorruptionAtEveryCut) {
  const std::string whole = Model().str();
  for (size_t cut = 1; cut < whole.size(); ++cut) {
    const Status s = Parse(whole.substr(0, cut)).status();
    // A cut between top-level fields can leave a valid, smaller model.
    if (s.ok()) continue;
    EXPECT_TRUE(s.IsCorruption() || s.code() == StatusCode::kUnsupported) << cut << s.ToString();
  }
  EXPECT_TRUE(Parse("").status().IsCorruption());
  EXPECT_TRUE(Parse("\xff\xff\xff").status().IsCorruption());
  EXPECT_TRUE(Parse(std::string("\x0b", 1)).status().IsCorruption());  // a group, never valid here
  EXPECT_TRUE(ReadSentencePieceModel("/no/such/file.model").status().IsNotFound());
}

}  // namespace
}  // namespace tierkv::core
