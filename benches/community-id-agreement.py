#!/usr/bin/env python3
"""Community ids of two engines on the same capture: for every flow both engines log
(a `flow` record: protocol and the unordered pair of endpoints), whether the two
records carry the same `community_id`; then the same for every other record type
that carries one (alerts and protocol records), by flow.

    benches/community-id-agreement.py REFERENCE.json CANDIDATE.json [--samples N]

Run both engines with community ids on (Suricata: `--set
outputs.1.eve-log.community-id=yes`; Gatewatch: on by default, `eve.community_id`).
Prints the counts and up to N mismatches of each kind; exits 1 when a flow logged by
both has different ids.
"""
import argparse
import collections
import sys

from eve_flows import endpoints, records


def flow_key(e):
    return (e.get("proto"), endpoints(e))


def read(path):
    """({flow key: set of ids} of flow records, {flow key: set of ids} of the others,
    records without an id by event type)."""
    flows, others = collections.defaultdict(set), collections.defaultdict(set)
    missing = collections.Counter()
    for e in records(path):
        t = e.get("event_type")
        if t in ("stats", None) or "src_ip" not in e:
            continue
        cid = e.get("community_id")
        if cid is None:
            missing[t] += 1
            continue
        (flows if t == "flow" else others)[flow_key(e)].add(cid)
    return flows, others, missing


def compare(name, ref, cand, samples):
    both = ref.keys() & cand.keys()
    same = [k for k in both if ref[k] & cand[k]]
    differ = sorted(k for k in both if not ref[k] & cand[k])
    print(
        f"{name}: reference {len(ref)}, candidate {len(cand)}, both {len(both)}, "
        f"same id {len(same)}, different {len(differ)}"
    )
    for k in differ[:samples]:
        print(f"  {k}: reference {sorted(ref[k])} candidate {sorted(cand[k])}")
    return len(differ)


def main():
    p = argparse.ArgumentParser()
    p.add_argument("reference")
    p.add_argument("candidate")
    p.add_argument("--samples", type=int, default=10)
    a = p.parse_args()
    rf, ro, rm = read(a.reference)
    cf, co, cm = read(a.candidate)
    bad = compare("flows", rf, cf, a.samples)
    compare("other records, by flow", ro, co, a.samples)
    for name, m in (("reference", rm), ("candidate", cm)):
        if m:
            print(f"{name}: records without community_id: {dict(m.most_common())}")
    sys.exit(1 if bad else 0)


if __name__ == "__main__":
    main()
