#!/usr/bin/env bash
# Runs the HTTP/2 benchmarks against the test peers' nginx (its h2 TLS listener) on 127.0.0.1
# and prints JSON lines only: one per measurement, and first one describing the run.
#
#   run-http2-bench.sh BIN_DIR [RESULTS.jsonl]
#
# BIN_DIR holds bench_client, bench_qnam, bench_qsslsocket and (when libcurl was found)
# bench_curl. Every line also goes to RESULTS.jsonl (default ./http2-bench-results.jsonl,
# overwritten). All clients use the same TLS port, which offers "h2" and "http/1.1" by ALPN, and
# trust the run's test CA (--ca); each line says in "proto" which protocol the client reports it
# used, and a line whose protocol is not the one asked for fails the run.
#
# What runs (issue 13's benchmark):
#   32 concurrent small GETs on one HTTP/2 connection: bench_client --http2, libcurl multi with
#     CURLPIPE_MULTIPLEX, QNetworkAccessManager with HTTP/2, and h2load -c 1 -m 32 (the ceiling);
#   sequential small GETs: over h2 (bench_client, libcurl, QNAM, h2load -m 1) and over
#     HTTP/1.1+TLS (bench_client --http1.1, libcurl --http1.1, the raw QSslSocket loop);
#   a streamed download of /large.bin over h2 and over HTTP/1.1+TLS (bench_client, libcurl),
#     each line with the client's peak RSS.
# The small file is nginx.sh's /small.txt (17 bytes).
#
# Environment:
#   BENCH_QUICK=1          tiny counts (200 requests, 8 MiB download, one round): a smoke run
#   BENCH_REQUESTS         requests per sequential run      (default 20000)
#   BENCH_REQUESTS_C32     requests per 32-concurrent run   (default 100000)
#   BENCH_QNAM_REQUESTS    requests per QNetworkAccessManager run (default 5000; it is slow)
#   BENCH_DOWNLOAD_MB      size of /large.bin in MiB        (default 1024)
#   BENCH_REPEAT           rounds; the runs of a group are interleaved round by round so that
#                          a slow spell of a shared machine hits every client alike (default 3)
#   BENCH_H2_CLIENTS       which clients run (default "client qnam curl qsslsocket h2load")
#
# Speed never fails the script: it exits 0 unless nginx cannot start or a program fails (a
# failed request, a crash, output that is not one JSON line, or the wrong protocol).
set -euo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
peers=$here/../../support/peers

die() {
    echo "run-http2-bench: $*" >&2
    exit 1
}

bindir=${1:-}
results=${2:-$PWD/http2-bench-results.jsonl}
[[ -n $bindir ]] || die "usage: run-http2-bench.sh BIN_DIR [RESULTS.jsonl]"
bindir=$(cd "$bindir" && pwd) || die "no such directory: $1"
python=/usr/bin/python3
[[ -x $python ]] || die "$python not found: it checks and writes the JSON lines"

if [[ ${BENCH_QUICK:-0} == 1 ]]; then
    seq_requests=200 c32_requests=200 qnam_requests=200 download_mb=8 repeat=1
else
    seq_requests=${BENCH_REQUESTS:-20000}
    c32_requests=${BENCH_REQUESTS_C32:-100000}
    qnam_requests=${BENCH_QNAM_REQUESTS:-5000}
    download_mb=${BENCH_DOWNLOAD_MB:-1024}
    repeat=${BENCH_REPEAT:-3}
fi
for n in "$seq_requests" "$c32_requests" "$qnam_requests" "$download_mb" "$repeat"; do
    [[ $n =~ ^[1-9][0-9]*$ ]] || die "counts must be positive numbers, got '$n'"
done

clients=" ${BENCH_H2_CLIENTS:-client qnam curl qsslsocket h2load} "
want() { [[ $clients == *" $1 "* ]]; }
for client in $clients; do
    case $client in
        client | qnam | qsslsocket | curl)
            [[ -x $bindir/bench_$client ]] ||
                die "$bindir/bench_$client is missing: build target http_benchmarks" ;;
        h2load)
            command -v h2load >/dev/null || die "h2load not found (Debian package nghttp2-client)"
            ;;
        *) die "unknown client '$client' in BENCH_H2_CLIENTS" ;;
    esac
