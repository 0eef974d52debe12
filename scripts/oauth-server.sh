#!/usr/bin/env bash
# scripts/oauth-server.sh -- a real OAuth 2.0 authorization server for srgate's tests, on loopback.
#
# The server is tests/oauth/server.mjs: the `oidc-provider` npm package (pinned by
# tests/oauth/package-lock.json) on http://127.0.0.1:PORT, configured by a JSON file (its format,
# the endpoints and the scopes each flow needs are documented at the top of server.mjs).
# Dovecot verifies the tokens it issues at its introspection endpoint
# (scripts/mailstack.sh with MAILSTACK_OAUTH2_INTROSPECTION_URL).
#
# Usage:
#   scripts/oauth-server.sh start DIR CONFIG.json    start (idempotent: if DIR's server is up, just
#                                                     rewrite DIR/oauth.env); CONFIG is copied to DIR
#   scripts/oauth-server.sh stop DIR                 stop it (idempotent)
#   scripts/oauth-server.sh approve DIR USER_CODE LOGIN
#       acts as the person of the device flow with curl and a cookie jar: opens the verification
#       page, enters USER_CODE, confirms, signs in as LOGIN, gives consent. Exit 0 only when the
#       server says the device is approved.
#   scripts/oauth-server.sh revoke DIR CLIENT_ID CLIENT_SECRET TOKEN [TOKEN_TYPE_HINT]
#       RFC 7009 revocation with client_secret_basic. Exit 0 when the server answered 200.
#   scripts/oauth-server.sh disable-client DIR CLIENT_ID
#       test-only admin action: the client's token requests now fail with invalid_client and its
#       tokens introspect as inactive ("the app's secret was revoked by the admin").
#
# `start` writes DIR/oauth.env (sourceable KEY=VALUE lines): OAUTH_ISSUER, OAUTH_TOKEN_URL,
# OAUTH_DEVICE_AUTHORIZATION_URL, OAUTH_VERIFICATION_URL, OAUTH_INTROSPECTION_URL,
# OAUTH_REVOCATION_URL, OAUTH_PID, OAUTH_PORT, OAUTH_LOG.
# DIR holds config.json, oauth-server.pid, oauth-server.log (the server's log: events, never tokens)
# and approve's scratch files (cookie jar and pages, deleted at the end).
#
# node_modules: installed with `npm ci` from the lock file into tests/oauth/node_modules (gitignored),
# once; later starts reuse it (offline). scripts/install-deps.sh does the first install; `start` redoes
# it only when node_modules is missing or the lock file changed (stamp node_modules/.srgate-lock),
# under a lock (test binaries may start servers in parallel).
#
# Environment: OAUTH_START_TIMEOUT=15 seconds to wait for the server to answer;
#              OAUTH_DEBUG=1 timestamped `set -x` trace (prints secrets: only by hand).
#
# Requirements: node >= 18.12 and npm (Debian 12: apt-get install nodejs npm), curl, flock.
# Exit codes: 2 usage/bad DIR/config, 3 binary missing or npm ci failed, 4 port in use,
#             6 start-up timeout; approve: 1 not approved; revoke/disable-client: 1 refused.
#
# Gotchas:
#  * The daemon must not inherit our stdout/stderr (callers capturing output, e.g. Rust's
#    Command::output, would wait for EOF forever): its output goes to DIR/oauth-server.log.
#  * Nothing of a token or secret is printed by this script (approve prints the user code's step
#    results only; revoke prints the HTTP status).
set -euo pipefail
if [ "${OAUTH_DEBUG:-0}" = 1 ]; then
  PS4='+ $(date +%T.%N) ${LINENO}: '
  set -x
fi

SELF=$(basename "$0")
ROOT=$(cd "$(dirname "$0")/.." && pwd -P)
APP=$ROOT/tests/oauth
CMD=${1:-}
DIR=${2:-}
usage() {
  echo "usage: $SELF start DIR CONFIG.json | stop DIR | approve DIR USER_CODE LOGIN | revoke DIR CLIENT_ID CLIENT_SECRET TOKEN [HINT] | disable-client DIR CLIENT_ID" >&2
  exit 2
}
[ -n "$CMD" ] && [ -n "$DIR" ] || usage
START_TIMEOUT=${OAUTH_START_TIMEOUT:-15}

die() { local code=$1; shift; echo "oauth-server: $*" >&2; exit "$code"; }
read_pid() { [ -s "$1" ] && tr -dc '0-9' < "$1" || true; }
# our server, not a recycled pid: node running server.mjs
is_ours() { [ -n "${1:-}" ] && grep -qa "server.mjs" "/proc/$1/cmdline" 2>/dev/null; }
env_get() { # KEY -> value from DIR/oauth.env
  [ -s "$DIR/oauth.env" ] || die 2 "$DIR/oauth.env missing: is the server started?"
  sed -n "s/^$1=//p" "$DIR/oauth.env"
}
# `answers URL`: the discovery document is served
answers() { curl -fsS -o /dev/null --max-time 2 "$1/.well-known/openid-configuration" 2>/dev/null; }

