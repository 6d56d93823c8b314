#!/usr/bin/env bash
# The figures of BENCHMARKS.md, measured side by side in one run on this
# machine: the outside peers (../shared/peers/run.sh, mlp_bench.py), the whole
# `sweep run` command on 240 M network-epochs, and the criterion benches.
# Machines here are noisy: compare the ratios printed by one run of this
# script, not absolute figures across days.
#
# Usage: scripts/bench-side-by-side.sh [PEERS_DIR]   (default ../shared/peers)
set -euo pipefail
cd "$(dirname "$0")/.."
peers=${1:-../shared/peers}
venv=${PEERS_VENV:-/tmp/peers-venv}
cargo build --release -q
cargo bench --no-run -q 2>/dev/null

echo "== machine"
grep -m1 'model name' /proc/cpuinfo
echo "cores: $(nproc); vector extensions: $(grep -m1 flags /proc/cpuinfo | tr ' ' '\n' | grep -E '^(avx2|fma|avx512f)$' | tr '\n' ' ')"

echo "== peers: reference workload, million network-epochs/s"
bash "$peers/run.sh"

echo "== netsweep: sweep run experiments/xor_grid.toml --set training.epochs=20000 (240 M network-epochs, files written)"
# 2 and 1 threads interleaved, three times each. The machine's noise comes in
# phases (a single run can be 20% fast), so the summary gives the median and
# the best of each thread count and their ratios; read both.
out=/tmp/netsweep-bench-20000
for round in 1 2 3; do
    for threads in 2 1; do
        ./target/release/sweep run experiments/xor_grid.toml --set training.epochs=20000 --threads "$threads" \
            --no-plot --quiet --force --out "$out" | grep 'network-epochs/s'
    done
done | tee /tmp/netsweep-bench-20000.txt
rm -rf "$out"
python3 - /tmp/netsweep-bench-20000.txt <<'PY'
import re, statistics, sys
runs = {}
for line in open(sys.argv[1]):
    m = re.search(r"([0-9.]+) million network-epochs/s on (\d+) thread", line)
    if m:
        runs.setdefault(int(m.group(2)), []).append(float(m.group(1)))
med = {t: statistics.median(v) for t, v in runs.items()}
best = {t: max(v) for t, v in runs.items()}
print(f"median of 3: {med[2]:.1f} M/s on 2 threads, {med[1]:.1f} on 1 thread: 1 -> 2 threads {med[2] / med[1]:.2f}x")
print(f"best of 3:   {best[2]:.1f} M/s on 2 threads, {best[1]:.1f} on 1 thread: 1 -> 2 threads {best[2] / best[1]:.2f}x")
PY

echo "== netsweep: criterion benches (throughput in network-epochs/s or samples/s)"
cargo bench -q --bench throughput 2>/dev/null | grep -E '^[A-Za-z_0-9-]+/|thrpt'
cargo bench -q --bench dense 2>/dev/null | grep -E '^[A-Za-z_0-9-]+/|thrpt'

echo "== peers: dense training step, one core (samples/s)"
OMP_NUM_THREADS=1 XLA_FLAGS=--xla_cpu_multi_thread_eigen=false taskset -c 0 "$venv/bin/python" "$peers/mlp_bench.py"
