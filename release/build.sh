#!/usr/bin/env bash
# Builds x8's Linux release: libx8.so, libx8.a and the x8 CLI linked against glibc 2.17 (so they load on
# RHEL/CentOS 7 and 8, Ubuntu 20.04 and everything newer), packed with the headers, a pkg-config file, a CMake
# package, README.md and LICENSE into
#   $X8_DIST_DIR/x8-<version>-x86_64-linux-gnu.2.17.tar.gz   (+ .sha256; X8_DIST_DIR defaults to release/dist)
#
# The cross-link is `cargo zigbuild --target x86_64-unknown-linux-gnu.2.17`: zig's linker links against glibc
# 2.17's symbol versions instead of the host's. zig and cargo-zigbuild are installed by this script when
# missing, from PyPI into a virtual environment outside the repository ($X8_RELEASE_TOOLS, default
# ~/.cache/x8-release-tools). Then run release/check.sh to verify the tarball.
#
# Environment: CARGO_TARGET_DIR (default: the repository's target/), X8_DIST_DIR, X8_RELEASE_TOOLS,
# X8_RELEASE_KEEP_DEBUG=1 to ship the binaries with their debug info (default: stripped with strip --strip-debug;
# symbol tables are kept), SOURCE_DATE_EPOCH (default: the last commit's time) for the tarball's timestamps.
set -euo pipefail
. "$(dirname "${BASH_SOURCE[0]}")/common.sh"
cd "$ROOT"
start=$SECONDS

step() { echo "--- $* ($((SECONDS - start)) s)"; }

# --- tools ------------------------------------------------------------------------------------------------
install_packages binutils
# The tools' virtual environment needs Python 3 with venv and ensurepip (Debian splits them into python3-venv).
if ! python3 -c 'import venv, ensurepip' >/dev/null 2>&1; then install_packages python3 python3-venv; fi
for tool in cargo python3 strip readelf objdump sha256sum tar gzip; do
  command -v "$tool" >/dev/null || { echo "build.sh: $tool is missing" >&2; exit 1; }
done

tools_ok() {
  [[ -x $TOOLS_DIR/bin/cargo-zigbuild && -x $TOOLS_DIR/bin/python3 ]] &&
    [[ $("$TOOLS_DIR/bin/cargo-zigbuild" --version 2>/dev/null) == "cargo-zigbuild $CARGO_ZIGBUILD_VERSION" ]] &&
    [[ $("$TOOLS_DIR/bin/python3" -m ziglang version 2>/dev/null) == "$ZIGLANG_VERSION" ]]
}
if ! tools_ok; then
  step "installing ziglang $ZIGLANG_VERSION and cargo-zigbuild $CARGO_ZIGBUILD_VERSION into $TOOLS_DIR"
  rm -rf "$TOOLS_DIR"
  python3 -m venv "$TOOLS_DIR"
  "$TOOLS_DIR/bin/python3" -m pip install -q --disable-pip-version-check \
    "ziglang==$ZIGLANG_VERSION" "cargo-zigbuild==$CARGO_ZIGBUILD_VERSION"
  tools_ok || { echo "build.sh: the tools in $TOOLS_DIR do not answer with the pinned versions" >&2; exit 1; }
fi
export PATH=$TOOLS_DIR/bin:$PATH
# cargo-zigbuild would take any zig on PATH first; point it at the pinned one (the ziglang wheel's binary).
CARGO_ZIGBUILD_ZIG_PATH=$("$TOOLS_DIR/bin/python3" -c \
  'import os, ziglang; print(os.path.join(os.path.dirname(ziglang.__file__), "zig"))')
export CARGO_ZIGBUILD_ZIG_PATH

# --- build ------------------------------------------------------------------------------------------------
# A release is built from the work tree as it is; say so when that is not a commit.
if [[ -n $(git status --porcelain 2>/dev/null) ]]; then
  echo "WARNING: the work tree has uncommitted changes; this release is not $(git describe --always 2>/dev/null)" >&2
fi
# The soname (libx8.so.<major>) comes from build.rs (cargo:rustc-cdylib-link-arg); checked below.
step "cargo zigbuild --release --target $RUST_TARGET.$GLIBC_FLOOR -p x8 -p x8-cli"
cargo zigbuild --release --locked --target "$RUST_TARGET.$GLIBC_FLOOR" -p x8 -p x8-cli
out=$CARGO_TARGET_DIR/$RUST_TARGET/release

