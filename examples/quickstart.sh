#!/usr/bin/env bash
# The README's main command: builds libx8 and the emulator, then runs the C quickstart. With X8_CLIENT_ID and
# X8_CLIENT_SECRET set (and no X8_BASE_URL), it talks to the real api.8x8.com; otherwise it starts the local 8x8
# emulator on a free loopback port and points the example at it.
set -euo pipefail
cd "$(dirname "$0")/.."

cargo build --release -q -p x8 -p x8-emulator
release=$(realpath -m "${CARGO_TARGET_DIR:-target}")/release # where cargo built
ln -sfn libx8.so "$release/libx8.so.0" # the soname programs linked with -lx8 look for
cc -std=c99 -Wall -Wextra -O2 -Iinclude examples/quickstart.c -L"$release" -lx8 \
   -Wl,-rpath,"$release" -o "$release/quickstart"

if [[ -n "${X8_CLIENT_ID:-}" && -n "${X8_CLIENT_SECRET:-}" ]]; then
  echo "Using X8_CLIENT_ID=$X8_CLIENT_ID against ${X8_BASE_URL:-https://api.8x8.com}"
  exec "$release/quickstart"
fi

# The emulator exits when its stdin closes, so it never outlives this script.
coproc EMU { exec "$release/x8-emulator" --port 0 --exit-on-stdin-eof; }
trap 'kill "$EMU_PID" 2>/dev/null || true' EXIT
read -r base_url <&"${EMU[0]}"
echo "Using the 8x8 emulator at $base_url (set X8_CLIENT_ID and X8_CLIENT_SECRET to use api.8x8.com)"
X8_CLIENT_ID=demo-client X8_CLIENT_SECRET=demo-secret X8_BASE_URL="$base_url" "$release/quickstart"
