#!/usr/bin/env python3
"""Live capture on a veth pair between two network namespaces: `gatewatch sensor`
(TPACKET_V3 ring, ET Open 2024 loaded) in one, tcpreplay sending bounded bursts of
bench-mixed.pcap at fixed rates from the other. For 1 and 2 workers, prints per rate
the frames received, kernel drops and worker-queue drops, and the highest rate with
zero drops. Needs root, iproute2, tcpreplay and a release build.

    python3 benches/live-veth.py [--burst 100000] [--rates 25000,50000,100000,200000,0]
(rate 0 = tcpreplay --topspeed)
"""
import argparse, json, os, subprocess, sys, tempfile, time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
TARGET = os.environ.get("CARGO_TARGET_DIR", os.path.join(ROOT, "target"))
BIN = os.path.join(TARGET, "release", "gatewatch")
CORPUS = os.path.join(ROOT, "..", "shared", "corpus")

def sh(*args, check=True, **kw):
    return subprocess.run(args, check=check, capture_output=True, text=True, **kw)

def last_stats(path):
    best = None
    try:
        for line in open(path, encoding="utf-8"):
            try:
                e = json.loads(line)
            except ValueError:
                continue
            if e.get("event_type") == "stats":
                best = e["stats"]
    except FileNotFoundError:
        pass
    return best

def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--pcap", default=os.path.join(CORPUS, "pcaps", "bench-mixed.pcap"))
    ap.add_argument("--rules", default=os.path.join(CORPUS, "et-open", "etopen-2024-04-21-all-but-malware.rules"))
    ap.add_argument("--burst", type=int, default=100_000)
    ap.add_argument("--rates", default="25000,50000,100000,200000,0")
    a = ap.parse_args()
    rates = [int(r) for r in a.rates.split(",")]
    cpu = next((l.split(":", 1)[1].strip() for l in open("/proc/cpuinfo") if l.startswith("model name")), "?")
    print(f"machine: {os.cpu_count()} cores, {cpu}; burst {a.burst} frames of {os.path.basename(a.pcap)}")
    tmp = tempfile.mkdtemp()
    snd, cap = f"gwbs{os.getpid()}", f"gwbc{os.getpid()}"
    try:
        for ns in (snd, cap):
            sh("ip", "netns", "add", ns)
            sh("ip", "netns", "exec", ns, "sysctl", "-qw", "net.ipv6.conf.all.disable_ipv6=1")
        sh("ip", "link", "add", "gw-out", "netns", snd, "type", "veth", "peer", "name", "gw-in", "netns", cap)
        sh("ip", "-n", snd, "link", "set", "gw-out", "up")
        sh("ip", "-n", cap, "link", "set", "gw-in", "up")
        for workers in (1, 2):
            eve = os.path.join(tmp, f"eve-{workers}.json")
            err = open(os.path.join(tmp, "sensor.err"), "w")
            p = subprocess.Popen(["ip", "netns", "exec", cap, BIN, "--set", f"capture.workers={workers}",
                                  "--set", "live.stats_interval=1", "--set", f'control.dir="{tmp}/run"',
                                  "sensor", "-i", "gw-in", "--rules", a.rules, "--eve", eve],
                                 stderr=err, stdout=subprocess.DEVNULL)
            while "capturing on" not in open(err.name).read():
                if p.poll() is not None:
                    sys.exit(open(err.name).read())
                time.sleep(0.2)
            time.sleep(2)
            best = None
            prev = {"received": 0, "kernel_drops": 0, "queue_drops": 0}
            for rate in rates:
                speed = ["--topspeed"] if rate == 0 else [f"--pps={rate}"]
                t0 = time.time()
                out = sh("ip", "netns", "exec", snd, "tcpreplay", "-q", "-i", "gw-out", f"--limit={a.burst}", *speed, a.pcap).stdout
                sent_s = time.time() - t0
                actual = next((l for l in out.splitlines() if "Rated:" in l), "").strip()
                # Wait until the workers caught up: processed + dropped == received, stable.
                for _ in range(600):
                    time.sleep(1)
                    s = last_stats(eve)
                    c = s["capture"] if s else {}
                    if s and c["received"] - prev["received"] >= a.burst * 0.99 and \
                       s["decoder"]["pkts"] + c["queue_drops"] >= c["received"]:
                        break
                c = s["capture"]
                d = {k: c[k] - prev[k] for k in prev}
                prev = {k: c[k] for k in prev}
                label = "topspeed" if rate == 0 else f"{rate:>8} pps"
                print(f"  {workers} worker(s) {label}: sent in {sent_s:5.2f} s ({actual}); received {d['received']}, "
                      f"kernel drops {d['kernel_drops']}, queue drops {d['queue_drops']}")
                pps = float(actual.split(",")[-1].split()[0]) if "pps" in actual else rate
                if d["kernel_drops"] == 0 and d["queue_drops"] == 0 and d["received"] >= a.burst:
                    best = max(best or 0, pps)
            p.terminate(); p.wait()
            print(f"{workers} worker(s): highest sending rate with zero drops: {best or 0:,.0f} packets/s "
                  f"(bursts of {a.burst}; a burst is absorbed by the ring and the worker queues, so a "
                  f"sustained rate is bounded by processing: see benches/workers-replay.sh)")
    finally:
        for ns in (snd, cap):
            sh("ip", "netns", "del", ns, check=False)

main()
