#!/usr/bin/env python3
"""Reference for bench/false_rollback.rs: plain Bonferroni over a geometric schedule of
looks, with scipy, on the very same simulated deploys, side by side with vz-monitor.

    python3 bench/bonferroni.py                 # creates /tmp/vz-bench-venv (numpy, scipy)
    python3 bench/bonferroni.py --deploys 100   # quicker
    python3 bench/bonferroni.py --dump DIR      # reuse a dump, do not run cargo

The Rust side (`cargo bench --bench false_rollback -- --dump DIR`) replays each deploy
through vz-monitor's gate and writes the values it used; this script replays the same
values with the rule the README recommended before issue 12 (`stat: mean`, `max_change: 10%`,
p95 and 20% for the spiky series), tested only at the looks n = 3, 6, 12, 24, … and the
last tick, each at alpha / (metrics × looks) (Mann-Whitney U, scipy, asymptotic with
continuity correction, as vz-monitor), and rolls back at the first look where any metric
is both past max_change and significant.
"""
import argparse
import json
import os
import subprocess
import sys

VENV = "/tmp/vz-bench-venv"
ALPHA = 0.01
BASE = 60


def ensure_venv():
    """Re-runs this script inside a venv with numpy and scipy."""
    if sys.prefix == VENV:
        return
    py = os.path.join(VENV, "bin", "python")
    if not os.path.exists(py):
        subprocess.check_call([sys.executable, "-m", "venv", VENV])
    subprocess.check_call([py, "-m", "pip", "install", "-q", "numpy", "scipy"])
    os.execv(py, [py] + sys.argv)


def looks_of(ticks, first=3):
    looks, n = [], first
    while n < ticks:
        looks.append(n)
        n *= 2
    looks.append(ticks)
    return looks


def bonferroni(cell, data):
    import numpy as np
    from scipy import stats

    deploys, metrics, ticks = cell["deploys"], cell["metrics"], cell["ticks"]
    x = data.reshape(deploys, metrics, BASE + ticks).astype(np.float64)
    base, watch = x[:, :, :BASE], x[:, :, BASE:]
    looks = looks_of(ticks)
    level = ALPHA / (metrics * len(looks))
    if cell["stat"] == "p95":
        b_stat = np.quantile(base, 0.95, axis=-1)
    else:
        b_stat = base.mean(axis=-1)
    decided = np.zeros(deploys, dtype=int)  # 0: never
    for n in looks:
        w = watch[:, :, :n]
        w_stat = np.quantile(w, 0.95, axis=-1) if cell["stat"] == "p95" else w.mean(axis=-1)
        rel = (w_stat - b_stat) / np.abs(b_stat) * 100.0
        p = stats.mannwhitneyu(w, base, alternative="greater", axis=-1,
                               method="asymptotic", use_continuity=True).pvalue
        fire = ((rel > cell["max_change"]) & (p < level)).any(axis=1)
        decided[(decided == 0) & fire] = n
    return decided


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--deploys", type=int, default=300)
    ap.add_argument("--dump", default=None)
    ap.add_argument("--quick", action="store_true")
    a = ap.parse_args()
    ensure_venv()
    import numpy as np

    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    dump = a.dump
    if dump is None:
        dump = "/tmp/vz-false-rollback"
        cmd = ["cargo", "bench", "--bench", "false_rollback", "--", "--dump", dump,
               "--deploys", str(a.deploys)] + (["--quick"] if a.quick else [])
        subprocess.check_call(cmd, cwd=root)
    cells = json.load(open(os.path.join(dump, "cells.json")))
    se = (ALPHA * (1 - ALPHA) / cells[0]["deploys"]) ** 0.5
    print(f"\n# Side by side: vz-monitor vs plain Bonferroni over geometric looks "
          f"(alpha {ALPHA}, binomial se {se:.4f})\n")
    print("| metrics | ticks | noise | shift | vz-monitor rolled back | median tick "
          "| Bonferroni rolled back | median tick |")
    print("|---:|---:|---|---:|---:|---:|---:|---:|")
    for c in cells:
        if c["kind"] == "pack":
            continue
        data = np.fromfile(os.path.join(dump, f"cell{c['id']}.f32"), dtype="<f4")
        d = bonferroni(c, data)
        caught = d[d > 0]
        vz_med = float(np.median(c["delays"])) if c["delays"] else float("nan")
        bf_med = float(np.median(caught)) if len(caught) else float("nan")
        n = c["deploys"]
        print(f"| {c['metrics']} | {c['ticks']} | {c['noise']} | {c['shift']} "
              f"| {c['rollbacks'] / n:.3f} | {vz_med:g} | {len(caught) / n:.3f} | {bf_med:g} |")
        sys.stdout.flush()
    for c in cells:
        if c["kind"] == "pack":
            print(f"\npack {c['pack']}: {c['rollbacks']} of {c['deploys']} unchanged deploys "
                  f"rolled back")


if __name__ == "__main__":
    main()
