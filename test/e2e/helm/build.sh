#!/usr/bin/env bash
# Builds (or finds) Helm v4 for the scaffold's chart tests (test/e2e, test/integration/cli-helm): helm.sh/helm/v4/cmd/helm
# at the version pinned in go.mod beside this script, from the Go module proxy.
#
# Prints the binary's path as the last line of stdout; progress goes to stderr. Order of preference:
#   1. $KUBELOOP_HELM, when it names an executable;
#   2. the cache: $KUBELOOP_CACHE_DIR, else ${XDG_CACHE_HOME:-~/.cache}/kubeloop, keyed by the version and by a hash of
#      the wrapper module, so a version bump builds afresh and an unchanged tree never rebuilds;
#   3. a build from the wrapper module beside this script.
# Exits 3 when Go is missing and nothing is cached. Safe for concurrent callers: the build holds a lock and installs
# its result by rename.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
. "$here/../../../sdk/envtest/go/go-build.sh"
log() { printf '[helm] %s\n' "$*" >&2; }

if [ -n "${KUBELOOP_HELM:-}" ]; then
  if [ -x "$KUBELOOP_HELM" ]; then
    log "using KUBELOOP_HELM=$KUBELOOP_HELM"
    echo "$KUBELOOP_HELM"; exit 0
  fi
  log "KUBELOOP_HELM=$KUBELOOP_HELM is not an executable; building Helm instead"
fi

version=$(awk '$1 == "helm.sh/helm/v4" { print $2 }' "$here/go.mod")
key=$(cat "$here/go.mod" "$here/go.sum" | sha256sum | cut -c1-12)
cache_root=${KUBELOOP_CACHE_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/kubeloop}
dest="$cache_root/helm/helm-$version-$key"

if [ -x "$dest" ]; then
  log "cached helm $version in $dest"
  echo "$dest"; exit 0
fi
if ! command -v go >/dev/null 2>&1; then
  log "Go is not installed and Helm $version is not cached: install Go 1.26 or newer (it builds Helm from the Go"
  log "module proxy), or set KUBELOOP_HELM to a Helm v4 binary"
  exit 3
fi

mkdir -p "$cache_root/helm"
exec 9>"$cache_root/helm/.build.lock"
if ! flock -n 9; then
  log "another build holds $cache_root/helm/.build.lock; waiting for it"
  flock 9
fi
if [ -x "$dest" ]; then
  log "cached helm $version in $dest (built by a concurrent caller)"
  echo "$dest"; exit 0
fi

export CGO_ENABLED=0 GOFLAGS=-mod=mod GOTOOLCHAIN=local
started=$SECONDS
log "downloading Go modules (helm.sh/helm/v4 $version)"
(cd "$here" && go mod download)
go_build_install "$here" helm.sh/helm/v4/cmd/helm "$dest" "helm $version" "-s -w -X helm.sh/helm/v4/internal/version.version=$version -X helm.sh/helm/v4/internal/version.gitTreeState=clean"
