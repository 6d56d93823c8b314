#!/usr/bin/env bash
# The same command at every instruction-set level this CPU has
# (NETSWEEP_CPU=baseline|avx2|avx512), interleaved: the shipped XOR grid at
# EPOCHS epochs (default 20,000) on 2 threads, files written. The baseline
# level is measured once (it is slow: fused multiply-adds by library call).
# Checks that runs.jsonl is the same bytes at every level.
#
# Usage: scripts/bench-cpu-levels.sh [ROUNDS] [EPOCHS]   (defaults 3, 20000)
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/target-dir.sh
rounds=${1:-3}
epochs=${2:-20000}
cargo build --release -q
bin="$(target_dir)/release/sweep"
rate() {
    NETSWEEP_CPU=$1 "$bin" run experiments/xor_grid.toml --set training.epochs="$epochs" --threads 2 --no-plot --quiet --force \
        --out "/tmp/netsweep-level-$1" | grep -o '[0-9.]* million' | cut -d' ' -f1
}
levels=$(for l in avx512 avx2; do NETSWEEP_CPU=$l "$bin" validate experiments/xor_grid.toml >/dev/null 2>&1 && echo $l; done)
for r in $(seq "$rounds"); do
    line="round $r:"
    for l in $levels; do line="$line $l $(rate "$l")"; done
    echo "$line M network-epochs/s"
done
echo "baseline (once): $(rate baseline) M network-epochs/s"
for l in $levels; do
    cmp /tmp/netsweep-level-baseline/runs.jsonl "/tmp/netsweep-level-$l/runs.jsonl" && echo "runs.jsonl at $l: same bytes as baseline"
done
