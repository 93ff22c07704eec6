// Fuzzes the SentencePiece model reader (tierkv-mkmodel --tokenizer) and the
// tokenizer built from what it accepts: any bytes must give a model or a
// clear error, and an accepted model must encode and decode text, never crash.
#include <cstddef>
#include <cstdint>
#include <span>
#include <string>

#include "core/sentencepiece_model.h"
#include "core/tokenizer.h"

// Where the results go, so the compiler cannot drop the work.
volatile size_t g_sink = 0;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  auto spec = tierkv::core::ParseSentencePieceModel(
      std::as_bytes(std::span(reinterpret_cast<const char*>(data), size)));
  if (!spec.ok()) return 0;
  auto tokenizer = tierkv::core::Tokenizer::Create(std::move(spec).value());
  if (!tokenizer.ok()) return 0;
  // Text from the input's own bytes as well: any piece text may appear in it.
  const std::string text = "Hello, w\xc3\xb6rld  <s> \xf0\x9f\x9a\x80 " +
                           std::string(reinterpret_cast<const char*>(data), size < 64 ? size : 64);
  const auto ids = tokenizer->Encode(text, /*add_bos=*/true);
  auto back = tokenizer->Decode(ids);
  g_sink = ids.size() + (back.ok() ? back->size() : 0);
  return 0;
}
