#!/usr/bin/env python3
"""`fileinfo.magic` of a sensor's EVE against libmagic's `file` on the same files.

    benches/filetype-agreement.py EVE.json STORE_DIR [--samples N]

The sensor stores whole files by sha256 (`files.store_dir`); for every `fileinfo`
record whose file was stored, `file -b` names the stored bytes and the two are compared.
`file` is libmagic's own command (given the bytes on standard input, a buffer), the library Suricata calls for `fileinfo.magic` (the
reference Suricata of this machine is built without it, so it writes no `magic`).
Prints how many records were compared, how many agree, and samples of the others.
"""
import argparse
import os
import subprocess

from eve_flows import records


def stored(store, sha):
    for p in (os.path.join(store, sha[:2], sha), os.path.join(store, sha)):
        if os.path.isfile(p):
            return p
    return None


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("eve")
    ap.add_argument("store")
    ap.add_argument("--samples", type=int, default=8)
    a = ap.parse_args()
    seen, same, diff, unnamed = 0, 0, [], 0
    for e in records(a.eve):
        f = e.get("fileinfo") if e.get("event_type") == "fileinfo" else None
        if not f or not f.get("sha256"):
            continue
        path = stored(a.store, f["sha256"])
        if not path:
            continue
        seen += 1
        # From standard input: libmagic on a buffer, as Suricata calls it (on a path it
        # may also seek, e.g. to a gzip file's trailer).
        with open(path, "rb") as data:
            ref = subprocess.run(["file", "-b", "-"], input=data.read(),
                                 capture_output=True).stdout.decode().strip()
        ours = f.get("magic")
        if ours is None and ref in ("data", "empty"):
            unnamed += 1
            same += 1
        elif ours == ref:
            same += 1
        else:
            diff.append((f.get("filename"), ref, ours))
    print(f"fileinfo records with a stored file: {seen}; same type as `file`: {same} "
          f"({unnamed} of them unnamed by both); different: {len(diff)}")
    for name, ref, ours in diff[: a.samples]:
        print(f"  {name!r}: file {ref!r}\n  {' ' * len(repr(name))}  sensor {ours!r}")


if __name__ == "__main__":
    main()
