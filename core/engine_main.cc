// tierkv-engine: runs a llama GGUF model on the CPU or the GPU with prefix reuse.
//
//   tierkv-engine generate --model M (--prompt TEXT | --prompt-file F | --prompt-tokens 1,2,3 |
//                          --prompt-tokens-file F) --max-new-tokens N [--json] [--device cpu|cuda]
//                          [--kv-dtype f32|f16|bf16|q8_0] [--min-cached-tokens auto|N]
//   tierkv-engine tokenize --model M (--text TEXT | --file F) [--bos] [--json]
//   tierkv-engine detokenize --model M (--ids 1,2,3 | --file F) [--json]
//   tierkv-engine bench --model M [--system-tokens 512 --conversations 4 --turns 3]
//                       [--device cpu|cuda]
#include <spdlog/sinks/stdout_color_sinks.h>
#include <spdlog/spdlog.h>

#include <CLI/CLI.hpp>
#include <chrono>
#include <cstdio>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>

#include "core/engine.h"
#include "core/engine_cache.h"
#include "core/engine_text.h"
#include "core/shared_prefix_workload.h"
#include "kernels/blas_setup.h"
#include "tierkv/client.h"
#if TIERKV_HAVE_CUDA
#include "core/engine_cuda.h"
#endif

namespace tierkv::core {
namespace {

Result<std::unique_ptr<LlamaModel>> LoadModel(const std::string& path) {
  const auto t0 = std::chrono::steady_clock::now();
  auto model = LlamaModel::Load(path);
  if (model.ok()) {
    const double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    const LlamaConfig& c = (*model)->config();
    spdlog::info("loaded {} in {:.2f} s: {} layers, dim {}, {}/{} heads, ffn {}, vocab {}", path, s,
                 c.n_layers, c.dim, c.n_head, c.n_head_kv, c.ffn_dim, c.vocab);
    spdlog::info("kernels: {}", kernels::DescribeKernelPaths());
  }
  return model;
}

int Fail(const Status& s) {
  std::fprintf(stderr, "tierkv-engine: %s\n", s.ToString().c_str());
  return 1;
}

inline constexpr char kAutoFlag[] = "auto";

struct CommonFlags {
  std::string model;
  std::string socket = ConnectOptions().address;  // tierkvd's default socket
  bool no_cache = false;
  int block_tokens = kDefaultBlockTokens;
  std::string kv_dtype{kernels::KvDtypeName(kDefaultKvDtype)};
  std::string min_cached_tokens = kAutoFlag;
  bool json = false;
  std::string device = "cpu";

