#!/usr/bin/env bash
# Installs, builds and runs the whole tierkv test suite (unit and integration).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/build.sh
cd build
ctest --output-on-failure --no-tests=error -j "$(nproc)" --timeout 300
