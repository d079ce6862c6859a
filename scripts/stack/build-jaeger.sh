#!/usr/bin/env bash
# Builds Jaeger v2 (cmd/jaeger) from its Go module into a version-keyed cache directory.
#
# The Go module proxy here serves github.com/jaegertracing/jaeger v1.76.0, the tag released together with
# Jaeger v2.13.0. `go install pkg@version` refuses modules with `replace` directives, so we build through a
# wrapper module whose go.mod/go.sum are Jaeger's own (replace directives included). Some checksum-database
# lookups fail here, so every dependency hash comes from Jaeger's go.sum and Jaeger's own hash is pinned
# below instead of being asked of the checksum database.
#
# Idempotent: prints the binary path and exits at once when the binary already exists.
set -euo pipefail

JAEGER_MODULE_VERSION="${JAEGER_MODULE_VERSION:-v1.76.0}"
# h1 hash of github.com/jaegertracing/jaeger@v1.76.0 as served by the module proxy.
JAEGER_MODULE_SUM_v1_76_0="h1:sWCOOF1dr+NL0PLil7mFo3BqqQL8k4WiM7aguFbc14g="
CACHE_ROOT="${OKJ_CACHE_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/otel-kafka-jaeger}"
DEST="$CACHE_ROOT/jaeger/$JAEGER_MODULE_VERSION"
BIN="$DEST/bin/jaeger"

if [[ -x "$BIN" ]]; then
  echo "$BIN"
  exit 0
fi

command -v go >/dev/null || { echo "build-jaeger: 'go' is not on PATH; install Go >= 1.24" >&2; exit 1; }

export GOFLAGS="-mod=mod"
export GONOSUMDB="*"
export GONOSUMCHECK=1
export GOSUMDB=off
export GOTOOLCHAIN=local

echo "build-jaeger: downloading github.com/jaegertracing/jaeger@$JAEGER_MODULE_VERSION" >&2
info=$(cd /tmp && go mod download -json "github.com/jaegertracing/jaeger@$JAEGER_MODULE_VERSION")
moddir=$(printf '%s' "$info" | sed -n 's/^[[:space:]]*"Dir": "\(.*\)",\{0,1\}$/\1/p')
modsum=$(printf '%s' "$info" | sed -n 's/^[[:space:]]*"Sum": "\(.*\)",\{0,1\}$/\1/p')
[[ -n "$moddir" && -f "$moddir/go.mod" ]] || { echo "build-jaeger: module download failed: $info" >&2; exit 1; }
pinned_var="JAEGER_MODULE_SUM_${JAEGER_MODULE_VERSION//./_}"
pinned="${!pinned_var:-}"
if [[ -n "$pinned" && "$pinned" != "$modsum" ]]; then
  echo "build-jaeger: hash mismatch for jaeger@$JAEGER_MODULE_VERSION: got $modsum, expected $pinned" >&2
  exit 1
fi

work="$DEST/wrapper"
rm -rf "$work"
mkdir -p "$work" "$DEST/bin"
sed 's#^module .*#module okj.local/jaeger-wrapper#' "$moddir/go.mod" >"$work/go.mod"
printf '\nrequire github.com/jaegertracing/jaeger %s\n' "$JAEGER_MODULE_VERSION" >>"$work/go.mod"
cp "$moddir/go.sum" "$work/go.sum"
chmod u+w "$work/go.mod" "$work/go.sum"
printf 'github.com/jaegertracing/jaeger %s %s\n' "$JAEGER_MODULE_VERSION" "$modsum" >>"$work/go.sum"
# The replace directives in Jaeger's go.mod may point at relative paths inside its repository; make them
# absolute against the downloaded module so they resolve from the wrapper.
sed -i -E "s#=> \./#=> $moddir/#" "$work/go.mod"

echo "build-jaeger: building cmd/jaeger (a cold build takes about 5 minutes on 2 cores)" >&2
(cd "$work" && go build -trimpath -o "$BIN.tmp" github.com/jaegertracing/jaeger/cmd/jaeger)
mv "$BIN.tmp" "$BIN"
echo "$BIN"
