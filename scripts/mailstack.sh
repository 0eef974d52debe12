#!/usr/bin/env bash
# scripts/mailstack.sh -- a real, self-contained loopback mail stack for srgate's tests.
#
#   Postfix (SMTP on 127.0.0.1:$MAILSTACK_SMTP_PORT, plain or STARTTLS;
#            SMTP over implicit TLS on 127.0.0.1:$MAILSTACK_SMTPS_PORT)
#       --LMTP over unix socket DIR/dovecot/run/lmtp-->
#   Dovecot (IMAP on 127.0.0.1:$MAILSTACK_IMAP_PORT, plain or STARTTLS;
#            IMAPS (implicit TLS) on 127.0.0.1:$MAILSTACK_IMAPS_PORT; maildirs under DIR/mail)
#
# TLS: at the first start a test CA and a server certificate it signs (SAN IP:127.0.0.1 and
# DNS:localhost, ECDSA P-256, 10 years) are generated with openssl in DIR/tls; later starts reuse
# them. Clients trust DIR/tls/ca.pem (MAILSTACK_CA_FILE in mailstack.env). The plain ports keep
# working without TLS (plaintext login allowed), for clients that do not speak it.
#   OpenDKIM (Postfix's milter): signs every mail From the stack's domains submitted to Postfix, as a real
#   site's outgoing server does, with selector `sel` and a key made at the first start (DIR/dkim/sel.private);
#   DIR/dkim/sel.txt holds its DNS TXT record ("v=DKIM1; k=rsa; p=...") for the test DNS server to serve.
#
# Usage:
#   scripts/mailstack.sh start DIR    start (idempotent: if DIR's stack is up, just print its info)
#   scripts/mailstack.sh stop DIR     stop the stack in DIR (idempotent; MAILSTACK_PURGE=1 also deletes DIR)
#
# Everything (configs, queue, maildirs DIR/mail/<domain>/<user>/Maildir, sockets, pid files,
# logs DIR/log/{dovecot,postfix}.log) lives under DIR. Outside DIR only the package binaries and
# /etc/postfix/postfix-files (Postfix's meta_directory) are read; nothing outside DIR is written.
#
# Environment (defaults):
#   MAILSTACK_IMAP_PORT=1143  MAILSTACK_SMTP_PORT=2525  MAILSTACK_HOST=127.0.0.1 (loopback only)
#   MAILSTACK_IMAPS_PORT=1993 MAILSTACK_SMTPS_PORT=4465  (implicit TLS)
#   MAILSTACK_DOMAINS="example.test example.com"   any local part in these domains is accepted,
#                                                  delivered, and may log in (IMAP + SMTP AUTH)
#   MAILSTACK_PASSWORD=secret                      the password for every such address
#   MAILSTACK_START_TIMEOUT=20                     seconds to wait for both banners
#   MAILSTACK_DEBUG=1                              timestamped `set -x` trace
#   MAILSTACK_OAUTH2_INTROSPECTION_URL             unset: password logins only (as always). Set, e.g.
#       http://dovecot:SECRET@127.0.0.1:PORT/token/introspection (an RFC 7662 endpoint on loopback,
#       the resource server's client id and secret in the URL: Dovecot sends them as HTTP Basic auth;
#       scripts/oauth-server.sh runs such a server): the same addresses may also log in with an OAuth2
#       access token, SASL XOAUTH2 or OAUTHBEARER, on IMAP and on Postfix's SMTP AUTH (Postfix asks
#       Dovecot). Dovecot's oauth2 passdb POSTs token=... there (introspection_mode = post) and accepts
#       the token only when the answer has "active": true and its "email" equals the login name
#       (case-insensitive). The password passdb then only serves PLAIN/LOGIN (a token is no password)
#       and the oauth2 passdb only XOAUTH2/OAUTHBEARER. Auth cache off: a revoked or expired token is
#       refused at the next login. The URL (with its secret) is written to DIR/dovecot/oauth2.conf.ext (mode 600).
#
# `start` writes DIR/mailstack.env (sourceable KEY=VALUE lines: MAILSTACK_DIR, _HOST, _IMAP_PORT,
# _SMTP_PORT, _IMAPS_PORT, _SMTPS_PORT, _CA_FILE, _DOVECOT_PID, _POSTFIX_PID, _MAILDIR_ROOT, _LOG_DIR).
#
# Requirements: root (Postfix's master(8) refuses to run unprivileged) and
#   apt-get install -y --no-install-recommends dovecot-imapd dovecot-lmtpd postfix opendkim openssl
#
# Exit codes: 2 usage/bad DIR or host, 3 binary missing, 4 port in use, 6 start-up timeout,
#             7 not root; stop: 1 if processes could not be killed.
#
# Gotchas this script encodes (each was hit for real):
#  * As root, Dovecot refuses uid 0 for login and mail processes: internals run as `dovecot`,
#    login as `dovenull`, mail as `mail` (uid 8), with first_valid_uid = last_valid_uid = 8.
#  * Postfix's fatal errors go to syslog unless stderr is a TTY, and this kind of machine has no
#    syslog: hence `maillog_file` (which must match `maillog_file_prefixes`) plus the postlog
#    service in master.cf. Debug a silent failure with: script -qc "postfix -c DIR/postfix check" /dev/null
#  * `postfix start` costs ~2.4 s of checks (and `master -w` ~1.5 s): we create the queue
#    directories by hand and run `master -c` directly, backgrounded (it stays in the foreground
#    and calls setsid() itself). No -w means no start-up status, so we poll both banners.
#  * Empty virtual_mailbox_maps + virtual_mailbox_domains = catch-all: every local part is
#    accepted and handed to Dovecot over LMTP; Dovecot's static userdb (allow_all_users) creates
#    the mailbox on first delivery. A second static passdb, restricted by username_filter to
#    the test domains, lets any such address log in with the password.
#  * Unix socket paths are limited to 108 bytes: DIR must be short (we refuse > 100 chars).
#  * Dovecot's children (anvil, log, stats, auth) can linger for seconds after the master's
#    SIGTERM: `stop` SIGKILLs whatever is left in the master's session after a short grace.
#  * Where PID 1 does not reap orphans, <defunct> zombies may remain; they are harmless and skipped.
#  * Daemons must not inherit our stdout/stderr: callers that capture output (e.g. Rust's
#    Command::output) would otherwise wait for EOF forever.
#  * Postfix's smtpd needs the tlsmgr service for TLS (without it: "no entropy for TLS key
#    generation: disabling TLS support"), and the server certificate must not be a CA
#    (rustls refuses a CA certificate as a server's): hence the separate test CA.
set -euo pipefail
if [ "${MAILSTACK_DEBUG:-0}" = 1 ]; then
  PS4='+ $(date +%T.%N) ${LINENO}: '   # bash ignores an inherited PS4 when run as root
  set -x
