# Sourced by the scripts that build kubeloop's Go helpers (the test kubelet, the conformance oracle, Helm): the part
# they share, after each has found nothing in its cache and taken its lock.
#
#   go_build_install <module dir> <package> <dest> <what> <ldflags>
#
# Compiles <package> of the module in <module dir> into a temporary file beside <dest> and installs it there by
# rename, so a concurrent reader never sees half a binary. go build -v names each package it compiles: they are
# counted, and how far it got is said every 15 s on stderr (through the caller's `log`). The caller's `set -euo
# pipefail` stops the script when the build fails; the compiler's errors are passed on. Prints <dest> as the last line
# of stdout. Expects the caller's `log` function and `started` (the $SECONDS its work began at).
go_build_install() {
  local dir=$1 pkg=$2 dest=$3 what=$4 ldflags=$5 total tmp
  total=$(cd "$dir" && go list -deps "$pkg" | wc -l)
  log "modules ready after $((SECONDS - started))s; compiling $what ($total packages; minutes on a cold cache)"
  tmp=$(mktemp "$(dirname "$dest")/.build-XXXXXX")
  # shellcheck disable=SC2064 # the file's name is fixed now
  trap "rm -f '$tmp'" EXIT
  (cd "$dir" && go build -v -trimpath -ldflags "$ldflags" -o "$tmp" "$pkg" 2>&1) | {
    local n=0 last=$SECONDS line
    while IFS= read -r line; do
      case "$line" in
        "#"*|*.go:*|go:*) printf '%s\n' "$line" >&2 ;;
        *) n=$((n + 1)) ;;
      esac
      if (( SECONDS - last >= 15 )); then log "compiled $n of at most $total packages"; last=$SECONDS; fi
    done
  }
  chmod 0755 "$tmp" && mv "$tmp" "$dest"
  trap - EXIT
  log "done in $((SECONDS - started))s: $dest"
  echo "$dest"
}
