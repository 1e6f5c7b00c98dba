#!/usr/bin/env python3
"""Alerts into incidents, end to end, through `gatewatch correlator` (release build):

1. Sustained ingest: N Suricata EVE alerts (a province-like mix: 2,000 internal hosts
   of 40 agencies, 400 outside sources, 120 rules, repeats within flows) are written
   to an eve.json the correlator tails; measured from its start until every alert is
   in SQLite with its incident (the service's counters) -> alerts/s, incidents, and
   the reduction factor alerts/incidents.
2. Latency: while a background writer appends R alerts/s, a probe alert about a
   fresh host is appended every 100 ms and `GET /api/v1/incidents?entity=HOST` is
   polled (every 2 ms) until its incident is visible -> p50/p99/max of
   arrival (write to the file) -> visible through the API.

    python3 benches/incident-ingest.py [N=300000] [R=2000] [PROBES=300]

Prints the figures and the machine. Uses the corpus of nothing: alerts are generated.
"""
import json, os, random, shutil, ssl, subprocess, sys, tempfile, threading, time, urllib.request

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
N = int(sys.argv[1]) if len(sys.argv) > 1 else 300_000
R = int(sys.argv[2]) if len(sys.argv) > 2 else 2_000
PROBES = int(sys.argv[3]) if len(sys.argv) > 3 else 300

subprocess.run(["cargo", "build", "--release", "--quiet"], cwd=ROOT, check=True)
BIN = os.path.join(os.environ.get("CARGO_TARGET_DIR", os.path.join(ROOT, "target")), "release", "gatewatch")
tmp = tempfile.mkdtemp()
os.chdir(tmp)

def run(*a):
    subprocess.run([BIN, *a], check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)

run("pki", "init")
run("pki", "issue", "--role", "server", "--dns", "localhost", "--ip", "127.0.0.1", "correlator")
run("pki", "issue", "--role", "client", "bench")
os.makedirs("suricata")

# An inventory: 40 agencies, a /24 each.
with open("assets.toml", "w") as f:
    for a in range(40):
        f.write(f'[[agencies]]\nid = "ag{a}"\nname = "Agency {a}"\n')
        f.write(f'[[assets]]\naddress = "10.46.{a}.0/24"\nagency = "ag{a}"\nsystem = "LAN"\nsecurity_level = {1 + a % 4}\n')

with open("gatewatch.toml", "w") as f:
    f.write("""[store]
path = "db/gatewatch.db"
[control]
dir = "run"
[correlator]
assets = "assets.toml"
batch_size = 2000
[ingest]
https = "127.0.0.1:0"
tls_cert = "pki/correlator.crt"
tls_key = "pki/correlator.key"
client_ca = "pki/ca.crt"
eve_files = ["suricata/eve.json"]
eve_poll_ms = 20
""")

CATS = ["Web Application Attack", "Attempted Administrator Privilege Gain", "A Network Trojan was detected",
        "Attempted Information Leak", "Potentially Bad Traffic", "Misc activity", "Detection of a Network Scan"]
rnd = random.Random(7)
t_base = 1_790_000_000

def eve(n, src, dst, sid, flow, ts):
    sec = int(ts)
    return json.dumps({
        "timestamp": time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(sec)) + ".%06d+0000" % int((ts - sec) * 1e6),
        "flow_id": flow, "event_type": "alert", "src_ip": src, "src_port": 1024 + n % 60000,
        "dest_ip": dst, "dest_port": 80, "proto": "TCP", "host": "suricata-hue-01",
        "alert": {"action": "allowed", "gid": 1, "signature_id": 2_010_000 + sid, "rev": 1,
                  "signature": f"ET TEST signature {sid}", "category": CATS[sid % len(CATS)],
                  "severity": 1 + sid % 3}}, separators=(",", ":"))

