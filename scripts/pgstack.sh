#!/usr/bin/env bash
# scripts/pgstack.sh -- a real, throwaway PostgreSQL for srgate's tests, in a folder of its own.
#
#   scripts/pgstack.sh start DIR    create the server in DIR (first time), start it, print its PORT
#   scripts/pgstack.sh stop DIR     stop it (idempotent: nothing running, or no DIR, is fine)
#
# tests/common/pg.rs runs one such server per test binary and stops it with a watchdog once the
# binary has exited. The binaries come from Debian's `postgresql` package (15); the package's own
# cluster (`main`, port 5432, socket in /var/run/postgresql) is never used, and cannot get in the
# way: this server listens on another port, keeps its socket in DIR and is driven by full paths.
#
# What DIR holds after `start`:
#   data/       the cluster (initdb), owned by the `postgres` OS user: PostgreSQL refuses to run
#               as root, and we usually run as root, hence `runuser -u postgres`
#   log         the server's log
#   port        the TCP port on 127.0.0.1 (also printed); a restart reuses it
#   password    the password of the role `srgate` (scram-sha-256 over TCP)
#   ca.crt      the test CA: clients trust it (sslmode=verify-ca / verify-full, sslrootcert=DIR/ca.crt)
#   server.crt  the server's certificate (CN localhost, SAN IP:127.0.0.1 and DNS:localhost), signed
#   server.key  by that CA; a CA and a leaf rather than one self-signed certificate, because rustls
#               (srgate's TLS) does not accept a certificate as both trust anchor and server
#   bindir      the folder of the PostgreSQL binaries used, for the tests' own psql calls
#   .s.PGSQL.PORT  the unix socket: the superuser `postgres` comes in only this way
#
# Roles: `srgate` (LOGIN, password, no other privilege) owns the database `srgate` and every
# database the tests create; `postgres`, the superuser, does the tests' admin work over the socket.
#
# Environment: PGSTACK_PORT=N to choose the port (else: DIR/port from an earlier start, else a free
# one).  Exit codes: 2 usage, 3 PostgreSQL or openssl missing, 6 the server did not start.
set -euo pipefail

usage() {
  echo "usage: $0 start|stop DIR" >&2
  exit 2
}
[ $# -eq 2 ] || usage
cmd=$1
dir=$(realpath -m "$2")

# The newest installed major version (Debian 12: 15).
bin=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -1 || true)
if [ -z "$bin" ] || [ ! -x "$bin/initdb" ]; then
  echo "pgstack: PostgreSQL is not installed (scripts/install-deps.sh, or apt-get install postgresql)" >&2
  exit 3
fi

# Runs a PostgreSQL program as the `postgres` OS user when we are root; as ourselves otherwise.
as_postgres() {
  if [ "$(id -u)" = 0 ]; then
    runuser -u postgres -- "$@"
  else
    "$@"
  fi
}

# True while the server of DIR/data is up (pg_ctl checks that its postmaster.pid names a live process).
is_running() {
  [ -f "$dir/data/PG_VERSION" ] && as_postgres "$bin/pg_ctl" -D "$dir/data" status >/dev/null 2>&1
}

stop() {
  is_running || return 0
  # Fast: ends the sessions (rolling back their transactions), then a clean shutdown checkpoint.
  # Should that hang (it should not), `immediate` stops everything at once: this server is
  # thrown away after the tests, and WAL replay would make good anything in it anyway.
  as_postgres "$bin/pg_ctl" -D "$dir/data" stop -m fast -w -t 30 >/dev/null 2>&1 ||
    as_postgres "$bin/pg_ctl" -D "$dir/data" stop -m immediate -w -t 30 >/dev/null 2>&1 || true
  if is_running; then
    echo "pgstack: the server in $dir/data does not stop" >&2
    return 1
  fi
}