  // The engine these flags ask for (the dtype was checked by the parser).
  EngineOptions engine_options() const {
    return {.block_tokens = block_tokens,
            .kv_dtype = kernels::ParseKvDtype(kv_dtype).value(),
            .min_cached_tokens = min_cached_tokens == kAutoFlag ? kAutoMinCachedTokens
                                                                : std::stoi(min_cached_tokens)};
  }
};

void AddCommon(CLI::App* cmd, CommonFlags& f) {
  cmd->add_option("--model", f.model, "llama GGUF file")->required();
  cmd->add_option("--socket", f.socket, "tierkvd address (Unix socket path or tcp:host:port)")
      ->capture_default_str();
  cmd->add_flag("--no-cache", f.no_cache, "Do not use tierkvd: always prefill cold");
  cmd->add_option("--block-tokens", f.block_tokens, "Tokens per KV block")->capture_default_str();
  cmd->add_option("--kv-dtype", f.kv_dtype,
                  "KV cache element type: f32, f16, bf16, or q8_0 (8-bit blocks with an f16 "
                  "scale per 32 values); blocks of each type live in their own namespace")
      ->check(CLI::IsMember({"f32", "f16", "bf16", "q8_0"}))
      ->capture_default_str();
  cmd->add_option("--min-cached-tokens", f.min_cached_tokens,
                  "Shortest cached prefix worth loading instead of recomputing: auto (the "
                  "break-even for this model and device, docs/inference-core.md) or a count of "
                  "tokens (0: every hit)")
      ->check(CLI::IsMember({kAutoFlag}) | (CLI::TypeValidator<int>() & CLI::NonNegativeNumber))
      ->capture_default_str();
  cmd->add_flag("--json", f.json, "Print JSON");
  cmd->add_option("--device", f.device, "cpu, or cuda: weights and KV pages on the GPU")
      ->check(CLI::IsMember({"cpu", "cuda"}))
      ->capture_default_str();
}

// An engine on `device`, warmed up. The CPU and CUDA engines share
// Generate()'s contract and the cache namespace, so either serves the same blocks.
Result<std::unique_ptr<GenerateEngine>> StartEngine(const std::string& device,
                                                    const LlamaModel& model,
                                                    const EngineOptions& options,
                                                    PrefixCache* cache) {
  TIERKV_RETURN_IF_ERROR(CheckEngineOptions(model, options));
  std::unique_ptr<GenerateEngine> engine;
  if (device == "cuda") {
#if TIERKV_HAVE_CUDA
    TIERKV_ASSIGN_OR_RETURN(engine, CudaEngine::Create(model, options, cache));
#else
    return Status::Unsupported("--device cuda: this build has no CUDA support (nvcc not found)");
#endif
  } else {
    engine = std::make_unique<Engine>(model, options, cache);
  }
  TIERKV_RETURN_IF_ERROR(engine->Warmup());
  return engine;
}

// Where generate's prompt comes from: exactly one of these is set.
struct PromptFlags {
  std::string text, text_file, tokens, tokens_file;
};

// The prompt's ids: text through the model's tokenizer (with BOS when the
// vocabulary asks for it, as llama.cpp prompts get it), or ids as given.
Result<std::vector<TokenId>> PromptTokens(const PromptFlags& p, const std::string& model) {
  std::string text = p.text, ids = p.tokens;
  if (!p.text_file.empty()) {
    TIERKV_ASSIGN_OR_RETURN(text, ReadTextFile(p.text_file));
  }
  if (!p.tokens_file.empty()) {
    TIERKV_ASSIGN_OR_RETURN(ids, ReadTextFile(p.tokens_file));
  }
  std::vector<TokenId> out;
  if (!p.text.empty() || !p.text_file.empty()) {
    TIERKV_ASSIGN_OR_RETURN(Tokenizer tokenizer, LoadTokenizer(model));
    out = tokenizer.Encode(text, tokenizer.spec().add_bos);
  } else {
    TIERKV_ASSIGN_OR_RETURN(out, ParseTokenIds(ids));
  }
  if (out.empty()) return Status::InvalidArgument("the prompt has no tokens");
  return out;
}

int RunGenerate(const CommonFlags& f, const PromptFlags& p, const GenerateOptions& options) {
  auto prompt = PromptTokens(p, f.model);
  if (!prompt.ok()) return Fail(prompt.status());
  auto model = LoadModel(f.model);
  if (!model.ok()) return Fail(model.status());
  const NamespaceSpec spec = Engine::NamespaceFor(**model, f.engine_options());
  std::unique_ptr<PrefixCache> cache = OpenEngineCache(f.no_cache ? "" : f.socket, spec);
  auto engine = StartEngine(f.device, **model, f.engine_options(), cache.get());
  if (!engine.ok()) return Fail(engine.status());
  auto r = (*engine)->Generate(*prompt, options);
  if (!r.ok()) return Fail(r.status());
  // The generated text, piece after piece as llama.cpp prints a generation;
  // absent when the file has no llama tokenizer.
  auto tokenizer = LoadTokenizer(f.model);
  std::string text;
  for (TokenId t : r->tokens) text += tokenizer.ok() ? tokenizer->Piece(t) : "";
  if (f.json) {
    nlohmann::json j = {{"tokens", r->tokens},
                        {"cached_tokens", r->cached_tokens},
                        {"skipped_cached_tokens", r->skipped_cached_tokens},
                        {"min_cached_tokens", (*engine)->min_cached_tokens()},
                        {"prefill_tokens", r->prefill_tokens},
                        {"ttft_ms", r->ttft_ms},
                        {"cache_load_ms", r->cache_load_ms},
                        {"decode_tokens_per_s", r->decode_tokens_per_s},
                        {"stored_blocks", r->stored_blocks},
                        {"kv_dtype", spec.kv_dtype},
                        {"block_bytes", spec.block_bytes}};
    if (tokenizer.ok()) j["text"] = text;
    std::printf("%s\n", j.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace).c_str());
  } else {
    std::printf(
        "tokens: %s\ncached_tokens: %d\nprefill_tokens: %d\nttft_ms: %.2f\n"
        "decode_tokens_per_s: %.2f\n",
        JoinTokenIds(r->tokens).c_str(), r->cached_tokens, r->prefill_tokens, r->ttft_ms,
        r->decode_tokens_per_s);
    if (tokenizer.ok()) std::printf("text: %s\n", text.c_str());
  }
  return 0;
}

nlohmann::json PassJson(const char* name, const PassStats& p) {
  return {{"pass", name},
          {"requests", p.requests.size()},
          {"mean_ttft_ms", p.mean_ttft_ms()},
          {"p50_ttft_ms", p.percentile_ttft_ms(0.5)},
          {"p90_ttft_ms", p.percentile_ttft_ms(0.9)},
          {"hit_rate", p.hit_rate()},
          {"decode_tokens_per_s", p.mean_decode_tokens_per_s()}};
}

// Replays the workload on a fresh engine on `device`, which is gone again
// before the next pass starts (a GPU engine holds the weights and the pages).
Result<PassStats> RunPass(const CommonFlags& f, const LlamaModel& model, PrefixCache* cache,
                          const WorkloadOptions& w) {
  TIERKV_ASSIGN_OR_RETURN(std::unique_ptr<GenerateEngine> engine,
                          StartEngine(f.device, model, f.engine_options(), cache));
  return RunSharedPrefixWorkload(*engine, w, model.config().vocab);
}

int RunBench(const CommonFlags& f, const WorkloadOptions& w) {
  auto model = LoadModel(f.model);
  if (!model.ok()) return Fail(model.status());
  auto cold = RunPass(f, **model, nullptr, w);
  if (!cold.ok()) return Fail(cold.status());
  // Warm: through tierkvd when reachable, else an in-process cache.
  const NamespaceSpec spec = Engine::NamespaceFor(**model, f.engine_options());
  std::unique_ptr<PrefixCache> cache = OpenEngineCache(f.no_cache ? "" : f.socket, spec);
  if (cache == nullptr) cache = std::make_unique<InProcessPrefixCache>(spec);
  auto warm = RunPass(f, **model, cache.get(), w);
  if (!warm.ok()) return Fail(warm.status());
  if (f.json) {
    std::printf(
        "%s\n",
        nlohmann::json::array({PassJson("cold", *cold), PassJson("warm", *warm)}).dump().c_str());
    return 0;
  }
  std::printf("%-5s %9s %13s %12s %12s %9s %10s\n", "pass", "requests", "mean_ttft_ms",
              "p50_ttft_ms", "p90_ttft_ms", "hit_rate", "decode_t/s");
  for (const auto& [name, p] : {std::pair{"cold", &*cold}, std::pair{"warm", &*warm}}) {
    std::printf("%-5s %9zu %13.2f %12.2f %12.2f %8.1f%% %10.2f\n", name, p->requests.size(),
                p->mean_ttft_ms(), p->percentile_ttft_ms(0.5), p->percentile_ttft_ms(0.9),
                100.0 * p->hit_rate(), p->mean_decode_tokens_per_s());
  }
  return 0;
}

int Main(int argc, char** argv) {
  CLI::App app{"tierkv's inference engine: llama GGUF models with KV prefix reuse."};
  app.require_subcommand(1);
  // The kernels this CPU gets, chosen at start with no environment variable.
  app.set_version_flag("--version", [] {
    return "tierkv-engine\nkernels: " + kernels::DescribeKernelPaths();
  });
  spdlog::set_default_logger(spdlog::stderr_color_mt("tierkv-engine"));

  CommonFlags gen_flags;
  PromptFlags prompt;
  GenerateOptions gen;
  CLI::App* generate = app.add_subcommand("generate", "Generate tokens for one prompt");
  AddCommon(generate, gen_flags);
  CLI::Option* prompt_opts[] = {
      generate->add_option("--prompt", prompt.text,
                           "Prompt text (the model's tokenizer, with BOS)"),
      generate->add_option("--prompt-file", prompt.text_file, "File of prompt text"),
      generate->add_option("--prompt-tokens", prompt.tokens, "Comma-separated token ids"),
      generate->add_option("--prompt-tokens-file", prompt.tokens_file,
                           "File of token ids (commas or spaces)"),
  };
  for (CLI::Option* a : prompt_opts) {
    for (CLI::Option* b : prompt_opts) {
      if (a != b) a->excludes(b);
    }
  }
  generate->add_option("--max-new-tokens", gen.max_new_tokens, "Tokens to generate")
      ->capture_default_str();
  generate->add_option("--temperature", gen.sampling.temperature, "0: greedy")
      ->capture_default_str();
  generate->add_option("--top-p", gen.sampling.top_p, "Nucleus sampling mass")
      ->capture_default_str();
  generate->add_option("--seed", gen.sampling.seed, "Sampling seed")->capture_default_str();

  CommonFlags bench_flags;
  WorkloadOptions w;
  CLI::App* bench = app.add_subcommand(
      "bench", "Shared-prefix workload, cold then warm: TTFT and cache hit rate");
  AddCommon(bench, bench_flags);
  bench->add_option("--system-tokens", w.system_tokens, "Shared system prompt length")
      ->capture_default_str();
  bench->add_option("--conversations", w.conversations,
                    "Conversations, each sharing the system prompt, run one after another")
      ->capture_default_str();
  bench->add_option("--turns", w.turns, "Turns per conversation")->capture_default_str();
  bench->add_option("--user-tokens", w.user_tokens, "Tokens per user turn")->capture_default_str();
  bench->add_option("--answer-tokens", w.answer_tokens, "Tokens generated per turn")
      ->capture_default_str();
  bench->add_option("--seed", w.seed, "Workload seed")->capture_default_str();

  TextCommandFlags tok_flags, detok_flags;
  CLI::App* tokenize = app.add_subcommand(
      "tokenize", "Token ids of text, one line of comma-separated ids per input line");
  tokenize->add_option("--model", tok_flags.model, "llama GGUF file")->required();
  auto* text_opt = tokenize->add_option("--text", tok_flags.text, "Text to tokenize");
  tokenize->add_option("--file", tok_flags.file, "File of text to tokenize")->excludes(text_opt);
  tokenize->add_flag("--bos", tok_flags.bos, "Start each line with the BOS id");
  tokenize->add_flag("--json", tok_flags.json, "Print a JSON array per line");
  CLI::App* detokenize =
      app.add_subcommand("detokenize", "Text of token ids, one line of text per input line of ids");
  detokenize->add_option("--model", detok_flags.model, "llama GGUF file")->required();
  auto* ids_opt = detokenize->add_option("--ids", detok_flags.text, "Comma-separated token ids");
  detokenize->add_option("--file", detok_flags.file, "File of ids, one sequence per line")
      ->excludes(ids_opt);
  detokenize->add_flag("--json", detok_flags.json, "Print a JSON string per line");

  CLI11_PARSE(app, argc, argv);
  if (generate->parsed()) {
    if (prompt.text.empty() && prompt.text_file.empty() && prompt.tokens.empty() &&
        prompt.tokens_file.empty()) {
      std::fprintf(stderr,
                   "tierkv-engine generate: give --prompt, --prompt-file, --prompt-tokens or "
                   "--prompt-tokens-file\n");
      return 2;
    }
    return RunGenerate(gen_flags, prompt, gen);
  }
  if (tokenize->parsed() || detokenize->parsed()) {
    const TextCommandFlags& f = tokenize->parsed() ? tok_flags : detok_flags;
    if (f.text.empty() && f.file.empty()) {
      std::fprintf(stderr, "tierkv-engine: give %s or --file\n",
                   tokenize->parsed() ? "--text" : "--ids");
      return 2;
    }
    return tokenize->parsed() ? RunTokenize(f) : RunDetokenize(f);
  }
  return RunBench(bench_flags, w);
}

}  // namespace
}  // namespace tierkv::core

int main(int argc, char** argv) { return tierkv::core::Main(argc, argv); }
