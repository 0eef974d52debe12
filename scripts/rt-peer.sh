#!/usr/bin/env bash
# scripts/rt-peer.sh -- Request Tracker 5 beside srgate: the peer's rate on the same mails.
#
#   scripts/rt-peer.sh install            # Debian's request-tracker5 with SQLite (as root or via sudo)
#   scripts/rt-peer.sh feed MAILDIR [W]   # a fresh RT, MAILDIR/*.eml fed in name order, W at a time
#
# `feed` builds a fresh RT under $RT_PEER_STATE (default /tmp/srgate-rt-peer: a folder it made
# itself, marked so; anything else it refuses to wipe): its own site config (nothing under
# /etc/request-tracker5 is read or changed), a fresh SQLite database, the queue General answering
# as support@example.test, and the right of Everyone to create and answer tickets by mail (RT
# refuses unknown senders by default). It starts RT's own server (Starlet, 4 workers) on a free
# loopback port in its own process group, warms it up with 8 new tickets (so the mails' tags
# start at ticket 9), then pipes every mail through `rt-mailgate --action correspond`, one
# process per mail as an MTA would, W (default 2, RT's best on two cores) at a time. RT's own
# mail (its autoreplies) goes to a sendmail stub that appends to a file: RT renders and sends
# it, nothing relays it. Last it checks RT's database: one ticket per new mail, one Correspond
# per reply, and prints
#
#   rt-mailgate: N mails (K new, R replies) in S s: X mails/s (workers W)
#
# and stops the server (also on error or interrupt). benches/stack.rs (`BENCH_ONLY=peer`) writes
# the mails and runs srgate on the same ones.
set -euo pipefail

STATE=${RT_PEER_STATE:-/tmp/srgate-rt-peer}
MAILGATE=/usr/bin/rt-mailgate-5
SERVER=/usr/share/request-tracker5/libexec/rt-server
WARMUP=8
say() { printf '[rt-peer %s] %s\n' "$(date -u +%H:%M:%S)" "$*" >&2; }

