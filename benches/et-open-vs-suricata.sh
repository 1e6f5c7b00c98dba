#!/usr/bin/env bash
# `gatewatch replay` with the whole ET Open 2024 rule file, one worker thread, release
# build, against the Suricata 8.0.6 reference of issue 3 (same capture, same rule file,
# `--runmode single -k none`, Hyperscan): 1.8–2.2 s of packet processing, start-up
# 8.5–11 s warm / 80 s cold, 251 MB peak RSS, 1,377 alerts over 129 signatures; no
# rules: 0.7 s, 62 MB. Prints medians of N runs and the ratios to those figures.
#
#   N=5 benches/et-open-vs-suricata.sh [PCAP] [RULES]
set -euo pipefail
cd "$(dirname "$0")/.."
. benches/common.sh
PCAP=${1:-../shared/corpus/pcaps/bench-mixed.pcap}
RULES=${2:-../shared/corpus/et-open/etopen-2024-04-21-all-but-malware.rules}
tcpdump -r "$PCAP" -c 1 -w "$tmp/one.pcap" 2>/dev/null
cat "$PCAP" "$RULES" > /dev/null   # warm the page cache


timed() { # pcap rules -> appends seconds to $tmp/times, peak KB to $tmp/rss
  local s0 s1
  s0=$(date +%s.%N)
  /usr/bin/time -f "%M" -o "$tmp/t" "$BIN" replay "$1" --rules "$2" --eve "$tmp/eve.json" 2> "$tmp/err"
  s1=$(date +%s.%N)
  echo "$s1 - $s0" | bc -l >> "$tmp/times"; cat "$tmp/t" >> "$tmp/rss"
}

measure() { # label pcap rules -> sets T (median s) and RSS (max MB)
  : > "$tmp/times"; : > "$tmp/rss"
  for _ in $(seq "$N"); do timed "$2" "$3"; done
  T=$(median < "$tmp/times")
  RSS=$(sort -n "$tmp/rss" | tail -1 | awk '{print $1/1024}')
}

echo "machine: $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs); N=$N"
echo "capture: $PCAP"
echo "rules:   $RULES ($("$BIN" rules check "$RULES" 2>/dev/null | head -1))"
measure "no rules" "$PCAP" "$tmp/none.rules"; T0=$T; R0=$RSS
measure "start-up" "$tmp/one.pcap" "$RULES"; TS=$T
measure "ET Open" "$PCAP" "$RULES"; TE=$T; RE=$RSS
stats=$(tail -1 "$tmp/eve.json")
pkts=$(echo "$stats" | python3 -c 'import json,sys; print(json.load(sys.stdin)["stats"]["decoder"]["pkts"])')
bytes=$(echo "$stats" | python3 -c 'import json,sys; print(json.load(sys.stdin)["stats"]["decoder"]["bytes"])')
alerts=$(grep '"event_type":"alert"' "$tmp/eve.json" | python3 -c '
import json,sys
s=[json.loads(l)["alert"]["signature_id"] for l in sys.stdin]
print(f"{len(s)} alerts over {len(set(s))} signatures")')
awk -v t0="$T0" -v r0="$R0" -v ts="$TS" -v te="$TE" -v re="$RE" -v p="$pkts" -v b="$bytes" -v a="$alerts" 'BEGIN {
  proc = te - ts
  printf "no rules:        %6.3f s  %9.0f packets/s  %7.1f Mbit/s  peak RSS %6.1f MB   (Suricata 0.7 s, 62 MB: time x%.2f, RSS x%.2f)\n", t0, p/t0, b*8/t0/1e6, r0, t0/0.7, r0/62
  printf "start-up:        %6.3f s (load + compile of the rule file)        (Suricata 8.5-11 s warm, 80 s cold: x%.3f of 8.5 s)\n", ts, ts/8.5
  printf "ET Open, total:  %6.3f s  peak RSS %6.1f MB   (Suricata 251 MB: RSS x%.2f)\n", te, re, re/251
  printf "ET Open, packet processing net of start-up: %6.3f s  %9.0f packets/s  %7.1f Mbit/s   (Suricata 1.8-2.2 s: x%.2f of 2.0 s)\n", proc, p/proc, b*8/proc/1e6, proc/2.0
  printf "%s   (Suricata: 1377 alerts over 129 signatures)\n", a
}'
