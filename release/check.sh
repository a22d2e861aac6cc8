#!/usr/bin/env bash
# shellcheck disable=SC2317 # the check functions are called through check(), which shellcheck cannot follow
# Verifies the release tarball that release/build.sh made (or the one given as $1), unpacked into a temporary
# folder so that what is tested is what ships:
#   - its SHA-256 matches the .sha256 beside it, and it holds every file it should, with the soname links;
#   - nothing in libx8.so or the x8 CLI needs a glibc symbol version newer than 2.17 (objdump -T);
#   - libx8.so's soname is libx8.so.<major>, and it exports x8_ symbols only: exactly the functions x8.h declares;
#   - the C suite (every program tests/run.sh runs: tests/c/programs.sh) passes linked against the tarball's
#     libx8.so, and test_api also linked statically against its libx8.a;
#   - the pkg-config file and the CMake package (x8::x8, x8::x8_static, C and C++) build working programs;
#   - the CLI gets a token from the emulator.
# The tests run against the x8 emulator: $X8_EMULATOR, or a host build of it (cargo build --release -p x8-emulator).
# Ends with "check: N passed, N failed"; exits non-zero if any check failed.
set -uo pipefail
. "$(dirname "${BASH_SOURCE[0]}")/common.sh" || exit 1
cd "$ROOT" || exit 1
start=$SECONDS

tarball=${1:-$TARBALL}
name=$(basename "$tarball" .tar.gz)

finish() {
  echo
  if ((failed > 0)); then
    printf 'failed checks:\n'
    printf '  %s\n' "${failures[@]}"
  fi
  echo "release checks took $((SECONDS - start)) s"
  echo "check: $passed passed, $failed failed"
  ((failed == 0))
  exit
}

install_packages build-essential binutils pkg-config cmake libcmocka-dev
for tool in cargo cc c++ objdump readelf nm pkg-config cmake sha256sum tar; do
  command -v "$tool" >/dev/null || { echo "check.sh: $tool is missing"; failed=1; failures+=("tools"); finish; }
done

work=$(mktemp -d)
emulator_pid=
cleanup() {
  [[ -n $emulator_pid ]] && kill "$emulator_pid" 2>/dev/null
  rm -rf "$work"
}
trap cleanup EXIT

pkg=$work/unpacked/$name # the unpacked release
lib=$pkg/lib/libx8.so.$VERSION
cli=$pkg/bin/x8

# --- the tarball ------------------------------------------------------------------------------------------
sha256_matches() {
  [[ -f $tarball && -f $tarball.sha256 ]] || { echo "no $tarball or $tarball.sha256 (run release/build.sh)"; return 1; }
  (cd "$(dirname "$tarball")" && sha256sum -c "$(basename "$tarball").sha256")
}

unpacks_with_every_file() {
  mkdir -p "$work/unpacked" && tar -xzf "$tarball" -C "$work/unpacked" || return 1
  local rc=0 f
  for f in "lib/libx8.so.$VERSION" lib/libx8.a bin/x8 include/x8.h lib/pkgconfig/x8.pc \
    lib/cmake/x8/x8Config.cmake lib/cmake/x8/x8ConfigVersion.cmake README.md; do
    [[ -f $pkg/$f && ! -L $pkg/$f ]] || { echo "missing: $f"; rc=1; }
  done
  [[ -f bindings/cpp/include/x8/x8.hpp && ! -f $pkg/include/x8/x8.hpp ]] && { echo "missing: include/x8/x8.hpp"; rc=1; }
  [[ -f LICENSE && ! -f $pkg/LICENSE ]] && { echo "missing: LICENSE"; rc=1; }
  [[ -f LICENSE ]] || echo "note: the repository has no LICENSE, so neither has the tarball"
  [[ $(readlink "$pkg/lib/libx8.so.$SOVERSION") == "libx8.so.$VERSION" ]] || { echo "bad link libx8.so.$SOVERSION"; rc=1; }
  [[ $(readlink "$pkg/lib/libx8.so") == "libx8.so.$SOVERSION" ]] || { echo "bad link libx8.so"; rc=1; }
  # Nothing but the release's own folder, and no absolute or upward paths.
  if tar -tzf "$tarball" | grep -v -E "^$name(/|$)" | grep .; then echo "entries outside $name/"; rc=1; fi
  if tar -tzf "$tarball" | grep -E '(^/|(^|/)\.\.(/|$))'; then echo "unsafe paths"; rc=1; fi
  (cd "$pkg" && find . | sort)
  return "$rc"
}