install() {
  local pkgs=(request-tracker5 rt5-db-sqlite rt5-standalone dbconfig-sqlite3 w3m sqlite3 curl)
  local missing=()
  for p in "${pkgs[@]}"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
  done
  [ ${#missing[@]} = 0 ] && return 0
  local sudo=()
  [ "$(id -u)" = 0 ] || sudo=(sudo)
  say "installing ${missing[*]}"
  # No questions; RT's own database setup is not used (feed makes its own); with no mail
  # server on the machine apt would pick exim4 for RT: Postfix, which the mail stack uses, instead.
  "${sudo[@]}" debconf-set-selections <<'EOF'
request-tracker5 request-tracker5/dbconfig-install boolean false
request-tracker5 request-tracker5/install-cronjobs boolean false
request-tracker5 request-tracker5/handle-siteconfig-permissions boolean true
postfix postfix/main_mailer_type select No configuration
EOF
  apt-cache policy request-tracker5 | grep -q 'Candidate: [0-9]' || "${sudo[@]}" apt-get update -q
  # A machine's own mail server (anything that gives /usr/sbin/sendmail) stays: naming Postfix
  # beside it would make apt remove it.
  local mta=()
  [ -e /usr/sbin/sendmail ] || mta=(postfix)
  "${sudo[@]}" env DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends "${mta[@]}" "${missing[@]}"
}

fresh_state() {
  if [ -e "$STATE" ] && [ ! -e "$STATE/.srgate-rt-peer" ]; then
    echo "rt-peer.sh: $STATE exists and was not made by this script; refusing to wipe it" >&2
    exit 1
  fi
  rm -rf "$STATE"
  mkdir -p "$STATE"/{db,log,bin,var,mason,sessions,site.d}
  touch "$STATE/.srgate-rt-peer"
  cat >"$STATE/bin/sendmail" <<EOF
#!/bin/sh
# RT's \$SendmailPath: keeps what RT sends, relays nothing.
{ echo "From rt@localhost"; cat; echo; } >> "$STATE/var/sent.mbox"
EOF
  chmod +x "$STATE/bin/sendmail"
  cat >"$RT_SITE_CONFIG" <<EOF
Set(\$rtname, 'example.test');
Set(\$Organization, 'example.test');
Set(\$CorrespondAddress, 'support@example.test');
Set(\$CommentAddress, 'support-comment@example.test');
Set(\$RTAddressRegexp, qr/^support(?:-comment)?\\@example\\.test\$/i);
Set(\$WebDomain, '127.0.0.1');
Set(\$WebPort, $PORT);
Set(\$WebPath, '');
Set(\$WebBaseURL, 'http://127.0.0.1:$PORT');
Set(\$Timezone, 'UTC');
Set(\$DatabaseType, 'SQLite');
Set(\$DatabaseName, '$STATE/db/rtdb');
Set(\$MailCommand, 'sendmailpipe');
Set(\$SendmailPath, '$STATE/bin/sendmail');
Set(\$SendmailArguments, '-oi');
Set(\$LogToSyslog, undef);
Set(\$LogToSTDERR, 'warning');
Set(\$LogDir, '$STATE/log');
Set(\$LogToFile, 'warning');
Set(\$LogToFileNamed, 'rt.log');
\$RT::VarPath = '$STATE/var';
\$RT::MasonDataDir = '$STATE/mason';
\$RT::MasonSessionDir = '$STATE/sessions';
1;
EOF
  (cd /tmp && /usr/sbin/rt-setup-database-5 --action init --skip-create >"$STATE/log/setup.log" 2>&1) ||
    { tail -20 "$STATE/log/setup.log" >&2; exit 1; }
  # The queue answers as the support address; anyone may open and answer tickets by mail.
  (cd /tmp && perl -e '
    use lib "/usr/share/request-tracker5/lib"; use RT -init;
    my $q = RT::Queue->new(RT->SystemUser); $q->Load("General") or die "no queue General\n";
    $q->SetCorrespondAddress("support\@example.test"); $q->SetCommentAddress("support-comment\@example.test");
    my $all = RT::Group->new(RT->SystemUser); $all->LoadSystemInternalGroup("Everyone");
    for my $r (qw(CreateTicket ReplyToTicket SeeQueue)) {
      $all->PrincipalObj->GrantRight(Right => $r, Object => $q) unless $all->PrincipalObj->HasRight(Right => $r, Object => $q);
    }') >"$STATE/log/rights.log" 2>&1 || { cat "$STATE/log/rights.log" >&2; exit 1; }
}

SERVER_PID=""
stop_server() {
  [ -n "$SERVER_PID" ] || return 0
  kill -TERM -- "-$SERVER_PID" 2>/dev/null || true
  for _ in $(seq 1 50); do kill -0 "$SERVER_PID" 2>/dev/null || break; sleep 0.2; done
  kill -KILL -- "-$SERVER_PID" 2>/dev/null || true
  SERVER_PID=""
}

start_server() {
  (cd /tmp && exec setsid "$SERVER" --host 127.0.0.1 --port "$PORT" --max-workers 4 >"$STATE/log/server.out" 2>&1) &
  SERVER_PID=$!
  trap stop_server EXIT
  trap 'exit 130' INT TERM
  for _ in $(seq 1 240); do
    curl -s -o /dev/null --max-time 5 "$URL" && return 0
    kill -0 "$SERVER_PID" 2>/dev/null || { cat "$STATE/log/server.out" >&2; exit 1; }
    sleep 0.5
  done
  echo "rt-peer.sh: RT's server did not come up" >&2
  exit 1
}

sql() { sqlite3 "$STATE/db/rtdb" "$1"; }
tickets() { sql "select count(*) from Tickets"; }
corresponds() { sql "select count(*) from Transactions where ObjectType='RT::Ticket' and Type='Correspond'"; }

# One mail through rt-mailgate; a failure names the mail.
export MAILGATE
gate() { "$MAILGATE" --queue General --action correspond --url "$URL" <"$1" || { echo "rt-mailgate failed on $1" >&2; return 255; }; }
export -f gate

feed() {
  local dir=$1 workers=${2:-2}
  [ -d "$dir" ] || { echo "rt-peer.sh: no folder $dir" >&2; exit 1; }
  install
  PORT=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
  URL="http://127.0.0.1:$PORT/"
  export URL RT_SITE_CONFIG="$STATE/etc.pm" RT_SITE_CONFIG_DIR="$STATE/site.d"
  fresh_state
  start_server
  say "RT $(dpkg-query -W -f='${Version}' request-tracker5) on 127.0.0.1:$PORT; warming up with $WARMUP tickets"
  for i in $(seq 1 "$WARMUP"); do
    printf 'From: warm%s@example.com\nTo: support@example.test\nSubject: Warm-up %s\nMessage-ID: <warm-%s@example.com>\n\nWarming up.\n' "$i" "$i" "$i" >"$STATE/var/warm.eml"
    gate "$STATE/var/warm.eml" >/dev/null
  done
  [ "$(tickets)" = "$WARMUP" ] || { echo "rt-peer.sh: the warm-up made $(tickets) tickets, not $WARMUP" >&2; exit 1; }
  local total replies t0 t1
  total=$(find "$dir" -maxdepth 1 -name '*.eml' | wc -l)
  replies=$( (grep -l '^Subject: Re: \[example.test #' "$dir"/*.eml || true) | wc -l)
  say "feeding $total mails ($replies replies), $workers at a time"
  t0=$(date +%s.%N)
  find "$dir" -maxdepth 1 -name '*.eml' -print0 | sort -z | xargs -0 -n 1 -P "$workers" bash -c 'gate "$0" >/dev/null'
  t1=$(date +%s.%N)
  local made answered
  made=$(($(tickets) - WARMUP))
  answered=$(corresponds)
  if [ "$made" != $((total - replies)) ] || [ "$answered" != "$replies" ]; then
    echo "rt-peer.sh: RT made $made tickets and $answered answers of $((total - replies)) new mails and $replies replies" >&2
    exit 1
  fi
  python3 -c "import sys; n, r, w, s = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3], float(sys.argv[5]) - float(sys.argv[4]); print(f'rt-mailgate: {n} mails ({n - r} new, {r} replies) in {s:.1f} s: {n / s:.2f} mails/s (workers {w})')" \
    "$total" "$replies" "$workers" "$t0" "$t1"
  stop_server
}

case "${1:-}" in
  install) install ;;
  feed) shift; feed "$@" ;;
  *) sed -n '2,6p' "$0" | sed 's/^# \{0,1\}//' >&2; exit 2 ;;
esac
