// The tokenizer of llama GGUF models (tokenizer.ggml.model = "llama"): a
// SentencePiece-style vocabulary of pieces with scores and types, byte
// fallback through the <0xXX> pieces, encoded and decoded as llama.cpp's SPM
// tokenizer does (llama-vocab.cpp):
//
// Encode: user-defined pieces are split out first (longest first, as
// llama.cpp does even without special-token parsing); every other stretch of
// text gets one leading space when it opens the text or follows such a piece
// (tokenizer.ggml.add_space_prefix, default on), spaces become U+2581, and
// the stretch is split into UTF-8 characters. Adjacent symbols whose
// concatenation is a piece are merged, highest score first (leftmost on
// ties), until no pair merges; each final symbol is its piece, or its bytes'
// <0xXX> pieces when it is none. One deliberate difference from llama.cpp:
// a merge may only produce a normal, user-defined or unused piece, as in
// SentencePiece itself, so text that spells a control piece ("<s>") or a byte
// piece ("<0x41>") stays text; llama.cpp merges into those too.
//
// Decode: the concatenation of each token's piece (normal pieces with U+2581
// back to spaces, byte pieces as their byte, user-defined as written; control
// and unknown pieces give nothing), with one leading space dropped from the
// first token's piece when the vocabulary adds a space prefix: llama.cpp's
// llama_detokenize without special tokens.
//
// Thread safety: immutable after creation; share it freely.
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "core/gguf_reader.h"
#include "core/gguf_writer.h"
#include "tierkv/keys.h"
#include "tierkv/status.h"

namespace tierkv::core {

// llama.cpp's token types (tokenizer.ggml.token_type), SentencePiece's piece types.
enum class TokenType : int32_t {
  kNormal = 1,
  kUnknown = 2,
  kControl = 3,
  kUserDefined = 4,
  kUnused = 5,
  kByte = 6,
};

struct VocabPiece {
  std::string text;
  float score = 0.0f;
  TokenType type = TokenType::kNormal;
};

// Everything a GGUF says about its llama tokenizer.
struct TokenizerSpec {
  std::vector<VocabPiece> pieces;  // id = index
  std::optional<TokenId> unk, bos, eos, pad;
  bool add_space_prefix = true;
  bool add_bos = true;
  bool add_eos = false;

  // Writes the tokenizer.ggml.* keys llama.cpp reads.
  void WriteGguf(GgufWriter& writer) const;
};

class Tokenizer {
 public:
  // Reads the tokenizer.ggml.* keys. Unsupported for another tokenizer model
  // ("gpt2", ...); InvalidArgument for malformed keys, naming them.
  static Result<Tokenizer> FromGguf(const GgufFile& file);
  // InvalidArgument when a special id is outside the vocabulary or a piece is empty.
  static Result<Tokenizer> Create(TokenizerSpec spec);

  // Token ids of `text`, with the BOS id first when `add_bos` (and the model has one).
  std::vector<TokenId> Encode(std::string_view text, bool add_bos) const;
  // The text of `ids`; an id outside the vocabulary is InvalidArgument.
  Result<std::string> Decode(std::span<const TokenId> ids) const;
  // The text of one token, never stripped (what a stream of generated tokens prints).
  std::string Piece(TokenId id) const;

  int size() const { return static_cast<int>(spec_.pieces.size()); }
  const TokenizerSpec& spec() const { return spec_; }

 private:
  explicit Tokenizer(TokenizerSpec spec);
  void EncodeStretch(std::string_view text, std::vector<TokenId>& out) const;
  void AppendBytes(std::string_view text, std::vector<TokenId>& out) const;

  TokenizerSpec spec_;
  // Pieces a merge may produce (normal, user-defined, unused), by text.
  std::unordered_map<std::string, TokenId> mergeable_;
  // User-defined pieces, longest first, matched before merging.
  std::vector<TokenId> user_defined_;
  // The <0xXX> piece of every byte, or the unknown piece where one is missing.
  std::vector<std::optional<TokenId>> byte_pieces_;
};

}  // namespace tierkv::core
