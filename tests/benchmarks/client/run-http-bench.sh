#!/usr/bin/env bash
# Runs the HTTP client benchmarks against a private nginx on 127.0.0.1 and prints the figures
# and the ratios issue 3 sets as targets, as Markdown.
#
#   run-http-bench.sh BIN_DIR [RESULTS.jsonl]
#
# BIN_DIR holds bench_client, bench_qtcpsocket, bench_qnam and (when libcurl was found)
# bench_curl. Every JSON line the programs print, and one for wrk, goes to RESULTS.jsonl
# (default ./http-bench-results.jsonl, overwritten).
#
# What runs: small keep-alive GETs of a 13-byte file, sequential (C=1) and 32 at a time, for
# each implementation (Reqivo both async and blocking) and for `wrk -t2 -c32`; then a streamed
# download of a large file for Reqivo and libcurl. nginx gets one worker, no access log, keepalive_requests 1000000.
#
# Environment:
#   BENCH_QUICK=1          tiny counts (200 requests, 8 MiB download, 1 s of wrk): a smoke run
#   BENCH_REQUESTS         requests per sequential run      (default 20000)
#   BENCH_REQUESTS_C32     requests per 32-concurrent run   (default 100000)
#   BENCH_QNAM_REQUESTS    requests per QNetworkAccessManager run (default 5000; it is slow)
#   BENCH_DOWNLOAD_MB      size of the download in MiB      (default 1024, a sparse file)
#   BENCH_WRK_SECONDS      duration of the wrk run          (default 5)
#   BENCH_REPEAT           runs of each measurement, interleaved round by round across the
#                          clients; the table shows the best (default 3), which filters out
#                          the noise of other work on a shared machine
#
# Speed never fails the script: it exits 0 unless nginx cannot start or a program fails
# (a failed request, a crash, or output that is not one JSON line).
set -euo pipefail

die() {
    echo "run-http-bench: $*" >&2
    exit 1
}

bindir=${1:-}
results=${2:-$PWD/http-bench-results.jsonl}
[[ -n $bindir ]] || die "usage: run-http-bench.sh BIN_DIR [RESULTS.jsonl]"
bindir=$(cd "$bindir" && pwd) || die "no such directory: $1"
for program in bench_client bench_qtcpsocket bench_qnam; do
    [[ -x $bindir/$program ]] || die "$bindir/$program is missing: build target http_benchmarks"
done
command -v nginx >/dev/null || die "nginx not found (Debian package nginx-light)"
command -v python3 >/dev/null || die "python3 not found: it formats the table"

if [[ ${BENCH_QUICK:-0} == 1 ]]; then
    seq_requests=200 c32_requests=200 qnam_requests=200 download_mb=8 wrk_seconds=1 repeat=1
else
    seq_requests=${BENCH_REQUESTS:-20000}
    c32_requests=${BENCH_REQUESTS_C32:-100000}
    qnam_requests=${BENCH_QNAM_REQUESTS:-5000}
    download_mb=${BENCH_DOWNLOAD_MB:-1024}
    wrk_seconds=${BENCH_WRK_SECONDS:-5}
    repeat=${BENCH_REPEAT:-3}
fi
for n in "$seq_requests" "$c32_requests" "$qnam_requests" "$download_mb" "$wrk_seconds" \
    "$repeat"; do
    [[ $n =~ ^[1-9][0-9]*$ ]] || die "counts must be positive numbers, got '$n'"
done

# --- nginx -----------------------------------------------------------------------------------
rundir=$(mktemp -d -t reqivo-http-bench.XXXXXX)
nginx_pid=""
stop_nginx() {
    if [[ -n $nginx_pid ]] && kill -0 "$nginx_pid" 2>/dev/null; then
        kill -QUIT "$nginx_pid" 2>/dev/null || true
        for _ in $(seq 50); do
            kill -0 "$nginx_pid" 2>/dev/null || break
            sleep 0.1
        done
        kill -TERM "$nginx_pid" 2>/dev/null || true
    fi
    nginx_pid=""
}
cleanup() {
    stop_nginx
    [[ $rundir == */reqivo-http-bench.* ]] && rm -rf -- "$rundir"
}
trap cleanup EXIT

