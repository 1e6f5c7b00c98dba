#!/usr/bin/env python3
"""Transport from one sensor to the correlator: mutual TLS (TLS 1.3), batches
acknowledged only after the SQLite commit (synchronous=FULL). The sensor (release
build) captures N probe packets on a veth pair while the correlator is down, so every
finding waits in the spool; then the correlator starts and the time until all N are
stored is measured. Prints findings/s (median of RUNS) and request-body bytes per
finding (TLS adds ≈22 bytes per 16 KiB record). Needs root, iproute2, tcpreplay.

    python3 benches/ship-transport.py [--findings 100000] [--runs 3]
"""
import argparse, json, os, statistics, struct, subprocess, sys, tempfile, time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
BIN = os.path.join(os.environ.get("CARGO_TARGET_DIR", os.path.join(ROOT, "target")), "release", "gatewatch")

def sh(*a, check=True, **kw):
    return subprocess.run(a, check=check, capture_output=True, text=True, **kw)

def csum(b):
    if len(b) % 2:
        b += b"\0"
    s = sum(struct.unpack(f"!{len(b)//2}H", b))
    while s >> 16:
        s = (s & 0xffff) + (s >> 16)
    return ~s & 0xffff

def probes(path, n):
    src, dst = bytes([10, 46, 1, 10]), bytes([203, 0, 113, 5])
    with open(path, "wb") as f:
        f.write(struct.pack("<IHHiIII", 0xa1b2c3d4, 2, 4, 0, 0, 65535, 1))
        for i in range(n):
            payload = f"GWX probe {i}".encode()
            udp = struct.pack("!HHHH", 20000 + i % 1000, 5555, 8 + len(payload), 0) + payload
            ip = struct.pack("!BBHHHBBH4s4s", 0x45, 0, 20 + len(udp), i & 0xffff, 0, 64, 17, 0, src, dst)
            ip = ip[:10] + struct.pack("!H", csum(ip)) + ip[12:]
            frame = b"\x02\0\0\0\0\x02\x02\0\0\0\0\x01\x08\x00" + ip + udp
            f.write(struct.pack("<IIII", 1_800_000_000 + i // 100_000, i % 100_000 * 10, len(frame), len(frame)) + frame)

def stored(d):
    out = sh(BIN, "--config", "correlator.toml", "incidents", "list", "--json", "--limit", "100000", cwd=d, check=False).stdout
    try:
        return sum(i["alert_count"] for i in json.loads(out))
    except ValueError:
        return 0

def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--findings", type=int, default=100_000)
    ap.add_argument("--runs", type=int, default=3)
    a = ap.parse_args()
    cpu = next((l.split(":", 1)[1].strip() for l in open("/proc/cpuinfo") if l.startswith("model name")), "?")
    print(f"machine: {os.cpu_count()} cores, {cpu}; {a.findings} findings per run, {a.runs} runs")
    rates, per = [], []
    for run in range(a.runs):
        d = tempfile.mkdtemp()
        snd, cap = f"gwts{os.getpid()}", f"gwtc{os.getpid()}"
        try:
            for ns in (snd, cap):
                sh("ip", "netns", "add", ns)
                sh("ip", "netns", "exec", ns, "sysctl", "-qw", "net.ipv6.conf.all.disable_ipv6=1")
            sh("ip", "-n", cap, "link", "set", "lo", "up")
            sh("ip", "link", "add", "gw-out", "netns", snd, "type", "veth", "peer", "name", "gw-in", "netns", cap)
            sh("ip", "-n", snd, "link", "set", "gw-out", "up")
            sh("ip", "-n", cap, "link", "set", "gw-in", "up")
            for args in (["init"], ["issue", "correlator", "--role", "server", "--ip", "127.0.0.1"], ["issue", "s1", "--role", "client"]):
                sh(BIN, "pki", *args, cwd=d)
            probes(os.path.join(d, "p.pcap"), a.findings)
            open(os.path.join(d, "probe.rules"), "w").write('alert udp any any -> any 5555 (msg:"probe"; content:"GWX"; sid:1;)\n')
            port = 18443
            open(os.path.join(d, "correlator.toml"), "w").write(
                f'[store]\npath = "db/g.db"\n[control]\ndir = "rc"\n[ingest]\nhttps = "127.0.0.1:{port}"\n'
                'tls_cert = "pki/correlator.crt"\ntls_key = "pki/correlator.key"\nclient_ca = "pki/ca.crt"\n'
                '[correlator]\nincident_window_secs = 86400\n')
            open(os.path.join(d, "sensor.toml"), "w").write(
                '[detect]\nrule_files = ["probe.rules"]\n[live]\neve = "eve.json"\n[control]\ndir = "rs"\n[eve]\nsensor_name = "s1"\n'
                f'[ship]\nurl = "https://127.0.0.1:{port}"\nca = "pki/ca.crt"\ncert = "pki/s1.crt"\nkey = "pki/s1.key"\n'
                'backoff_min_ms = 50\nbackoff_max_ms = 200\n[spool]\ndir = "spool"\nseal_after_ms = 200\n')
            err = open(os.path.join(d, "sensor.err"), "w")
            s = subprocess.Popen(["ip", "netns", "exec", cap, BIN, "--config", "sensor.toml", "sensor", "-i", "gw-in"], cwd=d, stderr=err, stdout=subprocess.DEVNULL)
            while "capturing on" not in open(err.name).read():
                time.sleep(0.1)
            sh("ip", "netns", "exec", snd, "tcpreplay", "-q", "-i", "gw-out", "--pps=20000", os.path.join(d, "p.pcap"))
            n, same = -1, 0
            while same < 10:
                m = sum(1 for l in open(os.path.join(d, "eve.json")) if '"event_type":"alert"' in l)
                same = same + 1 if m == n else 0
                n = m
                time.sleep(0.2)
            time.sleep(2)  # the last records reach the spool and are sealed
            c = subprocess.Popen(["ip", "netns", "exec", cap, BIN, "--config", "correlator.toml", "correlator"], cwd=d,
                                 stderr=subprocess.DEVNULL, stdout=subprocess.DEVNULL)
            t0 = time.time()
            while stored(d) < n and time.time() - t0 < 600:
                time.sleep(0.1)
            dt = time.time() - t0
            s.terminate(); s.wait(); c.terminate(); c.wait()
            log = open(err.name).read()
            line = next((l for l in log.splitlines() if "shipped" in l), "")
            sent = int(line.split("shipped ")[1].split()[0]) if line else 0
            body = int(line.split("batches, ")[1].split()[0]) if line else 0
            rates.append(n / dt)
            per.append(body / max(sent, 1))
            print(f"run {run + 1}: {n} findings stored in {dt:.2f} s (incl. correlator start-up) = {n / dt:,.0f} findings/s; "
                  f"{body / max(sent, 1):.0f} body bytes per finding; {line.strip()}")
        finally:
            for ns in (snd, cap):
                sh("ip", "netns", "del", ns, check=False)
    print(f"median: {statistics.median(rates):,.0f} findings/s, {statistics.median(per):.0f} bytes per finding")

main()