soname=$(readelf -d "$out/libx8.so" | sed -n 's/.*(SONAME).*\[\(.*\)\]/\1/p')
if [[ $soname != "libx8.so.$SOVERSION" ]]; then
  echo "build.sh: $out/libx8.so has soname '${soname:-none}', expected libx8.so.$SOVERSION" >&2
  exit 1
fi
for f in "$out/libx8.so" "$out/x8"; do
  max=$(glibc_max "$f")
  if [[ $max != none ]] && ! version_le "$max" "$GLIBC_FLOOR"; then
    echo "build.sh: $f needs GLIBC_$max, newer than the $GLIBC_FLOOR floor" >&2
    exit 1
  fi
done

# --- stage ------------------------------------------------------------------------------------------------
# The layout, the pkg-config file and the CMake package are `make install`'s (packaging/install.sh), installed
# from the cross-built artifacts into a staging folder; only the .pc file is made relocatable afterwards.
step "packing $RELEASE_NAME"
stage=$(mktemp -d)
trap 'rm -rf "$stage"' EXIT
pkg=$stage/$RELEASE_NAME
# install.sh takes its artifacts from $CARGO_TARGET_DIR/release; the cross build's are in <target-dir>/<triple>/release.
X8_NO_BUILD=1 CARGO_TARGET_DIR=$CARGO_TARGET_DIR/$RUST_TARGET PREFIX=/ DESTDIR=$pkg bash packaging/install.sh
pc=$pkg/lib/pkgconfig/x8.pc
# An unpacked tarball can be anywhere: pkg-config finds the prefix from the .pc file's own folder.
# shellcheck disable=SC2016 # ${pcfiledir} and ${prefix} are pkg-config's, written literally
sed -i -e 's|^prefix=.*|prefix=${pcfiledir}/../..|' -e 's|^libdir=.*|libdir=${prefix}/lib|' \
  -e 's|^includedir=.*|includedir=${prefix}/include|' "$pc"
if [[ ! -f bindings/cpp/include/x8/x8.hpp ]]; then rmdir "$pkg/include/x8" 2>/dev/null || true; fi

if [[ ${X8_RELEASE_KEEP_DEBUG:-0} != 1 ]]; then
  # The release profile keeps line tables (debug = 1) for profiling; users get the binaries without them
  # (about half the tarball). Symbol names stay, so backtraces still name functions.
  strip --strip-debug "$pkg/bin/x8" "$pkg/lib/libx8.so.$VERSION" "$pkg/lib/libx8.a"
fi

install -m 0644 README.md "$pkg/README.md"
if [[ -f LICENSE ]]; then
  install -m 0644 LICENSE "$pkg/LICENSE"
else
  echo "WARNING: there is no LICENSE at the repository root; the tarball ships without one" >&2
fi

# --- tarball ----------------------------------------------------------------------------------------------
# Fixed owners, modes, order and timestamps, and gzip without a name or time: the same inputs give the same
# tarball bytes.
if [[ -z ${SOURCE_DATE_EPOCH:-} ]]; then
  SOURCE_DATE_EPOCH=$(git log -1 --format=%ct 2>/dev/null || date +%s)
fi
mkdir -p "$DIST_DIR"
rm -f "$TARBALL" "$TARBALL.sha256"
tar --create --format=gnu --sort=name --owner=0 --group=0 --numeric-owner --mtime="@$SOURCE_DATE_EPOCH" \
  --mode='u+rwX,go+rX,go-w' -C "$stage" "$RELEASE_NAME" | gzip -n -6 >"$TARBALL.part"
mv "$TARBALL.part" "$TARBALL"
(cd "$DIST_DIR" && sha256sum "$RELEASE_NAME.tar.gz" >"$RELEASE_NAME.tar.gz.sha256")

step "done"
tar -tvzf "$TARBALL"
echo
echo "glibc needed: libx8.so GLIBC_$(glibc_max "$pkg/lib/libx8.so.$VERSION"), x8 GLIBC_$(glibc_max "$pkg/bin/x8") (floor $GLIBC_FLOOR)"
echo "$TARBALL ($(du -h "$TARBALL" | cut -f1))"
cat "$TARBALL.sha256"
