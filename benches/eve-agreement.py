#!/usr/bin/env python3
"""Application-layer EVE records of two engines side by side: for each protocol, how
many records each wrote, and how many of the reference's key fields the candidate
also wrote on the same flow (a flow is the unordered pair of endpoints).

    benches/eve-agreement.py REFERENCE.json CANDIDATE.json [--samples N]

Key fields per protocol (records without them are counted, not compared):
  smb      share, named pipe or file name of a command; NTLMSSP user and domain
  dcerpc   interface UUID and opnum of a request (also DCERPC inside SMB records)
  ftp      command and its argument
  ftp_data file name and command
  krb5     message type, client and service principal
  rdp      cookie
  http     method, URI and status (HTTP/2 records carry `http2`)
"""
import argparse
import collections

from eve_flows import endpoints, records


def dce_keys(d):
    out = []
    op = d.get("opnum", (d.get("req") or {}).get("opnum"))
    for i in d.get("interfaces") or [{}]:
        if d.get("request") == "REQUEST" and op is not None:
            out.append(("dcerpc", i.get("uuid"), op))
    return out


def keys(e):
    """(protocol, key) pairs of one record."""
    t = e.get("event_type")
    x = e.get(t) if isinstance(e.get(t), dict) else {}
    f = endpoints(e)
    out = []
    if t == "smb":
        for k in ("share", "filename"):
            if x.get(k):
                out.append(("smb", (f, x.get("command"), k, x[k])))
        n = x.get("ntlmssp")
        if n:
            out.append(("smb", (f, "ntlmssp", n.get("user"), n.get("domain"))))
        if isinstance(x.get("dcerpc"), dict):
            out += [("dcerpc", (f,) + k) for k in dce_keys(x["dcerpc"])]
    elif t == "dcerpc":
        out += [("dcerpc", (f,) + k) for k in dce_keys(x)]
    elif t == "ftp" and x.get("command"):
        out.append(("ftp", (f, x["command"], x.get("command_data", ""))))
    elif t == "ftp_data":
        out.append(("ftp_data", (x.get("filename"), x.get("command"))))
    elif t == "krb5":
        out.append(("krb5", (f, x.get("msg_type"), x.get("cname"), x.get("sname"))))
    elif t == "rdp" and x.get("cookie"):
        out.append(("rdp", (f, x["cookie"])))
    elif t == "http" and "http2" in x:
        out.append(("http2", (f, x.get("http_method"), x.get("url"), x.get("status"))))
    return out


def read(path):
    counts = collections.Counter()
    found = collections.defaultdict(set)
    for e in records(path):
        t = e.get("event_type")
        if t in ("smb", "dcerpc", "ftp", "ftp_data", "krb5", "rdp", "http"):
            counts[t] += 1
            if t == "http" and "http2" in (e.get("http") or {}):
                counts["http2"] += 1
        for proto, k in keys(e):
            found[proto].add(k)
    return counts, found


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("reference")
    ap.add_argument("candidate")
    ap.add_argument("--samples", type=int, default=3)
    a = ap.parse_args()
    rc, rf = read(a.reference)
    cc, cf = read(a.candidate)
    print(f"{'records':10} {'reference':>10} {'candidate':>10}")
    for t in ("smb", "dcerpc", "ftp", "ftp_data", "krb5", "rdp", "http2"):
        print(f"{t:10} {rc[t]:>10} {cc[t]:>10}")
    print()
    print(f"{'key fields':10} {'reference':>10} {'both':>10} {'agree':>7}")
    for p in ("smb", "dcerpc", "ftp", "ftp_data", "krb5", "rdp", "http2"):
        r, c = rf[p], cf[p]
        both = r & c
        pct = f"{100 * len(both) / len(r):.1f}%" if r else "-"
        print(f"{p:10} {len(r):>10} {len(both):>10} {pct:>7}")
        for k in sorted(both, key=str)[: a.samples]:
            print(f"    both: {k}")
        for k in sorted(r - c, key=str)[: a.samples]:
            print(f"    reference only: {k}")


if __name__ == "__main__":
    main()
