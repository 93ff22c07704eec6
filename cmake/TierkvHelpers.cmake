option(tierkv_TEST_PCH "Compile the test binaries against one shared precompiled header" ON)

# Every build (plain, ASan, TSan) compiles about a hundred test files, and
# parsing GoogleTest, nlohmann/json and the standard headers costs each of them
# seconds: the test binaries share one precompiled header of those instead.
# Its host is an executable because a precompiled header is only reused by
# files compiled with the same flags (-fPIE for executables). Headers listed
# here are still included by each test that uses them (the build must not
# depend on the precompiled header for correctness). Called once, at the top
# level, so that the header is compiled with the flags every test gets.
function(tierkv_add_test_pch)
  if(NOT tierkv_TEST_PCH)
    return()
  endif()
  add_executable(tierkv_test_pch ${PROJECT_SOURCE_DIR}/cmake/test_pch_host.cc)
  target_link_libraries(tierkv_test_pch PRIVATE GTest::gtest GTest::gtest_main
                                                nlohmann_json::nlohmann_json)
  target_precompile_headers(tierkv_test_pch PRIVATE
    <gtest/gtest.h> <nlohmann/json.hpp>
    <algorithm> <chrono> <cmath> <cstdint> <cstring> <filesystem> <fstream> <functional>
    <map> <memory> <random> <set> <string> <thread> <vector>)
endfunction()

# tierkv_add_test(NAME SOURCES... [LIBS libs...] [LABELS labels...] [PROPERTIES ctest properties...])
# Builds one GoogleTest binary and registers its tests with ctest.
function(tierkv_add_test name)
  if(NOT tierkv_BUILD_TESTS)
    return()
  endif()
  cmake_parse_arguments(ARG "" "" "SOURCES;LIBS;LABELS;PROPERTIES" ${ARGN})
  add_executable(${name} ${ARG_SOURCES})
  target_link_libraries(${name} PRIVATE ${ARG_LIBS} GTest::gtest GTest::gtest_main)
  if(TARGET tierkv_test_pch)
    target_precompile_headers(${name} REUSE_FROM tierkv_test_pch)
  endif()
  set_target_properties(${name} PROPERTIES RUNTIME_OUTPUT_DIRECTORY ${CMAKE_BINARY_DIR}/tests)
  set(props ENVIRONMENT "TIERKV_BIN_DIR=${CMAKE_BINARY_DIR}/bin" ${ARG_PROPERTIES})
  # Last: gtest_discover_tests (CMake 3.25) flattens a list value, so only the
  # first of several labels takes effect and the others must not eat a property.
  if(ARG_LABELS)
    list(APPEND props LABELS "${ARG_LABELS}")
  endif()
  gtest_discover_tests(${name} DISCOVERY_TIMEOUT 60 PROPERTIES ${props})
endfunction()

if(tierkv_SANITIZE)
  add_compile_options(-fsanitize=${tierkv_SANITIZE} -fno-omit-frame-pointer -fno-sanitize-recover=all)
  add_link_options(-fsanitize=${tierkv_SANITIZE})
endif()
# Fuzzer builds instrument every library for coverage; only the fuzz targets
# link libFuzzer itself (tierkv_add_fuzzer in fuzz/CMakeLists.txt), so the
# unit and integration tests of the same build still run normally.
if(tierkv_BUILD_FUZZERS)
  if(NOT CMAKE_CXX_COMPILER_ID MATCHES "Clang")
    message(FATAL_ERROR "tierkv_BUILD_FUZZERS needs clang (CC=clang CXX=clang++)")
  endif()
  if(NOT tierkv_SANITIZE MATCHES "address")
    message(FATAL_ERROR "tierkv_BUILD_FUZZERS needs -Dtierkv_SANITIZE=address,undefined")
  endif()
  add_compile_options(-fsanitize=fuzzer-no-link)
endif()
include(GoogleTest)
