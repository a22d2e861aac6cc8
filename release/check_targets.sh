#!/usr/bin/env bash
# shellcheck disable=SC2317 # the check functions are called through check(), which shellcheck cannot follow
# Verifies the cross-built release archives that release/build.sh made, each unpacked into a temporary folder so
# that what is tested is what ships (release/check.sh does the same for the x86_64 glibc tarball):
#   release/check_targets.sh [TARGET...]     (default: aarch64-linux-gnu.2.17 x86_64-linux-musl
#                                             x86_64-windows-gnu x86_64-macos aarch64-macos)
#   aarch64-linux-gnu.2.17  nothing newer than GLIBC_2.17 (objdump -T); soname; x8_-only exports = x8.h; the C
#                           suite, fork test included, cross-compiled with aarch64-linux-gnu-gcc and run under
#                           `qemu-aarch64 -L /usr/aarch64-linux-gnu` against the host's emulator, linked with the
#                           archive's libx8.so and (test_api) its libx8.a; the CLI gets a token
#   x86_64-linux-musl       libx8.so and x8 need only musl's libc.so; exports; the C suite built with musl-gcc
#                           and run against the archive's libx8.so under /lib/ld-musl-x86_64.so.1; the CLI
#   x86_64-windows-gnu      exports = x8.h = x8.def = x8.lib's; the DLL imports only Windows' own DLLs; the C
#                           suite but the fork test, cross-compiled with x86_64-w64-mingw32-gcc and run under Wine
#                           against the archive's x8.dll and x8-emulator.exe; x8.exe gets a token; the Rust
#                           unit tests and tests/windows.rs under Wine (CARGO_TARGET_..._RUNNER)
#   *-macos                 nothing here runs macOS: Mach-O architecture, install name @rpath/libx8.0.dylib,
#                           minimum macOS, the dylibs it loads, x8_-only exports = x8.h, a code signature
# The C tests use tests/c/mini (a minimal cmocka) since no cmocka library for these targets is at hand.
# The Linux ones run against $X8_EMULATOR (default: a host build, cargo build --release -p x8-emulator).
# Ends with "check: N passed, N failed"; exits non-zero if any check failed.
set -uo pipefail
. "$(dirname "${BASH_SOURCE[0]}")/common.sh" || exit 1
cd "$ROOT" || exit 1
start=$SECONDS

targets=("$@")
((${#targets[@]})) || targets=(aarch64-linux-gnu.2.17 x86_64-linux-musl x86_64-windows-gnu x86_64-macos aarch64-macos)


packages=(binutils llvm)
for t in "${targets[@]}"; do
  case $t in
  aarch64-linux-gnu.*) packages+=(gcc-aarch64-linux-gnu libc6-dev-arm64-cross qemu-user binutils-aarch64-linux-gnu) ;;
  x86_64-linux-musl) packages+=(musl-tools) ;;
  x86_64-windows-gnu) packages+=(gcc-mingw-w64-x86-64 wine64 unzip) ;;
  esac
done
install_packages "${packages[@]}" || { echo "check_targets.sh: cannot install ${packages[*]}"; exit 1; }

work=$(mktemp -d)
cleanup() { rm -rf "$work"; }
trap cleanup EXIT

C_TESTS=(test_api test_arguments test_concurrency test_store)
CFLAGS=(-std=c99 -Wall -Wextra -Werror -g -pthread -Itests/c/mini -Itests/c)
declared() { grep -oE '\bx8_[a-z0-9_]+\(' include/x8.h | tr -d '(' | sort -u; }