fi

SELF=$(basename "$0")
CMD=${1:-}
DIR=${2:-}
usage() { echo "usage: $SELF start|stop DIR" >&2; exit 2; }
[ -n "$CMD" ] && [ -n "$DIR" ] || usage

HOST=${MAILSTACK_HOST:-127.0.0.1}
IMAP_PORT=${MAILSTACK_IMAP_PORT:-1143}
SMTP_PORT=${MAILSTACK_SMTP_PORT:-2525}
IMAPS_PORT=${MAILSTACK_IMAPS_PORT:-1993}
SMTPS_PORT=${MAILSTACK_SMTPS_PORT:-4465}
DOMAINS=${MAILSTACK_DOMAINS:-example.test example.com}
PASSWORD=${MAILSTACK_PASSWORD:-secret}
OAUTH2_URL=${MAILSTACK_OAUTH2_INTROSPECTION_URL:-}
START_TIMEOUT=${MAILSTACK_START_TIMEOUT:-20}

DOVECOT_BIN=/usr/sbin/dovecot
MASTER_BIN=/usr/lib/postfix/sbin/master
OPENDKIM_BIN=/usr/sbin/opendkim

die() { local code=$1; shift; echo "mailstack: $*" >&2; exit "$code"; }
read_pid() { [ -s "$1" ] && tr -dc '0-9' < "$1" || true; }
pid_alive() { [ -n "${1:-}" ] && kill -0 "$1" 2>/dev/null; }