done

# --- nginx -----------------------------------------------------------------------------------
peerdir=$(mktemp -d -t reqivo-http2-bench.XXXXXX)
cleanup() {
    "$peers/nginx.sh" stop --dir "$peerdir" >/dev/null 2>&1 || true
    [[ $peerdir == */reqivo-http2-bench.* ]] && rm -rf -- "$peerdir"
}
trap cleanup EXIT
echo "run-http2-bench: starting nginx with a ${download_mb} MiB /large.bin" >&2
REQIVO_NGINX_LARGE_BYTES=$((download_mb * 1048576)) REQIVO_NGINX_WORKERS=1 \
    REQIVO_NGINX_ACCESS_LOG=0 "$peers/nginx.sh" start --dir "$peerdir" >&2 ||
    die "nginx did not start"
h2_url=$(grep '^NGINX_H2_URL=' "$peerdir/nginx.env" | cut -d= -f2-)
ca=$(grep '^NGINX_CA_FILE=' "$peerdir/nginx.env" | cut -d= -f2-)
docroot=$(grep '^NGINX_DOCROOT=' "$peerdir/nginx.env" | cut -d= -f2-)
small_url=$h2_url/small.txt
large_url=$h2_url/large.bin
# Reading it once puts it in the page cache, so the first download measured does not pay for that.
cat "$docroot/large.bin" >/dev/null

# --- the runs --------------------------------------------------------------------------------
: >"$results"
failed=0
round=0
emit() { # emit <json line>: to stdout and the results file
    printf '%s\n' "$1"
    printf '%s\n' "$1" >>"$results"
}

# The first line: when, where and with what.
emit "$("$python" - "$seq_requests" "$c32_requests" "$qnam_requests" "$download_mb" "$repeat" \
    "$(nginx -v 2>&1 | sed 's/^nginx version: //')" \
    "$(h2load --version 2>/dev/null | head -1 || true)" \
    "$(curl --version 2>/dev/null | head -1 | cut -d' ' -f1-2 || true)" <<'PY'
import datetime, json, os, platform, sys
seq, c32, qnam, mb, repeat, nginx, h2load, curl = sys.argv[1:]
cpu = "unknown CPU"
try:
    for line in open("/proc/cpuinfo"):
        if line.startswith("model name"):
            cpu = line.split(":", 1)[1].strip()
            break
except OSError:
    pass
print(json.dumps({"bench": "env", "date": datetime.date.today().isoformat(), "cpu": cpu,
                  "cores": os.cpu_count(), "kernel": platform.release(), "server": nginx,
                  "h2load": h2load, "curl": curl, "sequential_requests": int(seq),
                  "concurrent_requests": int(c32), "qnam_requests": int(qnam),
                  "download_mib": int(mb), "repeat": int(repeat)}, separators=(",", ":")))
PY
)"

# run <proto> <program> <args...>: runs it once; its one JSON line must say "proto":<proto>.
run() {
    local proto=$1 out
    shift
    echo "run-http2-bench: [$round/$repeat] ${*#"$bindir/"}" >&2
    if ! out=$("$@"); then
        echo "run-http2-bench: FAILED: $*" >&2
        failed=1
        return 0
    fi
    if ! "$python" -c '
import json, sys
lines = sys.stdin.read().splitlines()
assert len(lines) == 1, "not one line"
row = json.loads(lines[0])
assert row.get("proto") == sys.argv[1], "proto %r, expected %r" % (row.get("proto"), sys.argv[1])
' "$proto" <<<"$out"; then
        echo "run-http2-bench: FAILED (not one JSON line with \"proto\":\"$proto\"): $*" >&2
        echo "run-http2-bench: it printed: $out" >&2
        failed=1
        return 0
    fi
    emit "$out"
}

