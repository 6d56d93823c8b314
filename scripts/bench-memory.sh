#!/usr/bin/env bash
# Issue #15's memory check: peak resident memory (GNU time's maximum RSS) of
# `sweep run` on 10^6 grid points x 1 seed and on 1 point x 10^6 seeds, both
# XOR 2-2-1 x 10 epochs, with figures (skipped past a 128 MB summary.json)
# and without. Needs /usr/bin/time (Debian: apt-get install time) and about
# 6 GB of free disk for the results (deleted afterwards).
#
# Usage: scripts/bench-memory.sh [BINARY]   (default: this checkout's release build)
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/target-dir.sh
if [ $# -ge 1 ]; then
    bin=$1
else
    cargo build --release -q
    bin="$(target_dir)/release/sweep"
fi
work=$(mktemp -d /tmp/netsweep-bench-memory.XXXXXX)
trap 'rm -rf "$work"' EXIT
cat > "$work/m.toml" <<'TOML'
name = "m"
base_seed = 1
seeds = 1
[problem]
kind = "xor"
[architectures."2-2-1"]
layers = [{ type = "dense", units = 2 }, { type = "dense", units = 1 }]
[training]
epochs = 10
loss = "mse"
metric = "acc_xor"
activation = "tanh"
[record]
weights = 0
TOML
measure() { # label, figures (yes/no), then --set arguments
    local label=$1 figures=$2
    shift 2
    local flags=(--quiet --force --out "$work/out")
    [ "$figures" = no ] && flags+=(--no-plot)
    "$bin" validate "$work/m.toml" "$@" | grep -o 'peak memory up to about [0-9.]* [kMG]B' | sed "s/^/$label: /"
    /usr/bin/time -f "$label: %e s, max RSS %M kB" "$bin" run "$work/m.toml" "${flags[@]}" "$@" \
        2>&1 >/dev/null | grep 'max RSS'
    rm -rf "$work/out"
}
points=(--set 'grid.lr={log=[0.001,10],points=1000}' --set 'grid.l2={linear=[0,0.1],points=1000}')
seeds=(--set seeds=1000000 --set grid.lr=0.1)
measure "10^6 points x 1 seed, no figures" no "${points[@]}"
measure "10^6 points x 1 seed, figures" yes "${points[@]}"
measure "1 point x 10^6 seeds, no figures" no "${seeds[@]}"
measure "1 point x 10^6 seeds, figures" yes "${seeds[@]}"
