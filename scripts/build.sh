#!/usr/bin/env bash
# Installs tierkv's Debian packages and builds it into build/ (binaries in build/bin).
# Usage: scripts/build.sh [extra cmake args...]
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/install-deps.sh
# Optimized, without debug info: -g doubles object sizes and link times on a
# 2-core machine. Pass -DCMAKE_BUILD_TYPE=RelWithDebInfo for a debuggable build.
cmake -S . -B build -G Ninja -DCMAKE_BUILD_TYPE=Release \
  -DCMAKE_CXX_FLAGS_RELEASE="-O2 -DNDEBUG" -DCMAKE_C_FLAGS_RELEASE="-O2 -DNDEBUG" "$@" >/dev/null
cmake --build build -j "$(nproc)"