# A TCP port nobody listens on at 127.0.0.1 right now (the kernel's choice).
free_port() {
  python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

# The test CA and the server's certificate (see the header for why two), P-256 keys: quick to make.
make_certificates() {
  command -v openssl >/dev/null || {
    echo "pgstack: openssl is missing (scripts/install-deps.sh)" >&2
    exit 3
  }
  openssl req -x509 -new -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -days 3650 \
    -subj "/CN=srgate test CA" \
    -addext "basicConstraints=critical,CA:TRUE" -addext "keyUsage=critical,keyCertSign,cRLSign" \
    -keyout "$dir/ca.key" -out "$dir/ca.crt" 2>/dev/null
  openssl req -new -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -subj "/CN=localhost" \
    -keyout "$dir/server.key" -out "$dir/server.csr" 2>/dev/null
  printf '%s\n' "subjectAltName=IP:127.0.0.1,DNS:localhost" "basicConstraints=critical,CA:FALSE" \
    "keyUsage=critical,digitalSignature" "extendedKeyUsage=serverAuth" >"$dir/server.ext"
  openssl x509 -req -in "$dir/server.csr" -CA "$dir/ca.crt" -CAkey "$dir/ca.key" -set_serial 1 -days 3650 \
    -extfile "$dir/server.ext" -out "$dir/server.crt" 2>/dev/null
  # The CA signs nothing else: its key goes.
  rm -f "$dir/ca.key" "$dir/server.csr" "$dir/server.ext"
  # PostgreSQL refuses a key that others can read, or that is not its own.
  chmod 0600 "$dir/server.key"
  if [ "$(id -u)" = 0 ]; then chown postgres: "$dir/server.key" "$dir/server.crt"; fi
}

# initdb, and the configuration that stays the same from one start to the next.
create_cluster() {
  # Only alphanumerics: the password goes into URLs as it is.
  (umask 077 && head -c 18 /dev/urandom | base64 | tr -d '/+=' >"$dir/password")
  make_certificates
  as_postgres "$bin/initdb" -D "$dir/data" -U postgres --auth-local=trust --auth-host=reject \
    -E UTF8 --locale=C >"$dir/initdb.log"
  as_postgres tee -a "$dir/data/postgresql.conf" >/dev/null <<CONF

# ---- scripts/pgstack.sh: the tests' server ----
# Loopback only; the unix socket in the stack's own folder, not /var/run/postgresql.
listen_addresses = '127.0.0.1'
unix_socket_directories = '$dir'
# TLS as in production: clients check the certificate against $dir/ca.crt.
ssl = on
ssl_cert_file = '$dir/server.crt'
ssl_key_file = '$dir/server.key'
# Passwords stored and checked as SCRAM (the PostgreSQL 15 default, stated here on purpose).
password_encryption = 'scram-sha-256'
# Several gateways per test, each with a pool, and tests running in parallel threads.
max_connections = 200
# Durability as in production: the tests measure it. Never turn these off.
fsync = on
synchronous_commit = on
full_page_writes = on
CONF
  # Who may connect how (first match wins; no match means refused).
  as_postgres tee "$dir/data/pg_hba.conf" >/dev/null <<HBA
# TYPE  DATABASE  USER      ADDRESS        METHOD
# The superuser: over the unix socket only (the folder is the stack's own), for the tests' admin work.
local   all       postgres                 trust
# ... and never over TCP.
host    all       postgres  0.0.0.0/0      reject
# srgate, and any role a test creates: over TCP to loopback, with a password (TLS or not).
hostssl all       all       127.0.0.1/32   scram-sha-256
host    all       all       127.0.0.1/32   scram-sha-256
HBA
}

# Starts the server on "$1"; fails when it does not come up (the reason is at the end of DIR/log).
start_server() {
  echo "$1" >"$dir/port"
  as_postgres "$bin/pg_ctl" -D "$dir/data" -l "$dir/log" -o "-p $1" -w -t 60 start >/dev/null 2>&1
}

# The role `srgate` and its database, unless there already (a restart).
create_role_and_database() {
  as_postgres "$bin/psql" -h "$dir" -p "$1" -U postgres -d postgres -X -q -v ON_ERROR_STOP=1 \
    -v password="$(cat "$dir/password")" >/dev/null <<'SQL'
SELECT format('CREATE ROLE srgate LOGIN PASSWORD %L', :'password')
  WHERE NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'srgate') \gexec
SELECT 'CREATE DATABASE srgate OWNER srgate'
  WHERE NOT EXISTS (SELECT 1 FROM pg_database WHERE datname = 'srgate') \gexec
SQL
}

start() {
  mkdir -p "$dir"
  # The server runs as `postgres`: DIR is its (its socket and key live there); root gets in anyway.
  if [ "$(id -u)" = 0 ]; then
    chown postgres: "$dir"
    chmod 0700 "$dir"
  fi
  echo "$bin" >"$dir/bindir"
  if is_running; then
    cat "$dir/port"
    return 0
  fi
  [ -f "$dir/data/PG_VERSION" ] || create_cluster

  local port=${PGSTACK_PORT:-$(cat "$dir/port" 2>/dev/null || free_port)}
  local log_size
  # A free port can be taken by someone else before the server binds it: then try another
  # (unless the caller asked for this one).
  for _ in 1 2 3; do
    log_size=$(stat -c %s "$dir/log" 2>/dev/null || echo 0)
    if start_server "$port"; then
      create_role_and_database "$port"
      echo "$port"
      return 0
    fi
    if [ -n "${PGSTACK_PORT:-}" ] || ! tail -c +$((log_size + 1)) "$dir/log" | grep -q 'could not bind'; then
      break
    fi
    port=$(free_port)
  done
  echo "pgstack: the server did not start; the end of $dir/log:" >&2
  tail -20 "$dir/log" >&2
  exit 6
}

case "$cmd" in
  start) start ;;
  stop) stop ;;
  *) usage ;;
esac
