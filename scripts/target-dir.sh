# Sourced by the scripts: `target_dir [CRATE_DIR]` prints where cargo puts
# the builds of the crate in CRATE_DIR (default: the current folder);
# CARGO_TARGET_DIR and cargo configuration move it.
target_dir() {
    cargo metadata --format-version 1 --no-deps ${1:+--manifest-path "$1/Cargo.toml"} |
        python3 -c 'import json,sys; print(json.load(sys.stdin)["target_directory"])'
}
