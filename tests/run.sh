#!/usr/bin/env bash
# The README's test command: installs what it needs, builds everything once (release), and runs every suite —
# lint, Rust unit/integration tests (library, emulator, CLI), the header checks, the C suite (plain and under
# valgrind), the release archives of the six targets (Windows under Wine, arm64 under qemu, musl, macOS checks),
# the NuGet package and Go module, and the C++, Go and .NET bindings' suites, all against the local 8x8 emulator
# on loopback.
# Exits non-zero if any suite fails; a missing toolchain is a failure, never a skip.
set -uo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
# Where cargo builds: CARGO_TARGET_DIR when the developer set one, else target/. Every suite uses this build.
RELEASE=$(realpath -m "${CARGO_TARGET_DIR:-$ROOT/target}")/release
export X8_EMULATOR=$RELEASE/x8-emulator # for the C suite (tests/c/emulator.c) and every later one
export CARGO_TERM_COLOR=never

. scripts/lib.sh # install_packages, install_rust_targets, install_zig_tools, check: shared with release/ and benches/
suite() { check "$@"; } # the test command calls its checks suites


toolchain() {
  install_packages build-essential pkg-config libcmocka-dev valgrind cmake libgtest-dev binutils redis-server || return 1
  for tool in cargo rustc cc c++ valgrind redis-server; do
    command -v "$tool" >/dev/null || { echo "$tool is missing"; return 1; }
  done
  cargo fmt --version >/dev/null && cargo clippy --version >/dev/null
}

build() {
  cargo build --workspace --release --locked &&
    # The library's soname is libx8.so.0: programs linked with -lx8 load that name, which cargo does not create.
    ln -sfn libx8.so "$RELEASE/libx8.so.0"
}

header_is_clean_c_and_cpp() {
  local out
  out=$(mktemp -d)
  for std in c99 c11; do
    cc -std=$std -Wall -Wextra -Werror -pedantic -fsyntax-only -x c include/x8.h || return 1
  done
  c++ -std=c++17 -Wall -Wextra -Werror -pedantic -fsyntax-only -x c++ include/x8.h || return 1
  # Every function the header declares is exported by the library.
  grep -oE '\bx8_[a-z0-9_]+\(' include/x8.h | tr -d '(' | sort -u >"$out/declared"
  nm -D --defined-only "$RELEASE/libx8.so" | awk '$2 == "T" {print $3}' | grep '^x8_' | sort -u >"$out/exported"
  if ! diff -u "$out/declared" "$out/exported"; then
    echo "header declarations and exported symbols differ"
    return 1
  fi
  echo "$(wc -l <"$out/exported") x8_ functions declared and exported"
}

. tests/c/programs.sh # C_TESTS: every tests/c/test_*.c, the same list release/check.sh runs
build_c_tests() {
  mkdir -p tests/c/bin
  local t
  for t in "${C_TESTS[@]}"; do
    cc -std=c99 -Wall -Wextra -Werror -g -pthread -Iinclude -Itests/c "tests/c/$t.c" tests/c/fixture.c \
      tests/c/emulator.c -L"$RELEASE" -lx8 -lcmocka -Wl,-rpath,"$RELEASE" -o "tests/c/bin/$t" || return 1
  done
}

run_c_tests() {
  local rc=0
  local t
  for t in "${C_TESTS[@]}"; do "tests/c/bin/$t" || rc=1; done
  return $rc
}

# A 200 MB download streamed through x8_request's write callback, in a process of its own that checks its peak
# RSS (VmHWM) stayed under 30 MB; the emulator makes the object's content as it sends it. Not under valgrind,
# whose own memory would be measured.
run_streamed_download_in_constant_memory() {
  cc -std=c99 -Wall -Wextra -Werror -g -O2 -pthread -Iinclude -Itests/c tests/c/stream_rss.c tests/c/emulator.c \
    -L"$RELEASE" -lx8 -Wl,-rpath,"$RELEASE" -o tests/c/bin/stream_rss &&
    tests/c/bin/stream_rss 200 30
}

