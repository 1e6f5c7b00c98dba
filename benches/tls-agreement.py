#!/usr/bin/env python3
"""The certificate fields of the EVE `tls` records of two engines side by side.

    benches/tls-agreement.py REFERENCE.json CANDIDATE.json [--samples N]

A server certificate is matched across the engines by its flow (the unordered pair of
endpoints) and its SHA-1 `fingerprint`; for each matched certificate every field is
compared: subject, issuerdn, serial, notbefore, notafter, subjectaltname (in order).
Prints the certificates each engine logged, how many matched, and per field how many
are equal, with samples of the differences.
"""
import argparse
import collections

from eve_flows import endpoints, records

FIELDS = ("subject", "issuerdn", "serial", "notbefore", "notafter", "subjectaltname")


def certificates(path):
    out = {}
    for e in records(path):
        t = e.get("tls") if e.get("event_type") == "tls" else None
        if isinstance(t, dict) and t.get("fingerprint"):
            out.setdefault((endpoints(e), t["fingerprint"]), t)
    return out


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("reference")
    ap.add_argument("candidate")
    ap.add_argument("--samples", type=int, default=5)
    a = ap.parse_args()
    ref, cand = certificates(a.reference), certificates(a.candidate)
    both = sorted(set(ref) & set(cand))
    print(f"certificates: reference {len(ref)}, candidate {len(cand)}, matched {len(both)}")
    diffs = collections.defaultdict(list)
    for k in both:
        for f in FIELDS:
            r, c = ref[k].get(f), cand[k].get(f)
            if f == "subjectaltname":
                r, c = r or [], c or []
            if r != c:
                diffs[f].append((k[1], r, c))
    for f in FIELDS:
        print(f"  {f:15} equal {len(both) - len(diffs[f])} of {len(both)}")
        for fp, r, c in diffs[f][: a.samples]:
            print(f"      {fp}: reference {r!r}\n      {' ' * len(fp)}  candidate {c!r}")
    only = [k for k in ref if k not in cand][: a.samples]
    for k in only:
        print(f"  only in the reference: {k[0]} {k[1]} {ref[k].get('subject')!r}")


if __name__ == "__main__":
    main()
