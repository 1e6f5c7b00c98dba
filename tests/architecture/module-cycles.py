#!/usr/bin/env python3
"""Import cycles between the top-level modules of each library crate.

A module `a` depends on `b` when a file of `a` names `crate::b` (in a `use` or a
path). Prints the strongly connected components with more than one module and exits
1 if there is one; `--graph` prints every edge with the file that makes it."""
import os, re, sys
from collections import defaultdict

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
CRATES = ["sensor", "rules", "correlator"]
USE = re.compile(r"\bcrate::([a-z_][a-z0-9_]*)")

def strip_comments(text):
    text = re.sub(r"//[^\n]*", "", text)
    return re.sub(r"/\*.*?\*/", "", text, flags=re.S)

def top_module(src, path):
    rel = os.path.relpath(path, src).split(os.sep)
    name = rel[0]
    return name[:-3] if name.endswith(".rs") else name

def test_code(path, text):
    # Unit tests may reach anywhere: cut `#[cfg(test)] mod tests { ... }` tails and
    # files that are test modules.
    if os.path.basename(path) in ("tests.rs",) or path.endswith("_tests.rs"):
        return ""
    i = text.find("#[cfg(test)]")
    return text if i < 0 else text[:i]

def graph(crate):
    src = os.path.join(ROOT, crate, "src")
    edges = defaultdict(dict)
    for dirpath, _, files in os.walk(src):
        for f in files:
            if not f.endswith(".rs"):
                continue
            path = os.path.join(dirpath, f)
            a = top_module(src, path)
            if a in ("lib", "main"):
                continue
            text = test_code(path, strip_comments(open(path, encoding="utf-8").read()))
            for b in USE.findall(text):
                is_module = os.path.exists(os.path.join(src, b + ".rs")) or os.path.isdir(
                    os.path.join(src, b)
                )
                if b != a and is_module:
                    edges[a].setdefault(b, os.path.relpath(path, ROOT))
    return edges

def sccs(edges):
    index, low, stack, on, out, n = {}, {}, [], set(), [], [0]
    nodes = set(edges) | {b for a in edges for b in edges[a]}
    def visit(v):
        index[v] = low[v] = n[0]; n[0] += 1; stack.append(v); on.add(v)
        for w in edges.get(v, {}):
            if w not in index:
                visit(w); low[v] = min(low[v], low[w])
            elif w in on:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            comp = []
            while True:
                w = stack.pop(); on.discard(w); comp.append(w)
                if w == v: break
            out.append(sorted(comp))
    sys.setrecursionlimit(10000)
    for v in sorted(nodes):
        if v not in index:
            visit(v)
    return [c for c in out if len(c) > 1]

bad = 0
for crate in CRATES:
    e = graph(crate)
    if "--graph" in sys.argv:
        for a in sorted(e):
            for b, f in sorted(e[a].items()):
                print(f"{crate}: {a} -> {b}  ({f})")
    for comp in sccs(e):
        bad += 1
        print(f"{crate}: cycle between {', '.join(comp)}")
        for a in comp:
            for b in comp:
                if b in e.get(a, {}):
                    print(f"    {a} -> {b}  ({e[a][b]})")
if bad == 0:
    print("no import cycle between the top-level modules of " + ", ".join(CRATES))
sys.exit(1 if bad else 0)
