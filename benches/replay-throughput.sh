#!/usr/bin/env bash
# Whole-pipeline throughput of `gatewatch replay` on a capture, with and without rules,
# against the floor of reading the same file with tcpdump. Prints medians of N runs.
#
#   benches/replay-throughput.sh [PCAP] [RULES...]
#
# Default PCAP: ../shared/corpus/pcaps/bench-mixed.pcap; default rule set: every
# suricata-verify rule file, concatenated. Needs tcpdump, bc and GNU time.
set -euo pipefail
cd "$(dirname "$0")/.."
. benches/common.sh
PCAP=${1:-../shared/corpus/pcaps/bench-mixed.pcap}
shift || true
if [ $# -gt 0 ]; then cat "$@" > "$tmp/set.rules"; else
  find ../shared/corpus/suricata-verify/tests -name '*.rules' -exec cat {} + > "$tmp/set.rules"; fi
cat "$PCAP" > /dev/null   # warm the page cache


run() { # label rules extra-args...
  local label=$1 rules=$2; shift 2
  : > "$tmp/times"; : > "$tmp/rss"
  for _ in $(seq "$N"); do
    local s0 s1
    s0=$(date +%s.%N)
    /usr/bin/time -f "%M" -o "$tmp/t" "$BIN" replay "$PCAP" --rules "$rules" --eve "$tmp/eve.json" "$@" 2> "$tmp/err"
    s1=$(date +%s.%N)
    echo "$s1 - $s0" | bc -l >> "$tmp/times"; cat "$tmp/t" >> "$tmp/rss"
  done
  local t; t=$(median < "$tmp/times")
  local rss; rss=$(sort -n "$tmp/rss" | tail -1)
  local stats; stats=$(tail -1 "$tmp/eve.json")
  local pkts bytes alerts
  pkts=$(echo "$stats" | python3 -c 'import json,sys; print(json.load(sys.stdin)["stats"]["decoder"]["pkts"])')
  bytes=$(echo "$stats" | python3 -c 'import json,sys; print(json.load(sys.stdin)["stats"]["decoder"]["bytes"])')
  alerts=$(grep -c '"event_type":"alert"' "$tmp/eve.json" || true)
  awk -v l="$label" -v t="$t" -v p="$pkts" -v b="$bytes" -v r="$rss" -v a="$alerts" -v f="$FLOOR" 'BEGIN {
    printf "%-28s median %6.3f s  %9.0f packets/s  %7.1f Mbit/s  peak RSS %6.1f MB  %6d alerts  %5.1fx tcpdump\n",
      l, t, p/t, b*8/t/1e6, r/1024, a, t/f }'
}

: > "$tmp/floor"
for _ in $(seq "$N"); do
  s0=$(date +%s.%N); tcpdump -r "$PCAP" -w /dev/null 2>/dev/null; s1=$(date +%s.%N)
  echo "$s1 - $s0" | bc -l >> "$tmp/floor"
done
FLOOR=$(median < "$tmp/floor")
echo "machine: $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs); capture: $PCAP; N=$N"
printf "tcpdump -r FILE -w /dev/null    median %6.3f s\n" "$FLOOR"
run "no rules" "$tmp/none.rules"
run "no rules, checksums off" "$tmp/none.rules" --set capture.checksum_validation=false
run "rule set ($(grep -c sid: "$tmp/set.rules") lines)" "$tmp/set.rules"
run "rule set, checksums off" "$tmp/set.rules" --set capture.checksum_validation=false
