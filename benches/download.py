#!/usr/bin/env python3
"""Row 7: a large object streamed from the emulator to a file, by `x8 get PATH -o FILE` (the CLI, on the library's
streamed request) and by `curl -o FILE` with the same bearer token: MB/s over the wall-clock transfer and the
process's peak RSS (GNU time's %M, in a run of its own). One JSON line per implementation and repetition.

Usage: download.py X8_CLI MEGABYTES REPS    (BENCH_URL names the emulator; its demo key is used)
The file is /dev/null by default (BENCH_DOWNLOAD_TO names another), so that the disk is not what is measured.
"""
import json
import os
import subprocess
import sys
import time
import urllib.request

ID, SECRET = "demo-client", "demo-secret"


def main():
    cli, megabytes, reps = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
    base = os.environ["BENCH_URL"]
    target = os.environ.get("BENCH_DOWNLOAD_TO", "/dev/null")
    req = urllib.request.Request(base + "/_emulator/storage/objects", method="POST",
                                 data=json.dumps({"bytes": megabytes << 20}).encode(),
                                 headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(req) as r:
        object_id = json.load(r)["id"]
    path = f"/storage/us-west/v3/objects/{object_id}/content"
    env = dict(os.environ, X8_CLIENT_ID=ID, X8_CLIENT_SECRET=SECRET, X8_BASE_URL=base)
    token = subprocess.run([cli, "token"], env=env, check=True, capture_output=True, text=True).stdout.strip()
    commands = {
        "x8 get -o (CLI)": [cli, "--timeout", "3600", "get", path, "-o", target],
        "curl -o": ["curl", "-sS", "--fail", "-H", f"Authorization: Bearer {token}", "-o", target, base + path],
    }
    for _ in range(reps):
        for impl, command in commands.items():
            # GNU time forks and execs the command and reports its peak RSS: measured from Python, the forked
            # interpreter's own pages (before exec) would count as the child's peak.
            run = subprocess.run(["/usr/bin/time", "-f", "%M", *command], env=env, check=True,
                                 capture_output=True, text=True)
            peak_kib = int(run.stderr.strip().splitlines()[-1])
            start = time.monotonic()
            subprocess.run(command, env=env, check=True)
            elapsed = time.monotonic() - start
            print(json.dumps({"bench": "download", "impl": impl, "threads": 1, "megabytes": megabytes,
                              "mb_per_s": round((megabytes << 20) / 1e6 / elapsed, 1),
                              "peak_rss_kib": peak_kib}), flush=True)


if __name__ == "__main__":
    main()
