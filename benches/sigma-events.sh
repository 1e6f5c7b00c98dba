#!/usr/bin/env bash
# Sigma on one core, all SigmaHQ rules loaded (rules, emerging-threats, threat-hunting,
# placeholder, compliance): the rules that load, SigmaHQ's regression data, and events
# per second including JSON parsing on
#   - the 24,661 Windows events of host-logs/windows-attack-samples.jsonl (host rules,
#     each event tested only against the rules of its logsource);
#   - the DNS, HTTP and TLS EVE records of bench-mixed.pcap (network rules through the
#     field mapping of rules/sigma/network.yml), read 20 times over.
# Prints medians of N runs.
#
#   N=5 benches/sigma-events.sh
set -euo pipefail
cd "$(dirname "$0")/.."
. benches/common.sh
C=../shared/corpus/sigma
S=$C/sigmahq
RULES=("$S/rules" "$S/rules-emerging-threats" "$S/rules-threat-hunting" "$S/rules-placeholder" "$S/rules-compliance")
echo "machine: $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs); N=$N"
"$BIN" rules check "${RULES[@]}" | head -1
"$BIN" logs regression --sigma "${RULES[@]}" -- "$S/regression_data" 2>/dev/null | tail -1

"$BIN" replay ../shared/corpus/pcaps/bench-mixed.pcap --rules "$tmp/none.rules" --eve "$tmp/eve.json" > /dev/null 2>&1
grep -E '"event_type":"(dns|http|tls)"' "$tmp/eve.json" > "$tmp/net.json"
NET=(); for _ in $(seq 20); do NET+=("$tmp/net.json"); done

rate() { # files... -> median events/s
  for _ in $(seq "$N"); do
    "$BIN" logs scan --quiet --sigma "${RULES[@]}" -- "$@" 2>&1 | tail -1 | sed -E 's/.*: ([0-9]+) events\/s.*/\1/'
  done | median
}
echo "host logs (windows-attack-samples.jsonl): $(rate "$C/host-logs/windows-attack-samples.jsonl") events/s (median)"
echo "network (bench-mixed DNS/HTTP/TLS, $(wc -l < "$tmp/net.json") records x 20): $(rate "${NET[@]}") events/s (median)"