# --- the binaries -----------------------------------------------------------------------------------------
glibc_floor_holds() {
  local rc=0 f max
  for f in "$lib" "$cli"; do
    max=$(glibc_max "$f")
    echo "$(basename "$f"): newest glibc symbol version GLIBC_$max (floor $GLIBC_FLOOR);" \
      "needs: $(readelf -d "$f" | sed -n 's/.*(NEEDED).*\[\(.*\)\]/\1/p' | tr '\n' ' ')"
    if [[ $max == none ]]; then
      echo "  no GLIBC symbol versions at all: objdump cannot have read it"
      rc=1
    elif ! version_le "$max" "$GLIBC_FLOOR"; then
      echo "  needs a glibc newer than $GLIBC_FLOOR:"
      objdump -T "$f" | grep -E "GLIBC_$max\b" | sed 's/^/    /'
      rc=1
    fi
  done
  return "$rc"
}

soname_and_exports() {
  local rc=0 soname others
  soname=$(readelf -d "$lib" | sed -n 's/.*(SONAME).*\[\(.*\)\]/\1/p')
  echo "soname: ${soname:-none}"
  [[ $soname == "libx8.so.$SOVERSION" ]] || { echo "expected soname libx8.so.$SOVERSION"; rc=1; }
  others=$(nm -D --defined-only "$lib" | awk '{print $NF}' | grep -v '^x8_')
  if [[ -n $others ]]; then
    echo "exported symbols other than x8_*:"
    local -a names
    mapfile -t names <<<"$others"
    printf '  %s\n' "${names[@]}"
    rc=1
  fi
  grep -oE '\bx8_[a-z0-9_]+\(' "$pkg/include/x8.h" | tr -d '(' | sort -u >"$work/declared"
  nm -D --defined-only "$lib" | awk '$2 == "T" {print $3}' | sort -u >"$work/exported"
  diff -u "$work/declared" "$work/exported" || { echo "x8.h's declarations and the exports differ"; rc=1; }
  echo "$(wc -l <"$work/exported") functions exported, all x8_, all declared in x8.h"
  return "$rc"
}

# --- the C suite against the unpacked library -------------------------------------------------------------
emulator() {
  if [[ -n ${X8_EMULATOR:-} ]]; then
    [[ -x $X8_EMULATOR ]] || { echo "X8_EMULATOR=$X8_EMULATOR is not an executable"; return 1; }
  else
    cargo build --release --locked -p x8-emulator || return 1
    X8_EMULATOR=$CARGO_TARGET_DIR/release/x8-emulator
  fi
  export X8_EMULATOR
  echo "emulator: $X8_EMULATOR"
}

. tests/c/programs.sh # C_TESTS: every C test program, the same list tests/run.sh runs
CFLAGS=(-std=c99 -Wall -Wextra -Werror -g -pthread)
build_c_suite() {
  local t
  mkdir -p "$work/bin"
  for t in "${C_TESTS[@]}"; do
    cc "${CFLAGS[@]}" -I"$pkg/include" -Itests/c "tests/c/$t.c" tests/c/fixture.c tests/c/emulator.c \
      -L"$pkg/lib" -lx8 -lcmocka -Wl,-rpath,"$pkg/lib" -o "$work/bin/$t" || return 1
  done
  # The tests load the unpacked library, through its soname link. (grep reads a variable, not a pipe: with
  # pipefail, grep -q leaving early would fail the pipe.)
  local loads
  loads=$(ldd "$work/bin/test_api" | grep libx8)
  echo "$loads"
  grep -q "libx8.so.$SOVERSION => $pkg/lib/libx8.so.$SOVERSION " <<<"$loads" ||
    { echo "test_api does not load $pkg/lib/libx8.so.$SOVERSION"; return 1; }
}

