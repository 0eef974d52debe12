#!/usr/bin/env bash
# scripts/power-loss.sh [MAILS] [CUTS] -- the power-loss test of issue 10, long (defaults: 2000 mails,
# 20 power cuts per mode).
#
# Runs tests/power_loss_e2e.rs in release mode with POWER_LOSS_MAILS=MAILS and POWER_LOSS_CUTS=CUTS,
# both modes one after the other: mails flagged \Seen, and mails moved to processed_folder. srgate's
# data directory lives on LazyFS (built by scripts/lazyfs.sh from tests/tools/lazyfs/), which drops
# every byte not fsynced at each power cut; the mail stack (scripts/mailstack.sh) does not. Each cut:
# SIGKILL the daemon, clear LazyFS's cache, remount, check that every mail the server shows as
# handled has its SR in the store, restart the daemon. The first cut comes right after the first mail
# is handled, the others at random points of the work; one more follows the clean stop at the end.
# The figures (per cut, mails lost, duplicates, time) are printed at the end, one per line, on stdout.
#
# Exit status: 0 when both modes lost nothing (every handled mail had its SR after every cut, one SR
# per customer, every customer acknowledged with their own SR's number, every original mail whole in
# the store); 1 otherwise. Duplicate acknowledgements are reported with their bound (cuts x SMTP
# connections), not failed.
#
# Needs root on Debian/Ubuntu (Postfix insists; FUSE mounts) and /dev/fuse. Environment:
#   POWER_LOSS_SEED=N       fix the random cut points (the seed of each run is printed)
#   POWER_LOSS_CACHE_MB=N   LazyFS's cache (default max(128, MAILS/16) MB; it must hold what the
#                           daemon writes between two cuts, and the test fails when it was full)
#   POWER_LOSS_LOG=FILE     keep cargo's whole output there (default: a temporary file, removed)
set -euo pipefail
cd "$(dirname "$0")/.."

MAILS=${1:-2000}
CUTS=${2:-20}
say() { echo "power-loss: $*" >&2; }
die() { say "$*"; exit 1; }

[[ $MAILS =~ ^[1-9][0-9]*$ ]] || die "MAILS must be a positive number (got '$MAILS')"
[[ $CUTS =~ ^[1-9][0-9]*$ ]] || die "CUTS must be a positive number (got '$CUTS')"
[ "$(id -u)" = 0 ] || die "run as root (Postfix's master and the FUSE mount need it)"
[ -c /dev/fuse ] || die "/dev/fuse is missing: LazyFS (FUSE) cannot mount on this machine"

scripts/install-deps.sh
scripts/lazyfs.sh build >/dev/null
say "building the test in release mode"
cargo test --release --test power_loss_e2e --no-run --quiet

LOG=${POWER_LOSS_LOG:-$(mktemp /tmp/srgate-power-loss-XXXXXX.log)}
[ -n "${POWER_LOSS_LOG:-}" ] || trap 'rm -f "$LOG"' EXIT
say "$MAILS mails, $CUTS cuts per mode; progress on stderr, output in $LOG"
start=$SECONDS
set +e
POWER_LOSS_MAILS=$MAILS POWER_LOSS_CUTS=$CUTS \
  cargo test --release --test power_loss_e2e -- --nocapture --test-threads=1 2>&1 |
  tee "$LOG" | grep --line-buffered -E '^power-loss \[.*(cut|mails,)' >&2
rc=${PIPESTATUS[0]}
set -e

# The figures of both modes, then cargo's verdict per test.
grep -E '^power-loss \[' "$LOG" | sed -n '/==== figures ====/,/result:/p'
grep -E '^test power_cuts_' "$LOG" || true
echo "power-loss: wall time $((SECONDS - start)) s for both modes (MAILS=$MAILS CUTS=$CUTS)"
if [ "$rc" = 0 ]; then echo "result: PASS"; else echo "result: FAIL"; fi
exit "$rc"
