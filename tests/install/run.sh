#!/usr/bin/env bash
# The installed tierkv as an integrator meets it. Installs the build into a
# fresh prefix, then checks:
#   - the files: libtierkv.so with its SONAME, libtierkv.a, headers, the CMake
#     package, tierkv.pc, the binaries, the Python package;
#   - the library exports every C function of tierkv.h and nothing internal;
#   - each public header compiles alone (tierkv.h as C99; all as C++17 and 20)
#     from the installed include directory only;
#   - out-of-tree C and C++ programs built with find_package (shared and
#     static) and with pkg-config talk to a real daemon (the installed tierkvd)
#     over its Unix socket and over TCP;
#   - the installed Python package imports from the prefix, loads the
#     installed libtierkv.so, and talks to the daemon;
#   - the README's C++ and Python examples build and run as written.
# Usage: run.sh BUILD_DIR CONSUMER_SOURCE_DIR PYTHON HAVE_PYTHON(ON|OFF)
set -euo pipefail

build_dir="$1"
consumer_src="$2"
python="$3"
have_python="$4"
work="$(mktemp -d /tmp/tierkv-install-test-XXXXXX)"
prefix="$work/prefix"
daemon_pid=""

cleanup() {
  if [[ -n "$daemon_pid" ]]; then
    kill "$daemon_pid" 2>/dev/null || true
    wait "$daemon_pid" 2>/dev/null || true
  fi
  rm -rf "$work"
}
trap cleanup EXIT

fail() {
  echo "install test: FAIL: $*" >&2
  if [[ -f "$work/tierkvd.log" ]]; then tail -n 20 "$work/tierkvd.log" >&2; fi
  exit 1
}

step() { echo "install test: $*"; }

step "cmake --install $build_dir --prefix $prefix"
cmake --install "$build_dir" --prefix "$prefix" >"$work/install.log" || fail "install: $(tail "$work/install.log")"

libdir="$(dirname "$(find "$prefix" -name 'libtierkv.so' -print -quit)")"
[[ -d "$libdir" ]] || fail "no libtierkv.so under $prefix"
for f in "$libdir/libtierkv.a" "$libdir/cmake/tierkv/tierkvConfig.cmake" \
         "$libdir/cmake/tierkv/tierkvConfigVersion.cmake" "$libdir/pkgconfig/tierkv.pc" \
         "$prefix/include/tierkv/tierkv.h" "$prefix/include/tierkv/client.h" \
         "$prefix/include/tierkv/status.h" "$prefix/include/tierkv/span.h" \
         "$prefix/bin/tierkvd" "$prefix/bin/tierkv"; do
  [[ -e "$f" ]] || fail "missing $f"
