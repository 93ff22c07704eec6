// Byte-size flags for the benches' CLI11 options, read by the one size
// parser (base/byte_size.h): --block-bytes 64KiB, 1MiB, 1.5 MiB, 65536.
#pragma once

#include <CLI/CLI.hpp>

#include <string>

#include "base/byte_size.h"

namespace tierkv::bench {

// A CLI11 transform: turns "64KiB" into "65536" before the option's own
// conversion and checks, or refuses the text with the parser's reason.
inline CLI::Validator ByteSizeFlag() {
  return CLI::Validator(
      [](std::string& text) -> std::string {
        auto bytes = ParseByteSize(text);
        if (!bytes.ok()) return std::string(bytes.status().message());
        text = std::to_string(*bytes);
        return "";
      },
      "SIZE");
}

}  // namespace tierkv::bench
