#!/usr/bin/env bash
# Gatewatch against the reference Suricata 8.0.6 on equal work, side by side: the whole
# ET Open 2024 file on bench-mixed.pcap, every packet inspected by both (Suricata
# `-k none`, Gatewatch `capture.checksum_validation=false`), one worker each, release
# build, runs alternating. Prints packet processing net of start-up (median of N), the
# ratio, start-up, peak RSS, alerts and signatures, and the alert agreement by
# (signature id, flow). Without the reference, Gatewatch's figures only.
#
#   N=3 benches/et-open-vs-suricata.sh [PCAP] [RULES]
#   SURICATA_REF=/path/to/suricata WORKERS=2 benches/et-open-vs-suricata.sh
#   FEATURES=hyperscan MATCHERS=hashed,hyperscan N=5 benches/et-open-vs-suricata.sh
set -euo pipefail
cd "$(dirname "$0")/.."
. benches/common.sh
PCAP=${1:-../shared/corpus/pcaps/bench-mixed.pcap}
RULES=${2:-../shared/corpus/et-open/etopen-2024-04-21-all-but-malware.rules}
REF=${SURICATA_REF:-../shared/tools/suricata/suricata-ref}
echo "machine: $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs)"
exec python3 benches/side-by-side.py --gatewatch "$BIN" --suricata "$REF" --runs "$N" \
  --workers "${WORKERS:-1}" --matchers "${MATCHERS:-auto}" "$PCAP" "$RULES"
