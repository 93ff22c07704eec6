// The version tierkv was built as. It is CMake's project version
// (project(tierkv VERSION ...) in the top CMakeLists.txt) and is written
// nowhere else.
#pragma once

#include <string_view>

namespace tierkv {

std::string_view Version();

}  // namespace tierkv
