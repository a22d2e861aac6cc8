#!/usr/bin/env python3
"""Turns the benchmark programs' JSON lines into BENCHMARKS.md: one table of medians with x8 set against each
alternative as a ratio, the machine it ran on, every median measured, and the callgrind profiles.

Usage: table.py RESULTS.jsonl MACHINE.json PROFILE_DIR OUT.md   (the table also goes to stdout)
       table.py --rows 1,3,7 RESULTS.jsonl                      (those rows only, of a partial run)
"""
import json
import re
import statistics
import sys
from collections import defaultdict

X8_C, FLOOR = "x8 (C)", "floor: atomic load + copy (C)"
GO = "Go x/oauth2 ReuseTokenSource"
GO_GET = "Go net/http + x/oauth2 Transport"
CURL = "libcurl, token kept by hand (C)"
UREQ = "ureq used directly (Rust)"
UREQ_NT = "ureq, resolver without a thread (Rust)"
CGO, PINVOKE = "x8 via cgo (Go)", "x8 via P/Invoke (Mono)"
HTTPCLIENT = ".NET HttpClient, token kept by hand (Mono)"


def load(path):
    """Medians over repetitions: {(bench, impl, threads): {metric: median}}."""
    samples = defaultdict(lambda: defaultdict(list))
    with open(path) as f:
        for line in f:
            line = line.strip()
            if not line.startswith("{"):
                continue
            r = json.loads(line)
            key = (r.pop("bench"), r.pop("impl"), r.pop("threads"))
            for metric, value in r.items():
                samples[key][metric].append(value)
    return {k: {m: statistics.median(v) for m, v in ms.items()} | {"reps": max(len(v) for v in ms.values())}
            for k, ms in samples.items()}


def num(v, unit=""):
    if v is None:
        return "n/a"
    if abs(v) >= 100 or v == int(v):
        s = f"{v:,.0f}"
    elif abs(v) >= 10:
        s = f"{v:.1f}"
    else:
        s = f"{v:.2f}"
    return s + unit


def ratio(a, b):
    return "n/a" if a is None or not b else f"{a / b:.2f}×"


class Table:
    def __init__(self, medians):
        self.m = medians
        self.rows = []

    def get(self, bench, impl, threads, metric):
        return self.m.get((bench, impl, threads), {}).get(metric)

    def add(self, row, what, x8, other_name, other, unit="", goal=""):
        self.rows.append((row, what, num(x8, unit), other_name, num(other, unit), ratio(x8, other), goal))

    def markdown(self):
        head = ["#", "measure (median)", "x8", "compared with", "its value", "x8 / it", "goal"]
        lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
        lines += ["| " + " | ".join(str(c) for c in r) + " |" for r in self.rows]
        return "\n".join(lines)


