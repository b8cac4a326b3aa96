#!/usr/bin/env bash
# What an attached event listener costs: bench_listener against a private nginx on 127.0.0.1
# (one worker, no access log, a 13-byte file), sequential GETs over one keep-alive connection,
# no listener / a no-op listener / a recording one taking turns, best of ROUNDS rounds.
#
#   run-listener-bench.sh BIN_DIR [REQUESTS] [ROUNDS]     (defaults 20000 and 3)
#
# Prints bench_listener's JSON lines, then a table. Run it on a quiet machine; speed never fails
# it (exit 0 unless nginx cannot start or the program fails).
set -euo pipefail
bindir=${1:?usage: run-listener-bench.sh BIN_DIR [REQUESTS] [ROUNDS]}
requests=${2:-20000}
rounds=${3:-3}
command -v nginx >/dev/null || { echo "nginx not found (Debian package nginx-light)" >&2; exit 1; }

rundir=$(mktemp -d -t reqivo-listener-bench.XXXXXX)
cleanup() {
    if [[ -s $rundir/nginx.pid ]]; then
        kill -QUIT "$(cat "$rundir/nginx.pid")" 2>/dev/null || true
    fi
    [[ $rundir == */reqivo-listener-bench.* ]] && rm -rf -- "$rundir"
}
trap cleanup EXIT
mkdir -p "$rundir/docroot" "$rundir/tmp"
printf 'Hello world!\n' >"$rundir/docroot/small.txt"
chmod -R a+rX "$rundir"
port=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
user_line=""
if ((EUID == 0)); then user_line="user nobody $(id -gn nobody);"; fi
cat >"$rundir/nginx.conf" <<CONF
$user_line
worker_processes 1;
pid $rundir/nginx.pid;
error_log $rundir/error.log warn;
events { worker_connections 64; }
http {
    access_log off;
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
nginx -p "$rundir" -c "$rundir/nginx.conf" -e "$rundir/error.log"
for _ in $(seq 100); do
    [[ -s $rundir/nginx.pid ]] && break
    sleep 0.05
done

${BENCH_WRAP:-} "$bindir/bench_listener" --url "http://127.0.0.1:$port/small.txt" --requests "$requests" \
    --mode "$rounds" | tee "$rundir/results.jsonl"
python3 - "$rundir/results.jsonl" <<'PY'
import json, sys
rows = [json.loads(l) for l in open(sys.argv[1])]
print(f"{'listener':<10} {'req/s':>10} {'cost (wall)':>12} {'cost (CPU)':>11}")
for r in rows:
    name = r["mode"].removeprefix("listener-")
    print(f"{name:<10} {r['rps']:>10.0f} {r['cost_pct']:>11.1f}% {r['cpu_cost_pct']:>10.1f}%")
PY
