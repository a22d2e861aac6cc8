#!/usr/bin/env bash
# Builds x8's release for every target in RELEASE_TARGETS (release/common.sh), or for the ones named as
# arguments, each packed with the headers, README.md and LICENSE into one archive with its SHA-256:
#   $X8_DIST_DIR/x8-<version>-<target>.tar.gz (.zip for Windows)  (+ .sha256; X8_DIST_DIR defaults to release/dist)
#   x86_64-linux-gnu.2.17, aarch64-linux-gnu.2.17  libx8.so (soname libx8.so.0), libx8.a, the x8 CLI, pkg-config
#                          and CMake files; linked against glibc 2.17 (RHEL/CentOS 7+) by cargo zigbuild
#   x86_64-linux-musl      the same for Alpine: libx8.so needs only musl's libc.so (built with musl-gcc)
#   x86_64-windows-gnu     x8.dll, its import libraries libx8.dll.a (mingw) and x8.lib + x8.def (MSVC), libx8.a,
#                          x8.exe and x8-emulator.exe (mingw-w64)
#   x86_64-macos, aarch64-macos  libx8.0.dylib (install name @rpath/libx8.0.dylib), libx8.a, the x8 CLI, for
#                          macOS $MACOS_MIN_x86_64 / $MACOS_MIN_aarch64 and later, by cargo zigbuild (not run-tested here)
# Then release/nuget.sh and release/go.sh package them for .NET and Go, and release/check.sh checks them.
#
# The Linux glibc cross-link is `cargo zigbuild --target <triple>.2.17`: zig's linker links against glibc
# 2.17's symbol versions instead of the host's. zig and cargo-zigbuild are installed when missing, from PyPI into
# a virtual environment outside the repository ($X8_RELEASE_TOOLS, default ~/.cache/x8-release-tools), by
# scripts/lib.sh, which also installs the Debian packages and rustup targets.
#
# Environment: X8_CROSS_TARGET_DIR (default: ~/.cache/x8-cross-target, see common.sh), X8_DIST_DIR, X8_RELEASE_TOOLS,
# X8_RELEASE_KEEP_DEBUG=1 to ship the binaries with their debug info (default: stripped with strip --strip-debug;
# symbol tables are kept), SOURCE_DATE_EPOCH (default: the last commit's time) for the archives' timestamps.
set -euo pipefail
. "$(dirname "${BASH_SOURCE[0]}")/common.sh"
cd "$ROOT"
start=$SECONDS

step() { echo "--- $* ($((SECONDS - start)) s)"; }

targets=("$@")
((${#targets[@]})) || targets=("${RELEASE_TARGETS[@]}")
triples=()
for t in "${targets[@]}"; do triples+=("$(rust_triple "$t")"); done

# --- tools ------------------------------------------------------------------------------------------------
packages=(binutils zip)
for t in "${targets[@]}"; do
  case $t in
  aarch64-linux-gnu.*) packages+=(binutils-aarch64-linux-gnu) ;;
  x86_64-linux-musl) packages+=(musl-tools) ;;
  x86_64-windows-gnu) packages+=(gcc-mingw-w64-x86-64 binutils-mingw-w64-x86-64 llvm) ;;
  *-macos) packages+=(llvm) ;;
  esac
done
install_packages "${packages[@]}"
install_rust_targets "${triples[@]}"
install_zig_tools
for tool in cargo python3 strip readelf objdump sha256sum tar gzip zip; do
  command -v "$tool" >/dev/null || { echo "build.sh: $tool is missing" >&2; exit 1; }
done

# A release is built from the work tree as it is; say so when that is not a commit.
if [[ -n $(git status --porcelain 2>/dev/null) ]]; then
  echo "WARNING: the work tree has uncommitted changes; this release is not $(git describe --always 2>/dev/null)" >&2
fi
if [[ -z ${SOURCE_DATE_EPOCH:-} ]]; then
  SOURCE_DATE_EPOCH=$(git log -1 --format=%ct 2>/dev/null || date +%s)
fi
export SOURCE_DATE_EPOCH
mkdir -p "$DIST_DIR" "$CROSS_TARGET_DIR"
# One build-and-pack at a time per build folder: another clone's build would overwrite the files being packed.
exec 9>"$CROSS_TARGET_DIR/.x8-release.lock"
flock 9
export CARGO_TARGET_DIR=$CROSS_TARGET_DIR
stage_root=$(mktemp -d)
trap 'rm -rf "$stage_root"' EXIT

