#!/usr/bin/env bash
# Builds the C++ binding's tests and example with CMake (under AddressSanitizer + UBSan) in a temporary
# directory and runs them with ctest against the x8 emulator.
#
#   X8_LIB_DIR=<dir with libx8.so> X8_INCLUDE_DIR=<dir with x8.h> X8_EMULATOR=<x8-emulator> bash bindings/cpp/test.sh
#
# Relative paths are taken from the current directory (CI passes target/release, include/...).
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"

: "${X8_LIB_DIR:?set X8_LIB_DIR to the directory holding libx8.so}"
: "${X8_INCLUDE_DIR:?set X8_INCLUDE_DIR to the directory holding x8.h}"
: "${X8_EMULATOR:?set X8_EMULATOR to the x8-emulator binary}"
# Absolute, because CMake runs from the build directory.
lib_dir="$(realpath -e "$X8_LIB_DIR")"
include_dir="$(realpath -e "$X8_INCLUDE_DIR")"
emulator="$(realpath -e "$X8_EMULATOR")"

# The toolchain, from Debian packages, only when something is missing.
missing=()
command -v cmake >/dev/null || missing+=(cmake)
command -v make >/dev/null || missing+=(make)
command -v g++ >/dev/null || missing+=(g++)
[[ -f /usr/include/gtest/gtest.h ]] || missing+=(libgtest-dev)
if ((${#missing[@]})); then
    echo "installing ${missing[*]}"
    apt-get update
    DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends "${missing[@]}"
fi

build="$(mktemp -d)"
trap 'rm -rf "$build"' EXIT

cmake -S "$here" -B "$build" \
    -DCMAKE_BUILD_TYPE=Debug \
    -DX8_LIB_DIR="$lib_dir" \
    -DX8_INCLUDE_DIR="$include_dir" \
    -DX8_EMULATOR="$emulator" \
    -DX8_CPP_SANITIZE=ON
cmake --build "$build" --parallel "$(nproc)"

cd "$build"
# Each test starts its own emulator, so they may run in parallel.
ctest --output-on-failure --parallel "$(nproc)"
