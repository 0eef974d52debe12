#!/usr/bin/env bash
# scripts/pgstack.sh -- a real, throwaway PostgreSQL for srgate's tests, in a folder of its own.
#
#   scripts/pgstack.sh start DIR    initdb into DIR/data (first time), start on 127.0.0.1:PORT, print PORT
#   scripts/pgstack.sh stop DIR     stop it (idempotent; nothing left running)
#
# Debian's `postgresql` package (15) provides the binaries; Debian's own cluster is not used.
# The server runs as the `postgres` OS user (PostgreSQL refuses root), listens on loopback only,
# on a free port (PGSTACK_PORT, else one picked here; written to DIR/port), with its unix socket
# in DIR, TLS on (a test CA made here, DIR/ca.crt, which clients trust, and a server certificate
# it signs), `fsync` on as in production (tests measure durability), and a role `srgate`
# (password in DIR/password, scram-sha-256 over TCP) that owns the databases tests create.
# The superuser `postgres` is reached over the unix socket only (peer/trust), for the tests'
# own work (creating databases, ending sessions).
#
# Exit codes: 2 usage, 3 binaries missing, 6 start-up failed.
set -euo pipefail

usage() { echo "usage: $0 start|stop DIR" >&2; exit 2; }
[ $# -eq 2 ] || usage
cmd=$1
dir=$(realpath -m "$2")
bin=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -1 || true)
[ -n "$bin" ] && [ -x "$bin/initdb" ] || { echo "pgstack: PostgreSQL is not installed (apt-get install postgresql)" >&2; exit 3; }
as_postgres() { if [ "$(id -u)" = 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi; }

case "$cmd" in
  stop)
    if [ -f "$dir/data/postmaster.pid" ]; then
      as_postgres "$bin/pg_ctl" -D "$dir/data" -m immediate -w -t 20 stop >/dev/null 2>&1 || true
    fi
    exit 0
    ;;
  start) ;;
  *) usage ;;
esac

mkdir -p "$dir"
# The server (user postgres) needs to reach DIR and write its socket there.
if [ "$(id -u)" = 0 ]; then chown postgres "$dir"; chmod 0755 "$dir"; fi
if [ ! -d "$dir/data" ]; then
  password=$(head -c 18 /dev/urandom | base64 | tr -d '/+=')
  echo "$password" >"$dir/password"
  as_postgres "$bin/initdb" -D "$dir/data" -U postgres -A trust --no-sync -E UTF8 --locale C >"$dir/initdb.log"
  # TLS: a test CA (DIR/ca.crt, which clients trust) and a server certificate it signs for
  # 127.0.0.1/localhost (verifiers accept a CA as a trust anchor, not a self-signed server certificate).
  openssl req -x509 -newkey rsa:2048 -nodes -days 3650 -subj "/CN=srgate test CA" \
    -addext "basicConstraints=critical,CA:TRUE" -addext "keyUsage=critical,keyCertSign,cRLSign" \
    -keyout "$dir/ca.key" -out "$dir/ca.crt" >/dev/null 2>&1
  openssl req -newkey rsa:2048 -nodes -subj "/CN=localhost" -keyout "$dir/server.key" -out "$dir/server.csr" >/dev/null 2>&1
  printf 'subjectAltName=IP:127.0.0.1,DNS:localhost\nbasicConstraints=CA:FALSE\nextendedKeyUsage=serverAuth\n' >"$dir/server.ext"
  openssl x509 -req -in "$dir/server.csr" -CA "$dir/ca.crt" -CAkey "$dir/ca.key" -CAcreateserial -days 3650 \
    -extfile "$dir/server.ext" -out "$dir/server.crt" >/dev/null 2>&1
  cp "$dir/server.key" "$dir/server.crt" "$dir/data/"
  if [ "$(id -u)" = 0 ]; then chown postgres "$dir/data/server.key" "$dir/data/server.crt"; fi
  chmod 0600 "$dir/data/server.key"
  cat >"$dir/data/pg_hba.conf" <<HBA
# The superuser over the unix socket only; everyone else with a password, over TCP (TLS or not).
local   all   postgres                 trust
local   all   all                      trust
host    all   postgres   0.0.0.0/0     reject
host    all   all        127.0.0.1/32  scram-sha-256
HBA
fi
port=${PGSTACK_PORT:-$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')}
echo "$port" >"$dir/port"
as_postgres "$bin/pg_ctl" -D "$dir/data" -l "$dir/log" -w -t 30 start -o "-h 127.0.0.1 -p $port -k $dir \
  -c ssl=on -c max_connections=300 -c fsync=on -c password_encryption=scram-sha-256 -c shared_buffers=64MB" >/dev/null \
  || { tail -20 "$dir/log" >&2; exit 6; }
password=$(cat "$dir/password")
as_postgres "$bin/psql" -h "$dir" -p "$port" -U postgres -d postgres -At -v ON_ERROR_STOP=1 -q <<SQL
DO \$\$ BEGIN
  IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'srgate') THEN
    CREATE ROLE srgate LOGIN CREATEDB PASSWORD '$password';
  END IF;
END \$\$;
SQL
echo "$port"
