#!/usr/bin/env python3
"""Prints the import graph between the top-level modules of each crate, its cycles, the cycles
between sibling files inside each module (`config/raw.rs` <-> `config/metric.rs`), the largest
source files and the functions longer than a screen: the figures of issues 10 and 25.
Usage: python3 scripts/module-graph.py [--long N]  (N: list functions over N lines, default 80)"""
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

def source(p):
    """A file's text without its test module; None for test files."""
    if re.search(r"(^|/)tests?\.rs$|_tests\.rs$", p):
        return None
    return re.split(r"#\[cfg\(test\)\]\s*mod tests\s*\{", open(p, encoding="utf-8").read())[0]

def module_of(p, src):
    """The module path of a file: src/config/promrules/mod.rs -> [config, promrules]."""
    parts = os.path.relpath(p, src)[:-3].split(os.sep)
    return parts[:-1] if parts[-1] == "mod" else parts

def is_module(src, path):
    d = os.path.join(src, *path)
    return os.path.isfile(d + ".rs") or os.path.isdir(d)

def sibling_edges(src):
    """Edges between sibling submodules (`a::b` -> `a::c`), every depth, by `super::`/`crate::`
    paths; an item of the parent (`super::Config`) is no edge, the parent lists its children."""
    graph = {}
    for dirpath, _, files in os.walk(src):
        for f in files:
            p = os.path.join(dirpath, f)
            text = source(p) if f.endswith(".rs") else None
            mod = module_of(p, src)
            if text is None or mod in (["lib"], ["main"]):
                continue
            refs = []
            for m in re.finditer(r"\b(crate|(?:super::)*super)::(\{[^;]*?\}|[a-z_][a-z_0-9]*(?:::[a-z_][a-z_0-9]*)*)", text):
                root, rest = m.group(1), m.group(2)
                base = [] if root == "crate" else mod[: len(mod) - root.count("super")]
                items = re.findall(r"(?:^|[{,])\s*([a-z_][a-z_0-9]*(?:::[a-z_][a-z_0-9]*)*)", rest) if rest.startswith("{") else [rest]
                for it in items:
                    path = list(base)
                    for seg in it.split("::"):
                        if not is_module(src, path + [seg]):
                            break
                        path.append(seg)
                    refs.append(path)
            for target in refs:
                # The deepest common parent; the edge runs between its two children.
                i = 0
                while i < min(len(mod), len(target)) and mod[i] == target[i]:
                    i += 1
                if i < len(mod) and i < len(target) and i > 0:
                    a, b = "::".join(mod[: i + 1]), "::".join(target[: i + 1])
                    graph.setdefault(a, set()).add(b)
                    graph.setdefault(b, set())
    return graph

def long_functions(limit):
    """Functions longer than `limit` lines, from `fn` to its closing brace, tests excluded."""
    head = re.compile(r"^\s*(pub(\([^)]*\))?\s+)?(const\s+)?(async\s+)?(unsafe\s+)?fn\s+(\w+)")
    out = []
    for src in CRATES.values():
        for dirpath, _, files in os.walk(src):
            for f in files:
                p = os.path.join(dirpath, f)
                text = source(p) if f.endswith(".rs") else None
                if text is None:
                    continue
                lines = text.split("\n")
                for i, line in enumerate(lines):
                    m = head.match(line)
                    if not m:
                        continue
                    depth, started, j = 0, False, i
                    while j < len(lines):
                        code = re.sub(r'"(\\.|[^"\\])*"', '""', lines[j])
                        code = re.sub(r"'(\\.|[^'\\])'", "''", code).split("//")[0]
                        if not started and ";" in code and "{" not in code:
                            break
                        for ch in code:
                            depth += {"{": 1, "}": -1}.get(ch, 0)
                            started = started or ch == "{"
                        if started and depth <= 0:
                            break
                        j += 1
                    if started and j - i + 1 > limit:
                        out.append((j - i + 1, f"{os.path.relpath(p, ROOT)}:{i + 1} {m.group(6)}"))
    return sorted(out, reverse=True)

for name, src in CRATES.items():
    if not os.path.isdir(src):
        continue
    g = edges(src)
    cs = cycles(g)
    print(f"{name}: {len(g)} modules, {sum(len(v) for v in g.values())} edges, "
          f"{len(cs)} cycle group(s)")
    for c in cs:
        print("  cycle:", " <-> ".join(c))
    inner = cycles(sibling_edges(src))
    print(f"  {len(inner)} cycle group(s) between sibling files inside modules")
    for c in inner:
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
limit = int(sys.argv[sys.argv.index("--long") + 1]) if "--long" in sys.argv else 80
long = long_functions(limit)
print(f"functions over {limit} lines (tests excluded): {len(long)}")
for n, where in long:
    print(f"  {n:5} {where}")
