#!/usr/bin/env python3
"""Reference for bench/false_rollback.rs: plain Bonferroni over a geometric schedule of
looks, with scipy, on the very same simulated deploys, side by side with vz-monitor.

    python3 bench/bonferroni.py                 # creates /tmp/vz-bench-venv (numpy, scipy)
    python3 bench/bonferroni.py --deploys 100   # quicker
    python3 bench/bonferroni.py --dump DIR      # reuse a dump, do not run cargo
    python3 bench/bonferroni.py --only TEXT     # only cells whose label contains TEXT

The Rust side (`cargo bench --bench false_rollback -- --dump DIR`) replays each deploy
through vz-monitor's gate and writes the values it used; this script replays the same
values with the rule the README recommended before issue 12 (`stat: mean`, `max_change: 10%`,
p95 and 20% for the spiky series), tested only at the looks n = 3, 6, 12, 24, … and the
last tick, each at alpha / (metrics × looks) (Mann-Whitney U, scipy, asymptotic with
continuity correction, as vz-monitor), and rolls back at the first look where any metric
is both past max_change and significant. A cell with controls (surges, daily seasonality
against a control) is judged the same way against the control's first n ticks at look n
(canary against control), as vz-monitor's `against: control` does.

    python3 bench/bonferroni.py --deploys 3000 --only "unchanged 1x120 lognormal σ 0.6"
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
    """Tick of the first Bonferroni rollback of each deploy (0: never)."""
    import numpy as np
    from scipy import stats

    deploys, metrics, ticks = cell["deploys"], cell["metrics"], cell["ticks"]
    b = cell.get("base_ticks", BASE)
    main = deploys * metrics * (b + ticks)
    x = data[:main].reshape(deploys, metrics, b + ticks).astype(np.float64)
    base, watch = x[:, :, :b], x[:, :, b:]
    control = None
    if cell.get("control"):
        control = data[main:].reshape(deploys, metrics, ticks).astype(np.float64)
    looks = looks_of(ticks)
    level = ALPHA / (metrics * len(looks))
    p95 = cell["stat"] == "p95"

    def stat(v):
        return np.quantile(v, 0.95, axis=-1) if p95 else v.mean(axis=-1)

    decided = np.zeros(deploys, dtype=int)  # 0: never
    for n in looks:
        w = watch[:, :, :n]
        ref = base if control is None else control[:, :, :n]
        r_stat = stat(ref)
        rel = (stat(w) - r_stat) / np.abs(r_stat) * 100.0
        p = stats.mannwhitneyu(w, ref, alternative="greater", axis=-1,
                               method="asymptotic", use_continuity=True).pvalue
        fire = ((rel > cell["max_change"]) & (p < level)).any(axis=1)
        decided[(decided == 0) & fire] = n
    return decided


def pct(x, digits=1):
    return f"{100 * x:.{digits}f} %"


def med(v):
    import numpy as np
    return "—" if len(v) == 0 else f"{float(np.median(v)):g}"


def unchanged(c):
    return c["shift"] == 1 and (c["kind"] == "unchanged" or c.get("control"))


def dependent(c):
    """Issue 19's cells: dependent ticks, or a shift that starts into the watch."""
    return c["noise"].startswith(("AR(1)", "rate over")) or "from tick" in c["label"]


