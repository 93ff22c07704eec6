// tierkv's tokenizer against Debian's python3-sentencepiece on a corpus of a
// few thousand lines of this repository's own text: a SentencePiece model is
// trained on it (tokenizer_spm_reference.py), imported with tierkv-mkmodel
// --tokenizer, and every line must encode to the same ids and decode back to
// itself, in process and through tierkv-engine tokenize / detokenize.
#include <gtest/gtest.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "core/engine_text.h"
#include "core/tokenizer.h"

namespace tierkv::core {
namespace {

namespace fs = std::filesystem;

constexpr size_t kCorpusLines = 4000;
constexpr int kVocabSize = 1000;
constexpr const char* kPython = "/usr/bin/python3";  // Debian's, with python3-sentencepiece

std::string Bin(const std::string& name) {
  const char* dir = std::getenv("TIERKV_BIN_DIR");
  return std::string(dir ? dir : "build/bin") + "/" + name;
}

int Shell(const std::string& cmd) {
  const int status = std::system(cmd.c_str());
  return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

std::vector<std::string> ReadLines(const std::string& path) {
  std::vector<std::string> lines;
  std::ifstream in(path, std::ios::binary);
  for (std::string line; std::getline(in, line);) lines.push_back(line);
  return lines;
}

// Every non-blank line of the docs and the core and kernels sources, up to
// kCorpusLines, and a few lines for byte fallback, spacing and special-looking text.
std::vector<std::string> Corpus() {
  const fs::path root = TIERKV_SOURCE_DIR;
  std::vector<fs::path> files;
  for (const char* dir : {"docs", "core", "kernels"}) {
    for (const auto& e : fs::directory_iterator(root / dir)) {
      const std::string ext = e.path().extension().string();
      if (ext == ".md" || ext == ".h" || ext == ".cc") files.push_back(e.path());
    }
  }
  std::sort(files.begin(), files.end());
  std::vector<std::string> lines = {
      "na\xc3\xafve caf\xc3\xa9 \xe2\x80\x94 \xe6\x9d\xb1\xe4\xba\xac \xf0\x9f\x9a\x80",
      "  two leading spaces, two trailing  ",
      "\ttabs\tbetween\twords",
      "<s> and </s> and <0x41> spelled out",
      "",
  };
  for (const fs::path& f : files) {
    for (std::string& line : ReadLines(f.string())) {
      if (line.find_first_not_of(" \t\r") == std::string::npos ||
          line.find('\r') != std::string::npos) {
        continue;
      }
      if (lines.size() == kCorpusLines) return lines;
      lines.push_back(std::move(line));
    }
  }
  return lines;
}

class TokenizerSpmTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() / ("tokenizer_spm_test." + std::to_string(::getpid()));
    fs::create_directories(dir_);
    lines_ = Corpus();
    std::ofstream out(Path("corpus.txt"), std::ios::binary);
    for (const std::string& l : lines_) out << l << '\n';
  }
  void TearDown() override { fs::remove_all(dir_); }
  std::string Path(const std::string& name) const { return (dir_ / name).string(); }

  fs::path dir_;
  std::vector<std::string> lines_;
};

TEST_F(TokenizerSpmTest, EncodeAndDecodeEqualSentencePieceOnEveryLine) {
  ASSERT_GE(lines_.size(), kCorpusLines / 2);
  const std::string script = std::string(TIERKV_SOURCE_DIR) + "/core/tokenizer_spm_reference.py";
  ASSERT_EQ(Shell(std::string(kPython) + " " + script + " " + Path("corpus.txt") + " " +
                  dir_.string() + " " + std::to_string(kVocabSize)),
            0)
      << "python3-sentencepiece missing? (scripts/install-deps.sh installs it)";
  ASSERT_EQ(Shell(Bin("tierkv-mkmodel") + " --tokenizer " + Path("spm.model") + " --out " +
                  Path("m.gguf") + " > /dev/null"),
            0);
  const std::vector<std::string> want_ids = ReadLines(Path("ids.txt"));
  const std::vector<std::string> sp_decoded = ReadLines(Path("decoded.txt"));
  ASSERT_EQ(want_ids.size(), lines_.size());

  auto tokenizer = LoadTokenizer(Path("m.gguf"));
  ASSERT_TRUE(tokenizer.ok()) << tokenizer.status().ToString();
  EXPECT_EQ(tokenizer->size(), kVocabSize);
  int mismatches = 0, byte_fallbacks = 0;
  for (size_t i = 0; i < lines_.size(); ++i) {
    const std::vector<TokenId> ids = tokenizer->Encode(lines_[i], /*add_bos=*/false);
    for (TokenId t : ids) byte_fallbacks += tokenizer->spec().pieces[t].type == TokenType::kByte;
    if (JoinTokenIds(ids) != want_ids[i] && ++mismatches <= 5) {
      ADD_FAILURE() << "line " << i << " \"" << lines_[i]
                    << "\"\n  ours:          " << JoinTokenIds(ids)
                    << "\n  sentencepiece: " << want_ids[i];
    }
    EXPECT_EQ(*tokenizer->Decode(ids), lines_[i]) << "line " << i;
    EXPECT_EQ(sp_decoded[i], lines_[i]) << "line " << i;
  }
  EXPECT_EQ(mismatches, 0) << "of " << lines_.size() << " lines";
  EXPECT_GT(byte_fallbacks, 0);  // the rare characters went through byte pieces

  // The same through the command line, one line per input line both ways.
  ASSERT_EQ(Shell(Bin("tierkv-engine") + " tokenize --model " + Path("m.gguf") + " --file " +
                  Path("corpus.txt") + " > " + Path("ours_ids.txt")),
            0);
  EXPECT_EQ(ReadLines(Path("ours_ids.txt")), want_ids);
  ASSERT_EQ(Shell(Bin("tierkv-engine") + " detokenize --model " + Path("m.gguf") + " --file " +
                  Path("ids.txt") + " > " + Path("ours_text.txt")),
            0);
  EXPECT_EQ(ReadLines(Path("ours_text.txt")), lines_);
}

}  // namespace
}  // namespace tierkv::core
