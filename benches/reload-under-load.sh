#!/usr/bin/env bash
# Rule reloads under load: bench-mixed.pcap streamed through a FIFO into
# `gatewatch replay --reload` with the whole ET Open 2024 file, in 21 parts, with
# `gatewatch rules reload` between parts (20 reloads, each a full recompilation). Prints
# packets and alerts by sid against a run without reloads, and the reload times.
#
#   benches/reload-under-load.sh [PCAP] [RULES]
set -euo pipefail
cd "$(dirname "$0")/.."
. benches/common.sh
PCAP=$(realpath "${1:-../shared/corpus/pcaps/bench-mixed.pcap}")
RULES=$(realpath "${2:-../shared/corpus/et-open/etopen-2024-04-21-all-but-malware.rules}")
BIN=$(realpath "$BIN")
cd "$tmp"
echo "machine: $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs)"
"$BIN" replay "$PCAP" --rules "$RULES" --eve base.json 2> base.err
mkfifo live.pcap
"$BIN" replay live.pcap --rules "$RULES" --reload --set control.dir=ctl --eve live.json 2> live.err &
child=$!
python3 - "$PCAP" "$BIN" <<'PY'
import os, subprocess, sys, time
pcap, bin_ = sys.argv[1], sys.argv[2]
data = open(pcap, 'rb').read()
part = len(data) // 21 + 1
with open('live.pcap', 'wb') as fifo:
    for i in range(21):
        fifo.write(data[i * part:(i + 1) * part]); fifo.flush()
        if i == 20:
            break
        out = subprocess.run([bin_, 'rules', 'reload', '--set', 'control.dir=ctl', '--timeout', '600'],
                             capture_output=True, text=True)
        print(f"reload {i + 1:2}: {out.stdout.strip() or out.stderr.strip()}")
        if out.returncode != 0:
            sys.exit(1)
PY
wait "$child"
python3 - <<'PY'
import collections, json
def read(p):
    alerts, stats = collections.Counter(), None
    for line in open(p):
        e = json.loads(line)
        if e['event_type'] == 'alert': alerts[e['alert']['signature_id']] += 1
        elif e['event_type'] == 'stats': stats = e['stats']
    return alerts, stats
a, sa = read('base.json'); b, sb = read('live.json')
print(f"without reloads: {sa['decoder']['pkts']} packets, {sum(a.values())} alerts over {len(a)} sids")
print(f"with reloads:    {sb['decoder']['pkts']} packets, {sum(b.values())} alerts over {len(b)} sids; "
      f"generation {sb['detect']['rules_generation']}, {sb['detect']['reloads']} swaps applied")
print("alerts by sid equal:", a == b, "| packets equal:", sa['decoder']['pkts'] == sb['decoder']['pkts'])
PY
