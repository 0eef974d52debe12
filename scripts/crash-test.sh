#!/usr/bin/env bash
# scripts/crash-test.sh [MAILS] [KILLS] -- the crash test of issue 6 (defaults: 2000 mails, 20 kills).
#
# On a private loopback mail stack (scripts/mailstack.sh), MAILS new customer mails wait in the
# support mailbox, each from its own address customer<i>@example.com. The srgate daemon works
# through them while this script SIGKILLs it KILLS times at random moments (0.2-1.5 s apart),
# restarting it each time. After the last restart it waits until every customer has an
# acknowledgement and the store holds MAILS SRs, stops the daemon with SIGTERM (which must exit 0),
# lets Postfix deliver what it holds, and prints the figures, one per line, on stdout.
#
# Exit status: 0 when nothing was lost or doubled (MAILS SRs, one per customer, every customer
# acknowledged, clean SIGTERM); 1 otherwise. Duplicate acknowledgements are reported, not failed:
# a kill between "the SMTP server accepted it" and "the outbox forgot it" resends what was in
# flight, at most one delivery per SMTP connection (4 by default) per kill.
#
# Needs root on Debian/Ubuntu (Postfix insists). Environment:
#   SRGATE_BIN=PATH     use this srgate binary instead of building target/release/srgate
#   CRASH_TIMEOUT=600   seconds to wait for the work to finish after the last restart
#   CRASH_LOG=info      SRGATE_LOG filter for the daemon (its log is DIR/daemon.log)
#   CRASH_KEEP=1        keep the temporary folder (stack, maildirs, store, logs) for inspection
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$(pwd)

MAILS=${1:-2000}
KILLS=${2:-20}
TIMEOUT=${CRASH_TIMEOUT:-600}
CONNECTIONS=4            # [smtp] connections in the config below (srgate's default)
DAEMON_PID=""

say() { echo "crash-test: $*" >&2; }
die() { say "$*"; exit 1; }

# ------------------------------------------------------------------------------ preparation

# Dovecot, Postfix (scripts/install-deps.sh), jq (to read `sr list --json`), the release binary.
prepare() {
  scripts/install-deps.sh
  if ! command -v jq >/dev/null; then
    say "installing jq"
    DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends jq >/dev/null
  fi
  if [ -n "${SRGATE_BIN:-}" ]; then
    BIN=$SRGATE_BIN
  else
    cargo build --release --quiet
    BIN=$ROOT/target/release/srgate
  fi
  [ -x "$BIN" ] || die "no srgate binary at $BIN"
}

