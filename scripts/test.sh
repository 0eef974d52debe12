#!/usr/bin/env bash
# scripts/test.sh [cargo test args...] -- run srgate's test suite.
#
# The integration tests talk to a REAL Postfix + Dovecot (and use mutt/swaks as real clients),
# started per test binary by tests/common via scripts/mailstack.sh. On a fresh Debian/Ubuntu
# machine this script installs those packages first (as root, or through sudo when available).
# Note: the mail stack itself needs root (Postfix's master(8) refuses to run unprivileged).
# Tests of the PostgreSQL engine start a throwaway PostgreSQL per test binary (scripts/pgstack.sh),
# and the end-to-end suites run a second time on it (SRGATE_TEST_STORE=postgres).
set -euo pipefail
cd "$(dirname "$0")/.."

scripts/install-deps.sh

# The power-loss test (tests/power_loss_e2e.rs) runs srgate's store on LazyFS, a FUSE file system:
# build it now (Debian packages + vendored sources, cached in target/lazyfs/) rather than inside a
# timed test. A missing /dev/fuse or a failed build is reported here and makes that test fail.
if [ ! -c /dev/fuse ]; then
  echo "test.sh: /dev/fuse is missing: the power-loss test cannot mount LazyFS and will FAIL (load the fuse module, or give the container --device /dev/fuse)" >&2
fi
scripts/lazyfs.sh build >/dev/null || echo "test.sh: LazyFS did not build (see above): the power-loss test will FAIL" >&2

command -v cargo >/dev/null || { echo "test.sh: cargo not found (install Rust: https://rustup.rs)" >&2; exit 1; }

# tests/common leaves detached watchdogs per test binary that stop its mail stack, its DNS server and
# its PostgreSQL once the binary has exited. Wait (max 15 s) for those whose test process is gone, so that nothing of
# ours is left running when this script returns. Watchdogs of still-running tests (e.g. another
# concurrent cargo test) are left alone.
wait_for_stack_cleanup() {
  local deadline=$((SECONDS + 15)) busy p args
  while :; do
    busy=0
    for p in /proc/[0-9]*; do
      # cmdline: sh -c <script> srgate-mailstack-watchdog <watched pid> <mailstack.sh> <dir> <keep>
      mapfile -t -d '' args 2>/dev/null <"$p/cmdline" || continue
      case "${args[3]:-}" in srgate-mailstack-watchdog|srgate-dns-watchdog|srgate-pg-watchdog) ;; *) continue ;; esac
      kill -0 "${args[4]:-0}" 2>/dev/null || busy=1
    done
    if [ $busy = 0 ]; then return 0; fi
    if [ $SECONDS -ge $deadline ]; then
      echo "test.sh: mail stack clean-up still running after 15 s" >&2; return 0
    fi
    sleep 0.2
  done
}

rc=0
LOG=$(mktemp)
# The failpoints feature compiles in the instants where the durability tests crash the daemon.
cargo test --no-fail-fast --features failpoints "$@" 2>&1 | tee "$LOG" || rc=$?
# The end-to-end suites (foundation, rules, lifecycle, real mail, operations, and TLS: mail
# deferred and delivered later) once more on the PostgreSQL engine: tests/common/config.rs
# gives each test a fresh, migrated database.
SRGATE_TEST_STORE=postgres cargo test --no-fail-fast --features failpoints "$@" \
  --test e2e --test rules_e2e --test lifecycle_e2e --test realmail_e2e --test ops_e2e --test tls_e2e 2>&1 | tee -a "$LOG" || rc=$?
wait_for_stack_cleanup
# One closing line for the whole suite (cargo's last line is the doc-test binary's own count).
passed=$(grep -oE 'test result: [A-Za-z]+\. [0-9]+ passed' "$LOG" | grep -oE '[0-9]+ passed' | awk '{s+=$1} END {print s+0}')
failed=$(grep -oE '[0-9]+ failed;' "$LOG" | awk '{s+=$1} END {print s+0}')
rm -f "$LOG"
echo "summary: $passed passed, $failed failed"
exit $rc