# Layout (set once DIR is absolute).
layout() {
  DV=$DIR/dovecot; PF=$DIR/postfix; SPOOL=$PF/spool; LOG=$DIR/log; MAIL=$DIR/mail
  LMTP_SOCK=$DV/run/lmtp; AUTH_SOCK=$DV/run/auth-client
  DV_PIDFILE=$DV/run/master.pid; PF_PIDFILE=$SPOOL/pid/master.pid
  TLS=$DIR/tls; CA_FILE=$TLS/ca.pem
  DK=$DIR/dkim; DK_SOCK=$DIR/dkim/opendkim.sock; DK_PIDFILE=$DIR/dkim/opendkim.pid
}

# ======================================================================== stop
# pids (not zombies) whose session id is $1: both masters call setsid(), so each master's pid
# is the session id of all its children.
session_pids() {
  ps -e -o pid=,stat=,sid= | awk -v sid="$1" '$3 == sid && $2 !~ /^Z/ {print $1}'
}
is_exe() { # pid expected-executable: guards against a stale pid file naming someone else
  local exe; exe=$(readlink "/proc/$1/exe" 2>/dev/null) || return 1
  [ "${exe% (deleted)}" = "$2" ]
}
stop_one() { # name pidfile exe -> 0 if nothing of it is left
  local name=$1 pidfile=$2 exe=$3 pid rest
  pid=$(read_pid "$pidfile")
  [ -n "$pid" ] || return 0
  if ! is_exe "$pid" "$exe"; then
    echo "mailstack: $name pid $pid not running (stale pid file)"; rm -f "$pidfile"; return 0
  fi
  kill -TERM "$pid" 2>/dev/null || true
  for _ in $(seq 1 15); do                      # 1.5 s grace for the master and its children
    [ -z "$(session_pids "$pid")" ] && break
    sleep 0.1
  done
  rest=$(session_pids "$pid")
  if [ -n "$rest" ]; then
    # shellcheck disable=SC2086 # word splitting intended: a list of pids
    kill -KILL $rest 2>/dev/null || true
    sleep 0.2
    if [ -n "$(session_pids "$pid")" ]; then
      echo "mailstack: $name: pids $(session_pids "$pid" | tr '\n' ' ')survived SIGKILL" >&2; return 1
    fi
  fi
  rm -f "$pidfile"
  echo "mailstack: $name (pid $pid) stopped"
}
stop_pid() { # name pidfile exe -> 0 if it is gone (OpenDKIM: one process, not a session leader)
  local name=$1 pidfile=$2 exe=$3 pid
  pid=$(read_pid "$pidfile")
  [ -n "$pid" ] || return 0
  if ! is_exe "$pid" "$exe"; then rm -f "$pidfile"; return 0; fi
  kill -TERM "$pid" 2>/dev/null || true
  for _ in $(seq 1 15); do is_exe "$pid" "$exe" || break; sleep 0.1; done
  if is_exe "$pid" "$exe"; then kill -KILL "$pid" 2>/dev/null || true; sleep 0.2; fi
  if is_exe "$pid" "$exe"; then echo "mailstack: $name pid $pid survived SIGKILL" >&2; return 1; fi
  rm -f "$pidfile"
  echo "mailstack: $name (pid $pid) stopped"
}
do_stop() {
  local left=0
  stop_one postfix "$PF_PIDFILE" "$MASTER_BIN" || left=1
  stop_one dovecot "$DV_PIDFILE" "$DOVECOT_BIN" || left=1
  stop_pid opendkim "$DK_PIDFILE" "$OPENDKIM_BIN" || left=1
  return $left
}

if [ "$CMD" = stop ]; then
  [ -d "$DIR" ] || { echo "mailstack: $DIR does not exist, nothing to stop"; exit 0; }
  DIR=$(cd "$DIR" && pwd -P); layout
  rc=0; do_stop || rc=1
  if [ "${MAILSTACK_PURGE:-0}" = 1 ] && [ $rc = 0 ]; then rm -rf "$DIR"; echo "mailstack: removed $DIR"; fi
  exit $rc
fi
[ "$CMD" = start ] || usage

