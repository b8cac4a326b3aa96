#!/usr/bin/env bash
# CTest's bench-smoke check of the HTTP benchmarks: run-http-bench.sh with tiny counts
# (BENCH_QUICK=1), then every expected JSON line must be there and well formed.
#
#   bench-smoke.sh BIN_DIR RESULTS.jsonl
#
# It checks that the programs work, never how fast they are. A missing nginx fails it: the
# benchmarks cannot be checked without their peer, and a skipped check would read as a pass.
set -euo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
bindir=${1:?usage: bench-smoke.sh BIN_DIR RESULTS.jsonl}
results=${2:?usage: bench-smoke.sh BIN_DIR RESULTS.jsonl}

BENCH_QUICK=1 "$here/run-http-bench.sh" "$bindir" "$results"

expected="get/async/1 get/async/32 get/sync/1 get/sync/32 get/qtcpsocket/1 get/qtcpsocket/32 get/qnam/1 get/qnam/32"
expected+=" download/async download/sync"
[[ -x $bindir/bench_curl ]] && expected+=" get/curl/1 get/curl/32 download/curl"
command -v wrk >/dev/null && expected+=" get/wrk/32"

python3 - "$results" $expected <<'PY'
import json, sys

path, expected = sys.argv[1], set(sys.argv[2:])
get_keys = {"bench", "mode", "requests", "concurrency", "seconds", "rps", "errors"}
download_keys = {"bench", "mode", "bytes", "seconds", "bytes_per_sec", "peak_rss_kb"}
seen, problems = set(), []
for number, line in enumerate(open(path), 1):
    try:
        row = json.loads(line)
    except ValueError as e:
        problems.append(f"line {number} is not JSON ({e}): {line!r}")
        continue
    if row.get("bench") == "get":
        missing = get_keys - row.keys()
        seen.add(f"get/{row.get('mode')}/{row.get('concurrency')}")
        if not missing and (row["errors"] != 0 or row["rps"] <= 0):
            problems.append(f"line {number}: errors or no requests: {line.strip()}")
    elif row.get("bench") == "download":
        missing = download_keys - row.keys()
        seen.add(f"download/{row.get('mode')}")
        if not missing and row["bytes"] != 8 * 1024 * 1024:
            problems.append(f"line {number}: expected 8 MiB: {line.strip()}")
    else:
        missing = {"bench"}
    if missing:
        problems.append(f"line {number} lacks {sorted(missing)}: {line.strip()}")
for key in sorted(expected - seen):
    problems.append(f"no result for {key}")
for p in problems:
    print("bench-smoke:", p, file=sys.stderr)
sys.exit(1 if problems else 0)
PY
echo "bench-smoke: all benchmark programs ran and printed valid JSON"