unpack() { # unpack TARGET: checks the SHA-256 and unpacks the archive into $work/TARGET; sets pkg
  local t=$1 archive name
  archive=$(archive_of "$t")
  name=$(basename "$archive")
  name=${name%.zip}
  name=${name%.tar.gz}
  pkg=$work/$t/$name
  [[ -f $archive && -f $archive.sha256 ]] || { echo "no $archive or its .sha256 (run release/build.sh $t)"; return 1; }
  (cd "$(dirname "$archive")" && sha256sum -c "$(basename "$archive").sha256") || return 1
  mkdir -p "$work/$t"
  if [[ $archive == *.zip ]]; then
    unzip -q "$archive" -d "$work/$t" || return 1
    if unzip -Z1 "$archive" | grep -v -E "^$name(/|$)" | grep .; then echo "entries outside $name/"; return 1; fi
  else
    tar -xzf "$archive" -C "$work/$t" || return 1
    if tar -tzf "$archive" | grep -v -E "^$name(/|$)" | grep .; then echo "entries outside $name/"; return 1; fi
  fi
  (cd "$pkg" && find . | sort)
}

has_files() { # has_files FILE...: relative to $pkg
  local rc=0 f
  for f in "$@" include/x8.h README.md; do [[ -e $pkg/$f ]] || { echo "missing: $f"; rc=1; }; done
  [[ -f LICENSE && ! -f $pkg/LICENSE ]] && { echo "missing: LICENSE"; rc=1; }
  [[ -f bindings/cpp/include/x8/x8.hpp && ! -f $pkg/include/x8/x8.hpp ]] && { echo "missing: include/x8/x8.hpp"; rc=1; }
  return $rc
}

same_as_declared() { # same_as_declared LABEL < exported names
  sort -u >"$work/exported"
  declared >"$work/declared"
  diff -u "$work/declared" "$work/exported" || { echo "x8.h's declarations and $1 differ"; return 1; }
  echo "$1: $(wc -l <"$work/exported") functions, all x8_, all declared in x8.h"
}

emulator() {
  if [[ -z ${X8_EMULATOR:-} ]]; then
    cargo build --release --locked -p x8-emulator || return 1
    X8_EMULATOR=$CARGO_TARGET_DIR/release/x8-emulator
  fi
  [[ -x $X8_EMULATOR ]] || { echo "X8_EMULATOR=$X8_EMULATOR is not an executable"; return 1; }
  export X8_EMULATOR
}

run_suite() { # run_suite DIR [RUNNER...]: runs each C test in DIR, all of them even when one fails
  local dir=$1 rc=0 t
  shift
  for t in "${C_TESTS[@]}"; do "$@" "$dir/$t" || { echo "$t failed"; rc=1; }; done
  return $rc
}

# cli_token RUNNER...: the archive's CLI gets a token from the host's emulator, run through RUNNER (may be empty)
cli_token() {
  local url token rc
  coproc EMU { exec "$X8_EMULATOR" --port 0 --exit-on-stdin-eof --client "release-id:release-secret:vcc"; }
  local emu_pid=$EMU_PID
  read -r -t 20 url <&"${EMU[0]}" || { echo "the emulator printed no URL"; return 1; }
  token=$(X8_CLIENT_ID=release-id X8_CLIENT_SECRET=release-secret X8_BASE_URL=$url "$@" token)
  rc=$?
  eval "exec ${EMU[1]}>&-"
  wait "$emu_pid" 2>/dev/null
  [[ $rc == 0 && -n $token ]] || { echo "x8 token failed ($rc)"; return 1; }
  echo "x8 token: got a ${#token}-character token from $url"
}

# --- aarch64-linux-gnu.2.17 -------------------------------------------------------------------------------
arm64_floor_and_exports() {
  local rc=0 f max
  for f in "$pkg/lib/libx8.so.$VERSION" "$pkg/bin/x8"; do
    aarch64-linux-gnu-readelf -h "$f" | grep -q 'Machine:.*AArch64' || { echo "$f is not AArch64"; rc=1; }
    max=$(aarch64-linux-gnu-objdump -T "$f" | grep -oE '\bGLIBC_[0-9]+(\.[0-9]+)+\b' | sed 's/^GLIBC_//' |
      sort -u -t. -k1,1n -k2,2n -k3,3n | tail -n 1)
    echo "$(basename "$f"): newest glibc symbol version GLIBC_${max:-none} (floor $GLIBC_FLOOR)"
    [[ -n $max ]] && version_le "$max" "$GLIBC_FLOOR" || rc=1
  done
  local soname
  soname=$(aarch64-linux-gnu-readelf -d "$pkg/lib/libx8.so.$VERSION" | sed -n 's/.*(SONAME).*\[\(.*\)\].*/\1/p')
  [[ $soname == "libx8.so.$SOVERSION" ]] || { echo "soname is '$soname'"; rc=1; }
  aarch64-linux-gnu-nm -D --defined-only "$pkg/lib/libx8.so.$VERSION" | awk '{print $NF}' |
    same_as_declared "libx8.so's exports" || rc=1
  return $rc
}

