#!/usr/bin/env bash
# Vets and tests the Go binding against a built libx8, with the race detector and cgo's pointer checks on.
#
#   X8_LIB_DIR=<dir with libx8.so> X8_INCLUDE_DIR=<dir with x8.h> X8_EMULATOR=<x8-emulator> bash bindings/go/test.sh
#
# Installs a Go toolchain and a C compiler through apt when the machine lacks them. Needs no Go modules.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
: "${X8_LIB_DIR:?X8_LIB_DIR must name the directory holding libx8.so}"
: "${X8_INCLUDE_DIR:?X8_INCLUDE_DIR must name the directory holding x8.h}"
: "${X8_EMULATOR:?X8_EMULATOR must name the x8-emulator binary}"
lib_dir="$(cd "$X8_LIB_DIR" && pwd)"
include_dir="$(cd "$X8_INCLUDE_DIR" && pwd)"
emulator="$(cd "$(dirname "$X8_EMULATOR")" && pwd)/$(basename "$X8_EMULATOR")"
[[ -f "$lib_dir/libx8.so" ]] || { echo "test.sh: no libx8.so in $lib_dir" >&2; exit 1; }
[[ -f "$include_dir/x8.h" ]] || { echo "test.sh: no x8.h in $include_dir" >&2; exit 1; }
[[ -x "$emulator" ]] || { echo "test.sh: $emulator is not executable" >&2; exit 1; }

min_go_minor=24 # runtime.AddCleanup

apt_updated=0
apt_install() {
    if [[ $apt_updated == 0 ]]; then
        apt-get update -qq
        apt_updated=1
    fi
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "$@" >/dev/null
}

# go_minor prints the minor version of the go on PATH (24 for go1.24.x), or 0 when there is none.
go_minor() {
    local v
    v="$(go env GOVERSION 2>/dev/null || true)"
    [[ "$v" =~ ^go1\.([0-9]+) ]] && echo "${BASH_REMATCH[1]}" || echo 0
}

# A toolchain: the one on PATH, the official install in /usr/local/go, or Debian's.
export PATH="$PATH:/usr/local/go/bin"
if [[ $(go_minor) == 0 ]]; then
    apt_install golang-go
    export PATH="$PATH:/usr/lib/go/bin"
fi
if (( $(go_minor) < min_go_minor )); then
    # Debian 12 ships Go 1.19 (backports 1.23). A Go of 1.21 or later can run a newer release fetched from
    # the Go module proxy; an older one cannot, and then there is nothing more apt can do.
    if (( $(go_minor) < 21 )); then
        echo "test.sh: Go 1.$min_go_minor or later is needed; found $(go env GOVERSION 2>/dev/null || echo none)" >&2
        exit 1
    fi
    export GOTOOLCHAIN="go1.$min_go_minor.0"
else
    export GOTOOLCHAIN=local # never download a toolchain when this one will do
    export GOPROXY=off       # and no modules: the binding uses only the standard library
fi
command -v gcc >/dev/null || apt_install gcc libc6-dev

export GOFLAGS="-mod=mod"
export CGO_ENABLED=1
# The environment's flags come before the package's #cgo ones, so this x8.h is the one compiled against.
export CGO_CFLAGS="-O2 -g -I$include_dir"
export CGO_LDFLAGS="-L$lib_dir -Wl,-rpath,$lib_dir"
export LD_LIBRARY_PATH="$lib_dir${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}"
# cgocheck=1 checks the memory each argument points to for Go pointers; the cgocheck2 runtime also traps any Go
# pointer stored into C memory. It costs one build of the standard library per cache (about a minute).
export GODEBUG="cgocheck=1"
export GOEXPERIMENT=cgocheck2
export X8_EMULATOR="$emulator"
# Without HOME the go command has no build cache ("off"), and it needs one: use a temporary one.
if [[ "$(go env GOCACHE 2>/dev/null)" =~ ^(|off)$ ]]; then
    GOCACHE="$(mktemp -d)"
    export GOCACHE
    trap 'rm -rf "$GOCACHE"' EXIT
fi

cd "$here"
echo "go binding: $(go version), libx8 from $lib_dir"
unformatted="$(gofmt -l .)"
if [[ -n "$unformatted" ]]; then
    echo "test.sh: gofmt would change: $unformatted" >&2
    exit 1
fi
go vet ./...
go test -race -count=1 ./...
