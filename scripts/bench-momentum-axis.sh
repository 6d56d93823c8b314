#!/usr/bin/env bash
# Issue #13's speed check: the shipped XOR grid (20,000 epochs) with a
# momentum axis [0, 0.9] added, against the same grid without it, in
# interleaved rounds on this machine. Momentum is a lane axis: its points
# share ensembles with the others, so network-epochs/s should not drop.
#
# Usage: scripts/bench-momentum-axis.sh [ROUNDS]   (default 5)
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/target-dir.sh
rounds=${1:-5}
cargo build --release -q
bin="$(target_dir)/release/sweep"
out=/tmp/netsweep-bench-momentum
log=$out.txt
sweep() {
    "$bin" run experiments/xor_grid.toml --set training.epochs=20000 --no-plot --quiet --force --out "$out" "$@" |
        grep -o '[0-9.]* million network-epochs/s'
}
for round in $(seq "$rounds"); do
    echo "round $round: without $(sweep)"
    echo "round $round: momentum $(sweep --set 'grid.momentum=[0.0,0.9]')"
done | tee "$log"
rm -rf "$out"
python3 - "$log" <<'PY'
import re, statistics, sys
rates = {"without": [], "momentum": []}
for line in open(sys.argv[1]):
    kind = "momentum" if "momentum" in line else "without"
    rates[kind].append(float(re.search(r"([0-9.]+) million", line).group(1)))
med = statistics.median
a, b = med(rates["without"]), med(rates["momentum"])
print(f"median of {len(rates['without'])} rounds: {a:.1f} M network-epochs/s without, {b:.1f} with momentum [0, 0.9]: {b / a:.3f}x")
PY
