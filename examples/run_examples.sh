#!/usr/bin/env bash
# Builds the C example of each 8x8 API (examples/*.c but the quickstart) and runs each against a fresh 8x8
# emulator, checking what it prints; under valgrind (every leak kind an error) when valgrind is installed.
# Then checks that the presigned download sent no Authorization header (the emulator's second origin logs
# every header). The test command's suite "C examples"; run alone after a release build:
#   bash examples/run_examples.sh
set -euo pipefail
cd "$(dirname "$0")/.."
release=$(realpath -m "${CARGO_TARGET_DIR:-target}")/release
emulator=${X8_EMULATOR:-$release/x8-emulator}
[[ -f $release/libx8.so && -x $emulator ]] || { echo "build first: cargo build --release -p x8 -p x8-emulator"; exit 1; }
ln -sfn libx8.so "$release/libx8.so.0"
bin=$(mktemp -d)
trap 'rm -rf "$bin"; [[ -n ${EMU_PID:-} ]] && kill "$EMU_PID" 2>/dev/null || true' EXIT

# example: what its output must contain (one line each).
declare -A expect=(
  [realtime_pages]="7 queues in 3 pages"
  [historical_report]="rows in 3 pages"
  [storage_download]="without Authorization"
  [qm_interactions]="transcription lines"
  [vcc_conversations]="45 conversations in 3 pages"
)
for name in "${!expect[@]}"; do
  cc -std=c99 -Wall -Wextra -Werror -O1 -g -Iinclude "examples/$name.c" -L"$release" -lx8 -Wl,-rpath,"$release" \
    -o "$bin/$name"
done

coproc EMU { exec "$emulator" --port 0 --exit-on-stdin-eof --client "example:example-secret:analytics realtime-api,storage,QM - API,vcc"; }
read -r base_url <&"${EMU[0]}"
export X8_CLIENT_ID=example X8_CLIENT_SECRET=example-secret X8_BASE_URL=$base_url

run=()
if command -v valgrind >/dev/null; then
  run=(valgrind -q --error-exitcode=99 --leak-check=full --errors-for-leak-kinds=all --show-leak-kinds=all
    --suppressions=tests/c/valgrind.supp)
fi
rc=0
for name in realtime_pages historical_report storage_download qm_interactions vcc_conversations; do
  if out=$("${run[@]}" "$bin/$name" 2>&1) && [[ $out == *"${expect[$name]}"* ]] && [[ $out != *example-secret* ]]; then
    echo "--- $name: ok"
  else
    echo "--- $name: FAILED (wanted \"${expect[$name]}\")"
    rc=1
  fi
  printf '%s\n' "$out" | sed 's/^/    /'
done

# The presigned fetch of storage_download carried no Authorization (nor the token in any header).
python3 - "$base_url" <<'PY' || rc=1
import json, sys, urllib.request
seen = json.load(urllib.request.urlopen(sys.argv[1] + "/_emulator/presigned-requests"))
assert len(seen) == 1, seen
names = [h.lower() for h in seen[0]["headers"]]
assert "authorization" not in names, names
print("--- presigned download: no Authorization header (" + ", ".join(sorted(names)) + ")")
PY
exit $rc
