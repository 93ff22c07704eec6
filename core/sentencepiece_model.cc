#include "core/sentencepiece_model.h"

#include <cstring>
#include <fstream>
#include <iterator>
#include <vector>

namespace tierkv::core {
namespace {

// Field numbers of sentencepiece_model.proto.
constexpr uint32_t kModelPieces = 1;
constexpr uint32_t kModelTrainerSpec = 2;
constexpr uint32_t kModelNormalizerSpec = 3;
constexpr uint32_t kPieceText = 1;
constexpr uint32_t kPieceScore = 2;
constexpr uint32_t kPieceType = 3;
constexpr uint32_t kTrainerModelType = 3;
constexpr uint32_t kTrainerTreatWhitespaceAsSuffix = 24;
constexpr uint32_t kTrainerByteFallback = 35;
constexpr uint32_t kTrainerUnkId = 40;
constexpr uint32_t kTrainerBosId = 41;
constexpr uint32_t kTrainerEosId = 42;
constexpr uint32_t kTrainerPadId = 43;
constexpr uint32_t kNormalizerName = 1;
constexpr uint32_t kNormalizerCharsmap = 2;
constexpr uint32_t kNormalizerAddDummyPrefix = 3;
constexpr uint32_t kNormalizerRemoveExtraWhitespaces = 4;
constexpr uint32_t kNormalizerEscapeWhitespaces = 5;

constexpr int64_t kModelTypeUnigram = 1;  // the proto's default
constexpr int64_t kModelTypeBpe = 2;

// Protocol buffer wire types.
enum WireType : uint32_t { kVarint = 0, kFixed64 = 1, kLengthDelimited = 2, kFixed32 = 5 };

constexpr int kMaxVarintBytes = 10;

// A bounds-checked reader of one message's fields; the first malformed byte
// poisons it (ok() false) and every read after returns zeros.
class WireReader {
 public:
  explicit WireReader(std::span<const std::byte> bytes) : bytes_(bytes) {}

  bool ok() const { return ok_; }
  bool done() const { return !ok_ || pos_ == bytes_.size(); }

  // The next field's number and wire type; false at the end or on damage.
  bool Next(uint32_t* field, uint32_t* wire) {
    if (done()) return false;
    const uint64_t key = Varint();
    *field = static_cast<uint32_t>(key >> 3);
    *wire = static_cast<uint32_t>(key & 7);
    if (*field == 0) ok_ = false;
    return ok_;
  }

  uint64_t Varint() {
    uint64_t v = 0;
    for (int i = 0; i < kMaxVarintBytes; ++i) {
      if (pos_ >= bytes_.size()) break;
      const auto b = static_cast<uint8_t>(bytes_[pos_++]);
      v |= static_cast<uint64_t>(b & 0x7f) << (7 * i);
      if ((b & 0x80) == 0) return v;
    }
    ok_ = false;
    return 0;
  }

  float Fixed32Float() {
    if (bytes_.size() - pos_ < 4) {
      ok_ = false;
      return 0;
    }
    float f;
    std::memcpy(&f, bytes_.data() + pos_, 4);
    pos_ += 4;
    return f;
  }

  std::span<const std::byte> LengthDelimited() {
    const uint64_t n = Varint();
    if (!ok_ || n > bytes_.size() - pos_) {
      ok_ = false;
      return {};
    }
    const auto out = bytes_.subspan(pos_, n);
    pos_ += n;
    return out;
  }

  void Skip(uint32_t wire) {
    switch (wire) {
      case kVarint:
        Varint();
        return;
      case kFixed64:
        Advance(8);
        return;
      case kLengthDelimited:
        LengthDelimited();
        return;
      case kFixed32:
        Advance(4);
        return;
      default:
        ok_ = false;  // groups (3, 4) and undefined types
    }
  }

  // A field of the expected wire type, or damage.
  bool Expect(uint32_t wire, uint32_t expected) {
    if (wire != expected) ok_ = false;
    return ok_;
  }

