#!/usr/bin/env python3
"""Pipelined HTTP (hardening finding 1): FLOWS connections, each with REQUESTS
pipelined `GET / HTTP/1.0` requests nobody answers, against a benign capture of the
same size (FLOWS connections, one request each answered by a response of the same
number of bytes). Both are replayed by Gatewatch; prints each capture's size, the
peak memory the sensor reports (VmHWM) and the application-layer counters. The
captures are generated here (nothing from the corpus).

    python3 benches/pipelined-http.py [FLOWS] [REQUESTS] [--bin target/release/gatewatch]
"""
import argparse
import json
import os
import re
import struct
import subprocess
import tempfile

REQ = b"GET / HTTP/1.0\r\n\r\n"


def csum(b):
    if len(b) % 2:
        b += b"\0"
    s = sum(struct.unpack("!%dH" % (len(b) // 2), b))
    s = (s >> 16) + (s & 0xFFFF)
    s += s >> 16
    return (~s) & 0xFFFF


class Flow:
    def __init__(self, i, out, t0):
        self.c = bytes([10, 2, (i >> 8) & 255, i & 255])
        self.s = bytes([192, 0, 2, 80])
        self.cseq, self.sseq, self.t, self.out = 1000, 5000, t0, out

    def seg(self, from_client, flags, payload=b""):
        src, dst = (self.c, self.s) if from_client else (self.s, self.c)
        sp, dp = (40000, 80) if from_client else (80, 40000)
        seq, ack = (self.cseq, self.sseq) if from_client else (self.sseq, self.cseq)
        tcp = struct.pack("!HHIIBBHHH", sp, dp, seq, ack if flags & 0x10 else 0, 0x50, flags,
                          65535, 0, 0) + payload
        pseudo = src + dst + struct.pack("!BBH", 0, 6, len(tcp))
        tcp = tcp[:16] + struct.pack("!H", csum(pseudo + tcp)) + tcp[18:]
        ip = struct.pack("!BBHHHBBH4s4s", 0x45, 0, 20 + len(tcp), 0, 0, 64, 6, 0, src, dst)
        ip = ip[:10] + struct.pack("!H", csum(ip)) + ip[12:]
        frame = b"\x02\0\0\0\0\x02\x02\0\0\0\0\x01\x08\x00" + ip + tcp
        self.out.write(struct.pack("<IIII", self.t // 1_000_000, self.t % 1_000_000, len(frame),
                                   len(frame)) + frame)
        self.t += 10
        adv = len(payload) + (1 if flags & 0x03 else 0)
        if from_client:
            self.cseq += adv
        else:
            self.sseq += adv

    def send(self, from_client, data):
        for k in range(0, len(data), 1448):
            self.seg(from_client, 0x18, data[k:k + 1448])
            if k // 1448 % 8 == 7:
                self.seg(not from_client, 0x10)
        self.seg(not from_client, 0x10)


def capture(path, flows, requests, pipelined):
    size = requests * len(REQ)
    with open(path, "wb") as out:
        out.write(struct.pack("<IHHiIII", 0xA1B2C3D4, 2, 4, 0, 0, 65535, 1))
        for i in range(flows):
            f = Flow(i, out, 1_700_000_000_000_000 + i * 100_000)
            f.seg(True, 0x02)
            f.seg(False, 0x12)
            f.seg(True, 0x10)
            if pipelined:
                f.send(True, REQ * requests)
            else:
                f.send(True, REQ)
                f.send(False, b"HTTP/1.1 200 OK\r\nContent-Length: %d\r\n\r\n" % size + b"x" * size)
    return os.path.getsize(path)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("flows", nargs="?", type=int, default=200)
    ap.add_argument("requests", nargs="?", type=int, default=50_000)
    ap.add_argument("--bin", default="target/release/gatewatch")
    a = ap.parse_args()
    with tempfile.TemporaryDirectory() as d:
        rules = os.path.join(d, "r.rules")
        with open(rules, "w") as f:
            f.write('alert tcp any any -> any any (msg:"x"; content:"never"; sid:1;)\n')
        for name, pipelined in (("benign", False), ("pipelined", True)):
            pcap = os.path.join(d, name + ".pcap")
            size = capture(pcap, a.flows, a.requests, pipelined)
            eve = os.path.join(d, name + ".json")
            out = subprocess.run([a.bin, "replay", pcap, "--rules", rules, "--eve", eve,
                                  "--set", "eve.flow=false", "--set", "eve.http=false"],
                                 capture_output=True, text=True, check=True)
            peak = re.search(r"peak memory ([0-9.]+) MiB", out.stderr)
            secs = re.search(r"packet processing ([0-9.]+) s", out.stderr)
            st = None
            for line in open(eve):
                e = json.loads(line)
                if e.get("event_type") == "stats":
                    st = e["stats"]["app_layer"]
            os.remove(pcap)
            tcp = st["counters"]
            print("%-9s capture %.1f MB, peak memory %s MiB, %s s; http_tx %d, "
                  "too_many_transactions %d, app memcap stops %d" % (
                      name, size / 1e6, peak.group(1) if peak else "?",
                      secs.group(1) if secs else "?", tcp.get("http_tx", 0),
                      tcp.get("http_too_many_transactions", 0), tcp.get("app_layer_memcap", 0)))


if __name__ == "__main__":
    main()
