#!/usr/bin/env bash
# YARA scanning in the sensor against `yr scan` (the yara-x CLI, `cargo install
# yara-x-cli@1.22.1 --locked`, the same yara-x version) over the same bytes: every file
# and stream chunk the sensor scans in bench-mixed.pcap is also written to a folder
# (`yara.dump_dir`), which `yr scan -p 1` then scans with the same rules, compiled with
# the same external variables. Both sides count CPU time of scanning only: the sensor's
# `stats.yara.scan_us`, and yr's user+sys time less its start-up (loading the compiled
# rules, measured by scanning one empty file). Prints medians of N runs and the ratio.
#
#   N=3 benches/yara-vs-yr.sh [PCAP] [RULES_DIR]
set -euo pipefail
cd "$(dirname "$0")/.."
. benches/common.sh
PCAP=${1:-../shared/corpus/pcaps/bench-mixed.pcap}
RULES=${2:-../shared/corpus/yara/signature-base/yara}
YR=${YR:-$(command -v yr || echo "$HOME/.cargo/bin/yr")}
[ -x "$YR" ] || { echo "yr not found: cargo install yara-x-cli@1.22.1 --locked" >&2; exit 1; }
echo "machine: $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs); N=$N"
echo "rules: $RULES ($("$BIN" rules check "$RULES" | sed -n 2p))"

: > "$tmp/ours"
for i in $(seq "$N"); do
  rm -rf "$tmp/dump"; mkdir -p "$tmp/dump"
  "$BIN" replay "$PCAP" --rules "$tmp/none.rules" --yara "$RULES" --set yara.dump_dir="$tmp/dump" \
    --eve "$tmp/eve.json" 2> "$tmp/err"
  tail -1 "$tmp/eve.json" | python3 -c 'import json,sys; y=json.load(sys.stdin)["stats"]["yara"]; print(y["scan_us"]/1e6, y["bytes"], y["files"]+y["streams"], y["matches"])' >> "$tmp/ours"
done
read -r _ BYTES SCANS MATCHES < "$tmp/ours"
T_OURS=$(cut -d' ' -f1 "$tmp/ours" | median)

D=(-d filename=\"\" -d filepath=\"\" -d extension=\"\" -d filetype=\"\" -d owner=\"\")
"$YR" compile --path-as-namespace --ignore-invalid-rules -w "${D[@]}" -o "$tmp/rules.yarc" "$RULES" > /dev/null 2>&1
mkdir -p "$tmp/empty" && : > "$tmp/empty/e"
cpu() { /usr/bin/time -f "%U %S" -o "$tmp/t" "$@" > "$tmp/yr.out" 2>/dev/null || true; awk '{print $1+$2}' "$tmp/t"; }
: > "$tmp/yr"; : > "$tmp/yr0"
for i in $(seq "$N"); do
  cpu "$YR" scan -C -p 1 --recursive=100 "$tmp/rules.yarc" "$tmp/dump" >> "$tmp/yr"
  cpu "$YR" scan -C -p 1 "$tmp/rules.yarc" "$tmp/empty" >> "$tmp/yr0"
done
T_YR=$(median < "$tmp/yr"); T_YR0=$(median < "$tmp/yr0")
"$YR" scan -C -p 1 -c --recursive=100 "$tmp/rules.yarc" "$tmp/dump" 2>/dev/null | awk -F': ' '{s+=$NF} END {print s+0}' > "$tmp/yrm"
python3 - "$T_OURS" "$T_YR" "$T_YR0" "$BYTES" "$SCANS" "$MATCHES" "$(cat "$tmp/yrm")" <<'PY'
import sys
ours, yr, yr0, b, n, m, ym = map(float, sys.argv[1:])
yr_net = max(yr - yr0, 1e-9)
print(f"bytes scanned: {b/1e6:.1f} MB in {int(n)} scans (files and stream chunks)")
print(f"gatewatch: {ours:.2f} s CPU scanning (median) = {b/1e6/ours:.1f} MB/s, {n/ours:.0f} scans/s; {int(m)} matches")
print(f"yr scan -p 1: {yr:.2f} s CPU, {yr0:.2f} s of it loading rules; net {yr_net:.2f} s = {b/1e6/yr_net:.1f} MB/s; {int(ym)} matching rules")
print(f"ratio gatewatch/yr throughput: {yr_net/ours:.2f}")
PY