 private:
  void Advance(size_t n) {
    if (bytes_.size() - pos_ < n) {
      ok_ = false;
      return;
    }
    pos_ += n;
  }

  std::span<const std::byte> bytes_;
  size_t pos_ = 0;
  bool ok_ = true;
};

std::string AsString(std::span<const std::byte> b) {
  return std::string(reinterpret_cast<const char*>(b.data()), b.size());
}

struct TrainerSettings {
  int64_t model_type = kModelTypeUnigram;
  bool byte_fallback = false;
  bool whitespace_as_suffix = false;
  int64_t unk_id = 0, bos_id = 1, eos_id = 2, pad_id = -1;
};

struct NormalizerSettings {
  std::string name;
  bool has_charsmap = false;
  bool add_dummy_prefix = true;
  bool remove_extra_whitespaces = true;
  bool escape_whitespaces = true;
};

Status Damaged(std::string_view what) {
  return Status::Corruption("not a SentencePiece model: malformed " + std::string(what));
}

Status ParsePiece(std::span<const std::byte> bytes, VocabPiece* out) {
  WireReader r(bytes);
  uint32_t field, wire;
  while (r.Next(&field, &wire)) {
    if (field == kPieceText && r.Expect(wire, kLengthDelimited)) {
      out->text = AsString(r.LengthDelimited());
    } else if (field == kPieceScore && r.Expect(wire, kFixed32)) {
      out->score = r.Fixed32Float();
    } else if (field == kPieceType && r.Expect(wire, kVarint)) {
      out->type = static_cast<TokenType>(r.Varint());
    } else {
      r.Skip(wire);
    }
  }
  return r.ok() ? Status::Ok() : Damaged("piece");
}

Status ParseTrainer(std::span<const std::byte> bytes, TrainerSettings* out) {
  WireReader r(bytes);
  uint32_t field, wire;
  while (r.Next(&field, &wire)) {
    int64_t* id = field == kTrainerUnkId   ? &out->unk_id
                  : field == kTrainerBosId ? &out->bos_id
                  : field == kTrainerEosId ? &out->eos_id
                  : field == kTrainerPadId ? &out->pad_id
                                           : nullptr;
    if (id != nullptr && r.Expect(wire, kVarint)) {
      *id = static_cast<int32_t>(r.Varint());  // int32: negatives travel as 64-bit varints
    } else if (field == kTrainerModelType && r.Expect(wire, kVarint)) {
      out->model_type = static_cast<int64_t>(r.Varint());
    } else if (field == kTrainerByteFallback && r.Expect(wire, kVarint)) {
      out->byte_fallback = r.Varint() != 0;
    } else if (field == kTrainerTreatWhitespaceAsSuffix && r.Expect(wire, kVarint)) {
      out->whitespace_as_suffix = r.Varint() != 0;
    } else {
      r.Skip(wire);
    }
  }
  return r.ok() ? Status::Ok() : Damaged("trainer_spec");
}

Status ParseNormalizer(std::span<const std::byte> bytes, NormalizerSettings* out) {
  WireReader r(bytes);
  uint32_t field, wire;
  while (r.Next(&field, &wire)) {
    if (field == kNormalizerName && r.Expect(wire, kLengthDelimited)) {
      out->name = AsString(r.LengthDelimited());
    } else if (field == kNormalizerCharsmap && r.Expect(wire, kLengthDelimited)) {
      out->has_charsmap = !r.LengthDelimited().empty();
    } else if (field == kNormalizerAddDummyPrefix && r.Expect(wire, kVarint)) {
      out->add_dummy_prefix = r.Varint() != 0;
    } else if (field == kNormalizerRemoveExtraWhitespaces && r.Expect(wire, kVarint)) {
      out->remove_extra_whitespaces = r.Varint() != 0;
    } else if (field == kNormalizerEscapeWhitespaces && r.Expect(wire, kVarint)) {
      out->escape_whitespaces = r.Varint() != 0;
    } else {
      r.Skip(wire);
    }
  }
  return r.ok() ? Status::Ok() : Damaged("normalizer_spec");
}

Result<std::optional<TokenId>> SpecialId(int64_t id, size_t n_pieces, std::string_view name) {
  if (id < 0) return std::optional<TokenId>();
  if (static_cast<uint64_t>(id) >= n_pieces) {
    return Status::Corruption("SentencePiece model: " + std::string(name) + " " +
                              std::to_string(id) + " is outside its " + std::to_string(n_pieces) +
                              " pieces");
  }
  return std::optional<TokenId>(static_cast<TokenId>(id));
}

}  // namespace

Result<TokenizerSpec> ParseSentencePieceModel(std::span<const std::byte> bytes) {
  TokenizerSpec spec;
  TrainerSettings trainer;
  NormalizerSettings normalizer;
  WireReader r(bytes);
  uint32_t field, wire;
  while (r.Next(&field, &wire)) {
    if (field == kModelPieces && r.Expect(wire, kLengthDelimited)) {
      TIERKV_RETURN_IF_ERROR(ParsePiece(r.LengthDelimited(), &spec.pieces.emplace_back()));
    } else if (field == kModelTrainerSpec && r.Expect(wire, kLengthDelimited)) {
      TIERKV_RETURN_IF_ERROR(ParseTrainer(r.LengthDelimited(), &trainer));
    } else if (field == kModelNormalizerSpec && r.Expect(wire, kLengthDelimited)) {
      TIERKV_RETURN_IF_ERROR(ParseNormalizer(r.LengthDelimited(), &normalizer));
    } else {
      r.Skip(wire);
    }
  }
  if (!r.ok()) return Damaged("ModelProto");
  if (spec.pieces.empty()) return Status::Corruption("not a SentencePiece model: no pieces");

  auto refuse = [](const std::string& what) {
    return Status::Unsupported("SentencePiece model " + what +
                               ": only models encoded as llama.cpp's llama tokenizer encodes "
                               "them are supported (BPE, byte fallback, identity normalization, "
                               "extra whitespace kept, whitespace as prefix)");
  };
  if (trainer.model_type != kModelTypeBpe) {
    return refuse(trainer.model_type == kModelTypeUnigram
                      ? std::string("is a unigram model")
                      : "has model type " + std::to_string(trainer.model_type));
  }
  if (!trainer.byte_fallback) return refuse("has no byte fallback");
  if (trainer.whitespace_as_suffix) return refuse("treats whitespace as a suffix");
  if ((!normalizer.name.empty() && normalizer.name != "identity") || normalizer.has_charsmap) {
    return refuse("normalizes its input (\"" + normalizer.name + "\")");
  }
  if (normalizer.remove_extra_whitespaces) return refuse("removes extra whitespace");
  if (!normalizer.escape_whitespaces) return refuse("does not escape whitespace");

  TIERKV_ASSIGN_OR_RETURN(spec.unk, SpecialId(trainer.unk_id, spec.pieces.size(), "unk_id"));
  TIERKV_ASSIGN_OR_RETURN(spec.bos, SpecialId(trainer.bos_id, spec.pieces.size(), "bos_id"));
  TIERKV_ASSIGN_OR_RETURN(spec.eos, SpecialId(trainer.eos_id, spec.pieces.size(), "eos_id"));
  TIERKV_ASSIGN_OR_RETURN(spec.pad, SpecialId(trainer.pad_id, spec.pieces.size(), "pad_id"));
  spec.add_space_prefix = normalizer.add_dummy_prefix;
  spec.add_bos = true;
  spec.add_eos = false;
  return spec;
}

Result<TokenizerSpec> ReadSentencePieceModel(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return Status::NotFound(path + ": cannot read the SentencePiece model");
  const std::vector<char> raw((std::istreambuf_iterator<char>(in)),
                              std::istreambuf_iterator<char>());
  auto spec = ParseSentencePieceModel(std::as_bytes(std::span(raw)));
  if (!spec.ok())
    return Status(spec.status().code(), path + ": " + std::string(spec.status().message()));
  return spec;
}

}  // namespace tierkv::core