def summary(m):
    t = Table(m)
    g = t.get
    # 1. Cached hit.
    x8_1 = g("hit", X8_C, 1, "cpu_ns_per_call")
    t.add(1, "cached token hit, 1 thread, ns per call", x8_1, "C atomic load + copy (floor)",
          g("hit", FLOOR, 1, "cpu_ns_per_call"), " ns", "≤ 30 ns")
    t.add(1, "cached token hit, 1 thread, ns per call", x8_1, GO, g("hit", GO, 1, "cpu_ns_per_call"), " ns")
    for n in (2, 8, 32):
        t.add(1, f"cached token hit, {n} threads, calls/s total", g("hit", X8_C, n, "calls_per_s"), GO,
              g("hit", GO, n, "calls_per_s"))
    t.add(1, "cached token hit, calls/s at 32 threads vs at 2", g("hit", X8_C, 32, "calls_per_s"),
          "x8 itself at 2 threads", g("hit", X8_C, 2, "calls_per_s"), "", "no collapse (≈ 1×)")
    t.add(1, "cached token hit, instructions per call (callgrind)", g("instructions_hit", X8_C, 1, "per_iteration"),
          "", None)
    t.add(1, "cached token hit, 32 threads, CPU ns per call", g("hit", X8_C, 32, "cpu_ns_per_call"), GO,
          g("hit", GO, 32, "cpu_ns_per_call"), " ns")
    # 2. Rollover.
    for metric, what, unit, goal in (("max_ns", "max latency", " ns", "≤ 1 ms"), ("p99_ns", "p99 latency", " ns", ""),
                                     ("over_1ms", "calls over 1 ms", "", "0"),
                                     ("over_100us", "calls over 100 µs (a blocked caller)", "", "0")):
        t.add(2, f"rollover (3 s tokens, 8 threads): {what}", g("rollover", X8_C, 8, metric), GO,
              g("rollover", GO, 8, metric), unit, goal)
    t.add(2, "rollover: fetches a caller waited for (x8's counters; the first fetch included)",
          g("rollover", X8_C, 8, "fetches_waited_for"), "", None, "", "1 (the first)")
    t.add(2, "rollover: token fetches per token lifetime", g("rollover", X8_C, 8, "fetches_per_lifetime"), GO,
          g("rollover", GO, 8, "fetches_per_lifetime"), "", "≈ 1 (renewing at 4/5 of the life: 1.25)")
    # 3. GET.
    for n in (1, 8):
        callers = f"{n} caller{'s' if n > 1 else ''}"
        for other in (CURL, GO_GET, UREQ, UREQ_NT):
            t.add(3, f"GET, {callers}, CPU µs per request", g("get", X8_C, n, "cpu_us_per_request"), other,
                  g("get", other, n, "cpu_us_per_request"), " µs", "≤ 0.8× libcurl" if other == CURL else "")
        for other in (CURL, GO_GET, UREQ, UREQ_NT):
            t.add(3, f"GET, {callers}, requests/s", g("get", X8_C, n, "requests_per_s"), other,
                  g("get", other, n, "requests_per_s"))
        for other in (CURL, UREQ, UREQ_NT):
            t.add(3, f"GET, {callers}, median latency", g("get", X8_C, n, "median_us"), other,
                  g("get", other, n, "median_us"), " µs")
        t.add(3, f"GET, {callers}, connections used per repetition (emulator)", g("get", X8_C, n, "connections"),
              CURL, g("get", CURL, n, "connections"), "", "≤ 8 (a pool), not 1 per request")
    for other in (CURL, UREQ, UREQ_NT):
        t.add(3, "GET, system calls per request (strace)", g("syscalls", X8_C, 1, "per_request"), other,
              g("syscalls", other, 1, "per_request"))
    t.add(3, "GET, threads created per request (strace: clone)", g("syscalls", X8_C, 1,
          "threads_created_per_request"), CURL, g("syscalls", CURL, 1, "threads_created_per_request"), "", "0")
    for other in (CURL, UREQ):
        t.add(3, "GET, user-space instructions per request (callgrind)", g("instructions_get", X8_C, 1,
              "per_iteration"), other, g("instructions_get", other, 1, "per_iteration"))
    # 4. Binding overhead: the same call from C against each language's boundary.
    for impl in (CGO, PINVOKE):
        t.add(4, f"cached token hit, ns per call: C vs {impl}", x8_1, impl, g("hit", impl, 1, "cpu_ns_per_call"),
              " ns")
    for impl in (CGO, PINVOKE):
        t.add(4, f"GET, CPU µs per request: C vs {impl}", g("get", X8_C, 1, "cpu_us_per_request"), impl,
              g("get", impl, 1, "cpu_us_per_request"), " µs")
    t.add(4, "GET from .NET, CPU µs per request", g("get", PINVOKE, 1, "cpu_us_per_request"), HTTPCLIENT,
          g("get", HTTPCLIENT, 1, "cpu_us_per_request"), " µs")
    # 5. Memory and size.
    rss = m.get(("rss", X8_C, 1), {})
    if rss:
        t.add(5, f"peak RSS after {num(rss['requests'])} GETs vs after {num(rss['requests_first'])}",
              rss["maxrss_kb"], f"x8 after {num(rss['requests_first'])}", rss["maxrss_kb_first"], " KiB", "flat (≈ 1×)")
    t.add(5, "heap allocations per cached x8_get_token", g("allocs", X8_C, 1, "per_get_token"), "", None, "", "0")
    t.add(5, "heap allocations per x8_request GET", g("allocs", X8_C, 1, "per_request"), "", None)
    t.add(5, "libx8.so stripped size", g("size", "libx8.so", 0, "stripped_kib"), "unstripped",
          g("size", "libx8.so", 0, "unstripped_kib"), " KiB")
    # 6. Fleet.
    shared = "x8 (C), shared token cache"
    t.add(6, f"token fetches per process ({num(g('fleet', shared, 1, 'processes'))} processes, 1 GET each)",
          g("fleet", shared, 1, "fetches_per_process"), "x8 (C), each process on its own",
          g("fleet", X8_C, 1, "fetches_per_process"), "", "< 1 with X8_TOKEN_CACHE")
    # 7. Many keys in one process (issue 15), beside the figures the issue measured before the shared scheduler.
    sc = m.get(("scale", X8_C, 1), {})
    if sc:
        n = f"{num(sc['clients'])} clients"
        t.add(7, f"{n} with a cached token: x8 threads in the process", sc["x8_threads"], BEFORE_NAME,
              BEFORE["threads_1000"], "", "≤ 4")
        t.add(7, f"{n}: most x8 threads seen while fetching", sc["x8_threads_most"], "", None, "", "≤ 4")
        t.add(7, f"{n}: RSS per client (token cached)", sc["rss_kib_per_client"], BEFORE_NAME,
              BEFORE["rss_kib_per_client"], " KiB", "≤ 16 KiB")
        t.add(7, f"{n}: file descriptors per idle client", sc["fds_per_client"], "", None, "", "0")
        t.add(7, f"{n}: time to create a client (x8_client_new, no fetch), mean", sc["create_us_mean"], "", None,
              " µs", "≤ 50 µs")
        t.add(7, f"{n}: time to create a client, p99", sc["create_us_p99"], "", None, " µs")
        t.add(7, f"{n}: x8 threads and descriptors left after freeing all",
              sc["x8_threads_after_free"] + sc["fds_left_after_free"], "", None, "", "0")
    for bench, what in (("rollover_many", "100 ms endpoint"), ("rollover_many_scaled", "time-scaled")):
        r = m.get((bench, X8_C, 4), {})
        if not r:
            continue
        head = f"rollover, {num(r['keys'])} keys, {num(r['lifetime_s'])} s tokens, {num(r['token_delay_ms'])} ms endpoint"
        t.add(7, f"{head}: most token requests in flight (emulator)", r["max_token_requests_in_flight"],
              BEFORE_NAME + " (200 keys)" if bench == "rollover_many" else "", BEFORE["in_flight_200"]
              if bench == "rollover_many" else None, "", "≤ 8")
        t.add(7, f"{head}: longest x8_get_token call", r["max_ns"] / 1e6, "", None, " ms", "< 1 ms")
        t.add(7, f"{head}: calls over 1 ms / failed", r["over_1ms"], "failed calls", r["failed_calls"], "", "0")
        t.add(7, f"{head}: fetches a caller waited for (of {num(r['keys_renewed'])} renewed keys)",
              r["fetches_waited_for"], "", None, "", "0")
        t.add(7, f"{head}: first and N-th renewal at the emulator, s after the first fetch",
              r["first_renewal_s"], "N-th", r["nth_renewal_s"], " s")
    # 8. Streamed download.
    for metric, what, unit in (("mb_per_s", "MB/s", " MB/s"), ("peak_rss_kib", "peak RSS", " KiB")):
        mb = g("download", "x8 get -o (CLI)", 1, "megabytes")
        t.add(8, f"streamed download of {num(mb)} MiB to a file, {what}", g("download", "x8 get -o (CLI)", 1, metric),
              "curl -o", g("download", "curl -o", 1, metric), unit,
              "constant memory (< 30 MB)" if metric == "peak_rss_kib" else "")
    return t


