#!/usr/bin/env bash
# scripts/bench-compare.sh OLD_BINARY [ROUNDS] -- the backlog benchmark (benches/stack.rs) for
# another srgate binary and this tree's, side by side on one stack, alternating, ROUNDS times
# (default 2). This tree's binary runs three ways: the product build, and the failpoints build
# with and without FAILPOINTS=barrier.skip_sync=return (the durability barrier stopped at sled's
# own flush), so the difference is what the barrier costs. BENCH_MAILS sets the backlog (10000).
# Figures: one line each on stdout, per run. Needs root (the loopback Postfix).
set -euo pipefail
cd "$(dirname "$0")/.."
OLD=${1:?usage: scripts/bench-compare.sh OLD_BINARY [ROUNDS]}
ROUNDS=${2:-2}
[ -x "$OLD" ] || { echo "bench-compare: no binary at $OLD" >&2; exit 1; }

scripts/install-deps.sh
CARGO_TARGET_DIR=target/prod cargo build --release --quiet
cargo bench --features failpoints --bench stack --no-run --quiet 2>/dev/null
BENCH=$(ls -t target/release/deps/stack-* | grep -v '\.d$' | head -1)

run() { # label binary [failpoints]
  echo "== $1 (round $n)"
  BENCH_ONLY=backlog BENCH_MAILS=${BENCH_MAILS:-10000} BENCH_SRGATE_BIN=$2 FAILPOINTS=${3:-} "$BENCH" --bench 2>/dev/null |
    grep -E "ingestion|outbox delivery|end to end|plain"
}
for n in $(seq 1 "$ROUNDS"); do
  run before "$OLD"
  run after target/prod/release/srgate
  run "after, no barrier" target/release/srgate "barrier.skip_sync=return"
  run "after, failpoints build" target/release/srgate
done
