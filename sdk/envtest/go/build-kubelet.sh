#!/usr/bin/env bash
# Builds (or finds) sdk/envtest's test kubelet (startControlPlane({ kubelet: true })): the Go program in kubelet/,
# on client-go and the kubelet's streaming library (k8s.io/cri-streaming) at the control plane's versions.
#
# Prints the binary's path as the last line of stdout; progress goes to stderr. Order of preference:
#   1. $KUBELOOP_KUBELET, when it names an executable;
#   2. the cache beside the control-plane binaries: $KUBELOOP_CACHE_DIR, else ${XDG_CACHE_HOME:-~/.cache}/kubeloop,
#      keyed by a hash of the sources, so an unchanged tree never rebuilds;
#   3. a build from the sources in kubelet/, with the Go module proxy (its modules are the control plane's, so a
#      build cache warmed by build-binaries.sh makes it a matter of seconds; cold, it compiles some 740 packages).
# Exits 3 when Go is missing and nothing is cached. Safe for concurrent callers: the build holds a lock and installs
# its result by rename.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
. "$here/go-build.sh"
src="$here/kubelet"
log() { printf '[envtest-kubelet] %s\n' "$*" >&2; }

if [ -n "${KUBELOOP_KUBELET:-}" ]; then
  if [ -x "$KUBELOOP_KUBELET" ]; then
    log "using KUBELOOP_KUBELET=$KUBELOOP_KUBELET"
    echo "$KUBELOOP_KUBELET"; exit 0
  fi
  log "KUBELOOP_KUBELET=$KUBELOOP_KUBELET is not an executable; building the test kubelet instead"
fi

kube_version=$(cat "$here/KUBE_VERSION")
key=$(cat "$src"/*.go "$src/go.mod" "$src/go.sum" | sha256sum | cut -c1-12)
cache_root=${KUBELOOP_CACHE_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/kubeloop}
dest="$cache_root/envtest/kubelet-$kube_version-$key"

if [ -x "$dest" ]; then
  log "cached test kubelet $dest"
  echo "$dest"; exit 0
fi
if ! command -v go >/dev/null 2>&1; then
  log "Go is not installed and the test kubelet is not cached: install Go 1.26 or newer, or set KUBELOOP_KUBELET"
  exit 3
fi

mkdir -p "$cache_root/envtest"
exec 9>"$cache_root/envtest/.kubelet.lock"
if ! flock -n 9; then
  log "another build holds $cache_root/envtest/.kubelet.lock; waiting for it"
  flock 9
fi
if [ -x "$dest" ]; then
  log "cached test kubelet $dest (built by a concurrent caller)"
  echo "$dest"; exit 0
fi

export CGO_ENABLED=0 GOFLAGS=-mod=mod
started=$SECONDS
log "downloading Go modules (client-go and cri-streaming $kube_version's twins)"
(cd "$src" && go mod download)
go_build_install "$src" . "$dest" "the test kubelet" "-s -w -X main.defaultKubeletVersion=$kube_version"
