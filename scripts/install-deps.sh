#!/usr/bin/env bash
# Installs every Debian package that tierkv's build, tests and benchmarks need.
# Idempotent: packages already present are left alone. Needs root (or sudo).
set -euo pipefail

packages=(
  build-essential cmake ninja-build pkg-config git
  librocksdb-dev liburing-dev libxxhash-dev
  libboost-dev libboost-system-dev
  libspdlog-dev libfmt-dev
  libgtest-dev libgmock-dev
  libcli11-dev nlohmann-json3-dev libtomlplusplus-dev
  libopenblas-dev
  libhiredis-dev redis-server redis-tools
  pybind11-dev python3-dev python3-pytest python3-numpy python3-torch
  e2fsprogs util-linux
  python3 python3-sentencepiece
  # Operations: sd_notify, /metrics, KV events; and the real peers the tests
  # start (a Prometheus server, a Python event subscriber) and the charts.
  libsystemd-dev prometheus-cpp-dev libzmq3-dev libmsgpack-cxx-dev
  prometheus systemd python3-pytest python3-zmq python3-msgpack python3-matplotlib
)
if [[ "${1:-}" == "--ci" ]]; then
  # Sanitizer and fuzzing builds use clang's runtimes.
  packages+=(clang libclang-rt-14-dev)
fi

missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if ((${#missing[@]} == 0)); then
  echo "install-deps: all ${#packages[@]} packages present"
  exit 0
fi
SUDO=""
[[ $(id -u) -eq 0 ]] || SUDO=sudo
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
$SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}"
echo "install-deps: installed ${missing[*]}"
