#!/usr/bin/env bash
# The report page in a real browser (headless Chromium from the
# distribution's packages):
#
#   1. installs chromium when missing (apt-get; needs root),
#   2. builds the release binary and runs a small XOR sweep with its figures,
#      plus a paired comparison along l2,
#   3. loads plots/index.html#selftest, on which the page checks itself:
#      every image loaded, a click on the rate header sorts the table
#      (descending, then ascending on a second click), no script error;
#      fails unless the page reports SELFTEST PASS and the browser logged no
#      console error,
#   4. checks that the test can fail: with one figure removed the page must
#      report the broken image,
#   5. saves a screenshot, target/report-screenshot.png, for people to look at.
#
# Usage: sudo scripts/report-browser-test.sh      (exit 0: pass)
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/target-dir.sh
say() { echo "[report-browser-test] $*" >&2; }
browser=$(command -v chromium || command -v chromium-browser || true)
if [ -z "$browser" ]; then
    if [ "$(id -u)" -ne 0 ]; then
        echo "report-browser-test: chromium is missing; run as root to install it" >&2
        exit 1
    fi
    say "installing chromium"
    DEBIAN_FRONTEND=noninteractive apt-get install -y -q chromium >/dev/null
    browser=$(command -v chromium)
fi
cargo build --release -q
target=$(target_dir)
bin="$target/release/sweep"
work=$(mktemp -d /tmp/netsweep-report.XXXXXX)
trap 'rm -rf "$work"' EXIT
"$bin" run experiments/xor_grid.toml --quiet --out "$work/r" --set seeds=20 --set training.epochs=400 \
    --set 'grid.lr=[0.1,1.0]' --set 'grid.l1=[0.0]' >/dev/null
"$bin" compare "$work/r" --along l2 >/dev/null
"$bin" plot "$work/r" >/dev/null
page="file://$work/r/plots/index.html"
chrome() { "$browser" --headless --no-sandbox --disable-gpu --no-first-run --virtual-time-budget=10000 "$@"; }
verdict() { grep -o '<p id="selftest"[^>]*>[^<]*' "$1" | sed 's/<[^>]*>//'; }

chrome --enable-logging=stderr --v=0 --dump-dom "$page#selftest" >"$work/dom.html" 2>"$work/console.txt" || true
result=$(verdict "$work/dom.html")
say "page: ${result:-no verdict}"
if [ "$result" != "SELFTEST PASS" ]; then
    echo "report-browser-test: FAIL: ${result:-the page gave no verdict (did its script run?)}" >&2
    exit 1
fi
if grep -E "CONSOLE.*(Uncaught|Error)|:ERROR:CONSOLE" "$work/console.txt" >&2; then
    echo "report-browser-test: FAIL: the browser logged console errors (above)" >&2
    exit 1
fi

# The check must be able to fail: a missing figure is reported.
mv "$work/r/plots/outcomes.png" "$work/outcomes.png"
chrome --dump-dom "$page#selftest" >"$work/broken.html" 2>/dev/null || true
mv "$work/outcomes.png" "$work/r/plots/outcomes.png"
case "$(verdict "$work/broken.html")" in
    *"image not loaded: outcomes.png"*) say "a removed figure is caught" ;;
    *) echo "report-browser-test: FAIL: a removed figure went unnoticed: $(verdict "$work/broken.html")" >&2; exit 1 ;;
esac

mkdir -p "$target"
chrome --hide-scrollbars --window-size=1400,2400 --screenshot="$target/report-screenshot.png" "$page" >/dev/null 2>&1 || true
[ -s "$target/report-screenshot.png" ] && say "screenshot: $target/report-screenshot.png"
say "PASS"
