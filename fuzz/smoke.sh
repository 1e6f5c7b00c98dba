#!/usr/bin/env bash
# Runs every fuzz target for SECONDS (default 15) from the committed seeds.
# Needs cargo-fuzz; RUSTC_BOOTSTRAP lets the stable toolchain take its -Z flags.
set -euo pipefail
cd "$(dirname "$0")"
SECONDS_EACH=${1:-15}
export RUSTC_BOOTSTRAP=1
targets=$(cargo fuzz list)
cargo fuzz build --dev
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
for t in $targets; do
  mkdir -p "$work/$t"
  [ -d "seeds/$t" ] && cp seeds/"$t"/* "$work/$t/" 2>/dev/null || true
  echo "fuzz smoke: $t for ${SECONDS_EACH}s"
  cargo fuzz run --dev "$t" "$work/$t" -- -max_total_time="$SECONDS_EACH" -rss_limit_mb=2048 -print_final_stats=0 2>&1 \
    | grep -E "^Done|ERROR|panicked|SUMMARY" || true
  # A crash leaves an artifact and a non-zero exit above is swallowed by grep: check.
  # (find, not ls: ls fails when any one of the patterns matches nothing.)
  if [ -n "$(find artifacts/"$t" \( -name 'crash-*' -o -name 'oom-*' -o -name 'timeout-*' \) 2>/dev/null | head -1)" ]; then
    echo "fuzz smoke: $t found a failing input in fuzz/artifacts/$t" >&2
    exit 1
  fi
done
echo "fuzz smoke: all targets clean"
