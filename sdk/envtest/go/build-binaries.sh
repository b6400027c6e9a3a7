#!/usr/bin/env bash
# Builds (or finds) the control-plane binaries for sdk/envtest: kube-apiserver, kubectl and etcd.
#
# Prints the folder that holds them (the KUBEBUILDER_ASSETS convention) as the last line of stdout;
# progress goes to stderr. Order of preference:
#   1. $KUBEBUILDER_ASSETS, when it names a folder with kube-apiserver and etcd (kubectl optional);
#   2. the cache: $KUBELOOP_CACHE_DIR, else ${XDG_CACHE_HOME:-~/.cache}/kubeloop, keyed by the versions and
#      by a hash of the wrapper modules, so a version bump builds afresh and an unchanged tree never rebuilds;
#   3. a build from the wrapper modules beside this script, with the Go module proxy.
# Idempotent, and safe for concurrent callers: the build holds a lock and installs its result by rename.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
log() { printf '[envtest] %s\n' "$*" >&2; }
has_binaries() { [ -x "$1/kube-apiserver" ] && [ -x "$1/etcd" ]; }

if [ -n "${KUBEBUILDER_ASSETS:-}" ]; then
  if has_binaries "$KUBEBUILDER_ASSETS"; then
    log "using KUBEBUILDER_ASSETS=$KUBEBUILDER_ASSETS"
    echo "$KUBEBUILDER_ASSETS"; exit 0
  fi
  log "KUBEBUILDER_ASSETS=$KUBEBUILDER_ASSETS has no kube-apiserver and etcd; building them instead"
fi

kube_version=$(cat "$here/KUBE_VERSION")
etcd_version=$(cat "$here/ETCD_VERSION")
key=$(cat "$here/kube/go.mod" "$here/kube/go.sum" "$here/etcd/go.mod" "$here/etcd/go.sum" "$here/etcd/main.go" |
  sha256sum | cut -c1-12)
cache_root=${KUBELOOP_CACHE_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/kubeloop}
dest="$cache_root/envtest/kubernetes-$kube_version-etcd-$etcd_version-$key"

if has_binaries "$dest" && [ -x "$dest/kubectl" ]; then
  log "cached binaries in $dest"
  echo "$dest"; exit 0
fi

if ! command -v go >/dev/null 2>&1; then
  log "Go is not installed, and the control-plane binaries are neither cached nor in KUBEBUILDER_ASSETS."
  log "Install Go 1.26 or newer (it builds kube-apiserver $kube_version and etcd $etcd_version from the Go module"
  log "proxy), or set KUBEBUILDER_ASSETS to a folder holding kube-apiserver, etcd and kubectl."
  exit 3
fi

mkdir -p "$cache_root/envtest"
exec 9>"$cache_root/envtest/.build.lock"
if ! flock -n 9; then
  log "another build holds $cache_root/envtest/.build.lock; waiting for it"
  flock 9
fi
if has_binaries "$dest" && [ -x "$dest/kubectl" ]; then
  log "cached binaries in $dest (built by a concurrent caller)"
  echo "$dest"; exit 0
fi

work=$(mktemp -d "$cache_root/envtest/.build-XXXXXX")
trap 'rm -rf "$work"' EXIT
export CGO_ENABLED=0 GOFLAGS=-mod=mod
started=$SECONDS
phase_start=$SECONDS
phase() { log "$1 took $((SECONDS - phase_start))s"; phase_start=$SECONDS; }

# Compiling thousands of packages is quiet; show how many are done out of how many.
build_with_progress() { # label dir total args...
  local label=$1 dir=$2 total=$3; shift 3
  (cd "$dir" && go build -v "$@" 2>&1) | {
    local n=0 last=$SECONDS line
    while IFS= read -r line; do
      case "$line" in
        "#"*|*.go:*|go:*) printf '%s\n' "$line" >&2 ;;
        *) n=$((n + 1)) ;;
      esac
      if (( SECONDS - last >= 15 )); then
        log "$label: compiled $n of at most $total packages ($((SECONDS - phase_start))s)"; last=$SECONDS
      fi
    done
  }
  return "${PIPESTATUS[0]}"
}

log "building kube-apiserver and kubectl $kube_version and etcd $etcd_version into $dest"
log "downloading Go modules"
(cd "$here/kube" && go mod download) && (cd "$here/etcd" && go mod download)
phase "module download"

build_date=$(date -u +%Y-%m-%dT%H:%M:%SZ)
minor=${kube_version#v1.}; minor=${minor%%.*}
ldflags="-s -w"
for pkg in k8s.io/component-base/version k8s.io/client-go/pkg/version; do
  ldflags+=" -X $pkg.gitVersion=$kube_version -X $pkg.gitMajor=1 -X $pkg.gitMinor=$minor"
  ldflags+=" -X $pkg.gitTreeState=clean -X $pkg.buildDate=$build_date"
done
kube_total=$(cd "$here/kube" && go list -deps k8s.io/kubernetes/cmd/kube-apiserver k8s.io/kubernetes/cmd/kubectl | wc -l)
log "compiling kube-apiserver and kubectl in one go build ($kube_total packages; minutes on a cold cache)"
build_with_progress "kube-apiserver+kubectl" "$here/kube" "$kube_total" -trimpath -ldflags "$ldflags" -o "$work/" \
  k8s.io/kubernetes/cmd/kube-apiserver k8s.io/kubernetes/cmd/kubectl
phase "kube-apiserver+kubectl build"

etcd_total=$(cd "$here/etcd" && go list -deps . | wc -l)
log "compiling etcd ($etcd_total packages)"
build_with_progress "etcd" "$here/etcd" "$etcd_total" -trimpath -ldflags "-s -w" -o "$work/etcd" .
phase "etcd build"

chmod 0755 "$work" "$work"/kube-apiserver "$work"/kubectl "$work"/etcd
rm -rf "$dest.tmp" && mv "$work" "$dest.tmp" && mv -T "$dest.tmp" "$dest"
trap - EXIT
log "done in $((SECONDS - started))s: $dest"
echo "$dest"