run_c_suite() {
  local rc=0 t
  for t in "${C_TESTS[@]}"; do "$work/bin/$t" || rc=1; done
  return "$rc"
}

static_c_test() {
  # Linked with libx8.a and the system libraries x8.pc lists for static linking.
  local libs
  libs=$(PKG_CONFIG_PATH=$pkg/lib/pkgconfig pkg-config --static --libs-only-l x8 | sed 's/-lx8\b//') || return 1
  # shellcheck disable=SC2086 # $libs is a list of flags
  cc "${CFLAGS[@]}" -I"$pkg/include" -Itests/c tests/c/test_api.c tests/c/fixture.c tests/c/emulator.c \
    "$pkg/lib/libx8.a" $libs -lcmocka -o "$work/bin/test_api_static" || return 1
  if ldd "$work/bin/test_api_static" | grep libx8; then echo "the static build loads libx8.so"; return 1; fi
  "$work/bin/test_api_static"
}

# --- pkg-config and CMake ---------------------------------------------------------------------------------
cat >"$work/version_check.c" <<'EOF'
#include <stdio.h>
#include <string.h>
#include <x8.h>
int main(void) {
    printf("x8 %s\n", x8_version());
    return x8_version_num() == X8_VERSION_NUM && strcmp(x8_version(), X8_VERSION_STRING) == 0 ? 0 : 1;
}
EOF
cat >"$work/version_check.cpp" <<'EOF'
#include <x8/x8.hpp>
#include <cstring>
#include <iostream>
int main() {
    std::cout << "x8 " << x8_version() << " (C++)\n";
    return x8_version_num() == X8_VERSION_NUM ? 0 : 1;
}
EOF

pkg_config_file() {
  local pc=(env PKG_CONFIG_PATH="$pkg/lib/pkgconfig" pkg-config)
  [[ $("${pc[@]}" --modversion x8) == "$VERSION" ]] || { echo "pkg-config --modversion x8 is not $VERSION"; return 1; }
  echo "pkg-config --cflags --libs x8: $("${pc[@]}" --cflags --libs x8)"
  # shellcheck disable=SC2046 # pkg-config's output is a list of flags
  cc -std=c99 -Wall -Werror "$work/version_check.c" $("${pc[@]}" --cflags --libs x8) -Wl,-rpath,"$pkg/lib" \
    -o "$work/bin/pc_version_check" && "$work/bin/pc_version_check"
}

