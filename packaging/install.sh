#!/usr/bin/env bash
# `make install`: installs libx8 like a C library — libx8.so.VERSION with its soname and symlinks, libx8.a, the C
# and C++ headers, a pkg-config file, a CMake package (x8::x8) and the x8 CLI — under PREFIX (default /usr/local),
# staged under DESTDIR when set. Builds the release artifacts first unless X8_NO_BUILD=1.
set -euo pipefail
cd "$(dirname "$0")/.."

PREFIX=${PREFIX:-/usr/local}
DESTDIR=${DESTDIR:-}
LIBDIR=${LIBDIR:-$PREFIX/lib}
INCLUDEDIR=${INCLUDEDIR:-$PREFIX/include}
BINDIR=${BINDIR:-$PREFIX/bin}
TARGET_DIR=${CARGO_TARGET_DIR:-target}/release

VERSION=$(sed -n 's/^version = "\(.*\)"/\1/p' Cargo.toml | head -1)
MAJOR=${VERSION%%.*}

if [[ "${X8_NO_BUILD:-0}" != 1 ]]; then
  cargo build --release --locked -p x8 -p x8-cli
fi

lib=$DESTDIR$LIBDIR
install -d "$lib" "$lib/pkgconfig" "$lib/cmake/x8" "$DESTDIR$INCLUDEDIR/x8" "$DESTDIR$BINDIR"
install -m 0755 "$TARGET_DIR/libx8.so" "$lib/libx8.so.$VERSION"
ln -sfn "libx8.so.$VERSION" "$lib/libx8.so.$MAJOR"
ln -sfn "libx8.so.$MAJOR" "$lib/libx8.so"
install -m 0644 "$TARGET_DIR/libx8.a" "$lib/libx8.a"
install -m 0644 include/x8.h "$DESTDIR$INCLUDEDIR/x8.h"
if [[ -f bindings/cpp/include/x8/x8.hpp ]]; then
  install -m 0644 bindings/cpp/include/x8/*.hpp "$DESTDIR$INCLUDEDIR/x8/" # x8.hpp and pager.hpp
fi
install -m 0755 "$TARGET_DIR/x8" "$DESTDIR$BINDIR/x8"

fill() { # fill TEMPLATE DEST: substitutes the @VARIABLES@ of a template.
  sed -e "s|@PREFIX@|$PREFIX|g" -e "s|@LIBDIR@|$LIBDIR|g" -e "s|@INCLUDEDIR@|$INCLUDEDIR|g" \
    -e "s|@VERSION@|$VERSION|g" -e "s|@MAJOR@|$MAJOR|g" "$1" >"$2"
  chmod 0644 "$2"
}
fill packaging/x8.pc.in "$lib/pkgconfig/x8.pc"
fill packaging/x8Config.cmake.in "$lib/cmake/x8/x8Config.cmake"
fill packaging/x8ConfigVersion.cmake.in "$lib/cmake/x8/x8ConfigVersion.cmake"

echo "installed x8 $VERSION under ${DESTDIR}${PREFIX}"
