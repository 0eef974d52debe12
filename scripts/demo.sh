#!/usr/bin/env bash
# scripts/demo.sh -- srgate on a local mail stack, end to end, in one command.
#
# Installs what is missing (Dovecot, Postfix, mutt, swaks), starts Dovecot and Postfix on loopback
# in a temporary folder, starts the srgate daemon, sends a sample customer mail, and prints the SR
# and the acknowledgement the customer received. Then stops everything (DEMO_KEEP=1 keeps it all
# running and prints how to stop it).
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$(pwd)

scripts/install-deps.sh
command -v cargo >/dev/null || { echo "demo.sh: cargo not found (install Rust: https://rustup.rs)" >&2; exit 1; }
cargo build --release --quiet
BIN=$ROOT/target/release/srgate

DIR=${DEMO_DIR:-/tmp/srgate-demo}
IMAP_PORT=${DEMO_IMAP_PORT:-31143}
SMTP_PORT=${DEMO_SMTP_PORT:-32525}
mkdir -p "$DIR"
MAILSTACK_IMAP_PORT=$IMAP_PORT MAILSTACK_SMTP_PORT=$SMTP_PORT \
  MAILSTACK_IMAPS_PORT=${DEMO_IMAPS_PORT:-31993} MAILSTACK_SMTPS_PORT=${DEMO_SMTPS_PORT:-32465} \
  scripts/mailstack.sh start "$DIR/stack"

cat > "$DIR/srgate.toml" <<TOML
data_dir = "data"
rules_dir = "$ROOT/rules"
templates_dir = "$ROOT/templates"
support_address = "support@example.test"
support_name = "Example Support"

[smtp]
host = "127.0.0.1"
port = $SMTP_PORT

[[mailbox]]
name = "support"
host = "127.0.0.1"
port = $IMAP_PORT
username = "support@example.test"
password = "secret"

[[cse]]
name = "Sam Engineer"
email = "cse1@example.test"
TOML

"$BIN" --config "$DIR/srgate.toml" check
"$BIN" --config "$DIR/srgate.toml" run 2> "$DIR/srgate.log" &
DAEMON=$!
cleanup() {
  if [ "${DEMO_KEEP:-0}" = 1 ]; then
    echo
    echo "demo.sh: still running: srgate (pid $DAEMON, log $DIR/srgate.log) and the mail stack in $DIR/stack"
    echo "demo.sh: stop with: kill $DAEMON; scripts/mailstack.sh stop $DIR/stack"
  else
    kill "$DAEMON" 2>/dev/null && wait "$DAEMON" 2>/dev/null || true
    scripts/mailstack.sh stop "$DIR/stack" >/dev/null
  fi
}
trap cleanup EXIT

echo "demo.sh: a customer writes to support@example.test"
swaks --silent 2 --server 127.0.0.1 --port "$SMTP_PORT" \
  --from customer@example.com --to support@example.test \
  --header 'From: Jane Customer <customer@example.com>' \
  --header 'Subject: Our printer is on fire' \
  --body $'Hello,\n\nthe office printer started smoking this morning. What should we do?\n\nJane'

ACKS=$DIR/stack/mail/example.com/customer/Maildir/new
for _ in $(seq 1 100); do
  if ls "$ACKS"/* >/dev/null 2>&1; then break; fi
  sleep 0.1
done
echo
echo "=== srgate sr list"
"$BIN" --config "$DIR/srgate.toml" sr list
echo
echo "=== srgate sr show 100001"
"$BIN" --config "$DIR/srgate.toml" sr show 100001
echo
echo "=== the acknowledgement in customer@example.com's mailbox"
cat "$(ls "$ACKS"/* | head -n 1)"
