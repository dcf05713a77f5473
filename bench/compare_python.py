#!/usr/bin/env python3
"""Speed, side by side, same data, same machine: our isolation forest vs scikit-learn's
IsolationForest (fit 256x8, score 1,000,000x8) and our Mann-Whitney U vs
scipy.stats.mannwhitneyu (n = 10,000 each). Installs numpy/scipy/scikit-learn into a venv
under target/pyvenv/cmp, runs `cargo bench --bench compare_speed` (which writes the data
to target/compare/), times Python on that data and prints the ratios.

Usage: python3 bench/compare_python.py
"""
import json, os, subprocess, sys, time, venv

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
VENV = os.path.join(ROOT, "target", "pyvenv", "cmp")
PY = os.path.join(VENV, "bin", "python")

if os.environ.get("VZ_COMPARE_INNER") != "1":
    if not os.path.exists(PY):
        venv.create(VENV, with_pip=True)
    subprocess.run([PY, "-m", "pip", "install", "-q", "numpy", "scipy", "scikit-learn"], check=True)
    out = subprocess.run(["cargo", "bench", "--bench", "compare_speed"], cwd=ROOT,
                         check=True, capture_output=True, text=True).stdout
    ours = json.loads([l for l in out.splitlines() if l.startswith("{")][-1])
    env = dict(os.environ, VZ_COMPARE_INNER="1", VZ_OURS=json.dumps(ours))
    sys.exit(subprocess.run([PY, __file__], env=env).returncode)

import numpy as np
import scipy, sklearn
from joblib import parallel_backend
from scipy.stats import mannwhitneyu
from sklearn.ensemble import IsolationForest

ours = json.loads(os.environ["VZ_OURS"])
d = os.path.join(ROOT, "target", "compare")
load = lambda n: np.fromfile(os.path.join(d, n), dtype="<f8")
train, score = load("train.f64").reshape(-1, 8), load("score.f64").reshape(-1, 8)
a, b = load("mwu_a.f64"), load("mwu_b.f64")

def median(runs, f):
    ts, r = [], None
    for _ in range(runs):
        s = time.perf_counter(); r = f(); ts.append(time.perf_counter() - s)
    return sorted(ts)[runs // 2], r

threads = ours["threads"]
fit_s, forest = median(7, lambda: IsolationForest(n_estimators=100, max_samples=256, random_state=42, n_jobs=threads).fit(train))
# score_samples ignores the model's n_jobs and walks the trees on one thread; its docs say to
# parallelise it with a joblib threading context, so the multi-thread row does that.
score_1t_s, s = median(3, lambda: -forest.score_samples(score))
with parallel_backend("threading", n_jobs=threads):
    score_s, s_nt = median(3, lambda: -forest.score_samples(score))
assert np.allclose(s, s_nt, rtol=0, atol=1e-9)  # same trees; summed in another order
mwu_s, m = median(201, lambda: mannwhitneyu(b, a, alternative="two-sided", method="asymptotic"))

print(f"machine: {os.cpu_count()} cores; scikit-learn {sklearn.__version__}, scipy {scipy.__version__}, numpy {np.__version__}")
rows = [
    ("isolation forest fit 256x8, 100 trees", ours["if_fit_s"], fit_s),
    (f"isolation forest score 1,000,000x8 ({threads} threads each)", ours["if_score_s"], score_s),
    ("isolation forest score 1,000,000x8 (1 thread each)", ours["if_score_1t_s"], score_1t_s),
    ("Mann-Whitney U n=10,000 each", ours["mwu_s"], mwu_s),
]
print(f"{'task':58} {'vz-monitor':>12} {'python':>12} {'ratio':>8}")
for name, o, p in rows:
    print(f"{name:58} {o*1000:10.2f}ms {p*1000:10.2f}ms {p/o:7.1f}x")
print(f"ours on 1 thread by path ({'AVX2 used' if ours['if_avx2'] else 'no AVX2 on this CPU'}): "
      f"best {ours['if_score_1t_s']*1000:.0f}ms, portable compiled trees {ours['if_portable_1t_s']*1000:.0f}ms, "
      f"node-by-node walk {ours['if_walk_1t_s']*1000:.0f}ms (same scores, bit for bit)")
print("all times are medians: ours of 5 runs (walk 1, fit 7, MWU 201), scikit-learn of 3 (fit 7, MWU 201)")
print(f"agreement: mean isolation score ours {ours['if_mean_score']:.4f} vs sklearn {s.mean():.4f}; "
      f"Mann-Whitney U {ours['mwu_u']:.0f} vs {m.statistic:.0f}, p {ours['mwu_p']:.3g} vs {m.pvalue:.3g}")
