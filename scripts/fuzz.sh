#!/usr/bin/env bash
# scripts/fuzz.sh [SECONDS] -- fuzz parse → classify → thread → strip for a bounded time (default 120 s).
#
# Uses cargo-fuzz (libFuzzer). The toolchain here is stable Rust, so the build runs with
# RUSTC_BOOTSTRAP=1, without a sanitizer (-s none) and in release mode (-O), as the gateway
# runs: it finds panics, hangs and memory blow-ups, not memory errors (the crate forbids
# unsafe code). (With debug assertions, mail-parser's own `debug_assert!(false)` fires on
# hostile input; release builds compile it out, and Cargo.toml turns it off in ours too.)
# The seed corpus is tests/corpus/. Prints the executions run and whether anything crashed.
set -euo pipefail
cd "$(dirname "$0")/.."
SECS=${1:-120}
command -v cargo-fuzz >/dev/null || cargo install cargo-fuzz --locked
SEEDS=$(mktemp -d)
mkdir -p fuzz/corpus/pipeline
trap 'rm -rf "$SEEDS"' EXIT
find tests/corpus tests/golden -name '*.eml' -exec cp {} "$SEEDS/" \;
LOG=$(mktemp)
set +e
RUSTC_BOOTSTRAP=1 cargo fuzz run -s none -O pipeline fuzz/corpus/pipeline "$SEEDS" -- \
  -max_total_time="$SECS" -rss_limit_mb=2048 -max_len=1048576 -timeout=10 -print_final_stats=1 2>&1 | tee "$LOG" | grep -E "^#[0-9]+[[:space:]]+(INITED|DONE)|ERROR|panicked" | tail -n 5
rc=${PIPESTATUS[0]}
set -e
execs=$(grep -oE 'stat::number_of_executed_units: *[0-9]+' "$LOG" | grep -oE '[0-9]+$' | tail -n 1 || true)
[ -n "$execs" ] || execs=$(grep -oE '^#[0-9]+' "$LOG" | tail -n 1 | tr -d '#' || true)
echo "fuzz: ${execs:-?} executions in ${SECS}s, exit status $rc ($([ "$rc" = 0 ] && echo 'no crash' || echo 'CRASH: see fuzz/artifacts/'))"
rm -f "$LOG"
exit "$rc"
