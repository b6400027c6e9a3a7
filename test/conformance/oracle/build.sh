#!/usr/bin/env bash
# Builds (or finds) the client-go oracle of the differential suite (test/conformance): a Go program on client-go and
# apimachinery v0.37.2, from the Go module proxy.
#
# Prints the binary's path as the last line of stdout; progress goes to stderr. Order of preference:
#   1. $KUBELOOP_CONFORMANCE_ORACLE, when it names an executable;
#   2. the cache: $KUBELOOP_CACHE_DIR, else ${XDG_CACHE_HOME:-~/.cache}/kubeloop, keyed by a hash of the sources, so
#      an unchanged tree never rebuilds;
#   3. a build from the sources beside this script.
# Exits 3 when Go is missing and nothing is cached. Safe for concurrent callers: the build holds a lock and installs
# its result by rename.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
. "$here/../../../sdk/envtest/go/go-build.sh"
log() { printf '[conformance-oracle] %s\n' "$*" >&2; }

if [ -n "${KUBELOOP_CONFORMANCE_ORACLE:-}" ]; then
  if [ -x "$KUBELOOP_CONFORMANCE_ORACLE" ]; then
    log "using KUBELOOP_CONFORMANCE_ORACLE=$KUBELOOP_CONFORMANCE_ORACLE"
    echo "$KUBELOOP_CONFORMANCE_ORACLE"; exit 0
  fi
  log "KUBELOOP_CONFORMANCE_ORACLE=$KUBELOOP_CONFORMANCE_ORACLE is not an executable; building the oracle instead"
fi

key=$(cat "$here"/*.go "$here/go.mod" "$here/go.sum" | sha256sum | cut -c1-12)
cache_root=${KUBELOOP_CACHE_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/kubeloop}
dest="$cache_root/conformance/oracle-client-go-v0.37.2-$key"

if [ -x "$dest" ]; then
  log "cached oracle $dest"
  echo "$dest"; exit 0
fi
if ! command -v go >/dev/null 2>&1; then
  log "Go is not installed and the oracle is not cached: install Go 1.26 or newer, or set KUBELOOP_CONFORMANCE_ORACLE"
  exit 3
fi

mkdir -p "$cache_root/conformance"
exec 9>"$cache_root/conformance/.build.lock"
if ! flock -n 9; then
  log "another build holds $cache_root/conformance/.build.lock; waiting for it"
  flock 9
fi
if [ -x "$dest" ]; then
  log "cached oracle $dest (built by a concurrent caller)"
  echo "$dest"; exit 0
fi

export CGO_ENABLED=0 GOFLAGS=-mod=mod GOTOOLCHAIN=local
started=$SECONDS
log "downloading Go modules (client-go and apimachinery v0.37.2)"
(cd "$here" && go mod download)
go_build_install "$here" . "$dest" "the oracle" "-s -w"
