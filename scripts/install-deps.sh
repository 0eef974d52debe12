#!/usr/bin/env bash
# scripts/install-deps.sh -- install what srgate's demo and tests need on Debian/Ubuntu, when missing:
# make (the build compiles jemalloc, srgate's allocator, from source),
# Dovecot (IMAP + LMTP), Postfix, OpenDKIM (the stack signs its domains' mail), dnsmasq (the tests'
# DNS server: DKIM keys, DMARC and SPF records), openssl (makes the test DKIM key), mutt and swaks,
# Node.js + npm + curl (the tests' OAuth2 authorization server, tests/oauth, run by scripts/oauth-server.sh),
# PostgreSQL (the second store engine: scripts/pgstack.sh runs a throwaway server per test binary, as
# the `postgres` OS user the package creates; python3 picks its free port, openssl makes its certificates).
# The package's own cluster (`main`, which Debian creates and may start on localhost:5432) is left as it
# is: the tests never use it, and it does not get in their way (their servers take free ports from the
# kernel's ephemeral range, keep their sockets in their own folders and are driven by full paths).
# Runs apt-get as root, or through sudo. Then installs tests/oauth's node_modules with `npm ci` (needs the
# npm registry once; later test runs work offline) when it is missing or its package-lock.json changed.
# Debian 12's nodejs is 18.x: hence oidc-provider 8.x (9.x needs a newer Node); any node >= 18.12 already
# on the PATH is used as it is.
set -euo pipefail

PKGS=(make dovecot-imapd dovecot-lmtpd postfix opendkim dnsmasq-base openssl mutt swaks ca-certificates nodejs npm curl postgresql python3)
OAUTH_APP=$(cd "$(dirname "$0")/.." && pwd -P)/tests/oauth

have_all() {
  command -v make >/dev/null && [ -x /usr/sbin/dovecot ] && [ -x /usr/lib/dovecot/imap ] && [ -x /usr/lib/dovecot/lmtp ] &&
    [ -x /usr/lib/postfix/sbin/master ] && [ -x /usr/sbin/opendkim ] && [ -x /usr/sbin/dnsmasq ] && [ -x /usr/bin/openssl ] &&
    command -v mutt >/dev/null && command -v swaks >/dev/null &&
    [ -e /etc/ssl/certs/ca-certificates.crt ] &&
    command -v node >/dev/null && command -v npm >/dev/null && command -v curl >/dev/null &&
    ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 && id -u postgres >/dev/null 2>&1 && command -v python3 >/dev/null
}

# tests/oauth/node_modules, as scripts/oauth-server.sh expects it (same stamp, same lock).
node_modules_ready() {
  cmp -s "$OAUTH_APP/package-lock.json" "$OAUTH_APP/node_modules/.srgate-lock" && [ -d "$OAUTH_APP/node_modules/oidc-provider" ]
}
install_node_modules() {
  node_modules_ready && return 0
  node -e 'const [a, b] = process.versions.node.split(".").map(Number); process.exit(a > 18 || (a === 18 && b >= 12) ? 0 : 1)' ||
    { echo "install-deps.sh: node $(node --version) is too old for tests/oauth (needs >= 18.12)" >&2; exit 1; }
  echo "install-deps.sh: npm ci in $OAUTH_APP"
  (
    flock 9
    node_modules_ready && exit 0
    cd "$OAUTH_APP" && npm ci --no-audit --no-fund --loglevel=error
    cp package-lock.json node_modules/.srgate-lock
  ) 9>"$OAUTH_APP/.npm-ci.lock"
}

if have_all; then install_node_modules; exit 0; fi
if [ "$(id -u)" = 0 ]; then
  SUDO=()
elif command -v sudo >/dev/null; then
  SUDO=(sudo)
else
  echo "install-deps.sh: missing packages (${PKGS[*]}) and neither root nor sudo available." >&2
  exit 1
fi
if ! command -v apt-get >/dev/null; then
  echo "install-deps.sh: missing packages (${PKGS[*]}) and no apt-get: install them by hand." >&2
  exit 1
fi
# Node.js already on the PATH (e.g. a NodeSource build, which ships its own npm and conflicts with
# Debian's npm package) is used as it is: only a missing node or npm is installed from Debian.
if command -v node >/dev/null && command -v npm >/dev/null; then
  PKGS=("${PKGS[@]/#nodejs/}")
  PKGS=("${PKGS[@]/#npm/}")
  mapfile -t PKGS < <(printf '%s\n' "${PKGS[@]}" | grep -v '^$')
fi
echo "install-deps.sh: installing ${PKGS[*]}"
# Postfix: no system configuration (srgate's scripts write their own); no questions asked.
echo 'postfix postfix/main_mailer_type select No configuration' | "${SUDO[@]}" debconf-set-selections
"${SUDO[@]}" apt-get update
"${SUDO[@]}" env DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends "${PKGS[@]}"
have_all || { echo "install-deps.sh: packages installed but binaries still missing" >&2; exit 1; }
install_node_modules
