#!/usr/bin/env python3
"""Functions longer than a limit (default 100 lines), longest first: where to cut next.

A function runs from its `fn` line to the closing brace at its own indentation (the
layout rustfmt gives). Informational: prints the list and exits 0; `--fail` exits 1
when there is one. `--library` leaves out test code (the end-to-end tests, `tests.rs`
files and the `tests` modules after a library file's code): CI runs
`--library --fail`, as no library function is over the limit."""
import os, re, sys

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
FOLDERS = ["src", "sensor/src", "rules/src", "correlator/src", "tests/e2e"]
FN = re.compile(r"^(\s*)(pub(\([^)]*\))? )?(async )?(const )?(unsafe )?fn (\w+)")

def long_functions(limit, library=False):
    found = []
    for folder in FOLDERS:
        if library and folder.startswith("tests"):
            continue
        for d, _, files in os.walk(os.path.join(ROOT, folder)):
            for f in sorted(files):
                if not f.endswith(".rs"):
                    continue
                path = os.path.join(d, f)
                if library and (f == "tests.rs" or f"{os.sep}tests{os.sep}" in path):
                    continue
                lines = open(path, encoding="utf-8").read().split("\n")
                if library and "#[cfg(test)]\nmod tests {" in "\n".join(lines):
                    lines = "\n".join(lines).split("#[cfg(test)]\nmod tests {")[0].split("\n")
                for i, line in enumerate(lines):
                    m = FN.match(line)
                    if not m or line.rstrip().endswith(";"):
                        continue
                    indent = m.group(1)
                    j = i + 1
                    while j < len(lines) and not (
                        lines[j].startswith(indent + "}")
                        and len(lines[j]) - len(lines[j].lstrip()) == len(indent)
                    ):
                        j += 1
                    n = j - i + 1
                    if n > limit:
                        found.append((n, os.path.relpath(path, ROOT), i + 1, m.group(7)))
    return sorted(found, reverse=True)

def main():
    limit = 100
    if "--max" in sys.argv:
        limit = int(sys.argv[sys.argv.index("--max") + 1])
    found = long_functions(limit, "--library" in sys.argv)
    for n, path, line, name in found:
        print(f"{n:5}  {path}:{line}  {name}")
    print(f"{len(found)} functions over {limit} lines")
    return 1 if found and "--fail" in sys.argv else 0

if __name__ == "__main__":
    sys.exit(main())
