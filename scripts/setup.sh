#!/usr/bin/env bash
# Installs what this repository needs on a fresh Debian machine, and only what is missing:
#  - the Debian dev packages @confluentinc/kafka-javascript needs to build librdkafka from source
#    (its prebuilt-binary download is unreachable here);
#  - node modules, with CKJS_LINKING=dynamic so the native build links the system libraries instead of
#    downloading their sources;
#  - a check that the native module really was built (npm may warn about install scripts and still build).
# Idempotent and quick when everything is already there.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

log() { printf 'setup: %s\n' "$*" >&2; }

# openssl: the stack's TLS certificates (scripts/stack/make-certs.sh).
DEB_PACKAGES=(libssl-dev libsasl2-dev zlib1g-dev libzstd-dev liblz4-dev libcurl4-openssl-dev openssl)
missing=()
for pkg in "${DEB_PACKAGES[@]}"; do
  dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q 'install ok installed' || missing+=("$pkg")
done
if ((${#missing[@]})); then
  log "installing Debian packages: ${missing[*]}"
  sudo_cmd=()
  [[ $(id -u) -eq 0 ]] || sudo_cmd=(sudo)
  "${sudo_cmd[@]}" apt-get update -qq
  DEBIAN_FRONTEND=noninteractive "${sudo_cmd[@]}" apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

NATIVE=node_modules/@confluentinc/kafka-javascript/build/Release/confluent-kafka-javascript.node
stamp=node_modules/.okj-setup-stamp
lock_sum=$(sha256sum package-lock.json package.json | sha256sum | cut -c1-16)
if [[ -f "$NATIVE" && -f "$stamp" && "$(cat "$stamp")" == "$lock_sum" ]]; then
  log "node modules up to date"
else
  log "installing node modules (building the native Kafka client takes about 2 minutes)"
  export CKJS_LINKING=dynamic
  # Not `npm ci`: the registry reachable here serves only some platforms' optional packages (no darwin or
  # win32 builds of @swc/core, rollup, ...), so the lockfile cannot list them and `npm ci` refuses it as out
  # of sync. `npm install --no-save` installs the locked versions just the same.
  npm install --no-save --no-audit --no-fund --loglevel=error
  if [[ ! -f "$NATIVE" ]]; then
    log "the native Kafka client was not built ($NATIVE is missing); rebuilding it"
    npm rebuild @confluentinc/kafka-javascript --foreground-scripts
  fi
  [[ -f "$NATIVE" ]] || { log "FAILED: $NATIVE was not built"; exit 1; }
  echo "$lock_sum" >"$stamp"
fi
node -e "require('@confluentinc/kafka-javascript')" || { log "FAILED: @confluentinc/kafka-javascript does not load"; exit 1; }
log "ok"
