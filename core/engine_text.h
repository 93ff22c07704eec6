// Text in and out of tierkv-engine: the tokenize and detokenize commands and
// generate's text prompts, over the model file's own tokenizer (tokenizer.h).
//
//   tierkv-engine tokenize --model M (--text TEXT | --file F) [--bos] [--json]
//       one line of comma-separated ids (--json: a JSON array) per input line
//   tierkv-engine detokenize --model M (--ids IDS | --file F) [--json]
//       one line of text (--json: a JSON string) per input line of ids
#pragma once

#include <string>
#include <vector>

#include "core/tokenizer.h"
#include "tierkv/keys.h"
#include "tierkv/status.h"

namespace tierkv::core {

// The tokenizer of the GGUF at `path`, read without loading its weights.
Result<Tokenizer> LoadTokenizer(const std::string& path);

// Ids from "1,2,3" or "1 2 3" (commas, spaces, tabs or newlines between).
Result<std::vector<TokenId>> ParseTokenIds(const std::string& text);
std::string JoinTokenIds(const std::vector<TokenId>& ids);

// The whole of file `path`; NotFound naming it when it cannot be read.
Result<std::string> ReadTextFile(const std::string& path);

struct TextCommandFlags {
  std::string model;
  std::string text;  // --text, or --ids for detokenize
  std::string file;
  bool bos = false;
  bool json = false;
};

// Each returns the process exit code, having printed the result or the error.
int RunTokenize(const TextCommandFlags& flags);
int RunDetokenize(const TextCommandFlags& flags);

}  // namespace tierkv::core