done
stray="$(find "$prefix/include" -name '*.h' ! -path "$prefix/include/tierkv/*")"
[[ -z "$stray" ]] || fail "headers outside include/tierkv: $stray"
soname="$(readelf -d "$libdir/libtierkv.so" | sed -n 's/.*SONAME.*\[\(.*\)\]/\1/p')"
[[ "$soname" =~ ^libtierkv\.so\.[0-9]+$ ]] || fail "SONAME is '$soname'"
[[ -e "$libdir/$soname" ]] || fail "no $soname beside libtierkv.so"

step "exports: every C function of tierkv.h, nothing internal"
exports="$work/exports.txt"
nm -D --defined-only "$libdir/libtierkv.so" | c++filt >"$exports"
declared="$(grep -oE '\btierkv_[a-z_]+\(' "$prefix/include/tierkv/tierkv.h" | tr -d '(' | sort -u)"
for fn in $declared; do
  grep -qE " ${fn}(@|$)" "$exports" || fail "tierkv.h declares $fn but libtierkv.so does not export it"
done
grep -q 'tierkv::Client::Connect' "$exports" || fail "the C++ API is not exported"
if grep -E ' (tierkv::(wire|Connection|SharedMemory)::|nlohmann|XXH)' "$exports"; then
  fail "internal symbols are exported"
fi

step "public headers compile alone (C99; C++17 and C++20)"
for header in "$prefix"/include/tierkv/*.h; do
  name="tierkv/$(basename "$header")"
  for std in c++17 c++20; do
    echo "#include <$name>" | c++ -std=$std -fsyntax-only -Wall -Wextra -Werror -pedantic \
      -I"$prefix/include" -x c++ - || fail "$name does not compile alone as $std"
  done
done
echo "#include <tierkv/tierkv.h>" | cc -std=c99 -fsyntax-only -Wall -Wextra -Werror -pedantic \
  -I"$prefix/include" -x c - || fail "tierkv.h is not C99"

step "out-of-tree programs: find_package(tierkv)"
cmake -S "$consumer_src" -B "$work/consumer" -DCMAKE_PREFIX_PATH="$prefix" \
  -DCMAKE_BUILD_TYPE=Release >"$work/consumer.log" 2>&1 || fail "configure: $(cat "$work/consumer.log")"
cmake --build "$work/consumer" -j 2 >>"$work/consumer.log" 2>&1 || fail "build: $(cat "$work/consumer.log")"
# (Output captured first: with pipefail, grep -q stopping early would fail ldd.)
loaded="$(ldd "$work/consumer/consumer_c")"
[[ "$loaded" == *"$libdir/libtierkv.so"* ]] || fail "consumer_c loads no installed library: $loaded"
loaded="$(ldd "$work/consumer/consumer_c_static")"
[[ "$loaded" != *libtierkv* ]] || fail "consumer_c_static links libtierkv dynamically"

step "out-of-tree programs: pkg-config tierkv"
export PKG_CONFIG_PATH="$libdir/pkgconfig"
[[ "$(pkg-config --modversion tierkv)" =~ ^[0-9]+\.[0-9]+\.[0-9]+$ ]] || fail "pkg-config --modversion"
read -r -a pc_flags <<<"$(pkg-config --cflags --libs tierkv)"
rpath="-Wl,-rpath,$(pkg-config --variable=libdir tierkv)"
cc -std=c99 -Wall -Wextra -Werror "$consumer_src/consumer.c" "${pc_flags[@]}" "$rpath" \
  -o "$work/consumer_c_pc" || fail "cc with pkg-config flags"
c++ -std=c++17 -Wall -Wextra -Werror "$consumer_src/consumer.cc" "${pc_flags[@]}" "$rpath" \
  -o "$work/consumer_cxx_pc" || fail "c++ with pkg-config flags"

step "a real daemon: the installed tierkvd"
port=$((30000 + $$ % 20000))
socket="$work/tierkv.sock"
"$prefix/bin/tierkvd" --socket "$socket" --tcp "127.0.0.1:$port" --data-dir "$work/data" \
  --host-bytes 64MiB --slab-bytes 8MiB --nvme-bytes 64MiB --metrics-listen off \
  >"$work/tierkvd.log" 2>&1 &
daemon_pid=$!
for _ in $(seq 1 200); do
  "$prefix/bin/tierkv" --socket "$socket" health >/dev/null 2>&1 && break
  kill -0 "$daemon_pid" 2>/dev/null || fail "tierkvd exited"
  sleep 0.05
done
"$prefix/bin/tierkv" --socket "$socket" health >/dev/null || fail "tierkvd is not healthy"

for address in "$socket" "tcp:127.0.0.1:$port"; do
  for program in "$work/consumer/consumer_c" "$work/consumer/consumer_c_static" \
                 "$work/consumer/consumer_cxx" "$work/consumer/consumer_cxx_static" \
                 "$work/consumer_c_pc" "$work/consumer_cxx_pc"; do
    "$program" "$address" || fail "$(basename "$program") against $address"
  done
done

# The README's five-line examples, exactly as written there (with its socket
# path replaced by this daemon's), around the variables they assume.
readme="$consumer_src/../../README.md"
readme_example() {  # the first indented block after the line that starts with $1
  awk -v head="$1" 'index($0, head) == 1 { found = 1; next }
    found && /^    / { print substr($0, 5); started = 1; next }
    found && started { exit }' "$readme"
}
cxx_example="$(readme_example 'C++20 (')"
py_example="$(readme_example 'Python (')"
[[ "$(wc -l <<<"$cxx_example")" -eq 5 ]] || fail "README's C++ example is not 5 lines: $cxx_example"
[[ "$(wc -l <<<"$py_example")" -eq 5 ]] || fail "README's Python example is not 5 lines: $py_example"

step "the README's C++ example"
{
  echo '#include <tierkv/client.h>'
  echo '#include <vector>'
  echo 'int main() {'
  echo '  std::vector<tierkv::TokenId> prompt(64);'
  echo '  for (size_t i = 0; i < prompt.size(); ++i) prompt[i] = static_cast<tierkv::TokenId>(i + 11);'
  echo '  std::vector<std::byte> kv(4 << 20, std::byte{0x3c}), out(kv.size());'
  sed "s|/tmp/tierkv.sock|$socket|" <<<"$cxx_example"
  echo '  return cached == 4 && out == kv ? 0 : 1;'
  echo '}'
} >"$work/readme_example.cc"
# (Designated initializers leave the other fields at their defaults on purpose.)
c++ -std=c++20 -Wall -Wextra -Wno-missing-field-initializers -Werror "$work/readme_example.cc" "${pc_flags[@]}" "$rpath" \
  -o "$work/readme_example" || fail "the README's C++ example does not build"
"$work/readme_example" || fail "the README's C++ example did not read back what it stored"

if [[ "$have_python" == "ON" ]]; then
  step "the installed Python package"
  site="$(dirname "$(find "$prefix" -path '*-packages/tierkv/__init__.py' -print -quit)")"
  [[ -d "$site" ]] || fail "no Python package under $prefix"
  PYTHONPATH="$(dirname "$site")" "$python" - "$socket" "$prefix" "$py_example" <<'EOF' || fail "python"
import sys
import tierkv

socket, prefix, readme_example = sys.argv[1], sys.argv[2], sys.argv[3]
assert tierkv.__file__.startswith(prefix), tierkv.__file__
maps = open("/proc/self/maps").read()
libs = {line.split()[-1] for line in maps.splitlines() if "libtierkv.so" in line}
assert libs and all(lib.startswith(prefix) for lib in libs), libs
with tierkv.connect(socket) as client:
    ns = client.namespace(model="consumer-py", block_bytes=4096)
    tokens = list(range(64))
    ns.put(tokens, bytes(range(256)) * 64)
    out = bytearray(4 * 4096)
    assert ns.get(tokens, out) == 4 and out == bytes(range(256)) * 64
example = {"prompt": list(range(99, 99 + 64)), "kv": bytes(range(256)) * (1 << 14),
           "out": bytearray(4 << 20)}
exec(readme_example.replace("/tmp/tierkv.sock", socket), example)
assert example["cached"] == 4 and example["out"] == example["kv"], "the README's Python example"
print("consumer_py: ok", tierkv.__version__)
EOF
fi
step "ok"
