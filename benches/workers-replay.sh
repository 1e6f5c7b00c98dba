#!/usr/bin/env bash
# Replay throughput with 1 and 2 worker threads (`capture.workers`): the whole ET Open
# 2024 file on bench-mixed.pcap, release build. Start-up (load and compile of the rule
# file, measured on a one-packet capture) is subtracted, so the figure is packet
# processing. Prints medians of N runs, packets/s per worker count and the ratio 2w/1w,
# and checks that both raise the same alerts.
#
#   N=3 benches/workers-replay.sh [PCAP] [RULES]
set -euo pipefail
cd "$(dirname "$0")/.."
. benches/common.sh
PCAP=${1:-../shared/corpus/pcaps/bench-mixed.pcap}
RULES=${2:-../shared/corpus/et-open/etopen-2024-04-21-all-but-malware.rules}
# The first packet of the capture (pcap header + one record), for the start-up time.
python3 - "$PCAP" "$tmp/one.pcap" <<'PY'
import struct, sys
d = open(sys.argv[1], "rb").read(1 << 20)
le = d[:4] in (b"\xd4\xc3\xb2\xa1", b"\x4d\x3c\xb2\xa1")
incl = struct.unpack("<I" if le else ">I", d[24 + 8:24 + 12])[0]
open(sys.argv[2], "wb").write(d[:24 + 16 + incl])
PY
cat "$PCAP" "$RULES" > /dev/null   # warm the page cache
echo "machine: $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs); N=$N"

run() { # workers pcap -> seconds
  local s0 s1
  s0=$(date +%s.%N)
  "$BIN" --set capture.workers="$1" replay "$2" --rules "$RULES" --eve "$tmp/eve-$1.json" 2> "$tmp/err"
  s1=$(date +%s.%N)
  echo "$s1 - $s0" | bc -l
}
alerts() { grep '"event_type":"alert"' "$1" | python3 -c '
import json, sys, collections
c = collections.Counter(json.loads(l)["alert"]["signature_id"] for l in sys.stdin)
print(sum(c.values()), len(c), hash(tuple(sorted(c.items()))))'; }

declare -A PROC
for w in 1 2; do
  : > "$tmp/start"; : > "$tmp/total"
  for _ in $(seq "$N"); do
    run "$w" "$tmp/one.pcap" >> "$tmp/start"
    run "$w" "$PCAP" >> "$tmp/total"
  done
  ts=$(median < "$tmp/start"); tt=$(median < "$tmp/total")
  PROC[$w]=$(echo "$tt - $ts" | bc -l)
  pkts=$(tail -1 "$tmp/eve-$w.json" | python3 -c 'import json,sys; print(json.load(sys.stdin)["stats"]["decoder"]["pkts"])')
  read -r n sids _ <<< "$(alerts "$tmp/eve-$w.json")"
  printf "%d worker(s): total %.2f s, start-up %.2f s, processing %.2f s = %.0f packets/s; %d alerts over %d signatures\n" \
    "$w" "$tt" "$ts" "${PROC[$w]}" "$(echo "$pkts / ${PROC[$w]}" | bc -l)" "$n" "$sids"
done
[ "$(alerts "$tmp/eve-1.json")" = "$(alerts "$tmp/eve-2.json")" ] \
  && echo "alerts by signature: identical" || echo "alerts by signature: DIFFER"
printf "ratio 2w/1w (packets/s of processing): %.2f\n" "$(echo "${PROC[1]} / ${PROC[2]}" | bc -l)"
