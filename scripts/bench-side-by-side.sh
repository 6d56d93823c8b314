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
# avx2_limit (built by run.sh above) runs in every round beside the command.
limit() {
    /tmp/peers-limit bench --epochs "$1" --procs 2 | grep -o '"M_net_epochs_per_s":[0-9.]*' | cut -d: -f2
}
for round in 1 2 3 4 5 6 7; do
    echo "round $round: limit $(limit 20000) million"
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
one, two, pair, lim = [], [], [], []
for line in open(sys.argv[1]):
    rates = [float(x) for x in re.findall(r"([0-9.]+) million", line)]
    if "limit" in line:
        lim.append(rates[0])
    elif "pair" in line:
        pair.append(2 * min(rates))
    elif "on 2 threads" in line:
        two.append(rates[0])
    elif "on 1 thread" in line:
        one.append(rates[0])
med = statistics.median
print(f"median of {len(two)}: {med(two):.1f} M/s on 2 threads, {med(one):.1f} on 1 thread: 1 -> 2 threads {med(two) / med(one):.3f}x")
print(f"best of {len(two)}:   {max(two):.1f} M/s on 2 threads, {max(one):.1f} on 1 thread: 1 -> 2 threads {max(two) / max(one):.3f}x")
print(f"machine reference, two 1-thread copies at once: median {med(pair):.1f} M/s together, {med(pair) / med(one):.3f}x the 1-thread median")
print(f"1 -> 2 threads against the machine reference: {(med(two) / med(one)) / (med(pair) / med(one)):.3f}x")
print(f"whole command against avx2_limit (limit_2procs), same rounds: median {med(two):.1f} / {med(lim):.1f} = {med(two) / med(lim):.3f}x")
PY

echo "== netsweep: the shipped 2,000-epoch sweep, wall time against its training alone"
# Training alone is estimated at the 20,000-epoch command's rate (which
# includes its own start-up and writing, so the share below is a lower bound).
ship=$("$bin" run experiments/xor_grid.toml --no-plot --quiet --force --out "$out" | grep -o 'in [0-9.]* s' | grep -o '[0-9.]*')
rm -rf "$out"
python3 - "$ship" /tmp/netsweep-bench-20000.txt <<'PY'
import re, statistics, sys
wall = float(sys.argv[1])
two = [float(m) for line in open(sys.argv[2]) if "on 2 threads" in line for m in re.findall(r"([0-9.]+) million", line)]
train = 12000 * 2000 / (statistics.median(two) * 1e6)
print(f"2,000 epochs: {wall:.3f} s wall, training about {train:.3f} s: start-up and writing {1 - train / wall:.0%} of the wall time")
PY
# The same split measured by runs of the command (medians of three, wall
# time from the shell): as shipped; with curves of 2 points (the same
# training, almost nothing to write); with 1 epoch (start-up and the small
# files).
wall() {
    local s e
    s=$(date +%s.%N)
    "$bin" run experiments/xor_grid.toml --no-plot --quiet --force --out "$out" "$@" >/dev/null
    e=$(date +%s.%N)
    python3 -c "print($e - $s)"
}
for i in 1 2 3; do
    echo "shipped $(wall) points2 $(wall --set record.points=2) epochs1 $(wall --set training.epochs=1)"
done >/tmp/netsweep-bench-2000.txt
rm -rf "$out"
python3 - /tmp/netsweep-bench-2000.txt <<'PY'
import statistics, sys
rows = [line.split() for line in open(sys.argv[1])]
med = lambda k: statistics.median(float(r[r.index(k) + 1]) for r in rows)
ship, two, one = med("shipped"), med("points2"), med("epochs1")
train = two - one
print(f"2,000 epochs, split by runs (medians of 3): {ship:.3f} s as shipped = start-up and small files {one:.3f} s"
      f" + training {train:.3f} s + writing the curves {ship - two:.3f} s: non-training {1 - train / ship:.0%} of the wall time")
PY

echo "== netsweep: criterion benches (throughput in network-epochs/s or samples/s)"
lim_before=$(limit 2000)
echo "avx2_limit, 12,000 networks x 2,000 epochs (beside reference_workload_2_threads/ensembles/12000): $lim_before million network-epochs/s"
cargo bench -q --bench throughput 2>/dev/null | grep -E '^[A-Za-z_0-9-]+/|thrpt' | tee /tmp/netsweep-bench-throughput.txt
lim_after=$(limit 2000)
echo "avx2_limit again, after the benches: $lim_after million network-epochs/s"
python3 - "$lim_before" "$lim_after" /tmp/netsweep-bench-throughput.txt <<'PY'
import re, sys
before, after = float(sys.argv[1]), float(sys.argv[2])
lines = open(sys.argv[3]).read().split("reference_workload_2_threads/ensembles/12000")[1]
rate = float(re.search(r"thrpt:\s*\[\S+ \S+ ([0-9.]+) Melem/s", lines).group(1))
print(f"criterion ensembles/12000 against avx2_limit (the mean of before and after): {rate:.1f} / {(before + after) / 2:.1f} = {rate / ((before + after) / 2):.3f}x")
PY
cargo bench -q --bench dense 2>/dev/null | grep -E '^[A-Za-z_0-9-]+/|thrpt' | tee /tmp/netsweep-bench-dense.txt

