#!/usr/bin/env bash
# scripts/throughput.sh [N] -- messages per second for N new customer mails (default 1000).
#
# Puts N mails into a fresh support mailbox on a local stack (written straight into the
# Maildir, so the backlog is there before srgate starts), then times one `srgate run --once`
# (release build): read every mail over IMAP, open N SRs, commit, flag, and deliver the 2N
# acknowledgements and CSE notifications over SMTP until Postfix has accepted them all.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$(pwd)
N=${1:-1000}
scripts/install-deps.sh
cargo build --release --quiet
BIN=$ROOT/target/release/srgate
DIR=$(mktemp -d /tmp/srgate-tp-XXXXXX)
chmod 755 "$DIR"   # Postfix and Dovecot run as their own users and must reach the stack folder
trap 'scripts/mailstack.sh stop "$DIR/stack" >/dev/null 2>&1; rm -rf "$DIR"' EXIT
MAILSTACK_IMAP_PORT=${TP_IMAP_PORT:-33143} MAILSTACK_SMTP_PORT=${TP_SMTP_PORT:-34525} \
  MAILSTACK_IMAPS_PORT=${TP_IMAPS_PORT:-33993} MAILSTACK_SMTPS_PORT=${TP_SMTPS_PORT:-34465} \
  scripts/mailstack.sh start "$DIR/stack" >/dev/null
. "$DIR/stack/mailstack.env"

MD=$DIR/stack/mail/example.test/support/Maildir
mkdir -p "$MD/new" "$MD/cur" "$MD/tmp"
for i in $(seq 1 "$N"); do
  printf 'From: Customer %d <customer%d@example.com>\r\nTo: support@example.test\r\nSubject: Problem number %d\r\nMessage-ID: <tp-%d@example.com>\r\nDate: Tue, 3 Mar 2026 10:00:00 +0100\r\n\r\nSomething is broken (%d).\r\n' \
    "$i" "$i" "$i" "$i" "$i" > "$MD/new/$i.tp:2,"
done
[ "$(id -u)" = 0 ] && chown -R mail:mail "$DIR/stack/mail"

cat > "$DIR/srgate.toml" <<TOML
data_dir = "data"
rules_dir = "$ROOT/rules"
templates_dir = "$ROOT/templates"
support_address = "support@example.test"
[smtp]
host = "127.0.0.1"
port = $MAILSTACK_SMTP_PORT
connections = 4
[[mailbox]]
host = "127.0.0.1"
port = $MAILSTACK_IMAP_PORT
username = "support@example.test"
password = "secret"
[[cse]]
name = "Sam"
email = "cse1@example.test"
[[cse]]
name = "Alex"
email = "cse2@example.test"
TOML

start=$(date +%s.%N)
SRGATE_LOG=${TP_LOG:-warn} "$BIN" --config "$DIR/srgate.toml" run --once
end=$(date +%s.%N)
srs=$("$BIN" --config "$DIR/srgate.toml" sr list | wc -l)
awk -v n="$N" -v s="$start" -v e="$end" -v srs="$srs" 'BEGIN {
  t = e - s
  printf "throughput: %d mails -> %d SRs, %d mails sent, in %.2f s: %.0f mails/s (IMAP read + commit + flag + SMTP delivery)\n", n, srs, 2 * n, t, n / t
}'