def background(n):
    # Inbound attacks mostly, some outbound C2, repeats within a flow.
    host = f"10.46.{rnd.randrange(40)}.{rnd.randrange(1, 51)}"
    ext = f"203.0.{113 + rnd.randrange(3)}.{rnd.randrange(1, 134)}"
    sid = rnd.randrange(120)
    flow = n // 3  # three alerts per flow: repeats fold
    src, dst = (host, ext) if sid % 7 == 2 else (ext, host)
    return eve(n, src, dst, sid, flow, t_base + n / 1000.0)

with open("suricata/eve.json", "w") as f:
    for n in range(N):
        f.write(background(n) + "\n")

ctx = ssl.create_default_context(cafile="pki/ca.crt")
ctx.load_cert_chain("pki/bench.crt", "pki/bench.key")

def get(port, path):
    with urllib.request.urlopen(f"https://localhost:{port}{path}", context=ctx, timeout=30) as r:
        return json.loads(r.read())

t0 = time.monotonic()
p = subprocess.Popen([BIN, "--config", "gatewatch.toml", "correlator", "--print-addresses"],
                     stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
port = json.loads(p.stdout.readline())["https"].split(":")[1]
while True:
    s = get(port, "/api/v1/stats")
    inc = s["detection"]["incidents"]
    if inc["alerts"] + inc["suppressed"] - inc["correlations"] >= N and s["eve_files"] and s["eve_files"][0]["alerts"] >= N:
        break
    time.sleep(0.05)
secs = time.monotonic() - t0
open_incidents = len(get(port, "/api/v1/incidents?limit=1000"))
print(f"machine: {os.cpu_count()} cores, " + open("/proc/cpuinfo").read().split("model name")[1].split("\n")[0].strip(": "), flush=True)
print(f"sustained: {N} EVE alerts tailed into SQLite with incidents in {secs:.1f} s = {N / secs:,.0f} alerts/s "
      f"(start-up included); {inc['repeats']} repeats folded, {inc['correlations']} correlation alerts, "
      f"{inc['incidents_created']} incidents created, {inc['incidents_merged']} merged into campaigns; "
      f"reduction {N / max(1, inc['incidents_created'] - inc['incidents_merged']):,.0f} alerts per incident", flush=True)

# 2. Latency under a background load of R alerts/s.
stop = False
fa = open("suricata/eve.json", "a")
lock = threading.Lock()
def writer():
    n = N
    t = time.monotonic()
    while not stop:
        chunk = "".join(background(n + k) + "\n" for k in range(max(1, R // 100)))
        n += max(1, R // 100)
        with lock:
            fa.write(chunk)
            fa.flush()
        t += 0.01
        time.sleep(max(0, t - time.monotonic()))
w = threading.Thread(target=writer)
w.start()
lat = []
try:
    for i in range(PROBES):
        host = f"10.99.{i // 250}.{i % 250 + 1}"
        # A source of its own per probe: ten probes from one source would be a scan,
        # and the campaign incident of that source would absorb them.
        line = eve(10**9 + i, f"198.51.{100 + i // 250}.{i % 250 + 1}", host, 3, 10**9 + i, t_base + N / 1000.0 + i)
        with lock:
            fa.write(line + "\n")
            fa.flush()
            sent = time.monotonic()
        while not get(port, f"/api/v1/incidents?entity={host}"):
            time.sleep(0.002)
        lat.append((time.monotonic() - sent) * 1000)
        time.sleep(max(0, 0.1 - (time.monotonic() - sent)))
finally:
    stop = True
    w.join()
lat.sort()
q = lambda x: lat[min(len(lat) - 1, int(x * len(lat)))]
print(f"latency: arrival -> incident visible through the API, {len(lat)} probes under {R} alerts/s: "
      f"p50 {q(0.5):.0f} ms, p99 {q(0.99):.0f} ms, max {lat[-1]:.0f} ms (tail poll every 20 ms, API poll every 2 ms)")
p.terminate()
p.wait()
shutil.rmtree(tmp)
