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
. scripts/target-dir.sh
peers=${1:-../shared/peers}
venv=${PEERS_VENV:-/tmp/peers-venv}
cargo build --release -q
cargo bench --no-run -q 2>/dev/null
# Where cargo put the binary (CARGO_TARGET_DIR moves it).
bin="$(target_dir)/release/sweep"

echo "== machine"
grep -m1 'model name' /proc/cpuinfo
echo "cores: $(nproc); vector extensions: $(grep -m1 flags /proc/cpuinfo | tr ' ' '\n' | grep -E '^(avx2|fma|avx512f)$' | tr '\n' ' ')"

echo "== peers: reference workload, million network-epochs/s"
bash "$peers/run.sh"

echo "== netsweep: sweep run experiments/xor_grid.toml --set training.epochs=20000 (240 M network-epochs, files written)"
# Seven rounds, each: the command on 2 threads, on 1 thread, and, as the
# machine's own reference for 1 -> 2 cores, two 1-thread copies at once, each
# into its own folder (counted as twice the slower copy's rate: both copies'
# work over the time until both have ended). The machine's noise comes in
# phases (a single run can be 20% fast), so the summary gives medians and
# bests; read the scaling against the machine reference of the same run.
out=/tmp/netsweep-bench-20000
sweep() {
    "$bin" run experiments/xor_grid.toml --set training.epochs=20000 --no-plot --quiet --force "$@" |
        grep -o '[0-9.]* million network-epochs/s on [0-9]* threads*'
}
steal0=$(awk '/^cpu /{print $9}' /proc/stat)
for round in 1 2 3 4 5 6 7; do
    echo "round $round: $(sweep --threads 2 --out "$out")"
    echo "round $round: $(sweep --threads 1 --out "$out")"
    sweep --threads 1 --out "$out-a" >"$out-a.txt" &
    sweep --threads 1 --out "$out-b" >"$out-b.txt"
    wait
    echo "round $round: pair $(cat "$out-a.txt") + $(cat "$out-b.txt")"
done | tee /tmp/netsweep-bench-20000.txt
echo "steal time during these runs (hypervisor took the CPU): $(( $(awk '/^cpu /{print $9}' /proc/stat) - steal0 )) ticks of 1/$(getconf CLK_TCK) s"
rm -rf "$out" "$out-a" "$out-b" "$out-a.txt" "$out-b.txt"
python3 - /tmp/netsweep-bench-20000.txt <<'PY'
import re, statistics, sys
one, two, pair = [], [], []
for line in open(sys.argv[1]):
    rates = [float(x) for x in re.findall(r"([0-9.]+) million", line)]
    if "pair" in line:
        pair.append(2 * min(rates))
    elif "on 2 threads" in line:
        two.append(rates[0])
    elif "on 1 thread" in line:
        one.append(rates[0])
med = statistics.median
print(f"median of {len(two)}: {med(two):.1f} M/s on 2 threads, {med(one):.1f} on 1 thread: 1 -> 2 threads {med(two) / med(one):.3f}x")
print(f"best of {len(two)}:   {max(two):.1f} M/s on 2 threads, {max(one):.1f} on 1 thread: 1 -> 2 threads {max(two) / max(one):.3f}x")
print(f"machine reference, two 1-thread copies at once: median {med(pair):.1f} M/s together, {med(pair) / med(one):.3f}x the 1-thread median")
PY

echo "== netsweep: criterion benches (throughput in network-epochs/s or samples/s)"
cargo bench -q --bench throughput 2>/dev/null | grep -E '^[A-Za-z_0-9-]+/|thrpt'
cargo bench -q --bench dense 2>/dev/null | grep -E '^[A-Za-z_0-9-]+/|thrpt'

echo "== peers: dense training step, one core (samples/s)"
OMP_NUM_THREADS=1 XLA_FLAGS=--xla_cpu_multi_thread_eigen=false taskset -c 0 "$venv/bin/python" "$peers/mlp_bench.py"

echo "== netsweep: a lane axis does not split ensembles (issue #13)"
scripts/bench-momentum-axis.sh 5 | tail -1
