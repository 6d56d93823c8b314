#!/usr/bin/env python3
"""Do a sweep's statistics move between two builds? Compares two summary.json
files of the same grid point by point: convergence rates (same value; inside
the old 95% interval), mean final test metric (same bits; inside the old
interval of the mean) and the points whose converged count changed.

  scripts/compare-summaries.py OLD/summary.json NEW/summary.json
"""
import json
import sys

old = json.load(open(sys.argv[1]))["points"]
new = json.load(open(sys.argv[2]))["points"]
assert len(old) == len(new), "not the same grid"
same_rate = in_rate = same_mean = in_mean = 0
largest, changed = 0.0, []
for p, q in zip(old, new):
    assert p["params"] == q["params"], "not the same grid"
    same_rate += p["convergence_rate"] == q["convergence_rate"]
    # Interval ends are floats: 1.0 can sit just above 0.9999999999999999.
    in_rate += p["rate_ci_low"] - 1e-12 <= q["convergence_rate"] <= p["rate_ci_high"] + 1e-12
    a, b = p["final_test_metric"]["mean"], q["final_test_metric"]["mean"]
    same_mean += a == b
    lo, hi = p["test_metric_mean_ci"]
    in_mean += lo <= b <= hi
    largest = max(largest, abs(a - b))
    if p["converged"] != q["converged"]:
        changed.append((p["point"], p["params"], f"{p['converged']} -> {q['converged']} of {p['runs']}"))
n = len(old)
print(f"{n} points: same convergence rate {same_rate}, new rate inside the old 95% interval {in_rate}")
print(f"mean final test metric: same bits {same_mean}, inside the old interval {in_mean}, largest change {largest:.4g}")
for c in changed:
    print("converged count changed:", *c)
