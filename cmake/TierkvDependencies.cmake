# Finds every third-party package tierkv links against. All come from Debian
# (scripts/install-deps.sh installs them).
find_package(Threads REQUIRED)
find_package(PkgConfig REQUIRED)
find_package(fmt REQUIRED)
find_package(spdlog REQUIRED)
find_package(Boost 1.74 REQUIRED)
find_package(RocksDB REQUIRED)
find_package(nlohmann_json REQUIRED)
find_package(tomlplusplus REQUIRED)
find_package(CLI11 QUIET)
find_package(BLAS REQUIRED)
pkg_check_modules(URING REQUIRED IMPORTED_TARGET liburing)
pkg_check_modules(HIREDIS REQUIRED IMPORTED_TARGET hiredis)
# sd_notify: tierkvd tells systemd when it is ready (packaging/tierkvd.service).
pkg_check_modules(SYSTEMD REQUIRED IMPORTED_TARGET libsystemd)
# KV events (docs/events.md): ZeroMQ PUB/ROUTER sockets, msgpack payloads.
pkg_check_modules(ZMQ REQUIRED IMPORTED_TARGET libzmq)
find_package(msgpack REQUIRED CONFIG)  # target msgpackc-cxx
# /metrics in the Prometheus text format (daemon/metrics_exporter).
find_package(prometheus-cpp REQUIRED CONFIG)

# xxHash is compiled inline from its header (XXH_INLINE_ALL): over three times
# faster on long inputs than calling the shared library.
find_path(XXHASH_INCLUDE_DIR xxhash.h REQUIRED)
add_library(tierkv_xxhash INTERFACE)
target_include_directories(tierkv_xxhash INTERFACE ${XXHASH_INCLUDE_DIR})
target_compile_definitions(tierkv_xxhash INTERFACE XXH_INLINE_ALL)

if(NOT TARGET CLI11::CLI11)
  find_path(CLI11_INCLUDE_DIR CLI/CLI.hpp REQUIRED)
  add_library(CLI11::CLI11 INTERFACE IMPORTED)
  target_include_directories(CLI11::CLI11 INTERFACE ${CLI11_INCLUDE_DIR})
endif()

if(tierkv_BUILD_TESTS)
  find_package(GTest REQUIRED)
endif()

# Python: Debian's interpreter (its dist-packages hold numpy, torch and
# pytest), never whichever python3 is first on PATH; the Python package's
# extension is built for it with pybind11. Sanitizer builds skip the package:
# instrumented code cannot load into a plain interpreter.
set(tierkv_PYTHON /usr/bin/python3 CACHE FILEPATH "The Python the package is built and tested for")
set(Python3_EXECUTABLE ${tierkv_PYTHON})
if(tierkv_BUILD_PYTHON AND NOT tierkv_SANITIZE)
  find_package(Python3 REQUIRED COMPONENTS Interpreter Development.Module)
  find_package(pybind11 2.10 CONFIG REQUIRED)
  set(tierkv_HAVE_PYTHON ON)
else()
  find_package(Python3 REQUIRED COMPONENTS Interpreter)
  set(tierkv_HAVE_PYTHON OFF)
endif()

# CUDA is detected, not required.
set(tierkv_HAVE_CUDA OFF)
if(tierkv_ENABLE_CUDA)
  include(CheckLanguage)
  if(NOT CMAKE_CUDA_COMPILER AND EXISTS /usr/local/cuda/bin/nvcc)
    set(CMAKE_CUDA_COMPILER /usr/local/cuda/bin/nvcc)
  endif()
  check_language(CUDA)
  if(CMAKE_CUDA_COMPILER)
    enable_language(CUDA)
    find_package(CUDAToolkit REQUIRED)
    set(tierkv_HAVE_CUDA ON)
    if(NOT DEFINED CMAKE_CUDA_ARCHITECTURES)
      set(CMAKE_CUDA_ARCHITECTURES 90)
    endif()
  endif()
endif()
message(STATUS "tierkv: CUDA ${tierkv_HAVE_CUDA}")
