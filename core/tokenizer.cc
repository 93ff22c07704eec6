#include "core/tokenizer.h"

#include <algorithm>
#include <list>
#include <queue>
#include <utility>

namespace tierkv::core {
namespace {

constexpr std::string_view kSpacePiece = "\xe2\x96\x81";  // U+2581, SentencePiece's escaped space
constexpr int kByteCount = 256;
constexpr std::string_view kTokenizerModel = "llama";

// Bytes in the UTF-8 sequence a lead byte opens (1 for a stray continuation
// byte), as llama.cpp's unicode_len_utf8 counts them.
size_t Utf8Length(char lead) {
  static constexpr size_t kByHighNibble[16] = {1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 2, 2, 3, 4};
  return kByHighNibble[static_cast<uint8_t>(lead) >> 4];
}

std::string EscapeSpaces(std::string_view text) {
  std::string out;
  out.reserve(text.size() + text.size() / 2);
  for (char c : text) {
    if (c == ' ') {
      out += kSpacePiece;
    } else {
      out += c;
    }
  }
  return out;
}

std::string UnescapeSpaces(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  for (size_t i = 0; i < text.size();) {
    if (text.substr(i, kSpacePiece.size()) == kSpacePiece) {
      out += ' ';
      i += kSpacePiece.size();
    } else {
      out += text[i++];
    }
  }
  return out;
}

// The byte a "<0xXX>" piece stands for; nullopt for any other text.
std::optional<uint8_t> BytePieceValue(std::string_view text) {
  if (text.size() != 6 || text.substr(0, 3) != "<0x" || text[5] != '>') return std::nullopt;
  int value = 0;
  for (char c : text.substr(3, 2)) {
    value *= 16;
    if (c >= '0' && c <= '9') {
      value += c - '0';
    } else if (c >= 'A' && c <= 'F') {
      value += c - 'A' + 10;
    } else if (c >= 'a' && c <= 'f') {
      value += c - 'a' + 10;
    } else {
      return std::nullopt;
    }
  }
  return static_cast<uint8_t>(value);
}

// A symbol of the merge: a run of the stretch's bytes, in a linked list.
struct Symbol {
  size_t offset = 0;
  size_t length = 0;  // 0 once merged into its left neighbour
  int prev = -1;
  int next = -1;
};

// A candidate merge of symbols left and right into a piece of `score`.
struct Bigram {
  int left;
  int right;
  float score;
  size_t length;  // of the merged text, to detect a stale candidate
};

// Highest score first; on equal scores the leftmost, as llama.cpp orders them.
struct BigramOrder {
  bool operator()(const Bigram& a, const Bigram& b) const {
    return a.score < b.score || (a.score == b.score && a.left > b.left);
  }
};

Result<const std::vector<GgufValue>*> ArrayOf(const GgufFile& f, std::string_view key,
                                              GgufValueType element, bool required) {
  const GgufValue* v = f.Find(key);
  if (v == nullptr) {
    if (!required) return static_cast<const std::vector<GgufValue>*>(nullptr);
    return Status::InvalidArgument(f.path() + ": missing metadata " + std::string(key));
  }
  if (v->type != GgufValueType::kArray || v->element_type != element) {
    return Status::InvalidArgument(f.path() + ": metadata " + std::string(key) +
                                   " is not an array of the expected type");
  }
  return &v->array;
}

Result<std::optional<TokenId>> OptionalId(const GgufFile& f, std::string_view key) {
  if (f.Find(key) == nullptr) return std::optional<TokenId>();
  TIERKV_ASSIGN_OR_RETURN(uint64_t id, f.GetUint(key));
  return std::optional<TokenId>(static_cast<TokenId>(id));
}

Result<bool> OptionalBool(const GgufFile& f, std::string_view key, bool fallback) {
  const GgufValue* v = f.Find(key);
  if (v == nullptr) return fallback;
  if (const auto* b = std::get_if<bool>(&v->scalar)) return *b;
  return Status::InvalidArgument(f.path() + ": metadata " + std::string(key) + " is not a bool");
}

}  // namespace

void TokenizerSpec::WriteGguf(GgufWriter& w) const {
  std::vector<std::string> texts;
  std::vector<float> scores;
  std::vector<int32_t> types;
  for (const VocabPiece& p : pieces) {
    texts.push_back(p.text);
    scores.push_back(p.score);
    types.push_back(static_cast<int32_t>(p.type));
  }
  w.SetMetadata("tokenizer.ggml.model", GgufValue::Str(std::string(kTokenizerModel)));
  w.SetMetadata("tokenizer.ggml.tokens", GgufValue::StrArray(std::move(texts)));
  w.SetMetadata("tokenizer.ggml.scores", GgufValue::F32Array(scores));
  w.SetMetadata("tokenizer.ggml.token_type", GgufValue::I32Array(types));
  const std::pair<const char*, const std::optional<TokenId>*> ids[] = {
      {"tokenizer.ggml.unknown_token_id", &unk},
      {"tokenizer.ggml.bos_token_id", &bos},
      {"tokenizer.ggml.eos_token_id", &eos},
      {"tokenizer.ggml.padding_token_id", &pad},
  };
  for (const auto& [key, id] : ids) {
    if (id->has_value()) w.SetMetadata(key, GgufValue::U32(**id));
  }
  w.SetMetadata("tokenizer.ggml.add_space_prefix", GgufValue::Bool(add_space_prefix));
  w.SetMetadata("tokenizer.ggml.add_bos_token", GgufValue::Bool(add_bos));
  w.SetMetadata("tokenizer.ggml.add_eos_token", GgufValue::Bool(add_eos));
}

Result<Tokenizer> Tokenizer::FromGguf(const GgufFile& f) {
  auto model = f.GetString("tokenizer.ggml.model");
  if (!model.ok()) return model.status();
  if (*model != kTokenizerModel) {
    return Status::Unsupported(f.path() + ": tokenizer.ggml.model is \"" + *model +
                               "\"; only \"llama\" (SentencePiece) vocabularies are supported");
  }
  TIERKV_ASSIGN_OR_RETURN(const std::vector<GgufValue>* tokens,
                          ArrayOf(f, "tokenizer.ggml.tokens", GgufValueType::kString, true));
  TIERKV_ASSIGN_OR_RETURN(const std::vector<GgufValue>* scores,
                          ArrayOf(f, "tokenizer.ggml.scores", GgufValueType::kFloat32, false));
  TIERKV_ASSIGN_OR_RETURN(const std::vector<GgufValue>* types,
                          ArrayOf(f, "tokenizer.ggml.token_type", GgufValueType::kInt32, false));
  for (const auto* a : {scores, types}) {
    if (a != nullptr && a->size() != tokens->size()) {
      return Status::InvalidArgument(f.path() + ": tokenizer arrays differ in length (" +
                                     std::to_string(tokens->size()) + " tokens, " +
                                     std::to_string(a->size()) + " entries)");
    }
  }
  TokenizerSpec spec;
  spec.pieces.resize(tokens->size());
  for (size_t i = 0; i < tokens->size(); ++i) {
    VocabPiece& p = spec.pieces[i];
    p.text = std::get<std::string>((*tokens)[i].scalar);
    if (scores != nullptr) p.score = static_cast<float>(std::get<double>((*scores)[i].scalar));
    if (types != nullptr) p.type = static_cast<TokenType>(std::get<int64_t>((*types)[i].scalar));
  }
  TIERKV_ASSIGN_OR_RETURN(spec.unk, OptionalId(f, "tokenizer.ggml.unknown_token_id"));
  TIERKV_ASSIGN_OR_RETURN(spec.bos, OptionalId(f, "tokenizer.ggml.bos_token_id"));
  TIERKV_ASSIGN_OR_RETURN(spec.eos, OptionalId(f, "tokenizer.ggml.eos_token_id"));
  TIERKV_ASSIGN_OR_RETURN(spec.pad, OptionalId(f, "tokenizer.ggml.padding_token_id"));
  TIERKV_ASSIGN_OR_RETURN(spec.add_space_prefix,
                          OptionalBool(f, "tokenizer.ggml.add_space_prefix", true));
  TIERKV_ASSIGN_OR_RETURN(spec.add_bos, OptionalBool(f, "tokenizer.ggml.add_bos_token", true));
  TIERKV_ASSIGN_OR_RETURN(spec.add_eos, OptionalBool(f, "tokenizer.ggml.add_eos_token", false));
  auto tokenizer = Create(std::move(spec));
  if (!tokenizer.ok()) {
    return Status(tokenizer.status().code(),
                  f.path() + ": " + std::string(tokenizer.status().message()));
  }
  return tokenizer;
}

Result<Tokenizer> Tokenizer::Create(TokenizerSpec spec) {
  const auto n = static_cast<TokenId>(spec.pieces.size());
  if (n == 0) return Status::InvalidArgument("the tokenizer has no pieces");
  for (const auto& [name, id] : {std::pair{"unknown", spec.unk},
                                 {"bos", spec.bos},
                                 {"eos", spec.eos},
                                 {"padding", spec.pad}}) {
    if (id.has_value() && *id >= n) {
      return Status::InvalidArgument(std::string(name) + " token id " + std::to_string(*id) +
                                     " is outside the vocabulary of " + std::to_string(n));
    }
  }
  for (TokenId i = 0; i < n; ++i) {
    if (spec.pieces[i].text.empty()) {
      return Status::InvalidArgument("token " + std::to_string(i) + " is empty");
    }
  }
  return Tokenizer(std::move(spec));
}

Tokenizer::Tokenizer(TokenizerSpec spec) : spec_(std::move(spec)), byte_pieces_(kByteCount) {
  for (TokenId id = 0; id < static_cast<TokenId>(spec_.pieces.size()); ++id) {
    const VocabPiece& p = spec_.pieces[id];
    switch (p.type) {
      case TokenType::kNormal:
      case TokenType::kUnused:
        mergeable_.emplace(p.text, id);  // the first of duplicate texts wins
        break;
      case TokenType::kUserDefined:
        mergeable_.emplace(p.text, id);
        user_defined_.push_back(id);
        break;
      case TokenType::kByte:
        if (const auto b = BytePieceValue(p.text); b && !byte_pieces_[*b]) byte_pieces_[*b] = id;
        break;
      default:
        break;
    }
  }
  for (auto& b : byte_pieces_) {
    if (!b) b = spec_.unk;
  }
  std::stable_sort(user_defined_.begin(), user_defined_.end(), [&](TokenId a, TokenId b) {
    return spec_.pieces[a].text.size() > spec_.pieces[b].text.size();
  });
}

std::vector<TokenId> Tokenizer::Encode(std::string_view text, bool add_bos) const {
  std::vector<TokenId> out;
  if (add_bos && spec_.bos) out.push_back(*spec_.bos);
  // Fragments: a stretch of text, or a user-defined piece (text empty).
  struct Fragment {
    std::string_view text;
    std::optional<TokenId> piece;
  };
  std::list<Fragment> fragments;
  if (!text.empty()) fragments.push_back({text, std::nullopt});
  for (TokenId id : user_defined_) {
    const std::string& needle = spec_.pieces[id].text;
    for (auto it = fragments.begin(); it != fragments.end(); ++it) {
      if (it->piece) continue;
      const size_t at = it->text.find(needle);
      if (at == std::string_view::npos) continue;
      const std::string_view before = it->text.substr(0, at);
      const std::string_view after = it->text.substr(at + needle.size());
      if (!before.empty()) fragments.insert(it, {before, std::nullopt});
      *it = {{}, id};
      // The rest is searched next, as a fragment of its own.
      if (!after.empty()) it = std::prev(fragments.insert(std::next(it), {after, std::nullopt}));
    }
  }
  bool after_piece = true;  // the text's start counts as following one
  for (const Fragment& f : fragments) {
    if (f.piece) {
      out.push_back(*f.piece);
      after_piece = true;
      continue;
    }
    const bool prefix = spec_.add_space_prefix && after_piece;
    EncodeStretch(EscapeSpaces(prefix ? " " + std::string(f.text) : std::string(f.text)), out);
    after_piece = false;
  }
  return out;
}

void Tokenizer::EncodeStretch(std::string_view text, std::vector<TokenId>& out) const {
  std::vector<Symbol> symbols;
  for (size_t at = 0; at < text.size();) {
    Symbol s;
    s.offset = at;
    s.length = std::min(Utf8Length(text[at]), text.size() - at);
    at += s.length;
    s.prev = static_cast<int>(symbols.size()) - 1;
    s.next = at == text.size() ? -1 : static_cast<int>(symbols.size()) + 1;
    symbols.push_back(s);
  }
  std::priority_queue<Bigram, std::vector<Bigram>, BigramOrder> queue;
  std::string scratch;
  auto try_merge = [&](int left, int right) {
    if (left < 0 || right < 0) return;
    const std::string_view merged =
        text.substr(symbols[left].offset, symbols[left].length + symbols[right].length);
    scratch.assign(merged);
    const auto it = mergeable_.find(scratch);
    if (it == mergeable_.end()) return;
    queue.push({left, right, spec_.pieces[it->second].score, merged.size()});
  };
  for (int i = 1; i < static_cast<int>(symbols.size()); ++i) try_merge(i - 1, i);
  while (!queue.empty()) {
    const Bigram b = queue.top();
    queue.pop();
    Symbol& left = symbols[b.left];
    Symbol& right = symbols[b.right];
    if (left.length == 0 || right.length == 0 || left.length + right.length != b.length) continue;
    left.length += right.length;
    right.length = 0;
    left.next = right.next;
    if (right.next >= 0) symbols[right.next].prev = b.left;
    try_merge(left.prev, b.left);
    try_merge(b.left, left.next);
  }
  for (int i = symbols.empty() ? -1 : 0; i != -1; i = symbols[i].next) {
    const std::string_view piece = text.substr(symbols[i].offset, symbols[i].length);
    scratch.assign(piece);
    const auto it = mergeable_.find(scratch);
    if (it != mergeable_.end()) {
      out.push_back(it->second);
    } else {
      AppendBytes(piece, out);
    }
  }
}

void Tokenizer::AppendBytes(std::string_view text, std::vector<TokenId>& out) const {
  for (char c : text) {
    if (const auto& id = byte_pieces_[static_cast<uint8_t>(c)]) out.push_back(*id);
  }
}

std::string Tokenizer::Piece(TokenId id) const {
  if (id >= static_cast<TokenId>(spec_.pieces.size())) return "";
  const VocabPiece& p = spec_.pieces[id];
  switch (p.type) {
    case TokenType::kNormal:
      return UnescapeSpaces(p.text);
    case TokenType::kUserDefined:
      return p.text;
    case TokenType::kByte:
      if (const auto b = BytePieceValue(p.text)) return std::string(1, static_cast<char>(*b));
      return "";
    default:
      return "";
  }
}

Result<std::string> Tokenizer::Decode(std::span<const TokenId> ids) const {
  std::string out;
  bool strip_space = spec_.add_space_prefix;
  for (TokenId id : ids) {
    if (id >= static_cast<TokenId>(spec_.pieces.size())) {
      return Status::InvalidArgument("token " + std::to_string(id) +
                                     " is outside the vocabulary of " + std::to_string(size()));
    }
    std::string piece = Piece(id);
    if (strip_space && !piece.empty() && piece[0] == ' ') piece.erase(0, 1);
    strip_space = false;
    out += piece;
  }
  return out;
}

}  // namespace tierkv::core
