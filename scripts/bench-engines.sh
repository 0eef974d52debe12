#!/usr/bin/env bash
# scripts/bench-engines.sh [N] -- sled and PostgreSQL side by side, in one run, on this machine.
#
# One mail stack and one PostgreSQL (scripts/pgstack.sh, fsync on), both on loopback in a
# temporary folder. For each engine, N new customer mails (default 2000) are written straight
# into a fresh support mailbox's Maildir, then one `srgate run --once` (release build) is timed:
#   ingestion  SMTP unreachable: read over IMAP, parse, decide, commit, flag (the outbox fills);
#   end to end the same plus delivering the 2N acknowledgements and notifications to Postfix.
# Then, on PostgreSQL, two mailboxes of N mails each: read by one gateway, and by two gateways
# at once (two `run --once` processes; each reads the mailbox whose lease it takes).
# Then the scale figures on PostgreSQL (SCALE SRs, default 1,000,000) and the latency over the
# IDLE floor for both engines (LATENCY mails, default 200; LATENCY=0 skips it). REPEAT=N runs the
# engine and gateway comparisons N times (engines alternating); MODES="ingestion" skips end to end;
# SCALE=0 skips the scale figures; BE_WRAP="strace -f -c -o FILE" runs each gateway under a wrapper;
# BE_PGLOG=FILE keeps the duration of every statement PostgreSQL ran (BE_PGEXPLAIN=MS: and the plan
# of each one slower than MS ms).
# Prints one line per run: mails, seconds, mails/s.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$(pwd)
N=${1:-2000}
scripts/install-deps.sh >/dev/null
cargo build --release --quiet
BIN=$ROOT/target/release/srgate
DIR=$(mktemp -d /tmp/srgate-be-XXXXXX)
chmod 755 "$DIR"
trap '[ -n "${BE_PGLOG:-}" ] && cp "$DIR/pg/log" "$BE_PGLOG"; scripts/mailstack.sh stop "$DIR/stack" >/dev/null 2>&1; scripts/pgstack.sh stop "$DIR/pg" >/dev/null 2>&1; rm -rf "$DIR"' EXIT
MAILSTACK_IMAP_PORT=${BE_IMAP_PORT:-35143} MAILSTACK_SMTP_PORT=${BE_SMTP_PORT:-36525} \
  MAILSTACK_IMAPS_PORT=${BE_IMAPS_PORT:-35993} MAILSTACK_SMTPS_PORT=${BE_SMTPS_PORT:-36465} \
  scripts/mailstack.sh start "$DIR/stack" >/dev/null
. "$DIR/stack/mailstack.env"
PGPORT=$(scripts/pgstack.sh start "$DIR/pg")
PGPASS=$(cat "$DIR/pg/password")
dead_port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')

# backlog USER: N new customer mails in USER@example.test's INBOX.
backlog() {
  local md=$DIR/stack/mail/example.test/$1/Maildir
  mkdir -p "$md/new" "$md/cur" "$md/tmp"
  for i in $(seq 1 "$N"); do
    printf 'From: Customer %d <customer%d.%s@example.com>\r\nTo: %s@example.test\r\nSubject: Problem number %d\r\nMessage-ID: <be-%s-%d@example.com>\r\nDate: Tue, 3 Mar 2026 10:00:00 +0100\r\n\r\nSomething is broken (%d). %s\r\n' \
      "$i" "$i" "$1" "$1" "$i" "$1" "$i" "$i" "$(head -c 600 /dev/zero | tr '\0' 'x')" > "$md/new/$i.be:2,"
  done
  [ "$(id -u)" = 0 ] && chown -R mail:mail "$DIR/stack/mail"
}

# config NAME SMTP_PORT STORE MAILBOX...: a configuration in DIR/NAME.
config() {
  local name=$1 smtp=$2 store=$3; shift 3
  mkdir -p "$DIR/$name"
  {
    printf 'data_dir = "data"\nrules_dir = "%s/rules"\ntemplates_dir = "%s/templates"\nsupport_address = "support@example.test"\ndigest = false\n' "$ROOT" "$ROOT"
    [ -n "$store" ] && printf 'store = { engine = "postgres", url = "%s" }\n' "$store"
    printf '[smtp]\nhost = "127.0.0.1"\nport = %s\nconnections = 4\nretry_after = "1h"\n' "$smtp"
    for mb in "$@"; do
      printf '[[mailbox]]\nname = "%s"\nhost = "127.0.0.1"\nport = %s\nusername = "%s@example.test"\npassword = "secret"\n' "$mb" "$MAILSTACK_IMAP_PORT" "$mb"
    done
    printf '[[cse]]\nname = "Sam"\nemail = "cse1@example.test"\n[[cse]]\nname = "Alex"\nemail = "cse2@example.test"\n'
  } > "$DIR/$name/srgate.toml"
}

