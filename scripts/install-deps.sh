#!/usr/bin/env bash
# scripts/install-deps.sh -- install what srgate's demo and tests need on Debian/Ubuntu, when missing:
# Dovecot (IMAP + LMTP), Postfix, OpenDKIM (the stack signs its domains' mail), dnsmasq (the tests'
# DNS server: DKIM keys, DMARC and SPF records), openssl (makes the test DKIM key), mutt and swaks.
# Runs apt-get as root, or through sudo.
set -euo pipefail

PKGS=(dovecot-imapd dovecot-lmtpd postfix opendkim dnsmasq-base openssl mutt swaks ca-certificates)

have_all() {
  [ -x /usr/sbin/dovecot ] && [ -x /usr/lib/dovecot/imap ] && [ -x /usr/lib/dovecot/lmtp ] &&
    [ -x /usr/lib/postfix/sbin/master ] && [ -x /usr/sbin/opendkim ] && [ -x /usr/sbin/dnsmasq ] && [ -x /usr/bin/openssl ] &&
    command -v mutt >/dev/null && command -v swaks >/dev/null &&
    [ -e /etc/ssl/certs/ca-certificates.crt ]
}

have_all && exit 0
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
echo "install-deps.sh: installing ${PKGS[*]}"
# Postfix: no system configuration (srgate's scripts write their own); no questions asked.
echo 'postfix postfix/main_mailer_type select No configuration' | "${SUDO[@]}" debconf-set-selections
"${SUDO[@]}" apt-get update
"${SUDO[@]}" env DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends "${PKGS[@]}"
have_all || { echo "install-deps.sh: packages installed but binaries still missing" >&2; exit 1; }
