#!/usr/bin/env bash
# Replay with 1, 2 and 4 worker threads (`capture.workers`), the whole ET Open 2024 file
# on bench-mixed.pcap, every packet inspected, release build. Runs alternate between
# worker counts (1, 2, 4, 1, 2, 4, ...) so that the noise of a shared machine falls on
# all; prints each count's packet processing (Gatewatch's own figure, net of start-up),
# median of N, the ratios to one worker, and whether the alerts are identical: the
# multiset of (signature id, flow, pcap_cnt), a flow being the unordered endpoints
# plus the protocol.
#
#   N=5 benches/workers-replay.sh [PCAP] [RULES]
set -euo pipefail
cd "$(dirname "$0")/.."
. benches/common.sh
PCAP=${1:-../shared/corpus/pcaps/bench-mixed.pcap}
RULES=${2:-../shared/corpus/et-open/etopen-2024-04-21-all-but-malware.rules}
cat "$PCAP" "$RULES" > /dev/null   # warm the page cache
echo "machine: $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs); N=$N"
for i in $(seq "$N"); do
  for w in 1 2 4; do
    "$BIN" --set capture.checksum_validation=false --set capture.workers="$w" \
      replay "$PCAP" --rules "$RULES" --eve "$tmp/eve-$w.json" 2> "$tmp/err"
    sed -n 's/.*packet processing \([0-9.]*\) s.*/\1/p' "$tmp/err" >> "$tmp/proc-$w"
  done
done
python3 - "$tmp" <<'PY'
import collections, json, statistics, sys
tmp = sys.argv[1]
def alerts(path):
    c = collections.Counter()
    for line in open(path):
        if '"event_type":"alert"' not in line:
            continue
        e = json.loads(line)
        a = (e["src_ip"], e.get("src_port", 0)); b = (e["dest_ip"], e.get("dest_port", 0))
        c[(e["alert"]["signature_id"], *sorted([a, b]), e["proto"], e.get("pcap_cnt"))] += 1
    return c
med = {}
base = alerts(f"{tmp}/eve-1.json")
for w in (1, 2, 4):
    runs = [float(x) for x in open(f"{tmp}/proc-{w}")]
    med[w] = statistics.median(runs)
    got = alerts(f"{tmp}/eve-{w}.json")
    diff = sum(((base - got) + (got - base)).values())
    print(f"{w} worker(s): packet processing {med[w]:.3f} s median (runs {', '.join(f'{r:.3f}' for r in runs)}), "
          f"{sum(got.values())} alerts, {diff} differing from 1 worker by (sid, flow, pcap_cnt)")
print(f"speed-up 2 workers / 1: {med[1] / med[2]:.2f}x; 4 workers / 1: {med[1] / med[4]:.2f}x")
PY