# The same suite built with AddressSanitizer and UndefinedBehaviorSanitizer: out-of-bounds access, use after
# free and UB on the C side of every call. Leaks are valgrind's job above (LeakSanitizer cannot tell Rust's
# process-lifetime caches from leaks), so detect_leaks is off here.
build_c_tests_with_sanitizers() {
  mkdir -p tests/c/bin-san
  local t
  for t in "${C_TESTS[@]}"; do
    cc -std=c99 -Wall -Wextra -Werror -g -O1 -fno-omit-frame-pointer -fsanitize=address,undefined \
      -fno-sanitize-recover=all -pthread -Iinclude -Itests/c "tests/c/$t.c" tests/c/fixture.c \
      tests/c/emulator.c -L"$RELEASE" -lx8 -lcmocka -Wl,-rpath,"$RELEASE" -o "tests/c/bin-san/$t" || return 1
  done
}

run_c_tests_with_sanitizers() {
  build_c_tests_with_sanitizers || return 1
  local rc=0
  local t
  for t in "${C_TESTS[@]}"; do
    ASAN_OPTIONS=detect_leaks=0:abort_on_error=1 UBSAN_OPTIONS=print_stacktrace=1 "tests/c/bin-san/$t" || rc=1
  done
  return $rc
}

run_c_tests_under_valgrind() {
  local rc=0
  local t
  for t in "${C_TESTS[@]}"; do
    # Every leak kind is an error, "possibly lost" and "still reachable" included: a thread left running by
    # x8_client_free shows up as "possibly lost" (issue 13, defect 11). valgrind.supp lets through only the
    # process-lifetime caches of other crates (parking_lot, arc_swap, ureq), each by that crate's frames.
    valgrind -q --error-exitcode=99 --leak-check=full --errors-for-leak-kinds=all \
      --show-leak-kinds=all --suppressions=tests/c/valgrind.supp "tests/c/bin/$t" || rc=1
  done
  return $rc
}

release_build_and_check() { # builds all six archives once; the suites after it check the other five
  bash release/build.sh && bash release/check.sh
}

release_packages() {
  bash release/nuget.sh && bash release/go.sh && bash release/check_packages.sh
}

binding() {
  bash "bindings/$1/test.sh"
}

export X8_LIB_DIR=$RELEASE X8_INCLUDE_DIR=$ROOT/include

suite "toolchain and packages" toolchain || true
suite "cargo fmt --check" cargo fmt --all --check
suite "cargo clippy -D warnings" cargo clippy --workspace --all-targets --release --locked -- -D warnings
suite "build (release, once)" build
if ((failed > 0)) && [[ " ${failures[*]} " == *" build (release, once) "* ]]; then
  echo "the build failed; nothing else can run"
  exit 1
fi
suite "Rust tests (library, emulator, CLI; header freshness)" cargo test --workspace --release --locked
suite "header: C99/C11/C++17 -Werror, exports" header_is_clean_c_and_cpp
suite "bindings in step with x8.h (functions, statuses, stats fields)" python3 tests/parity/parity.py
suite "C tests: build" build_c_tests
suite "C tests" run_c_tests
suite "C tests under valgrind" run_c_tests_under_valgrind
suite "C: 200 MB streamed download, peak RSS under 30 MB" run_streamed_download_in_constant_memory
suite "C tests under -fsanitize=address,undefined" run_c_tests_with_sanitizers
suite "C examples of each 8x8 API against the emulator (valgrind)" bash examples/run_examples.sh
suite "install: soname, pkg-config (shared, static), CMake find_package, CLI" bash tests/install/test.sh
suite "release: six archives; glibc 2.17 tarball, objdump floor, C suite against it" release_build_and_check
suite "release: arm64 (qemu), musl, Windows (Wine), macOS (load commands) archives" bash release/check_targets.sh
suite "release: NuGet package on Mono, Go module with prebuilt libx8.a" release_packages
for b in cpp go dotnet; do
  if [[ -f bindings/$b/test.sh ]]; then
    suite "bindings/$b" binding "$b"
  fi
done

echo
if ((failed > 0)); then
  printf 'failed suites:\n'
  printf '  %s\n' "${failures[@]}"
fi
echo "suites: $passed passed, $failed failed"
((failed == 0))