echo "== peers: dense training step, one core (samples/s)"
OMP_NUM_THREADS=1 XLA_FLAGS=--xla_cpu_multi_thread_eigen=false taskset -c 0 "$venv/bin/python" "$peers/mlp_bench.py" |
    tee /tmp/netsweep-bench-mlp.txt
python3 - /tmp/netsweep-bench-dense.txt /tmp/netsweep-bench-mlp.txt <<'PY'
import re, sys
units = {"": 1, "K": 1e3, "M": 1e6, "G": 1e9}
ours, name = {}, None
for line in open(sys.argv[1]):
    m = re.search(r"netsweep/(\d+)-(\d+)-(\d+)_batch", line)
    name = (m.group(1), m.group(2), m.group(3)) if m else name
    t = re.search(r"thrpt:\s*\[\S+ \S+ ([0-9.]+) (\w?)elem/s", line)
    if t and name:
        ours[name] = float(t.group(1)) * units[t.group(2)]
for line in open(sys.argv[2]):
    m = re.search(r"\((\d+), (\d+), (\d+)\).*jax ([0-9.]+)", line)
    if m and m.groups()[:3] in ours:
        k = m.groups()[:3]
        print(f"{'-'.join(k)}: netsweep {ours[k]:.0f} samples/s, JAX {float(m.group(4)):.0f}: {ours[k] / float(m.group(4)):.2f}x per core")
PY

echo "== netsweep against the JAX peer: the digits sweep (experiments/digits_grid.toml, 720 runs x 50 epochs)"
# Three interleaved rounds: the JAX peer (2 pinned processes; its figure is
# its warm pass, compilation excluded), then the whole sweep command
# (start-up, training, evaluation every epoch, files). Then this machine's
# FMA peak (scripts/fma_peak.c, one copy per core at once), and the sweep's
# training arithmetic as a fraction of it.
for round in 1 2 3; do
    jax=$(cd "$peers" && "$venv/bin/python" jax_digits.py --repeats 2 | tail -n 1 |
        python3 -c 'import json, sys; print(json.loads(sys.stdin.read())["sweep_wall_s"])')
    start=$(date +%s.%N)
    "$bin" run experiments/digits_grid.toml --no-plot --quiet --force --out "$out-digits" >/dev/null
    end=$(date +%s.%N)
    echo "round $round: jax $jax s, netsweep $(python3 -c "print(f'{$end - $start:.3f}')") s"
done | tee /tmp/netsweep-bench-digits.txt
rm -rf "$out-digits"
gcc -O2 -mavx2 -mfma -o /tmp/netsweep-fma-peak scripts/fma_peak.c
taskset -c 0 /tmp/netsweep-fma-peak >/tmp/netsweep-fma-peak-0.txt &
taskset -c 1 /tmp/netsweep-fma-peak >/tmp/netsweep-fma-peak-1.txt
wait
cat /tmp/netsweep-fma-peak-0.txt /tmp/netsweep-fma-peak-1.txt
python3 - /tmp/netsweep-bench-digits.txt /tmp/netsweep-fma-peak-0.txt /tmp/netsweep-fma-peak-1.txt <<'PY'
import re, statistics, sys
jax, ns = [], []
for line in open(sys.argv[1]):
    j, n = re.findall(r"([0-9.]+) s", line)
    jax.append(float(j)); ns.append(float(n))
med = statistics.median
print(f"median of {len(ns)}: JAX {med(jax):.2f} s, netsweep {med(ns):.2f} s: netsweep {med(jax) / med(ns):.2f}x the JAX peer")
# The issue's arithmetic: 6 flops per weight per training sample; weights of
# 64-10, 64-32-10, 64-64-10 (biases included), 240 runs each, 1,438 training
# samples, 50 epochs. The per-epoch evaluation (1,797 rows, 2 flops per
# weight) comes on top and is not counted.
flop = 6 * (650 + 2410 + 4810) * 240 * 1438 * 50
peaks = {}
for f in sys.argv[2:]:
    for kind, g in re.findall(r"(avx2|avx512) ([0-9.]+) GFLOP/s", open(f).read()):
        peaks[kind] = peaks.get(kind, 0) + float(g)
rate = flop / med(ns) / 1e9
print(f"training arithmetic {flop / 1e12:.3f} TFLOP in {med(ns):.2f} s: {rate:.1f} GFLOP/s")
for kind, g in peaks.items():
    print(f"  {rate / g:.0%} of the 2-core {kind} FMA peak ({g:.1f} GFLOP/s measured)")
PY

echo "== netsweep: a lane axis does not split ensembles (issue #13)"
scripts/bench-momentum-axis.sh 5 | tail -1