# True when nothing listens on 127.0.0.1:$1.
port_free() { ! (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

# Starts the mail stack in $DIR/stack on four random free ports (IMAP, SMTP and their implicit-TLS
# twins, which this test does not use; retrying if someone takes them).
start_stack() {
  local try imap smtp rc
  for try in 1 2 3 4 5; do
    imap=$((20000 + RANDOM % 20000)); smtp=$((imap + 1))
    port_free "$imap" && port_free "$smtp" && port_free $((imap + 2)) && port_free $((imap + 3)) || continue
    rc=0
    MAILSTACK_IMAP_PORT=$imap MAILSTACK_SMTP_PORT=$smtp MAILSTACK_IMAPS_PORT=$((imap + 2)) MAILSTACK_SMTPS_PORT=$((imap + 3)) \
      scripts/mailstack.sh start "$DIR/stack" >/dev/null || rc=$?
    [ $rc = 0 ] && break
    [ $rc = 4 ] || die "mailstack.sh start failed (exit $rc)"      # 4: port taken meanwhile
    say "ports $imap/$smtp taken, trying others (attempt $try)"
  done
  [ -s "$DIR/stack/mailstack.env" ] || die "could not start the mail stack"
  # shellcheck disable=SC1091
  . "$DIR/stack/mailstack.env"
  MAILROOT=$MAILSTACK_MAILDIR_ROOT
}

# The srgate configuration: one support mailbox polled every second, two CSEs, 4 SMTP connections.
# The shipped rules, with a policy open around the clock: after hours a P3 is acknowledged but left
# unassigned (no CSE notification) until business hours, which would make the figures depend on
# when the test runs.
write_config() {
  mkdir -p "$DIR/rules"
  cp "$ROOT"/rules/*.toml "$DIR/rules/"
  cat > "$DIR/rules/policy.toml" <<'TOML'
timezone = "Europe/Paris"
holidays = []
[hours]
monday = ["00:00", "23:59"]
tuesday = ["00:00", "23:59"]
wednesday = ["00:00", "23:59"]
thursday = ["00:00", "23:59"]
friday = ["00:00", "23:59"]
saturday = ["00:00", "23:59"]
sunday = ["00:00", "23:59"]
[first_response]
P1 = "1h"
P2 = "4h"
P3 = "1d"
P4 = "2d"
around_the_clock = ["P1"]
[lifecycle]
contact_attempt_days = [3, 7]
close_after_days = 10
business_days = false
reopen_window_days = 30
escalation_after_business_days = 1
auto_replies_per_hour = 5
TOML
  CFG=$DIR/srgate.toml
  cat > "$CFG" <<TOML
data_dir = "data"
rules_dir = "$DIR/rules"
templates_dir = "$ROOT/templates"
support_address = "support@example.test"
# No daily digests: they would count as CSE mail in the figures.
digest = false
[smtp]
host = "127.0.0.1"
port = $MAILSTACK_SMTP_PORT
connections = $CONNECTIONS
[[mailbox]]
host = "127.0.0.1"
port = $MAILSTACK_IMAP_PORT
username = "support@example.test"
password = "secret"
poll_interval = "1s"
[[cse]]
name = "Sam"
email = "cse1@example.test"
[[cse]]
name = "Alex"
email = "cse2@example.test"
TOML
  SOCK=$DIR/data/srgate.sock
  "$BIN" --config "$CFG" check >/dev/null || die "srgate check refused $CFG"
}

# MAILS distinct new customer mails, written straight into the support Maildir (owned by mail).
seed_mails() {
  local md=$MAILROOT/example.test/support/Maildir run now i
  mkdir -p "$md/new" "$md/cur" "$md/tmp"
  run=$(date +%s).$$
  now=$(date -R)
  for i in $(seq 1 "$MAILS"); do
    printf 'From: Customer %d <customer%d@example.com>\r\nTo: support@example.test\r\nSubject: Crash test problem %d\r\nMessage-ID: <crash-%d.%s@example.com>\r\nDate: %s\r\n\r\nSomething is broken (%d).\r\n' \
      "$i" "$i" "$i" "$i" "$run" "$now" "$i" > "$md/new/$run.$i.crash:2,"
  done
  chown -R mail:mail "$MAILROOT"
}

# ------------------------------------------------------------------------------ the daemon

start_daemon() {
  SRGATE_LOG=${CRASH_LOG:-info} "$BIN" --config "$CFG" run </dev/null >>"$DIR/daemon.log" 2>&1 &
  DAEMON_PID=$!
}

# Running and not a zombie.
daemon_alive() {
  [ -n "$DAEMON_PID" ] && ps -o stat= -p "$DAEMON_PID" 2>/dev/null | grep -qv '^Z'
}

# The daemon answers on its control socket (a live listener shows in /proc/net/unix; the file a
# killed daemon leaves behind does not). Until then `srgate sr list` would open the store itself
# and could make the daemon that is starting find it locked.
daemon_ready() { daemon_alive && grep -q " $SOCK\$" /proc/net/unix; }

kill_daemon() {
  kill -KILL "$DAEMON_PID" 2>/dev/null || true
  wait "$DAEMON_PID" 2>/dev/null || true
  DAEMON_PID=""
}

# SIGTERM, then wait up to 60 s; sets SIGTERM_RC to the exit status.
stop_daemon() {
  local i
  kill -TERM "$DAEMON_PID"
  for i in $(seq 1 600); do daemon_alive || break; sleep 0.1; done
  if daemon_alive; then
    say "daemon still running 60 s after SIGTERM: killing it"
    kill_daemon; SIGTERM_RC=timeout; return
  fi
  SIGTERM_RC=0; wait "$DAEMON_PID" || SIGTERM_RC=$?
  DAEMON_PID=""
}

log_tail() { say "last lines of $DIR/daemon.log:"; tail -n 30 "$DIR/daemon.log" >&2 || true; }

# ------------------------------------------------------------------------------ counting

# Mail files per customer Maildir: lines "customer<i> <count>" (only customers who got mail).
acks_per_customer() {
  [ -d "$MAILROOT/example.com" ] || return 0
  find "$MAILROOT/example.com" -type f \( -path '*/Maildir/new/*' -o -path '*/Maildir/cur/*' \) |
    awk -F/ '{ for (i = 1; i <= NF; i++) if ($i == "Maildir") { n[$(i - 1)]++; break } }
             END { for (c in n) print c, n[c] }'
}
acked_customers() { acks_per_customer | wc -l; }

# Mail delivered to the CSEs (notifications).
cse_mails() {
  find "$MAILROOT/example.test" -type f \( -path '*/cse*/Maildir/new/*' -o -path '*/cse*/Maildir/cur/*' \) 2>/dev/null | wc -l
}

# `srgate sr list --json` (through the daemon's socket while it runs) into $DIR/srs.json.
fetch_srs() { "$BIN" --config "$CFG" sr list --json > "$DIR/srs.json" 2>>"$DIR/cli.log"; }
sr_count() { jq length "$DIR/srs.json"; }
sr_assigned() { jq '[.[] | select(.assignee != null)] | length' "$DIR/srs.json"; }

# Postfix's queue is empty (everything srgate handed over has reached a Maildir).
postfix_idle() {
  local spool=$DIR/stack/postfix/spool
  [ -z "$(find "$spool/incoming" "$spool/active" "$spool/deferred" "$spool/maildrop" -type f 2>/dev/null | head -n 1)" ]
}

# ------------------------------------------------------------------------------ the test

# KILLS times: let it work for 0.2-1.5 s, SIGKILL it, start it again.
kill_loop() {
  local k ms
  for k in $(seq 1 "$KILLS"); do
    ms=$((200 + RANDOM % 1301))
    sleep "$((ms / 1000)).$(printf '%03d' $((ms % 1000)))"
    if ! daemon_alive; then log_tail; die "the daemon exited on its own before kill $k"; fi
    kill_daemon
    say "kill $k/$KILLS after ${ms} ms: $(acked_customers)/$MAILS customers acknowledged"
    start_daemon
  done
}

# Until every customer is acknowledged and the store holds MAILS SRs (or the timeout); then a
# short grace for the CSE notifications of the assigned SRs. Sets DONE=yes|no.
wait_done() {
  local deadline=$((SECONDS + TIMEOUT)) grace acked srs=0
  DONE=no
  while [ $SECONDS -lt $deadline ]; do
    if ! daemon_alive; then log_tail; die "the daemon exited on its own after the last restart"; fi
    acked=$(acked_customers)
    if [ "$acked" -ge "$MAILS" ] && daemon_ready && fetch_srs; then
      srs=$(sr_count)
      [ "$srs" -ge "$MAILS" ] && { DONE=yes; break; }
    fi
    sleep 1
  done
  [ $DONE = yes ] || { say "timeout after ${TIMEOUT} s: $acked/$MAILS acknowledged, $srs SRs"; return; }
  ELAPSED=$(awk -v s="$START" -v e="$(date +%s.%N)" 'BEGIN { printf "%.1f", e - s }')
  grace=$((SECONDS + 60))
  while [ "$(cse_mails)" -lt "$(sr_assigned)" ] && [ $SECONDS -lt $grace ]; do sleep 1; done
}

cleanup() {
  local rc=$?
  [ -n "$DAEMON_PID" ] && kill -KILL "$DAEMON_PID" 2>/dev/null
  if [ -n "${DIR:-}" ]; then
    scripts/mailstack.sh stop "$DIR/stack" >/dev/null 2>&1 || true
    if [ "${CRASH_KEEP:-0}" = 1 ]; then say "kept $DIR"; else rm -rf "$DIR"; fi
  fi
  exit $rc
}

main() {
  [ "$(id -u)" = 0 ] || die "run as root (Postfix's master refuses to run otherwise)"
  prepare
  DIR=$(mktemp -d /tmp/srgate-crash-XXXXXX)
  chmod 755 "$DIR"   # Postfix and Dovecot run as their own users and must reach the stack folder
  trap cleanup EXIT
  trap 'exit 130' INT TERM
  start_stack
  write_config
  seed_mails
  say "$MAILS mails in the support mailbox; daemon log: $DIR/daemon.log"

  START=$(date +%s.%N)
  start_daemon
  kill_loop
  wait_done
  [ -n "${ELAPSED:-}" ] || ELAPSED=$(awk -v s="$START" -v e="$(date +%s.%N)" 'BEGIN { printf "%.1f", e - s }')
  stop_daemon
  # Let Postfix hand over what it still holds, then count on the final state.
  local i; for i in $(seq 1 120); do postfix_idle && break; sleep 1; done
  fetch_srs || die "srgate sr list failed (see $DIR/cli.log)"
  report
}

report() {
  local srs customers one multi acked total dup cse assigned within_conn within_kills failures=()
  srs=$(sr_count)
  customers=$(jq '[.[].customer] | unique | length' "$DIR/srs.json")
  one=$(jq '[.[].customer] | group_by(.) | map(select(length == 1)) | length' "$DIR/srs.json")
  multi=$(jq '[.[].customer] | group_by(.) | map(select(length > 1)) | length' "$DIR/srs.json")
  assigned=$(sr_assigned)
  acked=$(acked_customers)
  total=$(acks_per_customer | awk '{ s += $2 } END { print s + 0 }')
  dup=$((total - acked))
  cse=$(cse_mails)
  within_conn=no; [ $dup -le $((KILLS * CONNECTIONS)) ] && within_conn=yes
  within_kills=no; [ $dup -le "$KILLS" ] && within_kills=yes

  echo "mails: $MAILS"
  echo "kills: $KILLS"
  echo "SRs in the store: $srs"
  echo "customers with an SR: $customers"
  echo "mails with exactly one SR: $one"
  echo "customers with more than one SR: $multi"
  echo "acknowledgements delivered (customers with >= 1): $acked"
  echo "duplicate acknowledgements: $dup"
  echo "duplicates <= kills x SMTP connections ($((KILLS * CONNECTIONS))): $within_conn"
  echo "duplicates <= kills ($KILLS): $within_kills"
  echo "SRs assigned to a CSE: $assigned"
  echo "CSE notifications delivered: $cse"
  echo "duplicate CSE notifications: $((cse > assigned ? cse - assigned : 0))"
  echo "SIGTERM exit status: $SIGTERM_RC"
  echo "finished in time: $DONE"
  echo "elapsed seconds: $ELAPSED"

  [ "$srs" = "$MAILS" ] || failures+=("$srs SRs for $MAILS mails")
  [ "$customers" = "$MAILS" ] || failures+=("$((MAILS - customers)) customers without an SR")
  [ "$multi" = 0 ] || failures+=("$multi customers with more than one SR")
  [ "$acked" = "$MAILS" ] || failures+=("$((MAILS - acked)) customers without an acknowledgement")
  [ "$SIGTERM_RC" = 0 ] || failures+=("SIGTERM exit status $SIGTERM_RC")
  if [ ${#failures[@]} -gt 0 ]; then
    echo "result: FAIL (${failures[*]})"
    log_tail
    exit 1
  fi
  echo "result: PASS"
}

main
