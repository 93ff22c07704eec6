// Writes GGUF v3 files (see gguf_format.h): metadata in insertion order, then
// tensor infos, then the tensor data, each tensor padded to the alignment.
//
// Thread safety: a GgufWriter is not thread-safe.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "core/gguf_format.h"
#include "tierkv/status.h"

namespace tierkv::core {

class GgufWriter {
 public:
  // Replaces an earlier value of the same key. Setting general.alignment
  // changes the alignment the writer pads to.
  void SetMetadata(const std::string& key, GgufValue value);

  // `dims` fastest-varying first; `data` holds exactly the tensor's bytes in
  // `type`. InvalidArgument on a size mismatch or a duplicate name.
  Status AddTensor(const std::string& name, std::vector<int64_t> dims, GgmlType type,
                   std::vector<std::byte> data);

  // Writes the file (to `path`.tmp, then renamed, so a crash never leaves a
  // half-written model under the final name).
  Status Write(const std::string& path) const;

 private:
  struct Tensor {
    std::string name;
    std::vector<int64_t> dims;
    GgmlType type;
    std::vector<std::byte> data;
  };
  uint64_t alignment() const;

  std::vector<std::pair<std::string, GgufValue>> metadata_;
  std::vector<Tensor> tensors_;
};

}  // namespace tierkv::core
