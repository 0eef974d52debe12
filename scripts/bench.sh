#!/usr/bin/env bash
# scripts/bench.sh -- every benchmark, one line per figure (see BENCHMARKS.md for the method).
#
#   BENCH_MAILS=10000 BENCH_LATENCY=500 BENCH_SCALE=1000000 scripts/bench.sh
#   BENCH_ONLY=backlog scripts/bench.sh        # a subset: backlog, latency, scale
#
# Needs root (the loopback Postfix) and installs Dovecot/Postfix when missing.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install-deps.sh
echo "== pure parts per mail (divan: parse + classify + thread + strip + rules)"
cargo bench --quiet --bench pipeline 2>/dev/null | grep -E "whole_corpus|parse_only|fastest"
echo "== rule evaluation per mail (shipped rules and 1,000 rules)"
cargo bench --quiet --bench rules 2>/dev/null | grep -vE "^\s*$"
echo "== on the real stack"
cargo bench --quiet --bench stack
