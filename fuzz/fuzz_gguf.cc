// Fuzzes the GGUF reader: any bytes must give a parsed file or a clear error
// status, never a crash, an out-of-bounds read or a hang. A file that parses
// also has its llama hyperparameters read and its tokenizer built, and every
// tensor's bytes must lie inside the file: checked explicitly, since the file
// is memory-mapped and ASan does not see reads past its end inside the last
// page. Each tensor is then copied whole, as the model loader reads it.
#include <sys/mman.h>
#include <unistd.h>

#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <span>
#include <string>
#include <vector>

#include "core/gguf_reader.h"
#include "core/llama_config.h"
#include "core/tokenizer.h"

// Where the touched bytes go, so the compiler cannot drop the reads.
volatile uint64_t g_sink = 0;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  // An in-memory file, opened by path like a model on disk.
  const int fd = memfd_create("fuzz.gguf", MFD_CLOEXEC);
  if (fd < 0) std::abort();
  if (size > 0 && ::write(fd, data, size) != static_cast<ssize_t>(size)) std::abort();
  auto file = tierkv::core::GgufFile::Open("/proc/self/fd/" + std::to_string(fd));
  if (file.ok()) {
    const std::span<const std::byte> whole = (*file)->bytes();
    if (whole.size() != size) std::abort();
    uint64_t sum = 0;
    std::vector<std::byte> copy;
    for (const auto& t : (*file)->tensors()) {
      const bool inside =
          t.data.data() >= whole.data() && t.data.size() <= size &&
          t.data.data() - whole.data() <= static_cast<ptrdiff_t>(size - t.data.size());
      if (!t.data.empty() && !inside) std::abort();  // a tensor reaching past the file
      copy.assign(t.data.begin(), t.data.end());
      for (std::byte b : copy) sum += static_cast<uint64_t>(b);
    }
    auto config = tierkv::core::LlamaConfig::FromGguf(**file);
    // The tokenizer metadata is read from the same untrusted header.
    auto tokenizer = tierkv::core::Tokenizer::FromGguf(**file);
    if (tokenizer.ok()) sum += tokenizer->Encode("Hello, w\xc3\xb6rld <s>", true).size();
    g_sink = sum + (config.ok() ? 1 : 0);
  }
  ::close(fd);
  return 0;
}
