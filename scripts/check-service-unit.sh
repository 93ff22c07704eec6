#!/usr/bin/env bash
# Checks packaging/tierkvd.service with `systemd-analyze verify` (syntax, known
# directives, executables present) against the built tierkvd, and that the
# daemon accepts the flags the unit gives it (--check-config on a config
# shaped like the one the unit expects).
# Usage: check-service-unit.sh BIN_DIR
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
bin="$(cd "$1" && pwd)"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
sed -e "s|/usr/local/bin/tierkvd|$bin/tierkvd|g" \
    -e "s|/etc/tierkv/tierkvd.toml|$work/tierkvd.toml|g" \
    "$root/packaging/tierkvd.service" > "$work/tierkvd.service"
cat > "$work/tierkvd.toml" <<TOML
socket = "/run/tierkv/tierkv.sock"
data_dir = "/var/lib/tierkv"
host_bytes = "64MiB"
TOML
out="$(systemd-analyze verify "$work/tierkvd.service" 2>&1 || true)"
# Units verified outside a booted system may warn about the manager itself;
# anything naming our unit is a real problem.
if grep -q "tierkvd.service" <<<"$out"; then
  echo "$out"
  echo "check-service-unit: systemd-analyze found problems in packaging/tierkvd.service"
  exit 1
fi
grep -q '^Type=notify' "$work/tierkvd.service"
"$bin/tierkvd" --check-config --config "$work/tierkvd.toml" >/dev/null
echo "check-service-unit: packaging/tierkvd.service verifies"
