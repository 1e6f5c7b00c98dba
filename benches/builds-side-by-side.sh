#!/usr/bin/env bash
# Two or more builds of Gatewatch on the same work, side by side: the whole ET Open 2024
# file on bench-mixed.pcap, every packet inspected, W workers, runs alternating with the
# order rotated each round (so that the noise of a shared machine falls on all). Prints
# for each build the median packet processing (Gatewatch's own figure, net of start-up),
# the median of its per-round ratio to the first build, and the same for user+sys CPU
# of the whole run (start-up included).
#
#   N=20 W=2 benches/builds-side-by-side.sh OLD_BINARY NEW_BINARY [MORE...]
# A build of an older commit: git worktree add /tmp/old COMMIT &&
#   (cd /tmp/old && CARGO_TARGET_DIR=/tmp/old-target cargo build --release)
set -euo pipefail
cd "$(dirname "$0")/.."
PCAP=${PCAP:-../shared/corpus/pcaps/bench-mixed.pcap}
RULES=${RULES:-../shared/corpus/et-open/etopen-2024-04-21-all-but-malware.rules}
[ $# -ge 2 ] || { echo "usage: N=20 W=2 $0 BINARY BINARY [BINARY...]" >&2; exit 2; }
command -v /usr/bin/time >/dev/null || { echo "needs /usr/bin/time (apt-get install time)" >&2; exit 2; }
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
cat "$PCAP" "$RULES" > /dev/null   # warm the page cache
echo "machine: $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs); N=${N:-20}, workers=${W:-2}"
bins=("$@"); n=${#bins[@]}
for i in $(seq "${N:-20}"); do
  for j in $(seq 0 $((n - 1))); do
    k=$(( (i + j) % n ))
    /usr/bin/time -f "%U %S" -o "$tmp/t" "${bins[$k]}" --set capture.checksum_validation=false \
      --set capture.workers="${W:-2}" replay "$PCAP" --rules "$RULES" --eve /dev/null 2> "$tmp/err" > /dev/null
    echo "$i $k $(sed -n 's/.*packet processing \([0-9.]*\) s.*/\1/p' "$tmp/err") $(cat "$tmp/t")" >> "$tmp/res"
  done
done
python3 - "$tmp/res" "$@" <<'PY'
import collections, statistics, sys
proc, cpu = collections.defaultdict(dict), collections.defaultdict(dict)
for line in open(sys.argv[1]):
    i, k, p, u, s = line.split()
    proc[int(k)][i] = float(p)
    cpu[int(k)][i] = float(u) + float(s)
names = sys.argv[2:]
for k in sorted(proc):
    r = statistics.median(proc[k][i] / proc[0][i] for i in proc[0])
    c = statistics.median(cpu[k][i] / cpu[0][i] for i in cpu[0])
    print(f"{names[k]}: packet processing median {statistics.median(proc[k].values()):.3f} s, "
          f"per-round ratio to the first {r:.3f}; CPU median {statistics.median(cpu[k].values()):.2f} s, ratio {c:.3f}")
PY
