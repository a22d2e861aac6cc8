#!/usr/bin/env bash
# Builds and runs the x8 benchmark suite against the emulator on loopback, prints one table of medians and ratios,
# and writes it with the machine's description and the profiles to BENCHMARKS.md at the repository root.
#
#   bash benches/run.sh                      builds x8 and the emulator (cargo build --release), then measures
#   X8_LIB_DIR=... X8_INCLUDE_DIR=... X8_EMULATOR=... bash benches/run.sh     uses a prebuilt x8 instead
#
# Knobs: BENCH_OUT (default <repo>/BENCHMARKS.md), BENCH_REPS (default 5), BENCH_SCALE (multiplies every
# duration and count, default 1), BENCH_QUICK=1 (1 repetition at a tenth of the durations: a smoke run).
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
repo=$(dirname "$here")
out=${BENCH_OUT:-$repo/BENCHMARKS.md}
if [[ ${BENCH_QUICK:-} == 1 ]]; then
    export BENCH_REPS=${BENCH_REPS:-1} BENCH_SCALE=${BENCH_SCALE:-0.1}
fi
export BENCH_REPS=${BENCH_REPS:-5} BENCH_SCALE=${BENCH_SCALE:-1}
say() { echo "== $*" >&2; }

# ---- toolchains: gcc, go, cargo and python3 come with the machine; the rest from Debian ----
missing=()
command -v curl-config >/dev/null || missing+=(libcurl4-openssl-dev)
command -v mcs >/dev/null || missing+=(mono-mcs)
command -v mono >/dev/null || missing+=(mono-runtime)
[[ -e /usr/lib/mono/4.5/System.Net.Http.dll ]] || missing+=(libmono-system-net-http4.0-cil)
command -v valgrind >/dev/null || missing+=(valgrind)
command -v strace >/dev/null || missing+=(strace)
[[ -x /usr/bin/time ]] || missing+=(time)
command -v curl >/dev/null || missing+=(curl)
if ((${#missing[@]})); then
    say "installing ${missing[*]}"
    . "$repo/scripts/lib.sh" # the one package helper of the test, release and bench scripts
    install_packages "${missing[@]}" >&2
fi

# ---- x8: prebuilt when X8_LIB_DIR is given, else built here ----
if [[ -z ${X8_LIB_DIR:-} ]]; then
    say "building x8 and the emulator (cargo build --release)"
    (cd "$repo" && cargo build --release -p x8 -p x8-emulator >&2)
fi
# Where cargo put the build: CARGO_TARGET_DIR when set (as `make bench` built it), else the repository's target/.
cargo_release=${CARGO_TARGET_DIR:-$repo/target}/release
X8_LIB_DIR=${X8_LIB_DIR:-$cargo_release}
X8_INCLUDE_DIR=${X8_INCLUDE_DIR:-$repo/include}
X8_EMULATOR=${X8_EMULATOR:-$cargo_release/x8-emulator}
export X8_LIB_DIR X8_INCLUDE_DIR X8_EMULATOR
for f in "$X8_LIB_DIR/libx8.so" "$X8_INCLUDE_DIR/x8.h" "$X8_EMULATOR"; do
    [[ -e $f ]] || { echo "run.sh: $f is missing" >&2; exit 1; }
done

# ---- the benchmark programs, all built into benches/target ----
build=$here/target
mkdir -p "$build/c" "$build/dotnet" "$build/lib"
# The library as the programs load it: as libx8.so, and under its SONAME (libx8.so.0), which is the name a program
# linked with -lx8 asks the loader for, while cargo leaves only libx8.so in target/release.
lib=$build/lib
X8_LIB_DIR=$(cd "$X8_LIB_DIR" && pwd)
ln -sf "$X8_LIB_DIR/libx8.so" "$lib/libx8.so"
soname=$(objdump -p "$X8_LIB_DIR/libx8.so" | awk '$1 == "SONAME" {print $2}')
if [[ -n $soname && $soname != libx8.so ]]; then ln -sf "$X8_LIB_DIR/libx8.so" "$lib/$soname"; fi
say "building the benchmark programs"
cflags=(-O2 -g -Wall -Wextra -Werror -pthread -I"$X8_INCLUDE_DIR")
xlibs=(-L"$lib" -lx8 -Wl,-rpath,"$lib")
for prog in token_hit rollover memory fleet many_clients; do
    gcc "${cflags[@]}" "$here/c/bench.c" "$here/c/$prog.c" -o "$build/c/$prog" "${xlibs[@]}"
done
gcc "${cflags[@]}" "$here/c/bench.c" "$here/c/get.c" -o "$build/c/get" "${xlibs[@]}" -lcurl
gcc -O2 -Wall -Werror -shared -fPIC "$here/c/malloc_count.c" -o "$build/c/malloc_count.so"
(cd "$here/go" && CGO_CFLAGS="-I$X8_INCLUDE_DIR" CGO_LDFLAGS="-L$lib -Wl,-rpath,$lib" \
    go build -o "$build/go/x8bench" .)
(cd "$here/ureq-floor" && CARGO_TARGET_DIR="$build" cargo build --release --locked -q)
mcs -optimize+ -r:System.Net.Http.dll -out:"$build/dotnet/bench.exe" "$here/dotnet/Bench.cs" >&2

# ---- one emulator for the whole run; it exits when this script does (its stdin is our pipe) ----
tmp=$(mktemp -d)
cleanup() {
    if [[ -n ${EMU_PID:-} ]]; then kill "$EMU_PID" 2>/dev/null || true; fi
    rm -rf "$tmp"
}
trap cleanup EXIT
coproc EMU { exec "$X8_EMULATOR" --port 0 --exit-on-stdin-eof 2>/dev/null; }
read -r BENCH_URL <&"${EMU[0]}" || { echo "run.sh: the emulator printed no URL" >&2; exit 1; }
export BENCH_URL
say "emulator at $BENCH_URL"
load_before=$(cut -d' ' -f1-3 /proc/loadavg)

results=$tmp/results.jsonl
run() { # run NAME COMMAND...: appends the command's JSON lines to the results
    say "$1"
    shift
    "$@" | tee -a "$results" >&2
}
export LD_LIBRARY_PATH=$lib${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH} # for Mono's DllImport("x8")

run "1 cached token hit: x8 and the floor (C)" "$build/c/token_hit"
run "1 cached token hit: Go x/oauth2" "$build/go/x8bench" hit
run "4 cached token hit: cgo" "$build/go/x8bench" cgo-hit
run "4 cached token hit: Mono P/Invoke" mono "$build/dotnet/bench.exe" hit
run "2 rollover: x8 (C)" "$build/c/rollover"
run "2 rollover: Go x/oauth2" "$build/go/x8bench" rollover
run "3 GET: x8 and libcurl (C)" "$build/c/get"
run "3 GET: Go net/http + x/oauth2" "$build/go/x8bench" get
run "3 GET: ureq used directly (Rust)" "$build/release/ureq-floor"
run "4 GET: cgo" "$build/go/x8bench" cgo-get
run "4 GET: Mono P/Invoke and HttpClient" mono "$build/dotnet/bench.exe" get
run "5 memory and allocations" env LD_PRELOAD="$build/c/malloc_count.so" "$build/c/memory"
cp "$X8_LIB_DIR/libx8.so" "$tmp/libx8.so"
strip "$tmp/libx8.so"
echo "{\"bench\":\"size\",\"impl\":\"libx8.so\",\"threads\":0,\"stripped_kib\":$(($(stat -c %s "$tmp/libx8.so") / 1024)),\"unstripped_kib\":$(($(stat -c %s "$X8_LIB_DIR/libx8.so") / 1024))}" >>"$results"
run "6 fleet of short-lived processes" "$build/c/fleet" 20
fleet_cache=$(mktemp -d)
run "6 fleet of short-lived processes, shared token cache" "$build/c/fleet" 20 "$fleet_cache/x8"
rm -rf "$fleet_cache"
# Row 7 starts emulators of its own: one accepting 10,000 keys, one accepting 1,000 with 30 s tokens.
run "7 many clients: 10,000 keys with a cached token" "$build/c/many_clients" scale
run "7 many clients: rollover of 1,000 keys, 100 ms endpoint" "$build/c/many_clients" rollover 1000 100
if [[ ${BENCH_QUICK:-} != 1 ]]; then # 45 s each, whatever the scale: the tokens live 30 s
    run "7 many clients: the same rollover time-scaled to 30-minute tokens" "$build/c/many_clients" rollover 1000 2
fi
# The CLI is built with the library (cargo build --release puts it beside libx8.so); X8_CLI names another.
run "8 streamed download: x8 get -o and curl -o" python3 "$here/download.py" "${X8_CLI:-$X8_LIB_DIR/x8}" \
    "$(awk -v s="$BENCH_SCALE" 'BEGIN {print int(1024 * s)}')" "$BENCH_REPS"
load_after=$(cut -d' ' -f1-3 /proc/loadavg)

# ---- profiles: instructions inside the measured loops only (callgrind counts them the same on a busy machine) ----
say "profiling with callgrind"
profile() { # profile NAME LOOP ITERATIONS IMPL COMMAND...: the loop's instructions per iteration, and its listing
    local name=$1 loop=$2 iterations=$3 impl=$4
    shift 4
    valgrind --tool=callgrind --toggle-collect="$loop" --callgrind-out-file="$tmp/$name.cg" "$@" 2>/dev/null
    local total
    total=$(sed -n 's/^totals: *\([0-9]*\).*/\1/p' "$tmp/$name.cg")
    echo "{\"bench\":\"instructions_${name%%-*}\",\"impl\":\"$impl\",\"threads\":1,\"per_iteration\":$((total / iterations))}" |
        tee -a "$results" >&2
    callgrind_annotate --inclusive=no --threshold=100 "$tmp/$name.cg" >"$tmp/$name.exclusive" 2>/dev/null
    callgrind_annotate --inclusive=yes --threshold=100 "$tmp/$name.cg" >"$tmp/$name.inclusive" 2>/dev/null
}
profile hit hit_loop 200000 "x8 (C)" "$build/c/token_hit" --profile
profile get get_loop 2000 "x8 (C)" "$build/c/get" --profile x8
profile get-curl curl_get_loop 2000 "libcurl, token kept by hand (C)" "$build/c/get" --profile curl
profile get-ureq get_loop 2000 "ureq used directly (Rust)" "$build/release/ureq-floor" --profile

# ---- system calls and threads per GET (strace -c over the same loops; also independent of the machine's load) ----
say "counting system calls with strace"
syscalls() { # syscalls NAME IMPL COMMAND...: system calls and threads created per request over 2000 GETs
    local name=$1 impl=$2
    shift 2
    strace -f -c -o "$tmp/$name.strace" "$@" >/dev/null
    awk -v impl="$impl" '
        $NF == "total" { total = $4 }
        $NF == "clone" || $NF == "clone3" { clones += $4 }
        END { printf "{\"bench\":\"syscalls\",\"impl\":\"%s\",\"threads\":1,\"per_request\":%.1f,\"threads_created_per_request\":%.2f}\n",
              impl, total / 2000, clones / 2000 }' "$tmp/$name.strace" | tee -a "$results" >&2
}
syscalls x8 "x8 (C)" "$build/c/get" --profile x8
syscalls curl "libcurl, token kept by hand (C)" "$build/c/get" --profile curl
syscalls ureq "ureq used directly (Rust)" "$build/release/ureq-floor" --profile
syscalls ureq-literal "ureq, resolver without a thread (Rust)" "$build/release/ureq-floor" --profile literal-ip

# ---- the table ----
ureq_version=$(awk '/^name = "ureq"$/ {getline; gsub(/[^0-9.]/, ""); print; exit}' "$here/ureq-floor/Cargo.lock")
cat >"$tmp/machine.json" <<EOF
{"nproc": "$(nproc)", "cpu": "$(lscpu | sed -n 's/^Model name: *//p' | head -1)", "kernel": "$(uname -sr)",
 "date": "$(date -u '+%Y-%m-%d %H:%M UTC')", "load_before": "$load_before", "load_after": "$load_after",
 "x8": "$(sed -n 's/^#define X8_VERSION_STRING "\(.*\)"/\1/p' "$X8_INCLUDE_DIR/x8.h") ($X8_LIB_DIR/libx8.so)",
 "curl": "libcurl $(curl-config --version | cut -d' ' -f2)", "go": "$(go version | cut -d' ' -f3)",
 "oauth2": "$(grep -o 'golang.org/x/oauth2 v[^ ]*' "$here/go/go.mod" | cut -d' ' -f2)", "ureq": "$ureq_version",
 "mono": "Mono $(mono --version | head -1 | sed 's/.*version \([^ ]*\).*/\1/')",
 "emulator": "$X8_EMULATOR", "reps": "$BENCH_REPS",
 "rollover_s": "$(awk -v s="$BENCH_SCALE" 'BEGIN {print 15 * s}')"}
EOF
python3 "$here/table.py" "$results" "$tmp/machine.json" "$tmp" "$out"
say "written to $out"
