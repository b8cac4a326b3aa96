#!/usr/bin/env bash
# CTest's bench-smoke check of the HTTP benchmarks: run-http-bench.sh and run-http2-bench.sh with
# tiny counts (BENCH_QUICK=1), then every expected JSON line must be there and well formed, and
# the HTTP/2 runs must say "proto":"h2" (or "http/1.1" where HTTP/1.1 over TLS was asked for).
#
#   bench-smoke.sh BIN_DIR RESULTS.jsonl      (the HTTP/2 lines go to RESULTS-h2.jsonl)
#
# It checks that the programs work, never how fast they are. A missing nginx (or h2load) fails
# it: the benchmarks cannot be checked without their peer, and a skipped check would read as a
# pass.
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
# HTTP/2: QNAM and libcurl multiplexing over nginx's h2 listener, h2load, the QSslSocket loop.
h2_results=${results%.jsonl}-h2.jsonl
h2_clients="client qnam qsslsocket h2load"
h2_expected="get/async/32/h2 get/async/1/h2 get/async/1/http/1.1 download/async/h2"
h2_expected+=" download/async/http/1.1"
h2_expected+=" get/qnam/32/h2 get/qnam/1/h2 get/qsslsocket/1/http/1.1"
h2_expected+=" get/h2load/32/h2 get/h2load/1/h2"
if [[ -x $bindir/bench_curl ]]; then
    h2_clients+=" curl"
    h2_expected+=" get/curl/32/h2 get/curl/1/h2 get/curl/1/http/1.1 download/curl/h2"
    h2_expected+=" download/curl/http/1.1"
fi
BENCH_QUICK=1 BENCH_H2_CLIENTS=$h2_clients "$here/run-http2-bench.sh" "$bindir" "$h2_results" \
    >/dev/null

python3 - "$h2_results" $h2_expected <<'PY'
import json, sys

path, expected = sys.argv[1], set(sys.argv[2:])
seen, problems = set(), []
for number, line in enumerate(open(path), 1):
    try:
        row = json.loads(line)
    except ValueError as e:
        problems.append(f"h2 line {number} is not JSON ({e}): {line!r}")
        continue
    bench = row.get("bench")
    if bench == "env":
        continue
    if bench == "get":
        key = f"get/{row.get('mode')}/{row.get('concurrency')}/{row.get('proto')}"
        if row.get("errors") != 0 or not row.get("rps", 0) > 0:
            problems.append(f"h2 line {number}: errors or no requests: {line.strip()}")
    elif bench == "download":
        key = f"download/{row.get('mode')}/{row.get('proto')}"
        if row.get("bytes") != 8 * 1024 * 1024 or "peak_rss_kb" not in row:
            problems.append(f"h2 line {number}: expected 8 MiB and peak_rss_kb: {line.strip()}")
    else:
        problems.append(f"h2 line {number}: unknown bench: {line.strip()}")
        continue
    seen.add(key)
for key in sorted(expected - seen):
    problems.append(f"no HTTP/2 result for {key}")
for p in problems:
    print("bench-smoke:", p, file=sys.stderr)
sys.exit(1 if problems else 0)
PY
echo "bench-smoke: all benchmark programs ran and printed valid JSON"
