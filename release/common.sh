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
