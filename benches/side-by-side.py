#!/usr/bin/env python3
"""Gatewatch and the reference Suricata on equal work, side by side, in one run.

    benches/side-by-side.py --gatewatch BIN [--suricata REF] [--runs N] [--workers W]
                            [--matchers auto|hashed,hyperscan] PCAP RULES

Both engines inspect every packet (Suricata `-k none --runmode single`, Gatewatch
`capture.checksum_validation=false capture.workers=W`, W=1 unless told), on the same
capture and rule file; the runs alternate (Gatewatch, Suricata, Gatewatch, ...) so that
the noise of a shared machine falls on both. Printed, for each engine:

- packet processing net of start-up, median of N: Suricata's own `time elapsed`
  (suricata.log), Gatewatch's own `packet processing` (stderr); both run from the first
  packet read to the end of the capture;
- start-up: wall time of a run over the capture's first packet, median of N;
- peak RSS over the full runs (`/usr/bin/time`);
- alerts and signatures, and the alert agreement by (signature id, flow) through
  benches/alert-agreement.py (Suricata as the reference).

With several --matchers (`detect.matcher`), Gatewatch runs once per matcher in each
round, each compared with Suricata. Without --suricata (or when it is missing) only
Gatewatch's figures are printed.
"""
import argparse
import json
import os
import re
import statistics
import struct
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))


def first_packet(pcap, out):
    """The global header and first record of `pcap`: the start-up run's capture
    (Suricata does not finish on a capture without packets)."""
    with open(pcap, "rb") as f:
        head = f.read(24)
        if head[:4] not in (b"\xd4\xc3\xb2\xa1", b"\x4d\x3c\xb2\xa1", b"\xa1\xb2\xc3\xd4", b"\xa1\xb2\x3c\x4d"):
            sys.exit(f"{pcap}: not a pcap file (pcapng is not cut here)")
        little = head[:4] in (b"\xd4\xc3\xb2\xa1", b"\x4d\x3c\xb2\xa1")
        rec = f.read(16)
        incl = struct.unpack("<I" if little else ">I", rec[8:12])[0]
        data = f.read(incl)
    with open(out, "wb") as f:
        f.write(head + rec + data)


def timed(argv, log):
    """Runs argv under /usr/bin/time; returns (wall s, peak RSS MB, stderr text)."""
    tfile = log + ".time"
    with open(log, "w") as err:
        r = subprocess.run(["/usr/bin/time", "-f", "%e %M", "-o", tfile] + argv,
                           stdout=subprocess.DEVNULL, stderr=err)
    text = open(log, encoding="utf-8", errors="replace").read()
    if r.returncode != 0:
        sys.exit(f"{argv[0]} failed ({r.returncode}):\n{text[-2000:]}")
    wall, kb = open(tfile).read().split()[-2:]
    return float(wall), int(kb) / 1024, text


class Gatewatch:
    def __init__(self, binary, workers, matcher, tmp):
        self.bin, self.workers, self.matcher, self.tmp = binary, workers, matcher, tmp
        self.name = "Gatewatch" if matcher == "auto" else f"Gatewatch ({matcher})"
        self.eve = os.path.join(tmp, f"gatewatch-{matcher}.json")

    def run(self, pcap, rules):
        argv = [self.bin, "--set", "capture.checksum_validation=false",
                "--set", f"capture.workers={self.workers}",
                "--set", f"detect.matcher={self.matcher}",
                "replay", pcap, "--rules", rules, "--eve", self.eve]
        wall, rss, err = timed(argv, os.path.join(self.tmp, f"gatewatch-{self.matcher}.err"))
        m = re.search(r"packet processing ([0-9.]+) s", err)
        if not m:
            sys.exit(f"gatewatch printed no packet processing time:\n{err[-2000:]}")
        return wall, float(m.group(1)), rss


