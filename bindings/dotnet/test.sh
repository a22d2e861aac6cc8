#!/usr/bin/env bash
# Builds the .NET binding with Mono's mcs and runs its NUnit tests against the x8 emulator.
# CI: X8_LIB_DIR=<dir with libx8.so> X8_INCLUDE_DIR=<dir with x8.h> X8_EMULATOR=<x8-emulator> bash bindings/dotnet/test.sh
# X8_ASSEMBLY=<X8.dll> tests that assembly instead of one built from src/.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
: "${X8_LIB_DIR:?set X8_LIB_DIR to the directory holding libx8.so}"
: "${X8_EMULATOR:?set X8_EMULATOR to the x8-emulator binary}"
X8_LIB_DIR="$(cd "$X8_LIB_DIR" && pwd)"
[[ -f "$X8_LIB_DIR/libx8.so" ]] || { echo "no libx8.so in $X8_LIB_DIR" >&2; exit 1; }
[[ -x "$X8_EMULATOR" ]] || { echo "X8_EMULATOR=$X8_EMULATOR is not executable" >&2; exit 1; }

# Toolchain from Debian: the compiler, the runtime, NUnit 2.6 and System.Net.Http (not part of mono-runtime).
need=()
command -v mcs >/dev/null || need+=(mono-mcs)
command -v mono >/dev/null || need+=(mono-runtime)
command -v nunit-console >/dev/null || need+=(nunit-console)
[[ -f /usr/lib/cli/nunit.framework-2.6.3/nunit.framework.dll ]] || need+=(libnunit-cil-dev)
[[ -f /usr/lib/mono/4.5/System.Net.Http.dll ]] || need+=(libmono-system-net-http4.0-cil)
if ((${#need[@]})); then
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq
    apt-get install -y -qq "${need[@]}" >/dev/null
fi

build="$(mktemp -d)"
trap 'rm -rf "$build"' EXIT

# Warnings are errors so the code stays clean; -langversion:7 keeps the source within what .NET users' compilers
# and mcs both accept.
mcs_flags=(-langversion:7 -warnaserror+ -debug -nologo)
# X8_ASSEMBLY: test a prebuilt X8.dll (the NuGet package's, release/check_packages.sh) instead of building one.
if [[ -n ${X8_ASSEMBLY:-} ]]; then
    cp "$X8_ASSEMBLY" "$build/X8.dll"
else
    mcs "${mcs_flags[@]}" -target:library -out:"$build/X8.dll" -doc:"$build/X8.xml" \
        -r:System.Net.Http "$here"/src/*.cs
fi
mcs "${mcs_flags[@]}" -target:exe -out:"$build/Quickstart.exe" -r:"$build/X8.dll" "$here/examples/Quickstart.cs"
for example in RealtimePages StorageDownload; do
    mcs "${mcs_flags[@]}" -target:exe -out:"$build/$example.exe" -r:"$build/X8.dll" "$here/examples/$example.cs"
done
mcs "${mcs_flags[@]}" -target:library -out:"$build/X8.Tests.dll" \
    -r:"$build/X8.dll" -r:System.Net.Http -r:/usr/lib/cli/nunit.framework-2.6.3/nunit.framework.dll \
    "$here"/tests/*.cs

# DllImport("x8") resolves to libx8.so through the dynamic loader's path; no dllmap is needed on Mono.
export LD_LIBRARY_PATH="$X8_LIB_DIR${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}"
export X8_EMULATOR X8_QUICKSTART_EXE="$build/Quickstart.exe"
export X8_REALTIME_PAGES_EXE="$build/RealtimePages.exe" X8_STORAGE_DOWNLOAD_EXE="$build/StorageDownload.exe"

# The tests own the key variables: one of them checks the error when they are missing.
cd "$build"
results="$build/TestResult.xml"
status=0
env -u X8_CLIENT_ID -u X8_CLIENT_SECRET -u X8_BASE_URL -u X8_TOKEN_URL \
    nunit-console -nologo -labels -xml="$results" "$build/X8.Tests.dll" || status=$?

# nunit-console 2.6 exits with the number of failed tests, but with 0 when only a fixture's setup or teardown
# failed; its XML marks those too. And nothing may be skipped, ignored or left inconclusive silently.
if ((status != 0)); then
    echo "FAILED: nunit-console exited with $status" >&2
    exit 1
fi
if ! grep -q '<test-suite type="Assembly"[^>]* success="True"' "$results"; then
    echo "FAILED: a test fixture's setup or teardown failed (see 'Errors and Failures' above)" >&2
    exit 1
fi
if ! grep -q '<test-results [^>]*errors="0" failures="0" not-run="0" inconclusive="0" ignored="0" skipped="0" invalid="0"' "$results" ||
    grep -q '<test-results [^>]*total="0"' "$results"; then
    echo "FAILED: tests were not run, skipped, ignored or inconclusive:" >&2
    grep '<test-results ' "$results" >&2
    exit 1
fi
echo "dotnet binding: all tests passed"
