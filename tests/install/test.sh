#!/usr/bin/env bash
# Installs x8 into a temporary prefix (with DESTDIR staging), then builds and runs against the emulator: a C
# program through pkg-config (shared and static), a C++ program through CMake's find_package, and checks the
# soname, the symlinks and that only x8_ symbols are exported.
set -euo pipefail
cd "$(dirname "$0")/../.."
ROOT=$PWD
RELEASE=$(realpath -m "${CARGO_TARGET_DIR:-$ROOT/target}")/release
work=$(mktemp -d)
trap 'rm -rf "$work"; [[ -n "${EMU_PID:-}" ]] && kill "$EMU_PID" 2>/dev/null || true' EXIT

prefix=/opt/x8-test
X8_NO_BUILD=1 PREFIX=$prefix DESTDIR=$work/stage bash packaging/install.sh
root=$work/stage$prefix
lib=$root/lib

# Shape of the installed library.
[[ "$(readlink "$lib/libx8.so")" == libx8.so.0 ]]
[[ "$(readlink "$lib/libx8.so.0")" == libx8.so.0.* ]]
readelf -d "$lib/libx8.so.0" | grep -q 'SONAME.*\[libx8.so.0\]'
others=$(nm -D --defined-only "$lib/libx8.so.0" | awk '{print $3}' | grep -v '^x8_' || true)
if [[ -n "$others" ]]; then
  echo "symbols other than x8_ are exported:"
  echo "$others"
  exit 1
fi
echo "soname libx8.so.0, symlinks, and only x8_ symbols exported: ok"

# The pkg-config file points at the prefix; rewrite it to the staged copy (what a packager's sysroot does).
export PKG_CONFIG_PATH=$work/pc
mkdir -p "$work/pc"
sed "s|^prefix=.*|prefix=$root|; s|^libdir=.*|libdir=$lib|; s|^includedir=.*|includedir=$root/include|" \
  "$lib/pkgconfig/x8.pc" >"$work/pc/x8.pc"
pkg-config --exists --print-errors 'x8 >= 0.1'

coproc EMU { exec "$RELEASE/x8-emulator" --port 0 --exit-on-stdin-eof; }
read -r base_url <&"${EMU[0]}"
export X8_CLIENT_ID=demo-client X8_CLIENT_SECRET=demo-secret X8_BASE_URL=$base_url

# shellcheck disable=SC2046
cc -std=c99 -Wall -Werror tests/install/hello.c $(pkg-config --cflags --libs x8) -Wl,-rpath,"$lib" -o "$work/hello"
"$work/hello"
ldd "$work/hello" | grep -q 'libx8.so.0 =>'
echo "C through pkg-config (shared): ok"

# Static: libx8.a plus the Libs.private that pkg-config --static adds.
# shellcheck disable=SC2046
cc -std=c99 -Wall -Werror tests/install/hello.c $(pkg-config --cflags x8) "$lib/libx8.a" \
  $(pkg-config --static --libs-only-l x8 | sed 's/-lx8//') -o "$work/hello_static"
"$work/hello_static"
if ldd "$work/hello_static" | grep -q libx8; then
  echo "the static build still loads libx8.so"
  exit 1
fi
echo "C through pkg-config --static: ok"

cmake -S tests/install -B "$work/cmake" -DCMAKE_PREFIX_PATH="$root" -DCMAKE_BUILD_TYPE=Release >/dev/null
cmake --build "$work/cmake" >/dev/null
"$work/cmake/hello_cpp"
echo "C++ through CMake find_package(x8): ok"

"$root/bin/x8" token >/dev/null
echo "installed x8 CLI: ok"

# Go: the binding built with -tags x8_pkgconfig finds the installed header and library through x8.pc.
if command -v go >/dev/null || [[ -x /usr/local/go/bin/go ]]; then
  export PATH=$PATH:/usr/local/go/bin GOFLAGS=-mod=mod GOTOOLCHAIN=local GOPROXY=off
  (cd bindings/go && CGO_LDFLAGS="-Wl,-rpath,$lib" X8_EMULATOR=$RELEASE/x8-emulator \
    go test -tags x8_pkgconfig -count=1 -run 'TestVersionMatchesHeader|TestDoPagesThroughQueues' .)
  echo "Go through pkg-config: ok"
else
  echo "Go is missing: the Go binding cannot be checked against the installed library"
  exit 1
fi
