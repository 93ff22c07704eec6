// Fuzzes the GGUF reader: any bytes must give a parsed file or a clear error
// status, never a crash, an out-of-bounds read or a hang. A file that parses
// also has its llama hyperparameters read and every tensor's bytes touched,
// since those are what the model loader trusts next, and its tokenizer is built.
#include <sys/mman.h>
#include <unistd.h>

#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>

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
    uint64_t sum = 0;
    for (const auto& t : (*file)->tensors()) {
      if (!t.data.empty()) sum += static_cast<uint64_t>(t.data.front()) + uint64_t(t.data.back());
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