class Suricata:
    name = "Suricata"

    def __init__(self, binary, tmp):
        self.bin, self.dir = binary, os.path.join(tmp, "suricata")
        os.makedirs(self.dir, exist_ok=True)
        self.eve = os.path.join(self.dir, "eve.json")

    def run(self, pcap, rules):
        for f in os.listdir(self.dir):
            os.unlink(os.path.join(self.dir, f))
        argv = [self.bin, "-r", pcap, "-S", rules, "-l", self.dir, "--runmode", "single", "-k", "none"]
        wall, rss, err = timed(argv, os.path.join(self.dir, "..", "suricata.err"))
        log = open(os.path.join(self.dir, "suricata.log"), errors="replace").read()
        m = re.findall(r"time elapsed ([0-9.]+)s", log)
        if not m:
            sys.exit(f"suricata.log has no `time elapsed`:\n{log[-2000:]}")
        return wall, float(m[-1]), rss


def alerts(eve):
    sids, n = set(), 0
    with open(eve, errors="replace") as f:
        for line in f:
            if '"event_type":"alert"' not in line:
                continue
            a = json.loads(line)["alert"]
            if a.get("gid", 1) == 1:
                n += 1
                sids.add(a["signature_id"])
    return n, len(sids)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--gatewatch", required=True)
    ap.add_argument("--suricata")
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--workers", type=int, default=1)
    ap.add_argument("--matchers", default="auto",
                    help="comma-separated values of detect.matcher to run (auto, hashed, hyperscan)")
    ap.add_argument("pcap")
    ap.add_argument("rules")
    a = ap.parse_args()
    tmp = tempfile.mkdtemp(prefix="side-by-side.")
    one = os.path.join(tmp, "one.pcap")
    first_packet(a.pcap, one)
    engines = [Gatewatch(a.gatewatch, a.workers, m, tmp) for m in a.matchers.split(",")]
    ref = None
    if a.suricata and os.access(a.suricata, os.X_OK):
        ref = Suricata(a.suricata, tmp)
        engines.append(ref)
    else:
        print(f"reference Suricata not found ({a.suricata}): Gatewatch's figures only")
    for p in (a.pcap, a.rules):
        with open(p, "rb") as f:  # warm the page cache for the first run
            while f.read(1 << 20):
                pass
    proc = {e.name: [] for e in engines}
    start = {e.name: [] for e in engines}
    rss = {e.name: 0.0 for e in engines}
    wall = {e.name: [] for e in engines}
    for i in range(a.runs):
        for e in engines:
            w, p, r = e.run(a.pcap, a.rules)
            proc[e.name].append(p)
            wall[e.name].append(w)
            rss[e.name] = max(rss[e.name], r)
            print(f"  run {i + 1} {e.name:21}: processing {p:6.3f} s, wall {w:6.2f} s, peak RSS {r:6.1f} MB",
                  flush=True)
        for e in engines:
            w, _, _ = e.run(one, a.rules)
            start[e.name].append(w)
            print(f"  run {i + 1} {e.name:21}: start-up (one-packet capture) {w:6.2f} s", flush=True)
    # The eve files now hold the start-up runs: one more full run of each for the alerts.
    for e in engines:
        e.run(a.pcap, a.rules)
    print()
    print(f"capture: {a.pcap}\nrules:   {a.rules}")
    print(f"machine: {os.cpu_count()} cores; {a.runs} alternating runs each; every packet inspected; "
          f"Gatewatch workers={a.workers}, Suricata --runmode single")
    med = {}
    for e in engines:
        n, s = alerts(e.eve)
        med[e.name] = statistics.median(proc[e.name])
        print(f"{e.name:21}: packet processing {med[e.name]:6.3f} s (median; runs "
              f"{', '.join(f'{x:.3f}' for x in proc[e.name])}), start-up {statistics.median(start[e.name]):6.2f} s, "
              f"peak RSS {rss[e.name]:6.1f} MB, {n} alerts over {s} signatures")
    for g in engines:
        if ref is None or g is ref:
            continue
        pairs = ', '.join(f'{x / y:.2f}' for x, y in zip(proc[g.name], proc[ref.name]))
        print(f"ratio {g.name} / Suricata, packet processing: {med[g.name] / med[ref.name]:.2f} "
              f"(per-run pairs: {pairs})")
        print(f"ratio {g.name} / Suricata, peak RSS: {rss[g.name] / rss[ref.name]:.2f}")
        print(f"agreement of {g.name} with Suricata:", flush=True)
        subprocess.run([sys.executable, os.path.join(HERE, "alert-agreement.py"), ref.eve, g.eve],
                       check=True)
    subprocess.run(["rm", "-rf", tmp])


if __name__ == "__main__":
    main()
