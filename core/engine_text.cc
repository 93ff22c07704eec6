#include "core/engine_text.h"

#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <iterator>
#include <nlohmann/json.hpp>
#include <sstream>

#include "core/gguf_reader.h"

namespace tierkv::core {
namespace {

int Fail(const Status& s) {
  std::fprintf(stderr, "tierkv-engine: %s\n", s.ToString().c_str());
  return 1;
}

// The input's lines: a final newline ends the last line rather than opening
// an empty one; "\r\n" counts as one line end.
std::vector<std::string> Lines(const std::string& text) {
  std::vector<std::string> lines;
  std::istringstream in(text);
  for (std::string line; std::getline(in, line);) {
    if (!line.empty() && line.back() == '\r') line.pop_back();
    lines.push_back(std::move(line));
  }
  return lines;
}

// Writes every byte (text may hold NULs), then a newline.
void PrintLine(const std::string& line) {
  std::fwrite(line.data(), 1, line.size(), stdout);
  std::fputc('\n', stdout);
}

Result<std::string> Input(const TextCommandFlags& f) {
  if (f.file.empty()) return f.text;
  return ReadTextFile(f.file);
}

}  // namespace

Result<Tokenizer> LoadTokenizer(const std::string& path) {
  TIERKV_ASSIGN_OR_RETURN(std::unique_ptr<GgufFile> file, GgufFile::Open(path));
  return Tokenizer::FromGguf(*file);
}

Result<std::vector<TokenId>> ParseTokenIds(const std::string& text) {
  std::vector<TokenId> out;
  std::string normalized = text;
  for (char& ch : normalized) {
    if (ch == ',' || ch == '\n' || ch == '\t' || ch == '\r') ch = ' ';
  }
  std::istringstream in(normalized);
  std::string word;
  while (in >> word) {
    char* end = nullptr;
    const unsigned long v = std::strtoul(word.c_str(), &end, 10);
    if (end == word.c_str() || *end != '\0' || v > UINT32_MAX) {
      return Status::InvalidArgument("not a token id: \"" + word + "\"");
    }
    out.push_back(static_cast<TokenId>(v));
  }
  return out;
}

std::string JoinTokenIds(const std::vector<TokenId>& ids) {
  std::string out;
  for (TokenId t : ids) out += (out.empty() ? "" : ",") + std::to_string(t);
  return out;
}

Result<std::string> ReadTextFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return Status::NotFound("cannot read " + path);
  return std::string(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
}

int RunTokenize(const TextCommandFlags& f) {
  auto tokenizer = LoadTokenizer(f.model);
  if (!tokenizer.ok()) return Fail(tokenizer.status());
  auto input = Input(f);
  if (!input.ok()) return Fail(input.status());
  for (const std::string& line : Lines(*input)) {
    const std::vector<TokenId> ids = tokenizer->Encode(line, f.bos);
    PrintLine(f.json ? nlohmann::json(ids).dump() : JoinTokenIds(ids));
  }
  return 0;
}

int RunDetokenize(const TextCommandFlags& f) {
  auto tokenizer = LoadTokenizer(f.model);
  if (!tokenizer.ok()) return Fail(tokenizer.status());
  auto input = Input(f);
  if (!input.ok()) return Fail(input.status());
  for (const std::string& line : Lines(*input)) {
    auto ids = ParseTokenIds(line);
    if (!ids.ok()) return Fail(ids.status());
    auto text = tokenizer->Decode(*ids);
    if (!text.ok()) return Fail(text.status());
    // Invalid UTF-8 (a sequence cut between byte pieces) is replaced in JSON, kept raw otherwise.
    PrintLine(f.json ? nlohmann::json(*text).dump(-1, ' ', false,
                                                  nlohmann::json::error_handler_t::replace)
                     : *text);
  }
  return 0;
}

}  // namespace tierkv::core