mkdir -p "$rundir/docroot" "$rundir/tmp"
printf 'Hello world!\n' >"$rundir/docroot/small.txt" # 13 bytes
# Sparse: made instantly, served from the page cache, no disk needed.
truncate -s "${download_mb}M" "$rundir/docroot/large.bin"
# Reading it once puts it in the page cache, so the first download measured does not pay for that.
cat "$rundir/docroot/large.bin" >/dev/null
chmod -R a+rX "$rundir"

free_port() {
    python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

write_config() {
    local port=$1 user_line=""
    # As root, nginx's workers would run as "nobody:nobody", a group Debian does not have.
    if ((EUID == 0)); then user_line="user nobody $(id -gn nobody);"; fi
    cat >"$rundir/nginx.conf" <<CONF
# Written by run-http-bench.sh for one benchmark run.
$user_line
worker_processes 1;
pid $rundir/nginx.pid;
error_log $rundir/error.log warn;
events { worker_connections 4096; }
http {
    access_log off;
    default_type application/octet-stream;
    sendfile on;
    tcp_nopush on;
    tcp_nodelay on;
    keepalive_timeout 120s;
    keepalive_requests 1000000;
    client_body_temp_path $rundir/tmp/body;
    proxy_temp_path $rundir/tmp/proxy;
    fastcgi_temp_path $rundir/tmp/fastcgi;
    uwsgi_temp_path $rundir/tmp/uwsgi;
    scgi_temp_path $rundir/tmp/scgi;
    server {
        listen 127.0.0.1:$port;
        root $rundir/docroot;
        location / { }
    }
}
CONF
}

port=""
for attempt in 1 2 3 4 5; do
    candidate=$(free_port)
    write_config "$candidate"
    rm -f "$rundir/nginx.pid"
    if nginx -p "$rundir" -c "$rundir/nginx.conf" -e "$rundir/error.log" >"$rundir/start.log" 2>&1
    then
        for _ in $(seq 100); do
            [[ -s $rundir/nginx.pid ]] && break
            sleep 0.05
        done
        nginx_pid=$(cat "$rundir/nginx.pid" 2>/dev/null || true)
        if [[ -n $nginx_pid ]]; then
            port=$candidate
            break
        fi
    fi
    grep -q "Address already in use" "$rundir/start.log" "$rundir/error.log" 2>/dev/null || break
    echo "run-http-bench: port $candidate was taken, retrying ($attempt)" >&2
done
if [[ -z $port ]]; then
    cat "$rundir/start.log" "$rundir/error.log" >&2 2>/dev/null || true
    die "nginx did not start"
fi
small_url=http://127.0.0.1:$port/small.txt
large_url=http://127.0.0.1:$port/large.bin
for _ in $(seq 100); do
    (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null && break
    sleep 0.05
done

# --- the runs --------------------------------------------------------------------------------
: >"$results"
failed=0
# Every measurement runs BENCH_REPEAT times and the table keeps the best. The repeats are
# interleaved, round by round over all clients of a group, so that a slow spell of a shared
# machine hits every client alike instead of all the runs of one.
round=0
# run <program> <args...>: runs it once, appending its one JSON line to the results.
run() {
    local out
    echo "run-http-bench: [$round/$repeat] $*" >&2
    if ! out=$("$@"); then
        echo "run-http-bench: FAILED: $*" >&2
        failed=1
        return 0
    fi
    if ! python3 -c 'import json, sys; lines = sys.stdin.read().splitlines(); assert len(lines) == 1; json.loads(lines[0])' <<<"$out"; then
        echo "run-http-bench: FAILED (not one JSON line): $* printed: $out" >&2
        failed=1
        return 0
    fi
    echo "$out" >>"$results"
}

get() { # get <program> <requests> <concurrency> [extra args]
    local program=$1 requests=$2 concurrency=$3
    shift 3
    run "$bindir/$program" --url "$small_url" --requests "$requests" --concurrency "$concurrency" "$@"
}

have_curl=0
if [[ -x $bindir/bench_curl ]]; then
    have_curl=1
else
    echo "run-http-bench: bench_curl not built (libcurl missing): its rows read n/a" >&2
fi

gets() { # gets <requests> <concurrency>: every client, round by round
    local requests=$1 concurrency=$2
    for ((round = 1; round <= repeat; round++)); do
        get bench_qtcpsocket "$requests" "$concurrency"
        get bench_client "$requests" "$concurrency" --mode async
        get bench_client "$requests" "$concurrency" --mode sync
        get bench_qnam "$qnam_requests" "$concurrency"
        if ((have_curl)); then get bench_curl "$requests" "$concurrency"; fi
    done
}
gets "$seq_requests" 1
gets "$c32_requests" 32

# wrk prints "  123456 requests in 5.00s, ..." and "Requests/sec:  24691.20".
wrk_parser=$(
    cat <<'PY'
import json, re, sys
out = sys.stdin.read()
rps = float(re.search(r"Requests/sec:\s*([0-9.]+)", out).group(1))
requests = int(re.search(r"([0-9]+) requests in", out).group(1))
errors = 0
bad = re.search(r"Non-2xx or 3xx responses:\s*([0-9]+)", out)
if bad:
    errors += int(bad.group(1))
sock = re.search(r"Socket errors: connect ([0-9]+), read ([0-9]+), write ([0-9]+), timeout ([0-9]+)", out)
if sock:
    errors += sum(int(x) for x in sock.groups())
print(json.dumps({"bench": "get", "mode": "wrk", "requests": requests, "concurrency": 32,
                  "seconds": float(sys.argv[1]), "rps": rps, "errors": errors},
                 separators=(",", ":")))
PY
)
run_wrk() {
    local out json
    echo "run-http-bench: wrk -t2 -c32 -d${wrk_seconds}s $small_url" >&2
    if ! out=$(wrk -t2 -c32 -d"${wrk_seconds}s" "$small_url"); then
        echo "run-http-bench: FAILED: wrk" >&2
        failed=1
        return 0
    fi
    if ! json=$(python3 -c "$wrk_parser" "$wrk_seconds" <<<"$out"); then
        echo "run-http-bench: FAILED to read wrk's output: $out" >&2
        failed=1
        return 0
    fi
    echo "$json" >>"$results"
}
if command -v wrk >/dev/null; then
    for ((i = 1; i <= repeat; i++)); do run_wrk; done
else
    echo "run-http-bench: wrk not found (Debian package wrk): its row reads n/a" >&2
fi

for ((round = 1; round <= repeat; round++)); do
    run "$bindir/bench_client" --download "$large_url"
    run "$bindir/bench_client" --download "$large_url" --mode sync
    if ((have_curl)); then run "$bindir/bench_curl" --download "$large_url"; fi
done

nginx_version=$(nginx -v 2>&1 | sed 's/^nginx version: //')
stop_nginx

# --- the table -------------------------------------------------------------------------------
python3 - "$results" "$seq_requests" "$c32_requests" "$qnam_requests" "$download_mb" \
    "$nginx_version" "$repeat" <<'PY'
import json, platform, sys, datetime, os

path, seq_n, c32_n, qnam_n, download_mb, nginx_version, repeat = sys.argv[1:]
rows = [json.loads(line) for line in open(path) if line.strip()]

def find(bench, mode, concurrency=None):
    """The best of the repeated runs of one measurement."""
    runs = [r for r in rows if r["bench"] == bench and r["mode"] == mode and (
            concurrency is None or r.get("concurrency") == concurrency)]
    speed = "rps" if bench == "get" else "bytes_per_sec"
    return max(runs, key=lambda r: r[speed]) if runs else None

def rps(mode, c):
    r = find("get", mode, c)
    return r["rps"] if r else None

def dl(mode):
    return find("download", mode)

def fmt(value, unit=""):
    if value is None:
        return "n/a"
    return f"{value:,.0f}{unit}" if value >= 100 else f"{value:.2f}{unit}"

cpu = "unknown CPU"
try:
    for line in open("/proc/cpuinfo"):
        if line.startswith("model name"):
            cpu = line.split(":", 1)[1].strip()
            break
except OSError:
    pass

print(f"HTTP client benchmarks, {datetime.date.today().isoformat()}: {cpu}, "
      f"{os.cpu_count()} cores, Linux {platform.release()}, {nginx_version} (1 worker) "
      f"on 127.0.0.1.")
print(f"GETs of a 13-byte file over keep-alive: {seq_n} sequential, {c32_n} with 32 at a time "
      f"(QNetworkAccessManager: {qnam_n}); download: {download_mb} MiB streamed and discarded. "
      f"Best of {repeat} runs.")
print()
print("| Client | sequential (req/s) | 32 concurrent (req/s) | download (MiB/s) | peak RSS (MiB) |")
print("|---|---:|---:|---:|---:|")
names = [("async", "Reqivo AsyncSession"), ("sync", "Reqivo Session (blocking; C threads)"),
         ("qtcpsocket", "raw QTcpSocket loop (floor)"),
         ("qnam", "QNetworkAccessManager"), ("curl", "libcurl"), ("wrk", "wrk -t2 -c32")]
for mode, name in names:
    d = dl(mode)
    mibs = d["bytes_per_sec"] / 1048576 if d else None
    rss = d["peak_rss_kb"] / 1024 if d else None
    cells = [fmt(rps(mode, 1)), fmt(rps(mode, 32)), fmt(mibs), fmt(rss)]
    if mode == "wrk":
        cells[0] = "—"
    if mode in ("qtcpsocket", "qnam", "wrk"):
        cells[2] = cells[3] = "—"
    print(f"| {name} | " + " | ".join(cells) + " |")
print()

def ratio(a, b):
    return a / b if a is not None and b else None

reqivo_dl, curl_dl = dl("async"), dl("curl")
checks = [
    ("Reqivo sequential / QTcpSocket sequential",
     ratio(rps("async", 1), rps("qtcpsocket", 1)), "≥ 0.9", lambda v: v >= 0.9),
    ("Reqivo sequential / QNetworkAccessManager sequential",
     ratio(rps("async", 1), rps("qnam", 1)), "≥ 10", lambda v: v >= 10),
    ("Reqivo 32 concurrent / wrk -c32",
     ratio(rps("async", 32), rps("wrk", 32)), "≥ 0.7", lambda v: v >= 0.7),
    ("Reqivo download / libcurl download",
     ratio(reqivo_dl and reqivo_dl["bytes_per_sec"], curl_dl and curl_dl["bytes_per_sec"]),
     "≥ 0.9", lambda v: v >= 0.9),
]
print("| Ratio | measured | target | met |")
print("|---|---:|---:|:---:|")
for name, value, target, ok in checks:
    met = "n/a" if value is None else ("yes" if ok(value) else "no")
    print(f"| {name} | {fmt(value)} | {target} | {met} |")
rss = reqivo_dl["peak_rss_kb"] / 1024 if reqivo_dl else None
met = "n/a" if rss is None else ("yes" if rss < 64 else "no")
print(f"| Reqivo download peak RSS | {fmt(rss, ' MiB')} | < 64 MiB | {met} |")
PY

echo
echo "JSON lines: $results"
if ((failed)); then
    echo "run-http-bench: some programs failed (see above)" >&2
    exit 1
fi
exit 0
