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
# 2 and 1 threads interleaved, three times each; the best of each (the run
# least disturbed by the machine's noise, as hyperfine's min) gives the ratio.
out=/tmp/netsweep-bench-20000
for round in 1 2 3; do
    for threads in 2 1; do
        ./target/release/sweep run experiments/xor_grid.toml --set training.epochs=20000 --threads "$threads" \
            --no-plot --quiet --force --out "$out" | grep 'network-epochs/s'
    done
done | tee /tmp/netsweep-bench-20000.txt
rm -rf "$out"
awk '/network-epochs\/s/ { t = $(NF-1); r = $(NF-5); if (r > best[t]) best[t] = r }
     END { printf "best of 3: %.1f M/s on 2 threads, %.1f M/s on 1 thread: 1 -> 2 threads %.2fx\n", best[2], best[1], best[2] / best[1] }' \
    /tmp/netsweep-bench-20000.txt

echo "== netsweep: criterion benches (throughput in network-epochs/s or samples/s)"
cargo bench -q --bench throughput 2>/dev/null | grep -E '^[A-Za-z_0-9-]+/|thrpt'
cargo bench -q --bench dense 2>/dev/null | grep -E '^[A-Za-z_0-9-]+/|thrpt'

echo "== peers: dense training step, one core (samples/s)"
OMP_NUM_THREADS=1 XLA_FLAGS=--xla_cpu_multi_thread_eigen=false taskset -c 0 "$venv/bin/python" "$peers/mlp_bench.py"
