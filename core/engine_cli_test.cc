// The command-line tools end to end: tierkv-mkmodel writes a model that
// tierkv-engine loads; generate --json prints the documented fields.
#include <gtest/gtest.h>
#include <unistd.h>

#include <array>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <string>

#include "kernels/blas_setup.h"
#include "kernels/matvec_f16_ref.h"

#if TIERKV_HAVE_CUDA
#include "kernels/cuda_util.h"
#endif

namespace tierkv::core {
namespace {

std::string Bin(const std::string& name) {
  const char* dir = std::getenv("TIERKV_BIN_DIR");
  return std::string(dir ? dir : "build/bin") + "/" + name;
}

// Runs `cmd`, returns its stdout (and its stderr too when `with_stderr`) and
// sets `rc` to its exit status.
std::string Shell(const std::string& cmd, int* rc, bool with_stderr = false) {
  std::string out;
  FILE* p = ::popen((cmd + (with_stderr ? " 2>&1" : " 2>/dev/null")).c_str(), "r");
  if (p == nullptr) return out;
  std::array<char, 4096> buf;
  size_t n;
  while ((n = std::fread(buf.data(), 1, buf.size(), p)) > 0) out.append(buf.data(), n);
  const int status = ::pclose(p);
  *rc = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  return out;
}

class EngineCliTest : public ::testing::Test {
 protected:
  void SetUp() override {
    model_ = (std::filesystem::temp_directory_path() /
              ("engine_cli_test." + std::to_string(::getpid()) + ".gguf"))
                 .string();
  }
  void TearDown() override { std::filesystem::remove(model_); }
  std::string model_;
};

// --version names the kernels this CPU gets, with no environment variable:
// the same choice the process makes for itself.
TEST_F(EngineCliTest, VersionNamesTheChosenKernels) {
  int rc = -1;
  const std::string out =
      Shell("env -u OPENBLAS_CORETYPE " + Bin("tierkv-engine") + " --version", &rc);
  EXPECT_EQ(rc, 0) << out;
  const std::string matvec(
      kernels::MatVecPathName(kernels::BestMatVecPath(kernels::HostCpuFeatures())));
  EXPECT_NE(out.find("matvec " + matvec), std::string::npos) << out;
  const std::string_view core = kernels::OpenBlasCoreFor(kernels::HostCpuFeatures());
  if (!core.empty()) {
    EXPECT_NE(out.find("sgemm OpenBLAS " + std::string(core)), std::string::npos) << out;
  }
}

TEST_F(EngineCliTest, MkmodelThenGenerateJson) {
  int rc = -1;
  Shell(Bin("tierkv-mkmodel") + " --help", &rc);
  EXPECT_EQ(rc, 0);
  Shell(Bin("tierkv-mkmodel") + " --layers 2 --dim 32 --heads 4 --kv-heads 2 --ffn 48 --vocab 300" +
            " --context 128 --dtype bf16 --seed 3 --out " + model_,
        &rc);
  ASSERT_EQ(rc, 0);
  const std::string gen = Bin("tierkv-engine") + " generate --model " + model_ +
                          " --prompt-tokens 5,6,7,8,9 --max-new-tokens 4 --no-cache --json";
  const std::string out = Shell(gen, &rc);
  ASSERT_EQ(rc, 0) << out;
  const auto j = nlohmann::json::parse(out, nullptr, /*allow_exceptions=*/false);
  ASSERT_FALSE(j.is_discarded()) << out;
  EXPECT_EQ(j["tokens"].size(), 4u);
  EXPECT_EQ(j["cached_tokens"], 0);
  EXPECT_EQ(j["prefill_tokens"], 5);
  EXPECT_TRUE(j.contains("ttft_ms"));
  EXPECT_TRUE(j.contains("decode_tokens_per_s"));
  // Greedy is deterministic, and an unreachable daemon only costs a warning.
  const std::string again = Shell(Bin("tierkv-engine") + " generate --model " + model_ +
                                      " --prompt-tokens 5,6,7,8,9 --max-new-tokens 4 --json" +
                                      " --socket /nonexistent/tierkv.sock",
                                  &rc);
  ASSERT_EQ(rc, 0) << again;
  EXPECT_EQ(nlohmann::json::parse(again)["tokens"], j["tokens"]);
  // Bad input: a clear error and a failing exit status.
  Shell(Bin("tierkv-engine") + " generate --model " + model_ + " --prompt-tokens 5,x", &rc);
  EXPECT_NE(rc, 0);
  Shell(Bin("tierkv-engine") + " generate --model /nonexistent.gguf --prompt-tokens 5", &rc);
  EXPECT_NE(rc, 0);
}

// --device cuda runs where there is a GPU and otherwise fails with the
// reason, for one prompt and for the benchmark alike. Which of the two is
// expected is decided by asking CUDA here, so neither passes for the other.
TEST_F(EngineCliTest, CudaDeviceRunsOrSaysWhyNot) {
  int rc = -1;
  // head_dim 32: the smallest the CUDA attention kernels take.
  Shell(Bin("tierkv-mkmodel") + " --layers 2 --dim 128 --heads 4 --kv-heads 2 --ffn 192" +
            " --vocab 300 --context 256 --dtype f32 --seed 3 --out " + model_,
        &rc);
  ASSERT_EQ(rc, 0);
  const std::string generate = Bin("tierkv-engine") + " generate --device cuda --model " + model_ +
                               " --prompt-tokens 5,6,7,8,9 --max-new-tokens 4 --no-cache";
  const std::string bench = Bin("tierkv-engine") + " bench --device cuda --json --model " + model_ +
                            " --system-tokens 40 --conversations 2 --turns 2" +
                            " --user-tokens 8 --answer-tokens 4 --no-cache";
#if TIERKV_HAVE_CUDA
  const bool device = kernels::CudaDeviceCount().ok();
  const std::string why_not = "tierkv-engine: unavailable: no CUDA device: ";
#else
  const bool device = false;
  const std::string why_not = "tierkv-engine: unsupported: --device cuda: this build has no CUDA";
#endif
  for (const auto& [cmd, ran] : {std::pair{generate, "tokens: "}, std::pair{bench, "\"warm\""}}) {
    const std::string out = Shell(cmd, &rc, /*with_stderr=*/true);
    if (device) {
      EXPECT_EQ(rc, 0) << "a CUDA device is present\n" << cmd << "\n" << out;
      EXPECT_NE(out.find(ran), std::string::npos) << cmd << "\n" << out;
    } else {
      EXPECT_EQ(rc, 1) << cmd << "\n" << out;
      EXPECT_NE(out.find(why_not), std::string::npos) << cmd << "\n" << out;
    }
  }
}

TEST_F(EngineCliTest, TextPromptsTokenizeAndDetokenize) {
  int rc = -1;
  Shell(Bin("tierkv-mkmodel") + " --layers 1 --dim 32 --heads 4 --kv-heads 2 --ffn 48 --vocab 300" +
            " --context 128 --dtype q8_0 --seed 4 --out " + model_,
        &rc);
  ASSERT_EQ(rc, 0);
  // Two input lines, two output lines. The random model's vocabulary spells
  // text as byte pieces (id 3 + byte), the escaped space prefix U+2581 too.
  const std::string lines = model_ + ".txt";
  std::ofstream(lines) << "hi\nyo\n";
  const std::string tok = Bin("tierkv-engine") + " tokenize --model " + model_;
  EXPECT_EQ(Shell(tok + " --file " + lines, &rc), "229,153,132,107,108\n229,153,132,124,114\n");
  EXPECT_EQ(rc, 0);
  EXPECT_EQ(Shell(tok + " --text hi --bos --json", &rc), "[1,229,153,132,107,108]\n");
  std::ofstream(lines) << "107,108\n124 114\n1\n";
  const std::string detok = Bin("tierkv-engine") + " detokenize --model " + model_;
  EXPECT_EQ(Shell(detok + " --file " + lines, &rc), "hi\nyo\n\n");
  EXPECT_EQ(rc, 0);
  EXPECT_EQ(Shell(detok + " --ids 107,108 --json", &rc), "\"hi\"\n");
  Shell(detok + " --ids 107,99999", &rc);
  EXPECT_NE(rc, 0);  // outside the vocabulary
  std::filesystem::remove(lines);

  // A text prompt is its ids with BOS: the same generation, now with its text.
  const std::string gen = Bin("tierkv-engine") + " generate --model " + model_ +
                          " --max-new-tokens 3 --no-cache --json";
  const std::string by_text = Shell(gen + " --prompt hi", &rc);
  ASSERT_EQ(rc, 0) << by_text;
  const std::string by_ids = Shell(gen + " --prompt-tokens 1,229,153,132,107,108", &rc);
  ASSERT_EQ(rc, 0) << by_ids;
  const auto a = nlohmann::json::parse(by_text, nullptr, false);
  const auto b = nlohmann::json::parse(by_ids, nullptr, false);
  ASSERT_FALSE(a.is_discarded() || b.is_discarded()) << by_text << by_ids;
  EXPECT_EQ(a["tokens"], b["tokens"]);
  ASSERT_TRUE(a["text"].is_string());
  EXPECT_EQ(a["text"], b["text"]);
  Shell(gen + " --prompt hi --prompt-tokens 1", &rc);
  EXPECT_NE(rc, 0);  // one prompt source only
}

}  // namespace
}  // namespace tierkv::core
