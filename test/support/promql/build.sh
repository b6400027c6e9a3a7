#!/usr/bin/env bash
# Builds (or finds) promql-names, Prometheus' own PromQL parser behind a JSON interface, for the monitoring test
# (test/integration/monitoring.test.ts). Built from the Go module proxy, cached under
# ${KUBELOOP_CACHE_DIR:-${XDG_CACHE_HOME:-~/.cache}/kubeloop}/promql, keyed by a hash of the sources.
#
# Prints the binary's path as the last line of stdout; progress goes to stderr. Exits 3 when Go is missing and
# nothing is cached. Safe for concurrent callers: the build holds a lock and installs its result by rename.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
log() { printf '[promql-names] %s\n' "$*" >&2; }

key=$(cat "$here/main.go" "$here/go.mod" "$here/go.sum" | sha256sum | cut -c1-12)
cache_root=${KUBELOOP_CACHE_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/kubeloop}
dest="$cache_root/promql/promql-names-$key"
if [ -x "$dest" ]; then echo "$dest"; exit 0; fi
if ! command -v go >/dev/null 2>&1; then
  log "Go is not installed and promql-names is not cached: install Go 1.26 or newer"
  exit 3
fi

mkdir -p "$cache_root/promql"
exec 9>"$cache_root/promql/.build.lock"
flock 9
if [ -x "$dest" ]; then echo "$dest"; exit 0; fi
export CGO_ENABLED=0 GOFLAGS=-mod=mod GOTOOLCHAIN=local
started=$SECONDS
log "building Prometheus' PromQL parser (about a minute on a cold cache)"
tmp=$(mktemp "$cache_root/promql/.promql-names-XXXXXX")
trap 'rm -f "$tmp"' EXIT
(cd "$here" && go build -trimpath -ldflags "-s -w" -o "$tmp" .)
chmod 0755 "$tmp" && mv "$tmp" "$dest"
trap - EXIT
log "done in $((SECONDS - started))s: $dest"
echo "$dest"
