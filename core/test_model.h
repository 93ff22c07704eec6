// Tiny random llama models for the core tests, written once per test binary.
#pragma once

#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <memory>
#include <string>

#include "core/llama_model.h"
#include "core/random_model.h"

namespace tierkv::core::testing {

// 2 layers, width 64, 4 heads over 2 KV heads: runs in milliseconds.
inline LlamaConfig TinyConfig() {
  return {.n_layers = 2,
          .dim = 64,
          .n_head = 4,
          .n_head_kv = 2,
          .ffn_dim = 96,
          .vocab = 128,
          .context_length = 256,
          .rot_dim = 16};
}

// TinyConfig with head_dim 32: the CUDA attention kernels take multiples of 32,
// and q8_0 KV rows hold whole 32-value blocks per head.
inline LlamaConfig TinyHead32Config() {
  LlamaConfig c = TinyConfig();
  c.dim = 128;
  c.ffn_dim = 192;
  c.rot_dim = 32;
  return c;
}

inline std::string TempPath(const std::string& name) {
  return (std::filesystem::temp_directory_path() /
          (name + "." + std::to_string(::getpid()) + ".gguf"))
      .string();
}

// Writes and loads a random model; the file is removed once loaded.
inline std::unique_ptr<LlamaModel> MakeTinyModel(WeightFormat format = WeightFormat::kF32,
                                                 uint64_t seed = 1,
                                                 LlamaConfig config = TinyConfig()) {
  RandomModelOptions o;
  o.config = config;
  o.format = format;
  o.seed = seed;
  // Larger weights than the default make attention and logits decisive in a tiny model.
  o.weight_std = 0.1f;
  const std::string path = TempPath("tiny_model");
  Status s = WriteRandomLlamaGguf(o, path);
  EXPECT_TRUE(s.ok()) << s.ToString();
  auto model = LlamaModel::Load(path);
  std::filesystem::remove(path);
  EXPECT_TRUE(model.ok()) << model.status().ToString();
  return model.ok() ? std::move(model).value() : nullptr;
}

}  // namespace tierkv::core::testing