cmake_package() {
  local src=$work/cmake-src
  mkdir -p "$src"
  cp "$work/version_check.c" "$work/version_check.cpp" "$src/"
  local has_hpp=OFF
  [[ -f $pkg/include/x8/x8.hpp ]] && has_hpp=ON
  cat >"$src/CMakeLists.txt" <<EOF
cmake_minimum_required(VERSION 3.16)
project(x8_release_check C CXX)
find_package(x8 $VERSION REQUIRED CONFIG)
if(NOT x8_VERSION STREQUAL "$VERSION")
  message(FATAL_ERROR "x8_VERSION is \${x8_VERSION}")
endif()
add_executable(shared_c version_check.c)
target_link_libraries(shared_c PRIVATE x8::x8)
add_executable(static_c version_check.c)
target_link_libraries(static_c PRIVATE x8::x8_static)
if($has_hpp)
  add_executable(shared_cpp version_check.cpp)
  target_compile_features(shared_cpp PRIVATE cxx_std_17)
  target_link_libraries(shared_cpp PRIVATE x8::x8)
endif()
EOF
  cmake -S "$src" -B "$work/cmake-build" -DCMAKE_PREFIX_PATH="$pkg" -DCMAKE_BUILD_TYPE=Release >/dev/null &&
    cmake --build "$work/cmake-build" -j 2 >/dev/null || return 1
  "$work/cmake-build/shared_c" && "$work/cmake-build/static_c" || return 1
  [[ $has_hpp == OFF ]] || "$work/cmake-build/shared_cpp" || return 1
  local dynamic
  dynamic=$(readelf -d "$work/cmake-build/shared_c")
  grep -q "NEEDED.*\[libx8.so.$SOVERSION\]" <<<"$dynamic" ||
    { echo "shared_c does not link libx8.so.$SOVERSION by its soname"; return 1; }
  # What find_package accepts (packaging/x8ConfigVersion.cmake.in): no version, or one of the same major
  # version that is not newer; not another major version, nor anything newer.
  local major minor want found expected
  IFS=. read -r major minor _ <<<"$VERSION"
  local accept=("" "$major" "$major.$minor" "$VERSION") refuse=("$((major + 1))" "$major.$((minor + 1))" "$VERSION.1")
  for want in "${accept[@]}" "${refuse[@]}"; do
    mkdir -p "$work/find"
    printf 'cmake_minimum_required(VERSION 3.16)\nproject(find NONE)\nfind_package(x8 %s CONFIG QUIET)\nif(x8_FOUND)\n  message(STATUS "found=1")\nelse()\n  message(STATUS "found=0")\nendif()\n' \
      "$want" >"$work/find/CMakeLists.txt"
    expected=0
    [[ -z $want || " ${accept[*]} " == *" $want "* ]] && expected=1
    rm -rf "$work/find/build"
    found=$(cmake -S "$work/find" -B "$work/find/build" -DCMAKE_PREFIX_PATH="$pkg" 2>&1 | sed -n 's/^-- found=//p')
    [[ $found == "$expected" ]] || { echo "find_package(x8 $want): x8_FOUND is '$found', expected $expected"; return 1; }
  done
  echo "find_package(x8 [version]) accepts: (none) ${accept[*]:1}; refuses: ${refuse[*]}"
}

# --- the CLI ----------------------------------------------------------------------------------------------
cli_gets_a_token() {
  "$cli" --version || return 1
  local url token
  coproc EMU { exec "$X8_EMULATOR" --port 0 --exit-on-stdin-eof --client "release-id:release-secret:vcc"; }
  emulator_pid=$EMU_PID
  read -r -t 20 url <&"${EMU[0]}" || { echo "the emulator printed no URL"; return 1; }
  token=$(X8_CLIENT_ID=release-id X8_CLIENT_SECRET=release-secret X8_BASE_URL=$url "$cli" token)
  local rc=$?
  eval "exec ${EMU[1]}>&-" # end of stdin: the emulator exits
  wait "$emulator_pid" 2>/dev/null
  emulator_pid=
  [[ $rc == 0 && -n $token ]] || { echo "x8 token failed ($rc)"; return 1; }
  echo "x8 token: got a ${#token}-character token from $url"
}

check "tarball: SHA-256" sha256_matches || true
check "tarball: contents and soname links" unpacks_with_every_file || true
if [[ ! -f $lib || ! -f $cli ]]; then
  echo "nothing to check without the unpacked library and CLI"
  finish
fi
check "glibc: nothing newer than $GLIBC_FLOOR (libx8.so, x8)" glibc_floor_holds
check "libx8.so: soname, x8_-only exports = x8.h" soname_and_exports
check "emulator (host build)" emulator
check "C suite: build against the tarball's libx8.so" build_c_suite
check "C suite against the tarball's libx8.so" run_c_suite
check "C test_api against the tarball's libx8.a" static_c_test
check "pkg-config: x8.pc" pkg_config_file
check "CMake: find_package(x8), x8::x8, x8::x8_static" cmake_package
check "CLI: x8 token against the emulator" cli_gets_a_token
finish
