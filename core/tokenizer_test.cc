#include "core/tokenizer.h"

#include <gtest/gtest.h>

#include <cstdio>
#include <filesystem>

#include "core/random_model.h"
#include "core/test_model.h"

namespace tierkv::core {
namespace {

constexpr const char* kSpace = "\xe2\x96\x81";  // U+2581

// <unk> <s> </s>, the 256 byte pieces (ids 3..258), then `normal` pieces
// with the given scores.
TokenizerSpec Vocab(const std::vector<std::pair<std::string, float>>& normal) {
  TokenizerSpec spec;
  spec.pieces.push_back({"<unk>", 0, TokenType::kUnknown});
  spec.pieces.push_back({"<s>", 0, TokenType::kControl});
  spec.pieces.push_back({"</s>", 0, TokenType::kControl});
  for (int b = 0; b < 256; ++b) {
    char name[8];
    std::snprintf(name, sizeof(name), "<0x%02X>", b);
    spec.pieces.push_back({name, 0, TokenType::kByte});
  }
  for (const auto& [text, score] : normal) spec.pieces.push_back({text, score});
  spec.unk = 0;
  spec.bos = 1;
  spec.eos = 2;
  return spec;
}

constexpr TokenId kFirstNormal = 259;
TokenId ByteId(uint8_t b) { return 3 + b; }

std::string S(const std::string& text) {  // spaces as U+2581
  std::string out;
  for (char c : text) out += c == ' ' ? std::string(kSpace) : std::string(1, c);
  return out;
}

Tokenizer Make(TokenizerSpec spec) {
  auto t = Tokenizer::Create(std::move(spec));
  EXPECT_TRUE(t.ok()) << t.status().ToString();
  return std::move(t).value();
}

TEST(TokenizerTest, MergesHighestScoreFirstAndLeftmostOnTies) {
  // "abc": "ab" (-1) beats "bc" (-2); with equal scores the left pair wins.
  const Tokenizer t =
      Make(Vocab({{S(" "), -10}, {"a", -10}, {"b", -10}, {"c", -10}, {"ab", -1}, {"bc", -2}}));
  TokenizerSpec spec = t.spec();
  spec.add_space_prefix = false;
  const Tokenizer plain = Make(spec);
  EXPECT_EQ(plain.Encode("abc", false), (std::vector<TokenId>{kFirstNormal + 4, kFirstNormal + 3}));
  spec.pieces[kFirstNormal + 5].score = -1;  // "bc" ties "ab"
  EXPECT_EQ(Make(spec).Encode("abc", false),
            (std::vector<TokenId>{kFirstNormal + 4, kFirstNormal + 3}));
  spec.pieces[kFirstNormal + 5].score = 0;  // "bc" now wins
  EXPECT_EQ(Make(spec).Encode("abc", false),
            (std::vector<TokenId>{kFirstNormal + 1, kFirstNormal + 5}));
}

TEST(TokenizerTest, SpacePrefixBosAndRoundTrip) {
  const Tokenizer t =
      Make(Vocab({{S(" "), -5}, {"h", -5}, {"i", -5}, {S(" h"), -2}, {S(" hi"), -1}}));
  const TokenId space = kFirstNormal, hi = kFirstNormal + 4;
  EXPECT_EQ(t.Encode("hi hi", false), (std::vector<TokenId>{hi, hi}));
  EXPECT_EQ(t.Encode("hi hi", true), (std::vector<TokenId>{1, hi, hi}));
  EXPECT_EQ(t.Encode(" hi", false), (std::vector<TokenId>{space, hi}));
  EXPECT_TRUE(t.Encode("", false).empty());
  EXPECT_EQ(*t.Decode(std::vector<TokenId>{hi, hi}), "hi hi");
  EXPECT_EQ(*t.Decode(std::vector<TokenId>{space, hi}), " hi");
  // As llama_detokenize: a leading BOS uses up the one space strip.
  EXPECT_EQ(*t.Decode(std::vector<TokenId>{1, hi}), " hi");
  EXPECT_EQ(t.Piece(hi), " hi");
  EXPECT_EQ(t.Piece(1), "");
  EXPECT_FALSE(t.Decode(std::vector<TokenId>{hi, 99999}).ok());
}

TEST(TokenizerTest, UnknownCharactersFallBackToTheirBytes) {
  const Tokenizer t = Make(Vocab({{S(" "), -1}, {"a", -1}}));
  // "é" is C3 A9 in UTF-8: one symbol, no piece, two byte pieces.
  EXPECT_EQ(t.Encode("aé", false),
            (std::vector<TokenId>{kFirstNormal, kFirstNormal + 1, ByteId(0xC3), ByteId(0xA9)}));
  EXPECT_EQ(*t.Decode(t.Encode("aé a", false)), "aé a");
}

TEST(TokenizerTest, UserDefinedPiecesAreSplitOutFirst) {
  TokenizerSpec spec = Vocab({{S(" "), -5}, {"a", -5}, {S(" a"), -1}});
  spec.pieces.push_back({"<tool>", 0, TokenType::kUserDefined});
  const TokenId tool = static_cast<TokenId>(spec.pieces.size() - 1), sa = kFirstNormal + 2;
  const Tokenizer t = Make(spec);
  // Like llama.cpp, the text after a user-defined piece gets the space prefix again.
  EXPECT_EQ(t.Encode("a<tool>a", false), (std::vector<TokenId>{sa, tool, sa}));
  EXPECT_EQ(*t.Decode(std::vector<TokenId>{sa, tool, sa}), "a<tool> a");
}

TEST(TokenizerTest, TextSpellingAControlOrBytePieceStaysText) {
  // "<s" and "s>" are normal pieces; "<s>" is the control piece and must not
  // come out of a merge (SentencePiece's rule; llama.cpp would merge it).
  const Tokenizer t = Make(Vocab({{S(" "), -9}, {"<", -9}, {"s", -9}, {">", -9}, {"<s", -1}}));
  const std::vector<TokenId> ids = t.Encode("<s>", false);
  EXPECT_EQ(ids, (std::vector<TokenId>{kFirstNormal, kFirstNormal + 4, kFirstNormal + 3}));
  EXPECT_EQ(*t.Decode(ids), "<s>");
}

TEST(TokenizerTest, BadSpecsAreRefused) {
  TokenizerSpec spec = Vocab({});
  spec.bos = 5000;
  EXPECT_TRUE(Tokenizer::Create(spec).status().IsInvalidArgument());
  spec = Vocab({{"", 0}});
  EXPECT_TRUE(Tokenizer::Create(spec).status().IsInvalidArgument());
  EXPECT_TRUE(Tokenizer::Create(TokenizerSpec{}).status().IsInvalidArgument());
}

TEST(TokenizerTest, ReadsWhatTheGgufWriterWrites) {
  RandomModelOptions o;
  o.config = testing::TinyConfig();
  o.tokenizer = Vocab({{S(" "), -3}, {"x", -3}, {S(" x"), -1}});
  o.tokenizer->add_space_prefix = false;
  const std::string path = testing::TempPath("tokenizer_test");
  ASSERT_TRUE(WriteRandomLlamaGguf(o, path).ok());
  auto file = GgufFile::Open(path);
  ASSERT_TRUE(file.ok());
  EXPECT_EQ(*(*file)->GetUint("llama.vocab_size"), o.tokenizer->pieces.size());
  auto t = Tokenizer::FromGguf(**file);
  ASSERT_TRUE(t.ok()) << t.status().ToString();
  EXPECT_EQ(t->size(), static_cast<int>(o.tokenizer->pieces.size()));
  EXPECT_FALSE(t->spec().add_space_prefix);
  EXPECT_EQ(t->spec().pieces[kFirstNormal + 2].text, S(" x"));
  EXPECT_EQ(t->spec().pieces[kFirstNormal + 2].score, -1.0f);
  EXPECT_EQ(t->spec().pieces[10].type, TokenType::kByte);
  EXPECT_EQ(t->Encode(" x", false), std::vector<TokenId>{kFirstNormal + 2});
  std::filesystem::remove(path);
}

TEST(TokenizerTest, OtherTokenizerModelsAreUnsupported) {
  GgufWriter w;
  TokenizerSpec spec = Vocab({});
  spec.WriteGguf(w);
  w.SetMetadata("tokenizer.ggml.model", GgufValue::Str("gpt2"));
  const std::string path = testing::TempPath("tokenizer_gpt2");
  ASSERT_TRUE(w.Write(path).ok());
  auto file = GgufFile::Open(path);
  ASSERT_TRUE(file.ok());
  const Status s = Tokenizer::FromGguf(**file).status();
  EXPECT_EQ(s.code(), StatusCode::kUnsupported) << s.ToString();
  EXPECT_NE(s.message().find("gpt2"), std::string_view::npos);
  // Scores that do not match the tokens are named.
  w.SetMetadata("tokenizer.ggml.model", GgufValue::Str("llama"));
  w.SetMetadata("tokenizer.ggml.scores", GgufValue::F32Array({1.0f, 2.0f}));
  ASSERT_TRUE(w.Write(path).ok());
  file = GgufFile::Open(path);
  ASSERT_TRUE(file.ok());
  EXPECT_TRUE(Tokenizer::FromGguf(**file).status().IsInvalidArgument());
  std::filesystem::remove(path);
}

}  // namespace
}  // namespace tierkv::core