database() {
  runuser -u postgres -- psql -h "$DIR/pg" -p "$PGPORT" -U postgres -d postgres -q -c "CREATE DATABASE $1 OWNER srgate" >/dev/null
  # BE_PGLOG=FILE: every statement's duration in the server's log, copied to FILE at the end.
  [ -n "${BE_PGLOG:-}" ] && runuser -u postgres -- psql -h "$DIR/pg" -p "$PGPORT" -U postgres -d postgres -q \
    -c "ALTER DATABASE $1 SET log_min_duration_statement = 0" >/dev/null
  # BE_PGEXPLAIN=MS: the plan of every statement slower than MS milliseconds in that log too.
  [ -n "${BE_PGEXPLAIN:-}" ] && runuser -u postgres -- psql -h "$DIR/pg" -p "$PGPORT" -U postgres -d postgres -q \
    -c "ALTER DATABASE $1 SET session_preload_libraries = 'auto_explain'" \
    -c "ALTER DATABASE $1 SET auto_explain.log_min_duration = '${BE_PGEXPLAIN}ms'" >/dev/null
  echo "postgres://srgate:$PGPASS@127.0.0.1:$PGPORT/$1?application_name=$1"
}

# busy: the machine's busy and idle CPU time so far (jiffies, from /proc/stat).
busy() { awk '/^cpu / { print $2 + $3 + $4 + $7 + $8, $5 + $6 }' /proc/stat; }

# timed LABEL MAILS COMMAND...: runs it and prints mails/s and how busy the cores were
# meanwhile (every process on the machine: srgate, PostgreSQL, Dovecot, Postfix).
timed() {
  local label=$1 mails=$2; shift 2
  local start end b0 b1
  b0=$(busy)
  start=$(date +%s.%N)
  "$@"
  end=$(date +%s.%N)
  b1=$(busy)
  awk -v l="$label" -v n="$mails" -v s="$start" -v e="$end" -v b0="$b0" -v b1="$b1" 'BEGIN {
    split(b0, x, " "); split(b1, y, " "); busy = y[1] - x[1]; idle = y[2] - x[2]
    printf "%-44s %6d mails %7.2f s %7.0f mails/s  cores busy %3.0f%%\n", l, n, e - s, n / (e - s), 100 * busy / (busy + idle) }'
}

# srs_in DATABASE EXPECTED: the SRs the run left in the database (one per mail: all were read).
srs_in() {
  local n
  n=$(runuser -u postgres -- psql -h "$DIR/pg" -p "$PGPORT" -U postgres -d "$1" -q -At -c "SELECT count(*) FROM srs")
  echo "  (SRs in the database: $n of $2)"
}

once() { SRGATE_LOG=${BE_LOG:-error} ${BE_WRAP:-} "$BIN" --config "$DIR/$1/srgate.toml" run --once >/dev/null 2>&1 || true; }

run=0
# REPEAT=3 runs each comparison three times, the engines alternating (this machine is noisy:
# read the medians); MODES="ingestion" leaves end to end out.
REPEAT=${REPEAT:-1}
for rep in $(seq 1 "$REPEAT"); do
for mode in ${MODES:-ingestion end-to-end}; do
  smtp=$MAILSTACK_SMTP_PORT
  [ $mode = ingestion ] && smtp=$dead_port
  for engine in sled postgres; do
    run=$((run + 1))
    user=support$run
    backlog "$user"
    store=""
    if [ $engine = postgres ]; then
      store=$(database "be$run")
      config "run$run" "$smtp" "$store" "$user"
      "$BIN" --config "$DIR/run$run/srgate.toml" migrate >/dev/null
    else
      config "run$run" "$smtp" "" "$user"
    fi
    timed "$engine, $mode (run --once)" "$N" once "run$run"
    [ $engine = postgres ] && srs_in "be$run" "$N"
    [ $mode = end-to-end ] && while [ "$(find "$DIR/stack/postfix-spool" -type f 2>/dev/null | wc -l)" -gt 0 ]; do sleep 0.2; done
  done
done
done

# Two mailboxes on PostgreSQL, ingestion: one gateway, then two gateways at once.
for gateways in $(for rep in $(seq 1 "$REPEAT"); do echo 1 2; done); do
  run=$((run + 1))
  a=sales$run b=billing$run
  backlog "$a"; backlog "$b"
  store=$(database "be$run")
  config "run$run" "$dead_port" "$store" "$a" "$b"
  "$BIN" --config "$DIR/run$run/srgate.toml" migrate >/dev/null
  if [ $gateways = 1 ]; then
    timed "postgres, ingestion, 2 mailboxes, 1 gateway" $((2 * N)) once "run$run"
  else
    mkdir -p "$DIR/run$run-b" && sed 's/^data_dir = "data"/data_dir = "data-b"/' "$DIR/run$run/srgate.toml" > "$DIR/run$run-b/srgate.toml"
    both() { once "run$run" & once "run$run-b" & wait; }
    timed "postgres, ingestion, 2 mailboxes, 2 gateways" $((2 * N)) both
  fi
  srs_in "be$run" $((2 * N))
