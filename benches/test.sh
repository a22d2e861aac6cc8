#!/usr/bin/env bash
# Smoke test of the benchmark suite: builds every benchmark program and runs each measurement once, briefly
# (BENCH_QUICK=1), into a temporary BENCHMARKS.md, then checks that every measure got a number. It asserts nothing
# about time. It does check the suite's one non-time promise: a cached x8_get_token allocates nothing.
#
#   X8_LIB_DIR=<dir with libx8.so> X8_INCLUDE_DIR=<dir with x8.h> X8_EMULATOR=<x8-emulator> bash benches/test.sh
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

BENCH_QUICK=1 BENCH_OUT="$tmp/BENCHMARKS.md" bash "$here/run.sh" >"$tmp/table.md"

python3 - "$tmp/table.md" "$tmp/BENCHMARKS.md" <<'EOF'
import sys

table, doc = open(sys.argv[1]).read(), open(sys.argv[2]).read()
passed, failed = 0, []


def check(ok, what):
    global passed
    if ok:
        passed += 1
    else:
        failed.append(what)


rows = [[c.strip() for c in line.strip().strip("|").split("|")] for line in table.splitlines()
        if line.startswith("| ") and not line.startswith("| #")]
check(len(rows) >= 40, f"the table has {len(rows)} rows, expected at least 40")
for row in rows:
    number, measure, x8, other, value = row[:5]
    check(x8 != "n/a", f"row {number} '{measure}': no x8 value")
    check(not other or value != "n/a", f"row {number} '{measure}': no value for {other}")
for row in rows:
    if row[1] == "heap allocations per cached x8_get_token":
        check(row[2] == "0", f"a cached x8_get_token allocated ({row[2]} allocations per call)")
for heading in ("Machine:", "## All medians", "## Profile", "x8_get_token", "x8_request"):
    check(heading in doc, f"BENCHMARKS.md lacks '{heading}'")
check("not profiled" not in doc and "no data" not in doc, "a callgrind profile is missing")

for what in failed:
    print("FAIL:", what)
print(f"benchmark smoke checks: {passed} passed, {len(failed)} failed")
sys.exit(1 if failed else 0)
EOF
