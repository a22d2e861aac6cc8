# shellcheck shell=bash disable=SC2034 # sourced: the variables are used by build.sh and check.sh
# Shared by release/build.sh and release/check.sh (sourced, not run): where things are, what the release is
# called, and the pinned cross-build tools.

RELEASE_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
ROOT=$(cd "$RELEASE_DIR/.." && pwd)

# The glibc the release is linked against, and so the oldest it runs on: 2.17 is RHEL/CentOS 7's. A build on
# the host links against the host's glibc (Debian 12: 2.36), which RHEL 7/8 and Ubuntu 20.04 do not have.
GLIBC_FLOOR=2.17
RUST_TARGET=x86_64-unknown-linux-gnu

# install_packages, install_rust_targets and install_zig_tools (the pinned zig and cargo-zigbuild, from PyPI
# into a virtual environment outside the repository, $X8_RELEASE_TOOLS): one helper for every script.
. "$ROOT/scripts/lib.sh"

export CARGO_TARGET_DIR=${CARGO_TARGET_DIR:-$ROOT/target}
# Where the six release targets are built: outside the work tree by default, so every clone on the machine (CI
# runs in a fresh one) reuses their compiled dependencies and only x8's own crates are compiled again — six
# dependency trees cost about 3 minutes each on 2 cores. build.sh holds a lock on it while it builds and packs.
# X8_CROSS_TARGET_DIR=$CARGO_TARGET_DIR keeps them in the work tree.
CROSS_TARGET_DIR=${X8_CROSS_TARGET_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/x8-cross-target}
DIST_DIR=${X8_DIST_DIR:-$RELEASE_DIR/dist}
export CARGO_TERM_COLOR=${CARGO_TERM_COLOR:-never}

# The library's version, from Cargo.toml (cargo metadata reads it without building anything).
x8_version() {
  cargo metadata --no-deps --format-version 1 --locked --manifest-path "$ROOT/Cargo.toml" |
    python3 -c 'import json, sys; print(next(p["version"] for p in json.load(sys.stdin)["packages"] if p["name"] == "x8"))'
}

VERSION=$(x8_version)
SOVERSION=${VERSION%%.*} # libx8.so.<major>: the soname build.rs gives the library
RELEASE_NAME=x8-$VERSION-x86_64-linux-gnu.$GLIBC_FLOOR
TARBALL=$DIST_DIR/$RELEASE_NAME.tar.gz

# glibc_max FILE: the newest GLIBC_x.y[.z] symbol version FILE needs (objdump -T), or "none".
glibc_max() {
  objdump -T "$1" | grep -oE '\bGLIBC_[0-9]+(\.[0-9]+)+\b' | sed 's/^GLIBC_//' | sort -u -t. -k1,1n -k2,2n -k3,3n |
    tail -n 1 | grep . || echo none
}

# version_le A B: true when version A <= version B, comparing each dot-separated part as a number.
version_le() {
  awk -v a="$1" -v b="$2" 'BEGIN {
    na = split(a, x, "."); nb = split(b, y, "."); n = na > nb ? na : nb
    for (i = 1; i <= n; i++) { if (x[i] + 0 < y[i] + 0) exit 0; if (x[i] + 0 > y[i] + 0) exit 1 }
    exit 0 }'
}

# --- the targets ------------------------------------------------------------------------------------------
# `make release` builds every one of these; release/build.sh and release/check.sh take a subset as arguments.
# Each is named by what its archive is called after "x8-<version>-".
RELEASE_TARGETS=(x86_64-linux-gnu.2.17 aarch64-linux-gnu.2.17 x86_64-linux-musl x86_64-windows-gnu
  x86_64-macos aarch64-macos)
# The oldest macOS each build loads on (MACOSX_DEPLOYMENT_TARGET): Rust's own minimum for each architecture.
MACOS_MIN_x86_64=10.12
MACOS_MIN_aarch64=11.0