# ======================================================================== stop
do_stop() {
  local pid; pid=$(read_pid "$DIR/oauth-server.pid")
  [ -n "$pid" ] || return 0
  if ! is_ours "$pid"; then rm -f "$DIR/oauth-server.pid"; return 0; fi
  kill -TERM "$pid" 2>/dev/null || true
  for _ in $(seq 1 20); do is_ours "$pid" || break; sleep 0.1; done
  if is_ours "$pid"; then kill -KILL "$pid" 2>/dev/null || true; sleep 0.2; fi
  if is_ours "$pid"; then echo "oauth-server: pid $pid survived SIGKILL" >&2; return 1; fi
  rm -f "$DIR/oauth-server.pid"
  echo "oauth-server: stopped (pid $pid)"
}

case "$CMD" in
stop)
  [ -d "$DIR" ] || { echo "oauth-server: $DIR does not exist, nothing to stop"; exit 0; }
  DIR=$(cd "$DIR" && pwd -P)
  do_stop; exit $?
  ;;

# ===================================================================== approve
approve)
  USER_CODE=${3:-}; LOGIN=${4:-}
  [ -n "$USER_CODE" ] && [ -n "$LOGIN" ] || usage
  command -v curl >/dev/null || die 3 "curl missing (apt-get install curl)"
  DIR=$(cd "$DIR" && pwd -P)
  ISSUER=$(env_get OAUTH_ISSUER); VERIFY=$(env_get OAUTH_VERIFICATION_URL)
  WORK=$(mktemp -d "$DIR/approve.XXXXXX")
  trap 'rm -rf "$WORK"' EXIT
  JAR=$WORK/jar
  # c URL [curl args...] -> the page in $WORK/page, the final URL on stdout; follows redirects
  # (a 303 after a POST becomes a GET, as in a browser)
  c() { local url=$1; shift; curl -sS -L --max-time 10 -c "$JAR" -b "$JAR" -o "$WORK/page" -w '%{url_effective}' "$@" "$url"; }
  field() { sed -n "s/.*name=\"$1\" value=\"\([^\"]*\)\".*/\1/p" "$WORK/page" | head -n 1; }
  form_action() { sed -n "s/.*<form id=\"$1\" method=\"post\" action=\"\([^\"]*\)\".*/\1/p" "$WORK/page" | head -n 1; }
  page_error() { sed -n 's/.*id="error" data-error="\([^"]*\)".*/\1/p' "$WORK/page" | head -n 1; }
  fail() { echo "oauth-server: approve: $* ($(page_error))" >&2; exit 1; }

  c "$VERIFY" >/dev/null                                            # 1. the verification page
  XSRF=$(field xsrf); [ -n "$XSRF" ] || fail "no form on the verification page"
  c "$VERIFY" --data-urlencode "xsrf=$XSRF" --data-urlencode "user_code=$USER_CODE" >/dev/null   # 2. enter the code
  grep -q 'id="op.deviceConfirmForm"' "$WORK/page" || fail "user code refused"
  c "$VERIFY" --data-urlencode "xsrf=$XSRF" --data-urlencode "user_code=$USER_CODE" -d confirm=yes >/dev/null  # 3. confirm
  ACTION=$(form_action login); [ -n "$ACTION" ] || fail "no sign-in page after the confirmation"
  c "$ISSUER$ACTION" --data-urlencode "login=$LOGIN" >/dev/null      # 4. sign in
  ACTION=$(form_action consent)
  if [ -n "$ACTION" ]; then                                          # 5. consent (skipped when already granted)
    c "$ISSUER$ACTION" -d '' >/dev/null
  fi
  grep -q 'id="approved"' "$WORK/page" || fail "the server did not approve the device"
  echo "oauth-server: device approved for $LOGIN"
  exit 0
  ;;

# ====================================================================== revoke
revoke)
  CLIENT_ID=${3:-}; CLIENT_SECRET=${4:-}; TOKEN=${5:-}; HINT=${6:-}
  [ -n "$CLIENT_ID" ] && [ -n "$TOKEN" ] || usage
  DIR=$(cd "$DIR" && pwd -P)
  URL=$(env_get OAUTH_REVOCATION_URL)
  args=(--data-urlencode "token=$TOKEN")
  [ -z "$HINT" ] || args+=(--data-urlencode "token_type_hint=$HINT")
  # the credentials go through a config on stdin: not on the command line (ps)
  code=$(printf 'user = "%s:%s"\n' "$CLIENT_ID" "$CLIENT_SECRET" |
    curl -sS --max-time 10 -K - -o "$DIR/revoke.out" -w '%{http_code}' "${args[@]}" "$URL") || code=000
  if [ "$code" = 200 ]; then rm -f "$DIR/revoke.out"; echo "oauth-server: revoked (HTTP 200)"; exit 0; fi
  echo "oauth-server: revocation refused: HTTP $code $(sed -n 's/.*"error":"\([^"]*\)".*/\1/p' "$DIR/revoke.out" 2>/dev/null)" >&2
  rm -f "$DIR/revoke.out"
  exit 1
  ;;

# ============================================================== disable-client
disable-client)
  CLIENT_ID=${3:-}
  [ -n "$CLIENT_ID" ] || usage
  DIR=$(cd "$DIR" && pwd -P)
  ISSUER=$(env_get OAUTH_ISSUER)
  code=$(curl -sS --max-time 10 -o /dev/null -w '%{http_code}' -X POST "$ISSUER/test/disable-client/$CLIENT_ID") || code=000
  [ "$code" = 200 ] || die 1 "disable-client $CLIENT_ID: HTTP $code"
  echo "oauth-server: client $CLIENT_ID disabled"
  exit 0
  ;;

start) ;;
*) usage ;;
esac

