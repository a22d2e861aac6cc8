#!/usr/bin/env bash
# CARGO_TARGET_X86_64_PC_WINDOWS_GNU_RUNNER for `cargo test --target x86_64-pc-windows-gnu`: runs a Windows test
# program under Wine, with the ProcessPrng stand-in (processprng.c, test scaffolding) beside it, since Wine 8
# lacks the function Rust's standard library imports. WINEPREFIX defaults to target/wine-prefix, made once.
set -euo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
exe=$1
shift
dir=$(dirname "$exe")
if [[ ! -f $dir/bcryptprimitives.dll || $here/processprng.c -nt $dir/bcryptprimitives.dll ]]; then
  x86_64-w64-mingw32-gcc -O2 -shared -s -o "$dir/bcryptprimitives.dll" "$here/processprng.c" -ladvapi32
fi
export WINEPREFIX=${WINEPREFIX:-$(cd "$here/../.." && pwd)/target/wine-prefix} WINEDEBUG=-all
export WINEDLLOVERRIDES="mscoree,mshtml=;bcryptprimitives=n,b"
exec /usr/lib/wine/wine64 "$exe" "$@"