# The cross builds' debug info: none, since build.sh strips it anyway (X8_RELEASE_KEEP_DEBUG=1 keeps the release
# profile's line tables); not generating it saves compile time. check_targets.sh's Windows tests build with the
# same setting, so they reuse the release build's dependencies.
CROSS_DEBUG=none
[[ ${X8_RELEASE_KEEP_DEBUG:-0} == 1 ]] && CROSS_DEBUG=line-tables-only

# rust_triple TARGET: the Rust target a release target is built for.
rust_triple() {
  case $1 in
  x86_64-linux-gnu.*) echo x86_64-unknown-linux-gnu ;;
  aarch64-linux-gnu.*) echo aarch64-unknown-linux-gnu ;;
  x86_64-linux-musl) echo x86_64-unknown-linux-musl ;;
  x86_64-windows-gnu) echo x86_64-pc-windows-gnu ;;
  x86_64-macos) echo x86_64-apple-darwin ;;
  aarch64-macos) echo aarch64-apple-darwin ;;
  *) echo "unknown release target $1" >&2; return 1 ;;
  esac
}
# archive_of TARGET: the archive's path (a .zip for Windows, else a .tar.gz); its .sha256 lies beside it.
archive_of() {
  case $1 in
  *windows*) echo "$DIST_DIR/x8-$VERSION-$1.zip" ;;
  *) echo "$DIST_DIR/x8-$VERSION-$1.tar.gz" ;;
  esac
}
# out_dir TARGET: where cargo puts that target's release build.
out_dir() { echo "$CROSS_TARGET_DIR/$(rust_triple "$1")/release"; }

# The musl build's environment. A cdylib on musl needs -crt-static (else rustc refuses to make one); then the
# link is dynamic and Rust's unwinder wants libgcc_s, which Debian's musl lacks: Rust's self-contained
# libunwind.a stands in for it. Everything is linked by musl-gcc, so the result needs only musl's libc.so.
musl_env() {
  local shim=$CROSS_TARGET_DIR/musl-libgcc_s sysroot
  sysroot=$(rustc --print sysroot) || return 1
  mkdir -p "$shim" &&
    cp -u "$sysroot/lib/rustlib/x86_64-unknown-linux-musl/lib/self-contained/libunwind.a" "$shim/libgcc_s.a" || return 1
  export CC_x86_64_unknown_linux_musl=musl-gcc CARGO_TARGET_X86_64_UNKNOWN_LINUX_MUSL_LINKER=musl-gcc
  export CARGO_TARGET_X86_64_UNKNOWN_LINUX_MUSL_RUSTFLAGS="-C target-feature=-crt-static -L native=$shim"
}

# sha256_of_archive ARCHIVE: writes ARCHIVE.sha256 in `sha256sum -c` form.
sha256_of_archive() {
  (cd "$(dirname "$1")" && sha256sum "$(basename "$1")" >"$(basename "$1").sha256")
}

# static_libs TARGET: the system libraries a program linking libx8.a statically needs besides it (what
# `rustc --print native-static-libs` reports for the target).
static_libs() {
  case $1 in
  *-linux-gnu.*) echo "-lgcc_s -lutil -lrt -lpthread -lm -ldl -lc" ;;
  *-linux-musl) echo "-lc" ;;
  *-macos) echo "-lSystem -lc -lm" ;;
  *-windows-gnu) echo "-lws2_32 -lntdll -luserenv -lbcrypt -ladvapi32 -lcrypt32 -lkernel32" ;;
  esac
}

# dll_exports DLL: the names a PE DLL exports, one per line, sorted.
dll_exports() {
  x86_64-w64-mingw32-objdump -p "$1" | awk '/\[Ordinal\/Name Pointer\] Table/ {on = 1; next} on && /^\t\[/ {print $NF; next} on && !/^\t/ {on = 0}' | sort -u
}