# What issue 15 measured before the shared scheduler (one renewal thread per client): 1,000 clients, 1,001
# threads, 287 MB RSS, about 285 KiB each; 200 keys renewing together, 16 token requests in flight at once.
BEFORE_NAME = "before (issue 15)"
BEFORE = {"threads_1000": 1001, "rss_kib_per_client": 285, "in_flight_200": 16}


def details(m):
    """Every median, one table per benchmark family."""
    out = []
    by_bench = defaultdict(list)
    for (bench, impl, threads), metrics in sorted(m.items(), key=lambda kv: (kv[0][0], kv[0][1], kv[0][2])):
        by_bench[bench].append((impl, threads, metrics))
    for bench, rows in by_bench.items():
        metrics = sorted({k for _, _, ms in rows for k in ms})
        out.append(f"**{bench}**\n")
        out.append("| implementation | threads | " + " | ".join(metrics) + " |")
        out.append("|---|---|" + "---|" * len(metrics))
        for impl, threads, ms in rows:
            out.append(f"| {impl} | {threads} | " + " | ".join(num(ms.get(k)) for k in metrics) + " |")
        out.append("")
    return "\n".join(out)


def short_name(entry):
    """Shortens callgrind's "file:function [object]" to what a reader needs."""
    entry = re.sub(r"/root/\.cargo/registry/src/[^/]+/", "", entry)
    entry = re.sub(r"/rustc/[0-9a-f]+/library/", "std:", entry)
    entry = re.sub(r"\./[^ :]*/(sysdeps|string|elf|csu|time|malloc|nptl)/", "glibc:", entry)
    entry = re.sub(r"\[[^\]]*/([^/\]]+)\]$", r"[\1]", entry)
    entry = entry.replace("/work/main/", "")
    return entry if len(entry) <= 130 else entry[:127] + "..."


