#!/usr/bin/env bash
# Host logs through the correlator service, end to end: `gatewatch correlator` with all
# SigmaHQ rules loaded, the 24,661 Windows events of host-logs/windows-attack-samples.jsonl
# POSTed over HTTPS with mutual TLS (openssl-made CA and certificates, curl as the
# forwarder) in requests of 2,000 events, each answered after detection and storage;
# then the same events as RFC 5424 syslog over TCP (JSON bodies, as nxlog forwards
# them). Prints events/s (medians of N runs) and the service's counters.
#
#   N=3 benches/correlator-ingest.sh
set -euo pipefail
cd "$(dirname "$0")/.."
. benches/common.sh
BIN=$(realpath "$BIN")
C=$(realpath ../shared/corpus/sigma)
EVENTS=$C/host-logs/windows-attack-samples.jsonl
cd "$tmp"
echo "machine: $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs); N=$N"

# PKI: a CA, the correlator's certificate, a forwarder's client certificate.
ossl() { openssl "$@" 2>/dev/null; }
ossl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -subj /CN=bench-ca -days 2 \
  -addext basicConstraints=critical,CA:TRUE -keyout ca.key -out ca.crt
leaf() { # name cn ext
  ossl req -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -subj "/CN=$2" -keyout "$1.key" -out "$1.csr"
  printf '%s\n' "$3" > "$1.ext"
  ossl x509 -req -in "$1.csr" -CA ca.crt -CAkey ca.key -CAcreateserial -days 2 -extfile "$1.ext" -out "$1.crt"
}
leaf server localhost "subjectAltName=DNS:localhost,IP:127.0.0.1
extendedKeyUsage=serverAuth"
leaf client wec-bench "extendedKeyUsage=clientAuth"

S=$C/sigmahq
cat > gatewatch.toml <<EOF
[sigma]
rules = ["$S/rules", "$S/rules-emerging-threats", "$S/rules-threat-hunting", "$S/rules-placeholder", "$S/rules-compliance"]
[store]
path = "db/gatewatch.db"
[control]
dir = "run"
[ingest]
https = "127.0.0.1:0"
syslog_tcp = "127.0.0.1:0"
tls_cert = "server.crt"
tls_key = "server.key"
client_ca = "ca.crt"
EOF
split -l 2000 -d "$EVENTS" part.
python3 - "$EVENTS" <<'PY' > syslog.txt
import json, sys
for line in open(sys.argv[1], encoding="utf-8"):
    line = line.strip()
    if not line:
        continue
    msg = f"<14>1 2026-11-23T01:00:00Z wec01 nxlog - - - {json.dumps(json.loads(line), separators=(',', ':'))}"
    sys.stdout.write(f"{len(msg.encode())} {msg}")
PY
TOTAL=$(grep -c . "$EVENTS")

: > https.rates; : > syslog.rates
for i in $(seq "$N"); do
  rm -rf db run
  "$BIN" --config gatewatch.toml correlator --print-addresses > addr.json 2> service.err &
  pid=$!
  until python3 -c "import json; json.load(open('addr.json'))" 2>/dev/null; do sleep 0.2; kill -0 $pid || { cat service.err; exit 1; }; done
  HTTPS_PORT=$(python3 -c 'import json; print(json.load(open("addr.json"))["https"].rsplit(":",1)[1])')
  TCP=$(python3 -c 'import json; print(json.load(open("addr.json"))["syslog_tcp"])')
  t0=$(date +%s.%N)
  for f in part.*; do
    curl -sf --cacert ca.crt --cert client.crt --key client.key --data-binary @"$f" \
      "https://localhost:$HTTPS_PORT/api/v1/logs" > /dev/null
  done
  t1=$(date +%s.%N)
  python3 -c "print($TOTAL/($t1-$t0))" >> https.rates
  stats() { curl -sf --cacert ca.crt --cert client.crt --key client.key "https://localhost:$HTTPS_PORT/api/v1/stats"; }
  t0=$(date +%s.%N)
  python3 - "$TCP" <<'PY'
import socket, sys
host, port = sys.argv[1].rsplit(":", 1)
s = socket.create_connection((host, int(port)))
s.sendall(open("syslog.txt", "rb").read())
s.close()
PY
  while [ "$(stats | python3 -c 'import json,sys; print(json.load(sys.stdin)["detection"]["hostlog"]["events"])')" -lt $((2 * TOTAL)) ]; do sleep 0.05; done
  t1=$(date +%s.%N)
  python3 -c "print($TOTAL/($t1-$t0))" >> syslog.rates
  stats > stats.json
  kill -TERM $pid; wait $pid
done
head -1 service.err
printf 'HTTPS (mTLS, 2,000 events per request): %.0f events/s (median of %s)\n' "$(median < https.rates)" "$N"
printf 'syslog TCP (RFC 5424, JSON bodies):     %.0f events/s (median of %s)\n' "$(median < syslog.rates)" "$N"
python3 -c 'import json; s=json.load(open("stats.json")); d=s["detection"]; print("last run:", json.dumps({"hostlog": d["hostlog"], "alerts_stored": d["alerts_stored"], "incidents_created": d["incidents_created"]}))'
