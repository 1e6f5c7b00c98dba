#!/usr/bin/env python3
"""Alert agreement between two EVE files: which (signature id, flow) pairs both
engines raised, and which only one did. A flow is the unordered pair of endpoints
(address and port) plus the protocol, so the direction an engine reports does not
matter.

    benches/alert-agreement.py REFERENCE.json CANDIDATE.json [--diff N] [--json OUT]

Recall = pairs of the reference the candidate also raised / pairs of the reference;
precision = pairs of the candidate the reference also raised / pairs of the candidate.
With --diff N the first N pairs each engine raised alone are listed, by signature.
"""
import argparse
import collections
import json
import sys

from eve_flows import endpoints, records


def flow_key(e):
    proto = str(e.get("proto", "")).upper()
    lo, hi = endpoints(e)
    return (lo, hi, proto)


def read(path):
    pairs, alerts, names = collections.Counter(), 0, {}
    for e in records(path):
        if e.get("event_type") != "alert":
            continue
        a = e.get("alert", {})
        sid = a.get("signature_id")
        if a.get("gid", 1) != 1 or sid is None:
            continue  # decoder/stream events and other generators are not rules
        alerts += 1
        names[sid] = a.get("signature", "")
        pairs[(sid, flow_key(e))] += 1
    return pairs, alerts, names


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("reference")
    ap.add_argument("candidate")
    ap.add_argument("--diff", type=int, default=0)
    ap.add_argument("--json")
    a = ap.parse_args()
    ref, ref_alerts, ref_names = read(a.reference)
    cand, cand_alerts, cand_names = read(a.candidate)
    both = set(ref) & set(cand)
    recall = len(both) / len(ref) if ref else 1.0
    precision = len(both) / len(cand) if cand else 1.0
    out = {
        "reference": {"alerts": ref_alerts, "pairs": len(ref), "signatures": len({s for s, _ in ref})},
        "candidate": {"alerts": cand_alerts, "pairs": len(cand), "signatures": len({s for s, _ in cand})},
        "both": len(both),
        "recall": recall,
        "precision": precision,
    }
    print(
        f"reference: {ref_alerts} alerts, {len(ref)} (signature, flow) pairs over "
        f"{out['reference']['signatures']} signatures"
    )
    print(
        f"candidate: {cand_alerts} alerts, {len(cand)} (signature, flow) pairs over "
        f"{out['candidate']['signatures']} signatures"
    )
    print(f"agreement: {len(both)} pairs in both; recall {100 * recall:.1f}%, precision {100 * precision:.1f}%")
    if a.diff:
        names = {**ref_names, **cand_names}
        for title, only in (("only in reference", set(ref) - both), ("only in candidate", set(cand) - both)):
            by_sid = collections.Counter(s for s, _ in only)
            print(f"{title}: {len(only)} pairs over {len(by_sid)} signatures")
            for sid, n in by_sid.most_common(a.diff):
                print(f"  {sid:>9} x{n:<3} {names.get(sid, '')}")
    if a.json:
        with open(a.json, "w") as f:
            json.dump(out, f, indent=1)


if __name__ == "__main__":
    sys.exit(main())
