#!/usr/bin/env python3
"""Fragment flood: N first fragments of distinct IPv4 datagrams that never complete
(the shape of hardening finding 2), replayed by Gatewatch. Prints the packet
processing time and the reassembly counters of the stats record. The capture is
generated here (nothing from the corpus).

    python3 benches/fragment-flood.py [N] [--bin target/release/gatewatch]
"""
import argparse
import json
import os
import re
import struct
import subprocess
import tempfile


def checksum(b):
    s = sum(struct.unpack("!%dH" % (len(b) // 2), b))
    s = (s >> 16) + (s & 0xFFFF)
    s += s >> 16
    return (~s) & 0xFFFF


def fragment(i):
    payload = b"A" * 8
    ip = struct.pack("!BBHHHBBH4s4s", 0x45, 0, 20 + len(payload), i & 0xFFFF, 0x2000,
                     64, 17, 0, bytes([10, 9, (i >> 24) & 255, (i >> 16) & 255]),
                     bytes([192, 0, 2, 1]))
    ip = ip[:10] + struct.pack("!H", checksum(ip)) + ip[12:]
    eth = b"\x02\x00\x00\x00\x00\x02" + b"\x02\x00\x00\x00\x00\x01" + b"\x08\x00"
    return eth + ip + payload


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("n", nargs="?", type=int, default=200_000)
    ap.add_argument("--bin", default="target/release/gatewatch")
    a = ap.parse_args()
    with tempfile.TemporaryDirectory() as d:
        pcap = os.path.join(d, "flood.pcap")
        with open(pcap, "wb") as f:
            f.write(struct.pack("<IHHiIII", 0xA1B2C3D4, 2, 4, 0, 0, 65535, 1))
            for i in range(a.n):
                frame = fragment(i)
                ts = 1_700_000_000_000_000 + i
                f.write(struct.pack("<IIII", ts // 1_000_000, ts % 1_000_000, len(frame), len(frame)))
                f.write(frame)
        rules = os.path.join(d, "r.rules")
        with open(rules, "w") as f:
            f.write('alert udp any any -> any any (msg:"x"; content:"never"; sid:1;)\n')
        eve = os.path.join(d, "eve.json")
        out = subprocess.run([a.bin, "replay", pcap, "--rules", rules, "--eve", eve],
                             capture_output=True, text=True, check=True)
        m = re.search(r"packet processing ([0-9.]+) s", out.stderr)
        stats = None
        for line in open(eve):
            e = json.loads(line)
            if e.get("event_type") == "stats":
                stats = e["stats"]["defrag"]
        print("fragments: %d (distinct datagrams, none complete)" % a.n)
        print("packet processing: %s s" % (m.group(1) if m else "?"))
        print("defrag:", json.dumps(stats))


if __name__ == "__main__":
    main()