# ======================================================================= start
CONFIG=${3:-}
[ -n "$CONFIG" ] || usage
[ -s "$CONFIG" ] || die 2 "config $CONFIG missing or empty"
command -v node >/dev/null || die 3 "node missing (apt-get install nodejs npm, or run scripts/install-deps.sh)"
command -v npm >/dev/null || die 3 "npm missing (apt-get install npm, or run scripts/install-deps.sh)"
command -v curl >/dev/null || die 3 "curl missing (apt-get install curl)"
command -v flock >/dev/null || die 3 "flock missing (package util-linux)"
mkdir -p "$DIR"
DIR=$(cd "$DIR" && pwd -P)
CONFIG=$(cd "$(dirname "$CONFIG")" && pwd -P)/$(basename "$CONFIG")

PORT=$(node -e 'const c = JSON.parse(require("fs").readFileSync(process.argv[1], "utf8")); if (!Number.isInteger(c.port)) process.exit(1); console.log(c.port)' "$CONFIG") ||
  die 2 "config $CONFIG: not JSON or no integer \"port\""
ISSUER=http://127.0.0.1:$PORT
PIDFILE=$DIR/oauth-server.pid
LOGFILE=$DIR/oauth-server.log

write_env() {
  cat > "$DIR/oauth.env" <<EOF
OAUTH_ISSUER=$ISSUER
OAUTH_PORT=$PORT
OAUTH_TOKEN_URL=$ISSUER/token
OAUTH_DEVICE_AUTHORIZATION_URL=$ISSUER/device/auth
OAUTH_VERIFICATION_URL=$ISSUER/device
OAUTH_INTROSPECTION_URL=$ISSUER/token/introspection
OAUTH_REVOCATION_URL=$ISSUER/token/revocation
OAUTH_PID=$(read_pid "$PIDFILE")
OAUTH_LOG=$LOGFILE
EOF
  echo "oauth-server: up  issuer=$ISSUER pid=$(read_pid "$PIDFILE") dir=$DIR"
}

# Already up with this config? Then just report. Otherwise stop what is ours, start fresh.
PID=$(read_pid "$PIDFILE")
if is_ours "$PID" && cmp -s "$CONFIG" "$DIR/config.json" && answers "$ISSUER"; then
  write_env; exit 0
fi
if is_ours "$PID"; then do_stop >/dev/null 2>&1 || true; fi
if (exec 3<>"/dev/tcp/127.0.0.1/$PORT") 2>/dev/null; then die 4 "port 127.0.0.1:$PORT already in use by another process"; fi

# node_modules, once (npm ci wipes and refills it: never while another start uses it).
stamp=$APP/node_modules/.srgate-lock
(
  flock 9
  if ! cmp -s "$APP/package-lock.json" "$stamp" || [ ! -d "$APP/node_modules/oidc-provider" ]; then
    echo "oauth-server: npm ci in $APP" >&2
    (cd "$APP" && npm ci --no-audit --no-fund --loglevel=error </dev/null >"$DIR/npm-ci.log" 2>&1) || {
      cat "$DIR/npm-ci.log" >&2; exit 3; }
    cp "$APP/package-lock.json" "$stamp"
  fi
) 9>"$APP/.npm-ci.lock" || die 3 "npm ci failed in $APP (see above); first install needs the npm registry: run scripts/install-deps.sh"

[ "$CONFIG" = "$DIR/config.json" ] || cp "$CONFIG" "$DIR/config.json"
chmod 600 "$DIR/config.json"
# Detached, own session; stdio away from our caller's pipes.
setsid node "$APP/server.mjs" "$DIR/config.json" </dev/null >>"$LOGFILE" 2>&1 &
echo $! > "$PIDFILE"

deadline=$(( $(date +%s) + START_TIMEOUT ))
until answers "$ISSUER"; do
  pid=$(read_pid "$PIDFILE")
  if ! is_ours "$pid"; then
    wait "$pid" 2>/dev/null && rc=0 || rc=$?
    tail -n 20 "$LOGFILE" >&2
    rm -f "$PIDFILE"
    [ "$rc" = 4 ] && die 4 "port 127.0.0.1:$PORT already in use"
    die 6 "the server exited during start-up (log $LOGFILE)"
  fi
  if [ "$(date +%s)" -ge "$deadline" ]; then
    tail -n 20 "$LOGFILE" >&2
    do_stop >/dev/null 2>&1 || true
    die 6 "the server did not answer within ${START_TIMEOUT}s (log $LOGFILE)"
  fi
  sleep 0.05
done
write_env