# --- build ------------------------------------------------------------------------------------------------
build_target() { # build_target TARGET: cargo's release build of the library and the CLI (and the Windows emulator)
  local t=$1 triple
  triple=$(rust_triple "$t")
  export CARGO_PROFILE_RELEASE_DEBUG=$CROSS_DEBUG
  case $t in
  *-linux-gnu.*)
    step "cargo zigbuild --release --target $triple.$GLIBC_FLOOR -p x8 -p x8-cli"
    cargo zigbuild --release --locked --target "$triple.$GLIBC_FLOOR" -p x8 -p x8-cli ;;
  x86_64-linux-musl)
    step "cargo build --release --target $triple -p x8 -p x8-cli (musl-gcc, -crt-static)"
    (musl_env && cargo build --release --locked --target "$triple" -p x8 -p x8-cli) ;;
  x86_64-windows-gnu)
    # The emulator ships for Windows too: a Windows test (or user) cannot start the Linux one.
    step "cargo build --release --target $triple -p x8 -p x8-cli -p x8-emulator (mingw-w64)"
    cargo build --release --locked --target "$triple" -p x8 -p x8-cli -p x8-emulator ;;
  *-macos)
    local min_var=MACOS_MIN_${t%%-*}
    step "cargo zigbuild --release --target $triple -p x8 -p x8-cli (MACOSX_DEPLOYMENT_TARGET=${!min_var})"
    MACOSX_DEPLOYMENT_TARGET=${!min_var} cargo zigbuild --release --locked --target "$triple" -p x8 -p x8-cli ;;
  esac
}

# --- stage ------------------------------------------------------------------------------------------------
strip_debug() { # strip_debug TARGET FILE...: drops debug info (line tables), keeps symbol names
  local t=$1
  shift
  [[ ${X8_RELEASE_KEEP_DEBUG:-0} == 1 ]] && return 0
  case $t in
  aarch64-linux-gnu.*) aarch64-linux-gnu-strip --strip-debug "$@" ;;
  # mingw's strip refuses the split-debug members rustc leaves in libx8.a; llvm-strip takes them.
  *-windows-gnu) for f in "$@"; do if [[ $f == *.a ]]; then llvm-strip --strip-debug "$f"; else x86_64-w64-mingw32-strip --strip-debug "$f"; fi; done ;;
  # Only libx8.a: the linked Mach-O images keep no debug info in themselves, and stripping them would break
  # the arm64 code signature.
  *-macos) for f in "$@"; do if [[ $f == *.a ]]; then llvm-strip --strip-debug "$f"; fi; done ;;
  *) strip --strip-debug "$@" ;;
  esac
}

common_files() { # common_files PKG: the headers, README.md and LICENSE
  local pkg=$1
  install -d "$pkg/include/x8"
  install -m 0644 include/x8.h "$pkg/include/x8.h"
  if [[ -f bindings/cpp/include/x8/x8.hpp ]]; then
    install -m 0644 bindings/cpp/include/x8/*.hpp "$pkg/include/x8/" # x8.hpp and pager.hpp
  else
    rmdir "$pkg/include/x8"
  fi
  install -m 0644 README.md "$pkg/README.md"
  if [[ -f LICENSE ]]; then
    install -m 0644 LICENSE "$pkg/LICENSE"
  else
    echo "WARNING: there is no LICENSE at the repository root; the archive ships without one" >&2
  fi
}

relocatable_pc() { # relocatable_pc FILE: pkg-config finds the prefix from the .pc file's own folder
  # shellcheck disable=SC2016 # ${pcfiledir} and ${prefix} are pkg-config's, written literally
  sed -i -e 's|^prefix=.*|prefix=${pcfiledir}/../..|' -e 's|^libdir=.*|libdir=${prefix}/lib|' \
    -e 's|^includedir=.*|includedir=${prefix}/include|' "$1"
}

stage_linux() { # the layout, the pkg-config file and the CMake package are `make install`'s (packaging/install.sh)
  local t=$1 pkg=$2 out triple
  triple=$(rust_triple "$t")
  out=$(out_dir "$t")
  local soname
  soname=$(readelf -d "$out/libx8.so" | sed -n 's/.*(SONAME).*\[\(.*\)\].*/\1/p')
  if [[ $soname != "libx8.so.$SOVERSION" ]]; then
    echo "build.sh: $out/libx8.so has soname '${soname:-none}', expected libx8.so.$SOVERSION" >&2
    exit 1
  fi
  if [[ $t == *-linux-gnu.* ]]; then
    local f max
    for f in "$out/libx8.so" "$out/x8"; do
      max=$(glibc_max "$f")
      if [[ $max != none ]] && ! version_le "$max" "$GLIBC_FLOOR"; then
        echo "build.sh: $f needs GLIBC_$max, newer than the $GLIBC_FLOOR floor" >&2
        exit 1
      fi
    done
  fi
  X8_NO_BUILD=1 CARGO_TARGET_DIR=$CROSS_TARGET_DIR/$triple PREFIX=/ DESTDIR=$pkg bash packaging/install.sh >/dev/null
  relocatable_pc "$pkg/lib/pkgconfig/x8.pc"
  if [[ ! -f bindings/cpp/include/x8/x8.hpp ]]; then rmdir "$pkg/include/x8" 2>/dev/null || true; fi
  strip_debug "$t" "$pkg/bin/x8" "$pkg/lib/libx8.so.$VERSION" "$pkg/lib/libx8.a"
  install -m 0644 README.md "$pkg/README.md"
  [[ ! -f LICENSE ]] || install -m 0644 LICENSE "$pkg/LICENSE"
}

