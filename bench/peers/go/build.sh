#!/usr/bin/env bash
# Builds the Go peer (client-go v0.37.2, controller-runtime v0.25.2) into a cache outside the repository and prints
# the binary's path. Rebuilds only when a .go file, go.mod or go.sum changed.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
export GOTOOLCHAIN=local GOFLAGS=-mod=mod
out="${KUBELOOP_BENCH_CACHE:-$HOME/.cache/kubeloop/bench}"
mkdir -p "$out"
sum="$(cat "$here"/*.go "$here/go.mod" "$here/go.sum" 2>/dev/null | sha256sum | cut -c1-16)"
bin="$out/peer-go-$sum"
if [ ! -x "$bin" ]; then
  (cd "$here" && CGO_ENABLED=0 go build -trimpath -o "$bin.tmp" . && mv "$bin.tmp" "$bin")
fi
echo "$bin"
