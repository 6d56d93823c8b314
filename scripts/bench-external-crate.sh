#!/usr/bin/env bash
# netsweep as a dependency, built with no flags at all: a new crate outside
# this repository (cargo new, netsweep as a path dependency) runs the shipped
# XOR grid at 20,000 epochs through the library (sweep::Experiment), side by
# side with the `sweep` binary built here, in interleaved rounds. Prints each
# rate and the ratio external / CLI per round and the medians.
#
# Usage: scripts/bench-external-crate.sh [ROUNDS]   (default 3)
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/target-dir.sh
repo=$(pwd)
rounds=${1:-3}
work=${BENCH_EXTERNAL_DIR:-/tmp/netsweep-external-crate}
mkdir -p "$work/src"
cat > "$work/Cargo.toml" <<TOML
[package]
name = "netsweep-external"
version = "0.1.0"
edition = "2021"

[dependencies]
netsweep = { path = "$repo" }

[profile.release]
debug = "line-tables-only"
TOML
cat > "$work/src/main.rs" <<'RS'
//! The shipped XOR grid through the library; prints network-epochs/s.
use netsweep::sweep::{Experiment, RunOptions};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args: Vec<String> = std::env::args().collect();
    let sweep = Experiment::from_file(&args[1])?.set("training.epochs", "20000")?;
    let done = sweep.run(&RunOptions::default().out(&args[2]).force(true).threads(2))?;
    let rate = done.manifest.network_epochs_per_second.unwrap_or(0.0);
    println!("{:.1}", rate / 1e6);
    Ok(())
}
RS
# Built from its own folder with a clean environment: no RUSTFLAGS, no
# config of this repository.
(cd "$work" && env -u RUSTFLAGS -u CARGO_ENCODED_RUSTFLAGS cargo build --release -q)
cargo build --release -q
ext="$(target_dir "$work")/release/netsweep-external"
cli="$(target_dir "$repo")/release/sweep"
echo "instructions on ymm/zmm registers (objdump): external $(objdump -d "$ext" | grep -cE '[yz]mm[0-9]') · cli $(objdump -d "$cli" | grep -cE '[yz]mm[0-9]')"
ratios=()
for r in $(seq "$rounds"); do
    c=$("$cli" run experiments/xor_grid.toml --set training.epochs=20000 --threads 2 --no-plot --quiet --force --out /tmp/netsweep-bench-cli |
        grep -o '[0-9.]* million' | cut -d' ' -f1)
    e=$("$ext" experiments/xor_grid.toml /tmp/netsweep-bench-ext)
    ratio=$(python3 -c "print(f'{$e/$c:.2f}')")
    ratios+=("$ratio")
    echo "round $r: cli $c, external crate $e M network-epochs/s: ratio $ratio"
done
python3 -c "import statistics,sys; print('median ratio external / cli:', statistics.median(map(float, sys.argv[1:])))" "${ratios[@]}"
cmp /tmp/netsweep-bench-cli/runs.jsonl /tmp/netsweep-bench-ext/runs.jsonl && echo "runs.jsonl: same bytes"
