// tierkv-mkmodel: writes a llama-architecture GGUF with seeded random weights, in any of
// the weight formats of core/weight_format.h, optionally with a real SentencePiece vocabulary.
#include <CLI/CLI.hpp>
#include <cstdio>
#include <string>

#include "core/random_model.h"
#include "core/sentencepiece_model.h"

int main(int argc, char** argv) {
  CLI::App app{"Writes a llama-architecture GGUF model with random weights from a seed."};
  tierkv::core::RandomModelOptions o;
  tierkv::core::LlamaConfig& c = o.config;
  c.n_layers = 2;
  c.dim = 64;
  c.n_head = 4;
  c.n_head_kv = 2;
  c.ffn_dim = 172;
  c.vocab = 512;
  c.context_length = 4096;
  std::string out;
  std::string dtype = "f16";
  app.add_option("--out", out, "Output GGUF file")->required();
  app.add_option("--layers", c.n_layers, "Transformer blocks")->capture_default_str();
  app.add_option("--dim", c.dim, "Embedding width")->capture_default_str();
  app.add_option("--heads", c.n_head, "Attention heads")->capture_default_str();
  app.add_option("--kv-heads", c.n_head_kv, "KV heads (grouped-query attention)")
      ->capture_default_str();
  app.add_option("--ffn", c.ffn_dim, "Feed-forward width")->capture_default_str();
  app.add_option("--vocab", c.vocab, "Vocabulary size")->capture_default_str();
  app.add_option("--context", c.context_length, "Context length")->capture_default_str();
  app.add_option("--rope-base", c.rope_freq_base, "RoPE frequency base")->capture_default_str();
  app.add_option("--seed", o.seed, "Seed of the random weights")->capture_default_str();
  app.add_option("--dtype", dtype,
                 "Weights: f32, f16, bf16, or quantized as llama.cpp's file types q8_0, q4_0 "
                 "(output.weight q6_K) and q4_k_m (q4_K, with q6_K for output.weight and for "
                 "attn_v and ffn_down in a third of the layers)")
      ->check(CLI::IsMember({"f32", "f16", "bf16", "q8_0", "q4_0", "q4_k_m"}))
      ->capture_default_str();
  std::string tokenizer;
  app.add_option("--tokenizer", tokenizer,
                 "SentencePiece model file (.model, BPE with byte fallback, as Llama's "
                 "tokenizer.model) whose vocabulary the GGUF gets; --vocab is then its size");
  CLI11_PARSE(app, argc, argv);
  o.format = *tierkv::core::ParseWeightFormat(dtype);
  if (!tokenizer.empty()) {
    auto spec = tierkv::core::ReadSentencePieceModel(tokenizer);
    if (!spec.ok()) {
      std::fprintf(stderr, "tierkv-mkmodel: %s\n", spec.status().ToString().c_str());
      return 1;
    }
    o.tokenizer = std::move(spec).value();
    c.vocab = static_cast<int>(o.tokenizer->pieces.size());
  }
  c.rot_dim = c.n_head > 0 ? c.dim / c.n_head : 0;

  const tierkv::Status s = tierkv::core::WriteRandomLlamaGguf(o, out);
  if (!s.ok()) {
    std::fprintf(stderr, "tierkv-mkmodel: %s\n", s.ToString().c_str());
    return 1;
  }
  std::printf("wrote %s: %d layers, dim %d, %d heads, %d kv heads, ffn %d, vocab %d, %s\n",
              out.c_str(), c.n_layers, c.dim, c.n_head, c.n_head_kv, c.ffn_dim, c.vocab,
              dtype.c_str());
  return 0;
}
