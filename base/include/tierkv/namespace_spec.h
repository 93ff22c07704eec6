// What a namespace is made of: everything that must match for two blocks to be
// interchangeable (../shared/DESIGN.md, "Vocabulary"). A plain value, shared by
// the client, which opens namespaces with it, and the engine, which derives one
// from its model.
#pragma once

#include <cstdint>
#include <string>

namespace tierkv {

// Everything that must match for two blocks to be interchangeable.
struct NamespaceSpec {
  std::string model_fingerprint;  // e.g. a hash of the model file's weights
  std::string tenant = "default";
  std::string adapter_id;         // LoRA id, empty for none
  std::string kv_dtype = "f16";
  std::string kv_layout = "layer-major";
  uint32_t block_tokens = 16;
  uint64_t block_bytes = 0;
};

}  // namespace tierkv