def profile(path, iterations, top, mode):
    """The top entries of a callgrind_annotate listing, with instructions per loop iteration."""
    try:
        lines = open(path).read().splitlines()
    except OSError:
        return f"({mode}: not profiled)\n"
    entries, total = [], None
    for line in lines:
        m = re.match(r"\s*([\d,]+) \(\s*([\d.]+)%\)\s+(.*)$", line)
        if not m:
            continue
        ir, what = int(m.group(1).replace(",", "")), m.group(3)
        if what == "PROGRAM TOTALS":
            total = ir
        elif mode == "exclusive" or ir < (total or 0):  # inclusive: skip main and the frames above the loop
            entries.append((ir, what))
    if not total:
        return f"({mode}: no data)\n"
    rows = [f"{'Ir/iteration':>12}  {'share':>6}  file:function [object] ({mode} of callees)"]
    rows += [f"{ir / iterations:12,.1f}  {100 * ir / total:5.1f}%  {short_name(what)}" for ir, what in entries[:top]]
    return f"Total: {total / iterations:,.0f} instructions per iteration. Top {mode}:\n\n```\n" + \
        "\n".join(rows) + "\n```\n"


def main():
    if sys.argv[1] == "--rows":  # table.py --rows 1,3,7 RESULTS.jsonl: only those rows, from a partial run
        wanted = {int(r) for r in sys.argv[2].split(",")}
        t = summary(load(sys.argv[3]))
        t.rows = [r for r in t.rows if r[0] in wanted and r[2] != "n/a"]
        print(t.markdown())
        return
    results, machine_path, profile_dir, out_path = sys.argv[1:5]
    m = load(results)
    machine = json.load(open(machine_path))
    table = summary(m).markdown()
    print(table)
    profiles = []
    for name, title, iterations in (("hit", "C cached-hit loop: x8_get_token", 200_000),
                                    ("get", "C GET loop: x8_request + x8_response_free", 2_000),
                                    ("get-ureq", "For comparison, Rust GET loop with ureq used directly", 2_000)):
        profiles.append(f"### {title} (× {iterations:,})\n")
        for mode, top in (("exclusive", 15), ("inclusive", 12)):
            profiles.append(profile(f"{profile_dir}/{name}.{mode}", iterations, top, mode))
    doc = f"""# x8 benchmarks

Generated by `bash benches/run.sh` (see benches/README.md); numbers are medians over {machine['reps']} repetitions
unless a row says otherwise. Nothing here is asserted: these are measurements, and on a shared or busy machine
they move. Single-thread "ns per call" is CPU time (getrusage) per call, which other load on the machine does not
inflate; wall-clock figures are in the details below. With one caller, each GET is a hand-off between the client
and the emulator on the same cores, so when other work holds the cores the 1-caller requests/s and latencies move
most; the system calls (strace) and user-space instructions (callgrind) per request do not depend on load.

Machine: {machine['cpu']}, {machine['nproc']} CPUs, {machine['kernel']}; {machine['date']}.
Load average before / after the run: {machine['load_before']} / {machine['load_after']}.
Versions: x8 {machine['x8']}, {machine['curl']}, {machine['go']} with golang.org/x/oauth2 {machine['oauth2']},
ureq {machine['ureq']}, {machine['mono']}.
Emulator: {machine['emulator']} on loopback, shared by every row (it runs on the same cores).

{table}

Rows: 1 cached token hit; 2 token rollover ({machine['rollover_s']} s with 3-second tokens, shortened from 30 s
to fit the time budget); 3 authenticated GET of `/analytics/cc/v5/realtime-metrics/queues?size=5` on keep-alive
connections; 4 the C boundary from Go (cgo) and .NET (Mono P/Invoke), called directly; 5 memory and size;
6 token endpoint load from short-lived processes; 7 many API keys in one process (benches/c/many_clients.c:
thread, RSS, descriptor and in-flight counts, which the machine's load does not move); 8 a 1 GiB Storage object
streamed from the emulator to /dev/null by `x8 get -o` and by `curl -o` with the same token (MB/s over the
wall-clock transfer, peak RSS from GNU time in a run of its own). Go's x/oauth2 sends "BearerToken" as the scheme for 8x8's
token type, so its request rows force "Bearer"; its rollover row sets the early expiry to 300 ms (x8's safety
margin for a 3 s token) because the default 10 s would fetch on every call.

## All medians

{details(m)}
## Profile

`valgrind --tool=callgrind --toggle-collect=<loop>`: instructions (Ir) executed inside the measured loop only,
per loop iteration, by source file and function as callgrind_annotate lists them (inlined code is listed under the
file it came from, inside the function it was inlined into). Exclusive: the instructions of the entry itself;
inclusive: with everything it called.

{chr(10).join(profiles)}"""
    with open(out_path, "w") as f:
        f.write(doc)


if __name__ == "__main__":
    main()