done

# Scale on PostgreSQL: SCALE more SRs (default 1,000,000), copies of one real SR made by SQL in the
# database of the postgres ingestion run (run 2), then the daemon on it: start-up to "srgate
# running", `sr show` of the last SR (the whole command: process, config, database, JSON), VmRSS.
SCALE=${SCALE:-1000000}
if [ "$SCALE" != 0 ]; then
psqlbe() { runuser -u postgres -- psql -h "$DIR/pg" -p "$PGPORT" -U postgres -d be2 -q -At -v ON_ERROR_STOP=1 "$@"; }
first=$((1000000 + 1)); last=$((1000000 + SCALE))
start=$(date +%s.%N)
psqlbe >/dev/null <<SQL
INSERT INTO srs (id, state, priority, assignee, customer, language, product, account, tier, subject, created_at, updated_at,
                 first_response_due, first_response_at, closed_at, close_reason, contact_attempts, reopen_count, facts,
                 message_count, event_count, wake_at)
SELECT g, t.state, t.priority, t.assignee, 'scale' || g || '@example.com', t.language, t.product, t.account, t.tier, t.subject,
       t.created_at, t.updated_at, t.first_response_due, t.first_response_at, t.closed_at, t.close_reason, t.contact_attempts,
       t.reopen_count, jsonb_set(jsonb_set(t.facts, '{id}', to_jsonb(g)), '{customer}', to_jsonb('scale' || g || '@example.com')),
       t.message_count, t.event_count, NULL
FROM (SELECT * FROM srs ORDER BY id LIMIT 1) t, generate_series($first, $last) g;
INSERT INTO messages (sr, n, direction, kind, from_address, subject, message_id, at, text, record)
SELECT g, m.n, m.direction, m.kind, m.from_address, m.subject, 'scale-' || g || '-' || m.n, m.at, m.text, m.record
FROM (SELECT * FROM messages WHERE sr = (SELECT min(id) FROM srs)) m, generate_series($first, $last) g;
INSERT INTO events (sr, n, at, kind, by, record)
SELECT g, e.n, e.at, e.kind, e.by, e.record FROM (SELECT * FROM events WHERE sr = (SELECT min(id) FROM srs)) e, generate_series($first, $last) g;
SELECT setval('sr_number', $last, true);
ANALYZE;
SQL
end=$(date +%s.%N)
awk -v n="$SCALE" -v s="$start" -v e="$end" 'BEGIN { printf "postgres, %d SRs made by SQL in %.1f s\n", n, e - s }'
printf 'postgres, database size: %s\n' "$(psqlbe -c "SELECT pg_size_pretty(pg_database_size('be2'))")"
cfg=$DIR/run2/srgate.toml
for i in 1 2 3; do
  start=$(date +%s.%N)
  "$BIN" --config "$cfg" sr show "$last" --json >/dev/null
  end=$(date +%s.%N)
  awk -v s="$start" -v e="$end" 'BEGIN { printf "postgres, %s SRs: sr show N --json (whole command)   %.1f ms\n", "'"$SCALE"'", (e - s) * 1000 }'
done
log=$DIR/scale.log
start=$(date +%s.%N)
SRGATE_LOG=info "$BIN" --config "$cfg" run 2>"$log" &
pid=$!
until grep -q "srgate running" "$log"; do sleep 0.01; done
end=$(date +%s.%N)
sleep 3
rss=$(awk '/VmRSS/ {print $2}' /proc/$pid/status)
kill -TERM $pid; wait $pid || true
awk -v s="$start" -v e="$end" -v r="$rss" 'BEGIN { printf "postgres, start-up to \"srgate running\" %.0f ms; resident memory 3 s later %.0f MB\n", (e - s) * 1000, r / 1024 }'
fi

# Latency over the IDLE floor, both engines, with the stack bench's harness (its own mail stack;
# LATENCY mails one by one, default 200): a plain IMAP client in IDLE beside the daemon.
LATENCY=${LATENCY:-200}
[ "$LATENCY" = 0 ] && exit 0
echo "latency, sled:"
BENCH_ONLY=latency BENCH_LATENCY=$LATENCY cargo bench --quiet --bench stack 2>&1 | grep -iE "latency|floor|over" || true
url=$(database belat)
config lat "$dead_port" "$url" latency
"$BIN" --config "$DIR/lat/srgate.toml" migrate >/dev/null
echo "latency, postgres:"
BENCH_STORE_LINE="store = { engine = \"postgres\", url = \"$url\" }" BENCH_ONLY=latency BENCH_LATENCY=$LATENCY \
  cargo bench --quiet --bench stack 2>&1 | grep -iE "latency|floor|over" || true
