#!/usr/bin/env python3
"""Prints the import graph between the top-level modules of each crate, its cycles and the
largest source files: the figures of issue 10. Usage: python3 scripts/module-graph.py"""
import os, re, sys
from itertools import chain

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
CRATES = {"vz-monitor": os.path.join(ROOT, "src"), "vz-core": os.path.join(ROOT, "crates/vz-core/src")}
ALIASES = {"decide": "policy"}  # the binary re-exports core modules under these names

def top_module(path, src):
    rel = os.path.relpath(path, src)
    first = rel.split(os.sep)[0]
    return first[:-3] if first.endswith(".rs") else first

def edges(src):
    graph = {}
    for dirpath, _, files in os.walk(src):
        for f in files:
            if not f.endswith(".rs"):
                continue
            p = os.path.join(dirpath, f)
            m = top_module(p, src)
            if m in ("lib", "main"):
                continue
            text = open(p, encoding="utf-8").read()
            # Leave out test modules: they may reach anywhere.
            text = re.split(r"#\[cfg\(test\)\]\s*mod tests\s*\{", text)[0]
            if re.search(r"(^|/)tests?\.rs$|_tests\.rs$", p):
                continue
            deps = re.findall(r"\bcrate::([a-z_]+)", text)
            for group in re.findall(r"\bcrate::\{([^;]*)\}", text):
                deps += re.findall(r"(?:^|[{,])\s*([a-z_]+)(?=::|\s*[,}]|\s*$)", group)
            for dep in deps:
                dep = ALIASES.get(dep, dep)
                if dep != m:
                    graph.setdefault(m, set()).add(dep)
            graph.setdefault(m, set())
    return graph

def cycles(graph):
    """Strongly connected components with more than one module (Tarjan)."""
    index, low, stack, on, out, n = {}, {}, [], set(), [], [0]
    def visit(v):
        index[v] = low[v] = n[0]; n[0] += 1; stack.append(v); on.add(v)
        for w in graph.get(v, ()):
            if w not in graph:
                continue
            if w not in index:
                visit(w); low[v] = min(low[v], low[w])
            elif w in on:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            comp = []
            while True:
                w = stack.pop(); on.discard(w); comp.append(w)
                if w == v:
                    break
            if len(comp) > 1:
                out.append(sorted(comp))
    sys.setrecursionlimit(10000)
    for v in list(graph):
        if v not in index:
            visit(v)
    return out

for name, src in CRATES.items():
    if not os.path.isdir(src):
        continue
    g = edges(src)
    cs = cycles(g)
    print(f"{name}: {len(g)} modules, {sum(len(v) for v in g.values())} edges, "
          f"{len(cs)} cycle group(s)")
    for c in cs:
        print("  cycle:", " <-> ".join(c))
sizes = []
for src in CRATES.values():
    for dirpath, _, files in os.walk(src):
        for f in files:
            p = os.path.join(dirpath, f)
            if f.endswith(".rs") and not re.search(r"(^|/)tests?\.rs$|_tests\.rs$", p):
                sizes.append((sum(1 for _ in open(p, encoding="utf-8")), os.path.relpath(p, ROOT)))
sizes.sort(reverse=True)
print("largest source files (tests excluded):")
for n, p in sizes[:8]:
    print(f"  {n:5} {p}")
