#!/usr/bin/env bash
# The library without its default features is the course library and the
# training engine: it builds, and `cargo tree -e normal` lists at most 40
# crates (netsweep included). Each optional feature builds on its own.
set -euo pipefail
cd "$(dirname "$0")/.."
crates() { cargo tree -q -e normal "$@" --prefix none | sed 's/ (\*)//; s/ (proc-macro)//' | sort -u | wc -l; }
lean=$(crates --no-default-features)
echo "crates: no default features $lean, datasets $(crates --no-default-features --features datasets), sweep $(crates --no-default-features --features sweep), plot $(crates --no-default-features --features plot), default $(crates)"
if [ "$lean" -gt 40 ]; then
    echo "check-features: $lean crates without default features (at most 40)" >&2
    exit 1
fi
for features in "" datasets sweep plot; do
    cargo check -q --lib --no-default-features ${features:+--features "$features"}
done
echo "check-features: OK"