def report(rows):
    """README-ready tables of one run: every figure printed here comes from `rows`."""
    first = rows[0]["deploys"]
    se = (ALPHA * (1 - ALPHA) / first) ** 0.5
    lim = ALPHA + 2 * se

    def pooled(sel):
        n = sum(r["deploys"] for r in sel)
        if n == 0:
            return "no cell"
        vz = sum(r["rollbacks"] for r in sel)
        bf = sum(r["bf_rollbacks"] for r in sel)
        return f"vz-monitor {pct(vz / n, 2)}, Bonferroni {pct(bf / n, 2)} ({vz} and {bf} of {n:,})"

    def above(sel):
        out = [f"{r['metrics']}×{r['ticks']} {r['noise']} ({pct(r['rollbacks'] / r['deploys'])})"
               for r in sel if r["rollbacks"] / r["deploys"] > lim]
        return ", ".join(out) if out else "none"

    base_cells = [r for r in rows if r["kind"] == "unchanged" and not dependent(r)]
    if base_cells:
        drift = [r for r in base_cells if r["noise"] == "daily seasonality"]
        still = [r for r in base_cells if r["noise"] != "daily seasonality"]
        print(f"\n## Unchanged deploys against the pre-deploy baseline ({first} deploys a cell, "
              f"1 se {pct(se)}, α + 2 se = {pct(lim)})\n")
        print(f"Pooled over the {len(base_cells)} cells: {pooled(base_cells)}; over the "
              f"{len(still)} without seasonality: {pooled(still)}; over the {len(drift)} daily "
              f"seasonality cells (a real drift against the baseline): {pooled(drift)}.")
        print(f"vz-monitor cells above α + 2 se: {above(base_cells)}.\n")
        print("| metrics | ticks | noise | vz-monitor | Bonferroni (geometric looks) |")
        print("|---:|---:|---|---:|---:|")
        for r in base_cells:
            print(f"| {r['metrics']} | {r['ticks']} | {r['noise']} "
                  f"| {pct(r['rollbacks'] / r['deploys'])} | {pct(r['bf_rollbacks'] / r['deploys'])} |")
    daily = [r for r in rows if r["kind"] == "daily + control"]
    if daily:
        print(f"\n## Daily seasonality against a control ({first} deploys a cell)\n")
        print(f"Pooled over the {len(daily)} cells: {pooled(daily)}; cells above α + 2 se: "
              f"{above(daily)}.\n")
        print("| metrics | ticks | against the baseline: vz-monitor | Bonferroni "
              "| against a control: vz-monitor | Bonferroni |")
        print("|---:|---:|---:|---:|---:|---:|")
        for r in daily:
            b = next((x for x in base_cells if x["noise"] == "daily seasonality"
                      and x["metrics"] == r["metrics"] and x["ticks"] == r["ticks"]), None)
            bv = pct(b["rollbacks"] / b["deploys"]) if b else "—"
            bb = pct(b["bf_rollbacks"] / b["deploys"]) if b else "—"
            print(f"| {r['metrics']} | {r['ticks']} | {bv} | {bb} "
                  f"| {pct(r['rollbacks'] / r['deploys'])} | {pct(r['bf_rollbacks'] / r['deploys'])} |")
    dep = [r for r in rows if dependent(r)]
    if dep:
        still = [r for r in dep if r["kind"] == "unchanged"]
        print(f"\n## Dependent ticks, unchanged deploys ({first} deploys a cell, 1 se {pct(se)}, "
              f"α + 2 se = {pct(lim)})\n")
        n = sum(r["deploys"] for r in still)
        after = sum(r["rollbacks"] for r in still)
        before = sum(r.get("before_rollbacks", 0) for r in still)
        bf = sum(r["bf_rollbacks"] for r in still)
        print(f"Pooled over the {len(still)} cells: vz-monitor {pct(after / n, 2)}, before issue 19 "
              f"{pct(before / n, 2)}, scipy Bonferroni {pct(bf / n, 2)} (of {n:,}). "
              f"vz-monitor cells above α + 2 se: {above(still)}.\n")
        print("| metrics | ticks | noise | vz-monitor | before (independent ticks) "
              "| scipy Mann-Whitney, Bonferroni |")
        print("|---:|---:|---|---:|---:|---:|")
        for r in still:
            b = pct(r["before_rollbacks"] / r["deploys"]) if "before_rollbacks" in r else "—"
            print(f"| {r['metrics']} | {r['ticks']} | {r['noise']} | {pct(r['rollbacks'] / r['deploys'])} "
                  f"| {b} | {pct(r['bf_rollbacks'] / r['deploys'])} |")
        moved = [r for r in dep if r["kind"] == "shifted"]
        if moved:
            print("\n## Power and median tick under the same noise (10 metrics, 30 ticks)\n")
            print("| noise | shift | vz-monitor caught | median tick | before: caught | median tick "
                  "| scipy Bonferroni caught | median tick |")
            print("|---|---:|---:|---:|---:|---:|---:|---:|")
            for r in moved:
                noise = r["noise"] + (" (shift from tick 3–8)" if "from tick" in r["label"] else "")
                b = pct(r["before_rollbacks"] / r["deploys"]) if "before_rollbacks" in r else "—"
                bm = med(r.get("before_delays", []))
                print(f"| {noise} | {r['shift']:g}× | {pct(r['rollbacks'] / r['deploys'])} "
                      f"| {med(r['delays'])} | {b} | {bm} | {pct(r['bf_rollbacks'] / r['deploys'])} "
                      f"| {med(r['bf_delays'])} |")
        rows = [r for r in rows if not dependent(r)]
    shifted = [r for r in rows if r["kind"] == "shifted"]
    if shifted:
        print("\n## Power and median delay (lognormal σ 0.3, 30 ticks, metric 0 shifted from "
              "the deploy on)\n")
        print("| metrics | shift | vz-monitor caught | median tick | Bonferroni caught | median tick |")
        print("|---:|---:|---:|---:|---:|---:|")
        for r in shifted:
            print(f"| {r['metrics']} | {r['shift']:g}× | {pct(r['rollbacks'] / r['deploys'])} "
                  f"| {med(r['delays'])} | {pct(r['bf_rollbacks'] / r['deploys'])} | {med(r['bf_delays'])} |")
    surges = [r for r in rows if r["kind"].startswith("surge")]
    if surges:
        ok = [r for r in surges if unchanged(r)]
        print("\n## Surges, canary against control (lognormal σ 0.3, 30 ticks)\n")
        if ok:
            print(f"Unchanged deploys with a control, pooled: {pooled(ok)}; cells above "
                  f"α + 2 se: {above(ok)}.\n")
        print("| surge | metrics | regression of metric 0 | vz-monitor rolled back | median tick "
              "| Bonferroni rolled back | median tick |")
        print("|---:|---:|---|---:|---:|---:|---:|")
        for r in surges:
            reg = "none" if r["shift"] == 1 else f"{r['shift']:g}×"
            if not r.get("control"):
                reg += ", **no control** (against the baseline)"
            print(f"| {r['surge']:g}× | {r['metrics']} | {reg} | {pct(r['rollbacks'] / r['deploys'])} "
                  f"| {med(r['delays'])} | {pct(r['bf_rollbacks'] / r['deploys'])} | {med(r['bf_delays'])} |")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--deploys", type=int, default=300)
    ap.add_argument("--dump", default=None, help="replay this dump, do not run cargo")
    ap.add_argument("--out", default="/tmp/vz-false-rollback", help="where cargo dumps")
    ap.add_argument("--quick", action="store_true")
    ap.add_argument("--dependent", action="store_true",
                    help="only issue 19's cells (dependent ticks), with the method before it "
                         "(ticks taken as independent) side by side")
    ap.add_argument("--base-ticks", type=int, default=None,
                    help="baseline ticks of the dependent cells (default 240, an hour)")
    ap.add_argument("--lookback", type=int, default=None,
                    help="ticks of lookback for the dependence, ending with the baseline "
                         "(default 1440, 6 h; 0: the baseline alone)")
    ap.add_argument("--only", action="append", default=[],
                    help="run only cells whose label contains this (repeatable; "
                         "`cargo bench --bench false_rollback -- --list` lists them)")
    a = ap.parse_args()
    ensure_venv()
    import numpy as np

    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    dump = a.dump
    if dump is None:
        dump = a.out
        cmd = ["cargo", "bench", "--bench", "false_rollback", "--", "--dump", dump,
               "--deploys", str(a.deploys)] + (["--quick"] if a.quick else []) \
            + (["--dependent", "--before"] if a.dependent else [])
        if a.base_ticks is not None:
            cmd += ["--base-ticks", str(a.base_ticks)]
        if a.lookback is not None:
            cmd += ["--lookback", str(a.lookback)]
        for o in a.only:
            cmd += ["--only", o]
        subprocess.check_call(cmd, cwd=root)
    cells = json.load(open(os.path.join(dump, "cells.json")))
    print(f"\n# Side by side: vz-monitor vs plain Bonferroni over geometric looks "
          f"(alpha {ALPHA})\n")
    print("| cell | deploys | vz-monitor rolled back | ± 1 se | median tick "
          "| Bonferroni rolled back | ± 1 se | median tick |")
    print("|---|---:|---:|---:|---:|---:|---:|---:|")
    rows = []
    for c in cells:
        if c["kind"] == "pack":
            continue
        data = np.fromfile(os.path.join(dump, f"cell{c['id']}.f32"), dtype="<f4")
        d = bonferroni(c, data)
        caught = d[d > 0]
        n = c["deploys"]
        c["bf_rollbacks"], c["bf_delays"] = len(caught), caught
        rows.append(c)
        vz, bf = c["rollbacks"] / n, len(caught) / n
        print(f"| {c['label']} | {n} | {pct(vz, 2)} | {pct((vz * (1 - vz) / n) ** 0.5, 2)} "
              f"| {med(c['delays'])} | {pct(bf, 2)} | {pct((bf * (1 - bf) / n) ** 0.5, 2)} "
              f"| {med(caught)} |")
        sys.stdout.flush()
    report(rows)
    packs = [c for c in cells if c["kind"] == "pack"]
    if packs:
        print("\n## Shipped rule packs, unchanged deploys\n")
    for c in packs:
        print(f"pack {c['pack']}: {c['rollbacks']} of {c['deploys']} unchanged deploys "
              f"rolled back")


if __name__ == "__main__":
    main()