arm64_c_suite() {
  local bin=$work/arm64-bin t
  mkdir -p "$bin"
  for t in "${C_TESTS[@]}"; do
    aarch64-linux-gnu-gcc "${CFLAGS[@]}" -I"$pkg/include" "tests/c/$t.c" tests/c/fixture.c tests/c/emulator.c \
      tests/c/mini/cmocka.c -L"$pkg/lib" -lx8 -Wl,-rpath,"$pkg/lib" -o "$bin/$t" || return 1
  done
  # test_api once more, linked statically with libx8.a and what x8.pc lists for that.
  local libs
  libs=$(PKG_CONFIG_PATH=$pkg/lib/pkgconfig pkg-config --static --libs-only-l x8 | sed 's/-lx8\b//')
  # shellcheck disable=SC2086 # $libs is a list of flags
  aarch64-linux-gnu-gcc "${CFLAGS[@]}" -I"$pkg/include" tests/c/test_api.c tests/c/fixture.c tests/c/emulator.c \
    tests/c/mini/cmocka.c "$pkg/lib/libx8.a" $libs -o "$bin/test_api_static" || return 1
  aarch64-linux-gnu-readelf -d "$bin/test_api" | grep -q "NEEDED.*\[libx8.so.$SOVERSION\]" || { echo "test_api does not need libx8.so.$SOVERSION"; return 1; }
  echo "qemu: $(qemu-aarch64 --version | head -1)"
  run_suite "$bin" qemu-aarch64 -L /usr/aarch64-linux-gnu || return 1
  qemu-aarch64 -L /usr/aarch64-linux-gnu "$bin/test_api_static"
}

# --- x86_64-linux-musl ------------------------------------------------------------------------------------
musl_needs_only_libc() {
  local rc=0 f needed
  for f in "$pkg/lib/libx8.so.$VERSION" "$pkg/bin/x8"; do
    needed=$(readelf -d "$f" | sed -n 's/.*(NEEDED).*\[\(.*\)\].*/\1/p' | tr '\n' ' ')
    echo "$(basename "$f") needs: $needed"
    [[ $needed == "libc.so " ]] || { echo "  expected musl's libc.so only"; rc=1; }
  done
  readelf -l "$pkg/bin/x8" | grep -q 'interpreter: /lib/ld-musl-x86_64.so.1' || { echo "x8's interpreter is not musl's"; rc=1; }
  nm -D --defined-only "$pkg/lib/libx8.so.$VERSION" | awk '{print $NF}' | same_as_declared "libx8.so's exports" || rc=1
  return $rc
}

musl_c_suite() {
  local bin=$work/musl-bin t
  mkdir -p "$bin"
  for t in "${C_TESTS[@]}"; do
    musl-gcc "${CFLAGS[@]}" -I"$pkg/include" "tests/c/$t.c" tests/c/fixture.c tests/c/emulator.c \
      tests/c/mini/cmocka.c -L"$pkg/lib" -lx8 -Wl,-rpath,"$pkg/lib" -o "$bin/$t" || return 1
  done
  readelf -l "$bin/test_api" | grep -q 'interpreter: /lib/ld-musl-x86_64.so.1' || { echo "not a musl program"; return 1; }
  run_suite "$bin"
}

