// Reads a SentencePiece model file (`.model`: a serialized ModelProto, the
// protocol buffer of sentencepiece_model.proto) into a TokenizerSpec, so that
// tierkv-mkmodel --tokenizer can give a GGUF a real vocabulary.
//
// What is read: every piece (text, score, type), trainer_spec's model type,
// byte_fallback, treat_whitespace_as_suffix and unk/bos/eos/pad ids, and
// normalizer_spec's name, precompiled_charsmap, add_dummy_prefix and
// remove_extra_whitespaces. Unknown fields are skipped, as protobuf does.
//
// Only models that Tokenizer encodes as SentencePiece itself does are taken,
// which is how Llama's tokenizer.model is built: BPE, byte fallback, no
// normalization (the identity rule, no precompiled map), extra whitespace
// kept, whitespace as a prefix. Anything else is Unsupported, naming the
// setting; bytes that are not a ModelProto are Corruption.
#pragma once

#include <cstddef>
#include <span>
#include <string>

#include "core/tokenizer.h"
#include "tierkv/status.h"

namespace tierkv::core {

Result<TokenizerSpec> ParseSentencePieceModel(std::span<const std::byte> bytes);
// Errors start with the path.
Result<TokenizerSpec> ReadSentencePieceModel(const std::string& path);

}  // namespace tierkv::core