# h2load prints "finished in 1.23s, 12345.67 req/s, ..." and a "requests:" tally.
h2load_parser=$(
    cat <<'PY'
import json, re, sys
out = sys.stdin.read()
concurrency = int(sys.argv[1])
proto = re.search(r"Application protocol: (\S+)", out)
finished = re.search(r"finished in ([0-9.]+)(us|ms|s),\s*([0-9.]+) req/s", out)
tally = re.search(r"requests: (\d+) total, \d+ started, (\d+) done, (\d+) succeeded, (\d+) failed, "
                  r"(\d+) errored, (\d+) timeout", out)
codes = re.search(r"status codes: (\d+) 2xx", out)
scale = {"us": 1e-6, "ms": 1e-3, "s": 1.0}[finished.group(2)]
total, done, ok = int(tally.group(1)), int(tally.group(2)), int(tally.group(3))
errors = (total - ok) + (ok - int(codes.group(1)))
print(json.dumps({"bench": "get", "mode": "h2load", "requests": total,
                  "concurrency": concurrency, "seconds": round(float(finished.group(1)) * scale, 6),
                  "rps": float(finished.group(3)), "errors": errors,
                  "proto": proto.group(1) if proto else "none"}, separators=(",", ":")))
PY
)
run_h2load() { # run_h2load <requests> <streams>
    local requests=$1 streams=$2 out json
    echo "run-http2-bench: [$round/$repeat] h2load -n $requests -c 1 -m $streams $small_url" >&2
    if ! out=$(h2load -n "$requests" -c 1 -m "$streams" "$small_url"); then
        echo "run-http2-bench: FAILED: h2load: $out" >&2
        failed=1
        return 0
    fi
    if ! json=$("$python" -c "$h2load_parser" "$streams" <<<"$out") ||
        [[ $json != *'"proto":"h2"'* || $json != *'"errors":0,'* ]]; then
        echo "run-http2-bench: FAILED to read h2load's output (or it failed): $out" >&2
        failed=1
        return 0
    fi
    emit "$json"
}

get() { # get <proto> <program> <requests> <concurrency> [extra args]
    local proto=$1 program=$2 requests=$3 concurrency=$4
    shift 4
    run "$proto" "$bindir/$program" --url "$small_url" --requests "$requests" \
        --concurrency "$concurrency" --ca "$ca" "$@"
}

have_curl=1
if want curl && [[ ! -x $bindir/bench_curl ]]; then
    have_curl=0
    echo "run-http2-bench: bench_curl not built (libcurl missing): its lines are missing" >&2
fi

# 32 concurrent small GETs, every client on one HTTP/2 connection.
for ((round = 1; round <= repeat; round++)); do
    if want h2load; then run_h2load "$c32_requests" 32; fi
    if want client; then get h2 bench_client "$c32_requests" 32 --http2; fi
    if want curl && ((have_curl)); then get h2 bench_curl "$c32_requests" 32 --http2; fi
    if want qnam; then get h2 bench_qnam "$qnam_requests" 32 --http2; fi
done

# Sequential small GETs: HTTP/2, then HTTP/1.1 over TLS and its raw QSslSocket floor.
for ((round = 1; round <= repeat; round++)); do
    if want h2load; then run_h2load "$seq_requests" 1; fi
    if want client; then
        get h2 bench_client "$seq_requests" 1 --http2
        get http/1.1 bench_client "$seq_requests" 1 --http1.1
    fi
    if want qsslsocket; then get http/1.1 bench_qsslsocket "$seq_requests" 1 --http1.1; fi
    if want curl && ((have_curl)); then
        get h2 bench_curl "$seq_requests" 1 --http2
        get http/1.1 bench_curl "$seq_requests" 1 --http1.1
    fi
    if want qnam; then get h2 bench_qnam "$qnam_requests" 1 --http2; fi
done

# The streamed download, over HTTP/2 and over HTTP/1.1+TLS.
for ((round = 1; round <= repeat; round++)); do
    if want client; then
        run h2 "$bindir/bench_client" --download "$large_url" --ca "$ca" --http2
        run http/1.1 "$bindir/bench_client" --download "$large_url" --ca "$ca" --http1.1
    fi
    if want curl && ((have_curl)); then
        run h2 "$bindir/bench_curl" --download "$large_url" --ca "$ca" --http2
        run http/1.1 "$bindir/bench_curl" --download "$large_url" --ca "$ca" --http1.1
    fi
done

if ((failed)); then
    echo "run-http2-bench: some programs failed (see above)" >&2
    exit 1
fi
exit 0