# --- x86_64-windows-gnu -----------------------------------------------------------------------------------
export WINEPREFIX=${X8_WINEPREFIX:-$CROSS_TARGET_DIR/wine-prefix} WINEDEBUG=-all
# No Mono or Gecko install prompts; the ProcessPrng stand-in beside the programs wins over Wine's own DLL.
export WINEDLLOVERRIDES="mscoree,mshtml=;bcryptprimitives=n,b"
WINE=/usr/lib/wine/wine64
windows_exports() {
  local rc=0 dlls
  dll_exports "$pkg/bin/x8.dll" | same_as_declared "x8.dll's exports" || rc=1
  sed -n 's/^    //p' "$pkg/lib/x8.def" | same_as_declared "x8.def" || rc=1
  llvm-nm "$pkg/lib/x8.lib" 2>/dev/null | awk '$2 == "T" {print $3}' | grep '^x8_' | same_as_declared "x8.lib" || rc=1
  # Only DLLs every Windows has: no mingw runtime (libgcc_s_seh-1.dll, libwinpthread-1.dll) to ship beside it.
  dlls=$(x86_64-w64-mingw32-objdump -p "$pkg/bin/x8.dll" | sed -n 's/^\tDLL Name: //p' | tr 'A-Z' 'a-z' | sort -u)
  echo "x8.dll imports: $(echo "$dlls" | tr '\n' ' ')"
  if grep -vE '^(kernel32|ntdll|ws2_32|advapi32|userenv|bcrypt|bcryptprimitives|crypt32|msvcrt|api-ms-win-[a-z0-9-]+)\.dll$' <<<"$dlls"; then
    echo "x8.dll imports DLLs beyond Windows' own"
    rc=1
  fi
  return $rc
}

windows_c_suite() {
  local bin=$work/win-bin t
  mkdir -p "$bin"
  # The stand-in bcryptprimitives.dll (tests/windows/processprng.c): test scaffolding, never in the archive.
  x86_64-w64-mingw32-gcc -O2 -shared -s -o "$bin/bcryptprimitives.dll" tests/windows/processprng.c -ladvapi32 || return 1
  for t in "${C_TESTS[@]}"; do
    # -posix: the mingw with winpthreads (the tests use pthreads); -static: no mingw DLLs to carry along.
    x86_64-w64-mingw32-gcc-posix "${CFLAGS[@]}" -I"$pkg/include" "tests/c/$t.c" tests/c/fixture.c \
      tests/c/emulator_win.c tests/c/mini/cmocka.c -L"$pkg/lib" -lx8.dll -lws2_32 -static -o "$bin/$t.exe" || return 1
  done
  cp "$pkg/bin/x8.dll" "$pkg/bin/x8-emulator.exe" "$pkg/bin/x8.exe" "$bin/"
  "$WINE" wineboot -i >/dev/null 2>&1 || true # the prefix, made once and reused
  local rc=0
  X8_EMULATOR=$(winepath_w "$bin/x8-emulator.exe")
  echo "wine: $($WINE --version), X8_EMULATOR=$X8_EMULATOR"
  for t in "${C_TESTS[@]}"; do X8_EMULATOR=$X8_EMULATOR "$WINE" "$bin/$t.exe" || { echo "$t failed"; rc=1; }; done
  return $rc
}
winepath_w() { /usr/lib/wine/wine64 winepath -w "$1" 2>/dev/null | tr -d '\r'; }

windows_cli_token() {
  local bin=$work/win-bin url token rc
  coproc EMU { exec "$WINE" "$bin/x8-emulator.exe" --port 0 --exit-on-stdin-eof --client "release-id:release-secret:vcc"; }
  local emu_pid=$EMU_PID
  read -r -t 60 url <&"${EMU[0]}" || { echo "the emulator printed no URL"; return 1; }
  url=${url%$'\r'}
  token=$(X8_CLIENT_ID=release-id X8_CLIENT_SECRET=release-secret X8_BASE_URL=$url "$WINE" "$bin/x8.exe" token | tr -d '\r')
  rc=$?
  eval "exec ${EMU[1]}>&-"
  wait "$emu_pid" 2>/dev/null
  [[ $rc == 0 && -n $token ]] || { echo "x8.exe token failed ($rc)"; return 1; }
  echo "x8.exe token: got a ${#token}-character token from the Windows emulator at $url"
}

