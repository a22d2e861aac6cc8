# shellcheck shell=bash disable=SC2034 # sourced: C_TESTS is used by the scripts that source this file
# The C test programs, listed once: every tests/c/test_*.c is one (built with fixture.c and emulator.c, run
# against the emulator). tests/run.sh builds and runs each (plain, under valgrind, with ASan+UBSan) and
# release/check.sh runs each against the unpacked release tarball, both from this list, so a new test file
# reaches both without a second list to keep. (release/check_targets.sh keeps its own, shorter list: it runs
# on other targets — Wine, qemu, musl — where some of these programs cannot run.)
C_TESTS=()
for _x8_c_test in "$(dirname "${BASH_SOURCE[0]}")"/test_*.c; do
  _x8_c_test=${_x8_c_test##*/}
  C_TESTS+=("${_x8_c_test%.c}")
done
unset _x8_c_test
