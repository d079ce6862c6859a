#!/usr/bin/env bash
# The TLS material and SCRAM credentials of the stack's SASL_SSL listener, generated once with openssl into a
# versioned cache directory (outside the repository) and printed as its path:
#   ca.pem / ca.key            the test CA the broker certificate chains to (clients trust ca.pem)
#   other-ca.pem               an unrelated CA: a client trusting only it must fail the handshake ("wrong CA")
#   broker.p12                 the broker's key and certificate (SAN IP:127.0.0.1 only, so a client that
#                              dials `localhost` fails hostname verification), PKCS#12 for Kafka's keystore
#   keystore-password          that keystore's password
#   client.pem / client.key    a client certificate signed by the CA, for the optional mutual-TLS path
#   scram-username / scram-password   the SCRAM-SHA-512 user the stack creates with Kafka's own tooling
# Idempotent: exits at once when everything is there. Everything here is throwaway test material.
set -euo pipefail

CACHE_ROOT="${OKJ_CACHE_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/otel-kafka-jaeger}"
DEST="$CACHE_ROOT/tls/v1"

if [[ -f "$DEST/.complete" ]]; then
  echo "$DEST"
  exit 0
fi
command -v openssl >/dev/null || { echo "make-certs: 'openssl' is not on PATH; install openssl" >&2; exit 1; }

tmp="$DEST.tmp.$$"
rm -rf "$tmp"
mkdir -p "$tmp"
trap 'rm -rf "$tmp"' EXIT
cd "$tmp"
umask 077

days=3650
openssl req -x509 -newkey rsa:2048 -nodes -sha256 -days "$days" -subj "/CN=okj-test-ca" \
  -keyout ca.key -out ca.pem 2>/dev/null
openssl req -x509 -newkey rsa:2048 -nodes -sha256 -days "$days" -subj "/CN=okj-unrelated-ca" \
  -keyout other-ca.key -out other-ca.pem 2>/dev/null

sign() { # <name> <subject> <extensions>
  openssl req -newkey rsa:2048 -nodes -sha256 -subj "$2" -keyout "$1.key" -out "$1.csr" 2>/dev/null
  printf '%s\n' "$3" >"$1.ext"
  openssl x509 -req -in "$1.csr" -CA ca.pem -CAkey ca.key -CAcreateserial -days "$days" -sha256 \
    -extfile "$1.ext" -out "$1.pem" 2>/dev/null
  rm -f "$1.csr" "$1.ext"
}
sign broker "/CN=okj-broker" "subjectAltName=IP:127.0.0.1
extendedKeyUsage=serverAuth,clientAuth"
sign client "/CN=okj-client" "extendedKeyUsage=clientAuth"

openssl rand -hex 16 >keystore-password
openssl pkcs12 -export -in broker.pem -inkey broker.key -certfile ca.pem -name broker \
  -passout "file:keystore-password" -out broker.p12
echo okj-client >scram-username
# A password no test or log would produce by chance: the secret-grep test searches output for it.
printf 'okj-scram-%s\n' "$(openssl rand -hex 12)" >scram-password
chmod 644 ca.pem other-ca.pem client.pem
touch .complete

trap - EXIT
cd /
rm -rf "$DEST"
mkdir -p "$(dirname "$DEST")"
mv "$tmp" "$DEST"
echo "$DEST"