# ======================================================================= start
case "$HOST" in 127.*) ;; localhost) HOST=127.0.0.1 ;; *) die 2 "refusing non-loopback host $HOST" ;; esac
if [ -n "$OAUTH2_URL" ]; then
  # http://[id:secret@]127.x.y.z:port/path -- loopback only, and nothing Dovecot's config would misread
  [[ $OAUTH2_URL =~ ^http://([^@/[:space:]]+@)?127\.[0-9]+\.[0-9]+\.[0-9]+:[0-9]+/[^[:space:]]*$ ]] ||
    die 2 "MAILSTACK_OAUTH2_INTROSPECTION_URL must be http://[id:secret@]127.x.y.z:PORT/path (loopback only)"
fi

# Binaries: fail early and clearly instead of at the first delivery.
need() { # path package
  [ -x "$1" ] || die 3 "$1 missing (package $2). Install with:
  apt-get install -y --no-install-recommends dovecot-imapd dovecot-lmtpd postfix openssl   (or run scripts/test.sh)"
}
need "$DOVECOT_BIN" dovecot-core
need /usr/lib/dovecot/imap dovecot-imapd
need /usr/lib/dovecot/lmtp dovecot-lmtpd
need "$MASTER_BIN" postfix
need /usr/lib/postfix/sbin/smtpd postfix
need /usr/lib/postfix/sbin/lmtp postfix
need "$OPENDKIM_BIN" opendkim
need /usr/bin/openssl openssl
for tool in ps awk; do command -v "$tool" >/dev/null || die 3 "'$tool' missing (needed to manage the daemons)"; done
command -v openssl >/dev/null || die 3 "openssl missing (package openssl; makes the test certificates)"

[ "$(id -u)" = 0 ] || die 7 "must run as root: Postfix's master(8) refuses to run unprivileged (hard-coded uid check)."
for u in dovecot dovenull mail postfix; do id "$u" >/dev/null 2>&1 || die 3 "system user '$u' missing (reinstall dovecot-core/postfix)"; done
getent group postdrop >/dev/null || die 3 "group 'postdrop' missing (reinstall postfix)"

mkdir -p "$DIR"
DIR=$(cd "$DIR" && pwd -P); layout
[ ${#LMTP_SOCK} -le 100 ] || die 2 "DIR path too long for unix sockets (${#LMTP_SOCK} > 100 chars): $DIR"

port_answers() { # port expected-banner-prefix
  local l
  ( exec 3<>"/dev/tcp/$HOST/$1" && IFS= read -r -t 2 l <&3 && [[ $l == "$2"* ]] && printf 'QUIT\r\n' >&3 ) 2>/dev/null
}
print_info() {
  local dpid ppid
  dpid=$(read_pid "$DV_PIDFILE"); ppid=$(read_pid "$PF_PIDFILE")
  cat > "$DIR/mailstack.env" <<EOF
MAILSTACK_DIR=$DIR
MAILSTACK_HOST=$HOST
MAILSTACK_IMAP_PORT=$IMAP_PORT
MAILSTACK_SMTP_PORT=$SMTP_PORT
MAILSTACK_IMAPS_PORT=$IMAPS_PORT
MAILSTACK_SMTPS_PORT=$SMTPS_PORT
MAILSTACK_CA_FILE=$CA_FILE
MAILSTACK_DOVECOT_PID=$dpid
MAILSTACK_POSTFIX_PID=$ppid
MAILSTACK_MAILDIR_ROOT=$MAIL
MAILSTACK_LOG_DIR=$LOG
MAILSTACK_DKIM_SELECTOR=sel
MAILSTACK_DKIM_RECORD=$DK/sel.txt
EOF
  echo "mailstack: up  dir=$DIR"
  echo "mailstack: imap=$HOST:$IMAP_PORT smtp=$HOST:$SMTP_PORT (plain or STARTTLS) imaps=$HOST:$IMAPS_PORT smtps=$HOST:$SMTPS_PORT (implicit TLS)"
  echo "mailstack: any user@{${DOMAINS// /,}} / $PASSWORD; CA $CA_FILE"
  echo "mailstack: dovecot_pid=$dpid postfix_master_pid=$ppid"
  echo "mailstack: env file $DIR/mailstack.env; logs $LOG/{dovecot,postfix}.log"
}

# Already up (with the same OAuth2 set-up)? Then just report. Half up or stale? Stop what is ours, start fresh.
DPID=$(read_pid "$DV_PIDFILE"); PPID_=$(read_pid "$PF_PIDFILE"); KPID=$(read_pid "$DK_PIDFILE")
port_open() { (exec 3<>"/dev/tcp/$HOST/$1") 2>/dev/null; }
OAUTH2_CONF=$DV/oauth2.conf.ext
same_oauth2() { if [ -n "$OAUTH2_URL" ]; then grep -qxF "introspection_url = $OAUTH2_URL" "$OAUTH2_CONF" 2>/dev/null; else [ ! -e "$OAUTH2_CONF" ]; fi; }
if pid_alive "$DPID" && pid_alive "$PPID_" && pid_alive "$KPID" && port_answers "$IMAP_PORT" "* OK" && port_answers "$SMTP_PORT" "220" &&
   port_open "$IMAPS_PORT" && port_open "$SMTPS_PORT" && [ -s "$CA_FILE" ] && same_oauth2; then
  print_info; exit 0
fi
if pid_alive "$DPID" || pid_alive "$PPID_" || pid_alive "$KPID"; then do_stop >/dev/null 2>&1 || true; fi

# Someone else on our ports? (callers picking free ports may retry with others on exit 4)
for p in "$IMAP_PORT" "$SMTP_PORT" "$IMAPS_PORT" "$SMTPS_PORT"; do
  if port_open "$p"; then die 4 "port $HOST:$p already in use by another process"; fi
done

# Identities (root only, see above).
MAIL_UID=$(id -u mail); MAIL_GID=$(id -g mail)

# Fresh runtime state every start (configs are regenerated too; maildirs are kept).
rm -rf "$DV/run" "$SPOOL" "$PF/data"
rm -f "$OAUTH2_CONF"
rm -f "$DK_SOCK" "$DK_PIDFILE"
mkdir -p "$DV/run" "$DV/state" "$PF" "$SPOOL" "$PF/data" "$LOG" "$MAIL" "$DK"
chmod 755 "$DIR" "$DV" "$DV/run" "$PF" "$LOG" "$DK"  # mail/dovecot/postfix users must traverse
chown "$MAIL_UID:$MAIL_GID" "$MAIL"
chown root:root "$SPOOL"; chown postfix "$PF/data"

# ----------------------------------------------------------------------- TLS
# A test CA and a server certificate it signs, made once per DIR (kept across restarts, so that
# clients holding the CA file keep trusting the stack).
make_certificates() {
  local tmp=$TLS/tmp
  rm -rf "$tmp"; mkdir -p "$tmp"
  printf '%s\n' '[req]' 'distinguished_name = dn' 'prompt = no' 'x509_extensions = ca' \
    '[dn]' 'CN = srgate mailstack test CA' \
    '[ca]' 'basicConstraints = critical, CA:TRUE' 'keyUsage = critical, keyCertSign, cRLSign' \
    'subjectKeyIdentifier = hash' > "$tmp/ca.cnf"
  printf '%s\n' 'basicConstraints = critical, CA:FALSE' 'keyUsage = critical, digitalSignature' \
    'extendedKeyUsage = serverAuth' 'subjectAltName = IP:127.0.0.1, DNS:localhost' \
    'subjectKeyIdentifier = hash' 'authorityKeyIdentifier = keyid' > "$tmp/server.ext"
  local ec=(-newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes)
  openssl req -x509 "${ec[@]}" -config "$tmp/ca.cnf" -days 3650 -keyout "$tmp/ca.key" -out "$tmp/ca.pem" 2>"$tmp/log" &&
  openssl req -new "${ec[@]}" -subj "/CN=localhost" -keyout "$tmp/server.key" -out "$tmp/server.csr" 2>>"$tmp/log" &&
  openssl x509 -req -in "$tmp/server.csr" -CA "$tmp/ca.pem" -CAkey "$tmp/ca.key" -CAcreateserial -days 3650 \
    -extfile "$tmp/server.ext" -out "$tmp/server.pem" 2>>"$tmp/log" ||
    { cat "$tmp/log" >&2; die 6 "openssl could not make the test certificates"; }
  chmod 600 "$tmp/ca.key" "$tmp/server.key"; chmod 644 "$tmp/ca.pem" "$tmp/server.pem"
  mv "$tmp/ca.key" "$tmp/ca.pem" "$tmp/server.key" "$tmp/server.pem" "$TLS/"
  rm -rf "$tmp"
}
mkdir -p "$TLS"; chmod 755 "$TLS"
[ -s "$CA_FILE" ] && [ -s "$TLS/server.pem" ] && [ -s "$TLS/server.key" ] || make_certificates

FIRST_DOMAIN=${DOMAINS%% *}
FILTER=""; for d in $DOMAINS; do FILTER="$FILTER *@${d,,}"; done

# OAuth2 (MAILSTACK_OAUTH2_INTROSPECTION_URL): mechanisms, the password passdb's restriction, the oauth2 passdb.
AUTH_MECHANISMS="plain login"; PASSWORD_PASSDB_MECHS=""; OAUTH2_PASSDB=""
if [ -n "$OAUTH2_URL" ]; then
  printf '%s\n' "# generated by srgate scripts/mailstack.sh -- RFC 7662 introspection of every token" \
    "introspection_url = $OAUTH2_URL" 'introspection_mode = post' 'force_introspection = yes' \
    'username_attribute = email' 'active_attribute = active' 'active_value = true' 'timeout_msecs = 5000' > "$OAUTH2_CONF"
  chmod 600 "$OAUTH2_CONF"
  AUTH_MECHANISMS="plain login xoauth2 oauthbearer"
  PASSWORD_PASSDB_MECHS="
  # a token is no password: this passdb answers only PLAIN and LOGIN
  mechanisms = plain login"
  OAUTH2_PASSDB="
# OAuth2 access tokens (XOAUTH2, OAUTHBEARER), checked at the authorization server's introspection
# endpoint at every login (no auth cache: a revoked token is refused at once)
passdb {
  driver = oauth2
  mechanisms = xoauth2 oauthbearer
  args = $OAUTH2_CONF
}
# no auth penalty: after a failed login Dovecot delays the next ones from that IP (4 s and more),
# and the tests refuse tokens on purpose
service anvil {
  unix_listener anvil-auth-penalty {
    mode = 0
  }
}"
fi

# ------------------------------------------------------------------- Dovecot
# Each block is written over several lines: `service x { user = y }` on one line is a syntax error.
cat > "$DV/dovecot.conf" <<EOF
# generated by srgate scripts/mailstack.sh -- self-contained test instance
base_dir = $DV/run
state_dir = $DV/state
instance_name = mailstack-$IMAP_PORT
# the host in the "by" clause of the Received header LMTP delivery adds: the same host as Postfix
hostname = mail.$FIRST_DOMAIN
log_path = $LOG/dovecot.log
protocols = imap lmtp
listen = $HOST
# TLS: STARTTLS on the imap port, implicit on imaps; plaintext login stays allowed on the plain port
ssl = yes
ssl_cert = <$TLS/server.pem
ssl_key = <$TLS/server.key
ssl_min_protocol = TLSv1.2
disable_plaintext_auth = no
auth_mechanisms = $AUTH_MECHANISMS
# no auth cache (the default, stated): every login asks the passdbs afresh
auth_cache_size = 0
auth_username_format = %Lu
# tests log in with wrong passwords on purpose; the default 2 s penalty only slows them down
auth_failure_delay = 0
# root: Dovecot refuses uid 0 for its login and mail processes
default_internal_user = dovecot
default_internal_group = dovecot
default_login_user = dovenull
first_valid_uid = $MAIL_UID
last_valid_uid = $MAIL_UID
mail_location = maildir:$MAIL/%d/%n/Maildir
mail_fsync = never
# many parallel test connections from 127.0.0.1 for the same user
mail_max_userip_connections = 500
namespace inbox {
  inbox = yes
  separator = /
  mailbox Drafts {
    special_use = \Drafts
    auto = subscribe
  }
  mailbox Sent {
    special_use = \Sent
    auto = subscribe
  }
  mailbox Trash {
    special_use = \Trash
    auto = subscribe
  }
}
# catch-all login: any address in the test domains, one password
passdb {
  driver = static
  args = password=$PASSWORD
  username_filter =$FILTER$PASSWORD_PASSDB_MECHS
}$OAUTH2_PASSDB
# mailboxes are created on first delivery/login
userdb {
  driver = static
  args = uid=$MAIL_UID gid=$MAIL_GID home=$MAIL/%d/%n allow_all_users=yes
}
service imap-login {
  chroot =
  inet_listener imap {
    address = $HOST
    port = $IMAP_PORT
  }
  inet_listener imaps {
    address = $HOST
    port = $IMAPS_PORT
    ssl = yes
  }
}
service lmtp {
  unix_listener lmtp {
    mode = 0666
  }
}
# Postfix's SMTP AUTH asks Dovecot (smtpd_sasl_type = dovecot)
service auth {
  unix_listener auth-client {
    mode = 0666
  }
}
protocol lmtp {
  postmaster_address = postmaster@$FIRST_DOMAIN
}
EOF

# ------------------------------------------------------------------- Postfix
cat > "$PF/main.cf" <<EOF
# generated by srgate scripts/mailstack.sh -- self-contained test instance
compatibility_level = 3.6
queue_directory = $SPOOL
data_directory = $PF/data
command_directory = /usr/sbin
daemon_directory = /usr/lib/postfix/sbin
shlib_directory = /usr/lib/postfix
meta_directory = /etc/postfix
mail_owner = postfix
setgid_group = postdrop
# no syslog here: log to a file (must match a prefix, or master dies silently)
maillog_file_prefixes = $LOG
maillog_file = $LOG/postfix.log
myhostname = mail.$FIRST_DOMAIN
mydomain = $FIRST_DOMAIN
myorigin = \$mydomain
mydestination =
local_recipient_maps =
alias_maps =
alias_database =
inet_interfaces = $HOST
inet_protocols = ipv4
mynetworks = 127.0.0.0/8
# catch-all: every address in these domains is accepted and handed to Dovecot over LMTP
virtual_mailbox_domains = $DOMAINS
virtual_mailbox_maps =
virtual_transport = lmtp:unix:$LMTP_SOCK
# nothing ever leaves the machine
smtpd_relay_restrictions = reject_unauth_destination
default_transport = error:5.7.1 outbound mail disabled in test stack
relay_transport = error:5.7.1 outbound mail disabled in test stack
# SMTP AUTH (PLAIN/LOGIN, with or without TLS) against Dovecot; optional for loopback clients
smtpd_sasl_auth_enable = yes
smtpd_sasl_type = dovecot
smtpd_sasl_path = $AUTH_SOCK
# TLS: STARTTLS offered on the SMTP port (not required), implicit TLS on the smtps listener
smtpd_tls_security_level = may
smtpd_tls_cert_file = $TLS/server.pem
smtpd_tls_key_file = $TLS/server.key
smtpd_tls_session_cache_database =
smtpd_tls_auth_only = no
broken_sasl_auth_clients = yes
# speed and test friendliness
smtpd_peername_lookup = no
smtpd_banner = \$myhostname ESMTP mailstack
smtpd_error_sleep_time = 0
smtpd_soft_error_limit = 1000
smtpd_hard_error_limit = 1000
smtpd_client_connection_rate_limit = 0
in_flow_delay = 0
queue_run_delay = 2s
minimal_backoff_time = 2s
maximal_backoff_time = 5s
maximal_queue_lifetime = 5m
bounce_queue_lifetime = 5m
delay_warning_time = 0
lmtp_destination_concurrency_limit = 10
lmtp_destination_recipient_limit = 50
biff = no
append_dot_mydomain = no
readme_directory = no
smtputf8_enable = yes
# OpenDKIM signs mail From the stack's domains (every client here is internal: loopback)
smtpd_milters = unix:$DK_SOCK
non_smtpd_milters = unix:$DK_SOCK
milter_default_action = tempfail
EOF
cat > "$PF/master.cf" <<EOF
# service   type  private unpriv chroot wakeup maxproc command
$HOST:$SMTP_PORT inet n - n - - smtpd
$HOST:$SMTPS_PORT inet n - n - - smtpd
  -o smtpd_tls_wrappermode=yes
  -o smtpd_tls_security_level=encrypt
pickup      unix  n       -      n      60     1       pickup
cleanup     unix  n       -      n      -      0       cleanup
qmgr        unix  n       -      n      300    1       qmgr
rewrite     unix  -       -      n      -      -       trivial-rewrite
bounce      unix  -       -      n      -      0       bounce
defer       unix  -       -      n      -      0       bounce
trace       unix  -       -      n      -      0       bounce
verify      unix  -       -      n      -      1       verify
flush       unix  n       -      n      1000?  0       flush
proxymap    unix  -       -      n      -      -       proxymap
showq       unix  n       -      n      -      -       showq
error       unix  -       -      n      -      -       error
retry       unix  -       -      n      -      -       error
discard     unix  -       -      n      -      -       discard
lmtp        unix  -       -      n      -      -       lmtp
anvil       unix  -       -      n      -      1       anvil
tlsmgr      unix  -       -      n      1000?  1       tlsmgr
scache      unix  -       -      n      -      1       scache
# maillog_file is written by postlogd
postlog     unix-dgram n  -      n      -      1       postlogd
EOF

# Queue layout by hand (what `postfix start`/post-install would do, minus ~2.4 s of checks).
QUEUES="active bounce corrupt defer deferred flush hold incoming private saved trace"
for q in $QUEUES; do mkdir -p "$SPOOL/$q"; chmod 700 "$SPOOL/$q"; done
mkdir -p "$SPOOL/pid" "$SPOOL/public" "$SPOOL/maildrop"
chmod 755 "$SPOOL/pid"; chmod 710 "$SPOOL/public"; chmod 730 "$SPOOL/maildrop"
# shellcheck disable=SC2086 # word splitting intended
(cd "$SPOOL" && chown postfix $QUEUES && chown postfix:postdrop public maildrop && chown root:root pid)

# ------------------------------------------------------------------ OpenDKIM
# One key for every domain of the stack, made once per DIR (kept across restarts: the DNS record stays valid).
if [ ! -s "$DK/sel.private" ]; then
  openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:2048 -out "$DK/sel.private" 2>/dev/null \
    || die 3 "openssl could not make a DKIM key"
  chmod 600 "$DK/sel.private"
fi
printf 'v=DKIM1; k=rsa; p=%s' "$(openssl pkey -in "$DK/sel.private" -pubout -outform DER 2>/dev/null | base64 -w0)" > "$DK/sel.txt"
cat > "$DK/opendkim.conf" <<EOF
# generated by srgate scripts/mailstack.sh -- signs, never verifies
Syslog no
Mode s
Domain ${DOMAINS// /,}
Selector sel
KeyFile $DK/sel.private
Canonicalization relaxed/simple
InternalHosts 127.0.0.0/8
Socket local:$DK_SOCK
UMask 000
PidFile $DK_PIDFILE
RequireSafeKeys false
EOF

# -------------------------------------------------------------------- start
T0=$(date +%s%N)
# OpenDKIM first: Postfix refuses mail (tempfail) while its milter is missing.
if ! "$OPENDKIM_BIN" -x "$DK/opendkim.conf" </dev/null >"$LOG/opendkim-start.out" 2>&1; then
  cat "$LOG/opendkim-start.out" >&2
  die 6 "opendkim failed to start (config: $DK/opendkim.conf)"
fi
# Dovecot daemonizes itself; keep its stdio away from our caller's pipes.
if ! "$DOVECOT_BIN" -c "$DV/dovecot.conf" </dev/null >"$LOG/dovecot-start.out" 2>&1; then
  cat "$LOG/dovecot-start.out" >&2
  die 6 "dovecot failed to start (config: $DV/dovecot.conf, log: $LOG/dovecot.log)"
fi
# master(8) stays in the foreground and calls setsid() itself: background it here.
MAIL_CONFIG=$PF nohup "$MASTER_BIN" -c "$PF" </dev/null >"$LOG/postfix-start.out" 2>&1 &

deadline=$(( $(date +%s) + START_TIMEOUT ))
until port_answers "$IMAP_PORT" "* OK" && port_answers "$SMTP_PORT" "220" && port_open "$IMAPS_PORT" && port_open "$SMTPS_PORT" && [ -S "$DK_SOCK" ]; do
  if [ "$(date +%s)" -ge "$deadline" ]; then
    echo "mailstack: ports did not answer within ${START_TIMEOUT}s; log tails:" >&2
    tail -n 20 "$LOG/dovecot.log" "$LOG/postfix.log" "$LOG/postfix-start.out" >&2 2>/dev/null || true
    do_stop >/dev/null 2>&1 || true
    exit 6
  fi
  sleep 0.05
done
# One verified handshake on each implicit-TLS port: a broken certificate set-up fails here, not in a test.
for p in "$IMAPS_PORT" "$SMTPS_PORT"; do
  if ! out=$(openssl s_client -connect "$HOST:$p" -CAfile "$CA_FILE" -verify_return_error -verify_ip "$HOST" -brief </dev/null 2>&1); then
    echo "$out" >&2
    do_stop >/dev/null 2>&1 || true
    die 6 "TLS handshake with $HOST:$p failed (CA $CA_FILE)"
  fi
done
T1=$(date +%s%N)
echo "mailstack: started in $(( (T1 - T0) / 1000000 )) ms"
print_info