stage_macos() { # lib/libx8.0.dylib (its install name), libx8.dylib -> it, libx8.a, bin/x8, a relocatable x8.pc
  local t=$1 pkg=$2 out
  out=$(out_dir "$t")
  install -d "$pkg/lib/pkgconfig" "$pkg/bin"
  install -m 0755 "$out/libx8.dylib" "$pkg/lib/libx8.$SOVERSION.dylib"
  ln -sfn "libx8.$SOVERSION.dylib" "$pkg/lib/libx8.dylib"
  install -m 0644 "$out/libx8.a" "$pkg/lib/libx8.a"
  install -m 0755 "$out/x8" "$pkg/bin/x8"
  strip_debug "$t" "$pkg/lib/libx8.a"
  sed -e "s|@PREFIX@|/|g" -e "s|@LIBDIR@|/lib|g" -e "s|@INCLUDEDIR@|/include|g" -e "s|@VERSION@|$VERSION|g" \
    -e "s|^Libs.private:.*|Libs.private: $(static_libs "$t")|" packaging/x8.pc.in >"$pkg/lib/pkgconfig/x8.pc"
  relocatable_pc "$pkg/lib/pkgconfig/x8.pc"
  common_files "$pkg"
}

stage_windows() { # bin/: the DLL and the programs; lib/: the import libraries (mingw, MSVC), the .def, libx8.a
  local t=$1 pkg=$2 out
  out=$(out_dir "$t")
  install -d "$pkg/bin" "$pkg/lib"
  install -m 0755 "$out/x8.dll" "$out/x8.exe" "$out/x8-emulator.exe" "$pkg/bin/"
  install -m 0644 "$out/libx8.dll.a" "$out/libx8.a" "$pkg/lib/"
  # The .def from the DLL's export table (what MSVC's lib.exe /def: takes), and an MSVC import library made
  # from it by llvm-dlltool, so MSVC users link x8.lib without running lib.exe themselves.
  { echo "LIBRARY x8.dll"; echo "EXPORTS"; dll_exports "$out/x8.dll" | sed 's/^/    /'; } >"$pkg/lib/x8.def"
  llvm-dlltool -m i386:x86-64 -D x8.dll -d "$pkg/lib/x8.def" -l "$pkg/lib/x8.lib"
  strip_debug "$t" "$pkg/bin/x8.dll" "$pkg/bin/x8.exe" "$pkg/bin/x8-emulator.exe" "$pkg/lib/libx8.a"
  common_files "$pkg"
}

# --- archive ----------------------------------------------------------------------------------------------
# Fixed owners, modes, order and timestamps, and gzip without a name or time: the same inputs give the same bytes.
pack() { # pack TARGET STAGE NAME
  local t=$1 stage=$2 name=$3 archive
  archive=$(archive_of "$t")
  rm -f "$archive" "$archive.sha256"
  if [[ $archive == *.zip ]]; then
    find "$stage/$name" -exec touch -h -d "@$SOURCE_DATE_EPOCH" {} +
    (cd "$stage" && find "$name" | LC_ALL=C sort | zip -q -X -D -@ "$archive.part")
  else
    tar --create --format=gnu --sort=name --owner=0 --group=0 --numeric-owner --mtime="@$SOURCE_DATE_EPOCH" \
      --mode='u+rwX,go+rX,go-w' -C "$stage" "$name" | gzip -n -6 >"$archive.part"
  fi
  mv "$archive.part" "$archive"
  sha256_of_archive "$archive"
  echo "$archive ($(du -h "$archive" | cut -f1))"
}

for t in "${targets[@]}"; do
  build_target "$t"
  name=$(basename "$(archive_of "$t")")
  name=${name%.zip}
  name=${name%.tar.gz}
  stage=$stage_root/$t
  mkdir -p "$stage/$name"
  step "packing $name"
  case $t in
  *-linux-*) stage_linux "$t" "$stage/$name" ;;
  *-macos) stage_macos "$t" "$stage/$name" ;;
  *-windows-gnu) stage_windows "$t" "$stage/$name" ;;
  esac
  pack "$t" "$stage" "$name"
  if [[ $t == *-linux-gnu.* ]]; then
    echo "glibc needed: libx8.so GLIBC_$(glibc_max "$stage/$name/lib/libx8.so.$VERSION"), x8 GLIBC_$(glibc_max "$stage/$name/bin/x8") (floor $GLIBC_FLOOR)"
  fi
done
step "done"
(cd "$DIST_DIR" && cat ./*.sha256)