windows_rust_tests() {
  # The release build's folder and profile, so only the test harnesses are compiled anew; under build.sh's lock,
  # since it writes to the folder build.sh packs from.
  CARGO_TARGET_DIR=$CROSS_TARGET_DIR CARGO_PROFILE_RELEASE_DEBUG=$CROSS_DEBUG \
    CARGO_TARGET_X86_64_PC_WINDOWS_GNU_RUNNER=$ROOT/tests/windows/wine-runner.sh \
    flock "$CROSS_TARGET_DIR/.x8-release.lock" \
    cargo test --release --locked --target x86_64-pc-windows-gnu -p x8 --lib --test windows
}

# --- macOS ------------------------------------------------------------------------------------------------
macos_load_commands() { # macos_load_commands TARGET
  local t=$1 arch min_var dylib=$pkg/lib/libx8.$SOVERSION.dylib rc=0 f headers
  arch=${t%%-*}
  [[ $arch == aarch64 ]] && arch=arm64
  min_var=MACOS_MIN_${t%%-*}
  for f in "$dylib" "$pkg/bin/x8"; do
    headers=$(llvm-objdump --macho --private-headers "$f") || return 1
    grep -qiE "^ *MH_MAGIC_64 +$(tr a-z A-Z <<<"${arch/x86_64/X86_64}") " <<<"$headers" ||
      { echo "$(basename "$f") is not a 64-bit $arch Mach-O"; rc=1; }
    # The oldest macOS that loads it: LC_BUILD_VERSION's minos (11+), or LC_VERSION_MIN_MACOSX's version (older).
    local minos
    minos=$(awk '/cmd LC_BUILD_VERSION/ {b = 1} b && $1 == "minos" {print $2; exit}
      /cmd LC_VERSION_MIN_MACOSX/ {v = 1} v && $1 == "version" {print $2; exit}' <<<"$headers")
    echo "$(basename "$f"): $arch, minos $minos (MACOSX_DEPLOYMENT_TARGET=${!min_var})"
    [[ $minos == "${!min_var}" ]] || { echo "  expected minos ${!min_var}"; rc=1; }
    if [[ $arch == arm64 ]] && ! grep -q 'cmd LC_CODE_SIGNATURE' <<<"$headers"; then
      echo "  no code signature (arm64 macOS refuses to load it)"
      rc=1
    fi
  done
  local id
  id=$(llvm-objdump --macho --dylib-id "$dylib" | tail -n 1)
  echo "install name: $id"
  [[ $id == "@rpath/libx8.$SOVERSION.dylib" ]] || { echo "  expected @rpath/libx8.$SOVERSION.dylib"; rc=1; }
  local loads
  loads=$(llvm-objdump --macho --dylibs-used "$dylib" | tail -n +2 | awk '{print $1}' | grep -vxF "$id") # (its own id is listed too)
  echo "loads: $(tr '\n' ' ' <<<"$loads")"
  grep -vE '^(/usr/lib/libSystem\.B\.dylib|/usr/lib/libiconv\.2\.dylib|/usr/lib/libcharset\.1\.dylib|/usr/lib/libresolv\.9\.dylib|/System/Library/Frameworks/(CoreFoundation|Security)\.framework/.*)$' <<<"$loads" &&
    { echo "  loads a library macOS does not have"; rc=1; }
  [[ -L $pkg/lib/libx8.dylib && $(readlink "$pkg/lib/libx8.dylib") == "libx8.$SOVERSION.dylib" ]] || { echo "bad link libx8.dylib"; rc=1; }
  # Exported: every x8_ function x8.h declares (Mach-O names carry a leading underscore), and no other C name.
  # zig's Mach-O linker does not apply rustc's exported-symbols list, so Rust's own symbols stay visible too:
  # all mangled (_ZN.../_R...), which no C program can clash with, plus five linker and runtime names.
  local exports others
  exports=$(llvm-nm --extern-only --defined-only "$dylib" | awk '{print $NF}') || return 1
  grep '^_x8_' <<<"$exports" | sed 's/^_//' | same_as_declared "libx8.dylib's x8_ exports" || rc=1
  others=$(grep -vE '^(_x8_|__ZN|__R)' <<<"$exports" |
    grep -vxE '___dso_handle|___isOSVersionAtLeast|___isPlatformVersionAtLeast|__mh_dylib_header|_rust_eh_personality')
  [[ -z $others ]] || { echo "libx8.dylib exports other C names:"; echo "$others" | sed 's/^/  /'; rc=1; }
  echo "besides: $(grep -cE '^(__ZN|__R)' <<<"$exports") Rust-mangled symbols (zig's linker keeps them visible)"
  exports=$(llvm-nm "$pkg/lib/libx8.a" 2>/dev/null)
  grep -q ' T _x8_client_new$' <<<"$exports" || { echo "libx8.a has no _x8_client_new"; rc=1; }
  return $rc
}

for t in "${targets[@]}"; do
  pkg=
  check "$t: SHA-256, unpacks" unpack "$t" || continue
  case $t in
  aarch64-linux-gnu.*)
    check "$t: files" has_files "lib/libx8.so.$VERSION" "lib/libx8.so.$SOVERSION" lib/libx8.so lib/libx8.a bin/x8 \
      lib/pkgconfig/x8.pc lib/cmake/x8/x8Config.cmake
    check "$t: AArch64, glibc floor $GLIBC_FLOOR, soname, exports" arm64_floor_and_exports
    check "emulator (host build)" emulator
    check "$t: C suite (fork test included) under qemu-aarch64" arm64_c_suite
    check "$t: CLI token under qemu-aarch64" cli_token qemu-aarch64 -L /usr/aarch64-linux-gnu "$pkg/bin/x8"
    ;;
  x86_64-linux-musl)
    check "$t: files" has_files "lib/libx8.so.$VERSION" "lib/libx8.so.$SOVERSION" lib/libx8.so lib/libx8.a bin/x8 \
      lib/pkgconfig/x8.pc lib/cmake/x8/x8Config.cmake
    check "$t: needs only musl's libc.so, exports" musl_needs_only_libc
    check "emulator (host build)" emulator
    check "$t: C suite with musl-gcc under /lib/ld-musl-x86_64.so.1" musl_c_suite
    check "$t: CLI token" cli_token "$pkg/bin/x8"
    ;;
  x86_64-windows-gnu)
    check "$t: files" has_files bin/x8.dll bin/x8.exe bin/x8-emulator.exe lib/libx8.dll.a lib/x8.def lib/x8.lib lib/libx8.a
    check "$t: exports = x8.h = x8.def = x8.lib, Windows DLLs only" windows_exports
    check "$t: C suite (no fork test) under Wine against x8-emulator.exe" windows_c_suite
    check "$t: x8.exe token under Wine" windows_cli_token
    check "$t: Rust unit tests and tests/windows.rs under Wine" windows_rust_tests
    ;;
  *-macos)
    check "$t: files" has_files "lib/libx8.$SOVERSION.dylib" lib/libx8.dylib lib/libx8.a bin/x8 lib/pkgconfig/x8.pc
    check "$t: Mach-O load commands, install name, exports (not run: no macOS here)" macos_load_commands "$t"
    ;;
  esac
done

echo
if ((failed > 0)); then
  printf 'failed checks:\n'
  printf '  %s\n' "${failures[@]}"
fi
echo "cross-target checks took $((SECONDS - start)) s"
echo "check: $passed passed, $failed failed"
((failed == 0))
