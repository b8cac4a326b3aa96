#!/usr/bin/env bash
# Starts or stops httpbin, served by gunicorn with threaded workers, on loopback.
#
#   httpbin.sh start|stop|restart [--dir DIR]
#
# "start" runs Debian's python3-httpbin under gunicorn (gthread, 8 threads, 1 worker) on a
# kernel-chosen port of 127.0.0.1 from a fresh temporary directory and writes DIR/httpbin.env.
# "stop" kills the process group and removes the directory.
#
# Environment: REQIVO_HTTPBIN_THREADS  threads of the worker (default 8)
#              PEER_START_TIMEOUT      seconds to wait for the port (default 10)
set -euo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source=common.sh
source "$here/common.sh"

peer_parse_args "$@"
envfile=$PEER_DIR/httpbin.env

stop_httpbin() {
    local rundir pgid
    rundir=$(peer_env_get "$envfile" HTTPBIN_RUNDIR)
    pgid=$(peer_env_get "$envfile" HTTPBIN_PGID)
    [[ -n $pgid ]] && peer_kill_group "$pgid" TERM
    if [[ -n $rundir && $rundir == */reqivo-httpbin.* && -d $rundir ]]; then
        rm -rf -- "$rundir"
    fi
    rm -f -- "$envfile"
}

start_httpbin() {
    [[ -x $PEER_PYTHON ]] || peer_die "$PEER_PYTHON not found (Debian package python3)"
    if ! "$PEER_PYTHON" -c 'import httpbin, gunicorn' 2>/dev/null; then
        "$PEER_PYTHON" -c 'import httpbin, gunicorn' || true
        peer_die "httpbin or gunicorn cannot be imported by $PEER_PYTHON (Debian packages python3-httpbin, gunicorn)"
    fi
    local threads=${REQIVO_HTTPBIN_THREADS:-8}
    local rundir
    rundir=$(peer_make_rundir httpbin)

    local attempt port pid=""
    for attempt in 1 2 3; do
        read -r port < <(peer_free_ports 1)
        rm -f "$rundir/gunicorn.pid"
        # setsid: gunicorn and its worker get a process group of their own, killed as one.
        # Its output goes to a file so that the CTest fixture returns at once.
        (
            cd "$rundir"
            exec setsid "$PEER_PYTHON" -m gunicorn -k gthread --threads "$threads" -w 1 \
                -b "127.0.0.1:$port" --pid "$rundir/gunicorn.pid" \
                --worker-tmp-dir "$rundir" --timeout 120 --graceful-timeout 2 --keep-alive 30 \
                --error-logfile "$rundir/error.log" httpbin:app
        ) </dev/null >"$rundir/out.log" 2>&1 &
        pid=$!
        if peer_wait_port "$port" "$pid" httpbin 2>"$rundir/wait.log"; then
            break
        fi
        kill -KILL "$pid" 2>/dev/null || true
        wait "$pid" 2>/dev/null || true
        pid=""
        grep -q "Address already in use" "$rundir/error.log" "$rundir/out.log" 2>/dev/null ||
            break
        echo "httpbin: the chosen port was taken, retrying" >&2
    done
    if [[ -z $pid ]]; then
        cat "$rundir/wait.log" "$rundir/out.log" "$rundir/error.log" >&2 2>/dev/null || true
        rm -rf -- "$rundir"
        peer_die "httpbin did not start"
    fi
    {
        echo "HTTPBIN_HOST=127.0.0.1"
        echo "HTTPBIN_PORT=$port"
        echo "HTTPBIN_URL=http://127.0.0.1:$port"
        echo "HTTPBIN_PID=$pid"
        echo "HTTPBIN_PGID=$pid"
        echo "HTTPBIN_RUNDIR=$rundir"
    } >"$envfile.tmp"
    mv "$envfile.tmp" "$envfile"
    peer_start_watchdog "$envfile" HTTPBIN_PGID "$pid" "$rundir"
    echo "httpbin ready: port=$port (env: $envfile)"
}

case $PEER_ACTION in
    start) stop_httpbin; start_httpbin ;;
    stop) stop_httpbin; echo "httpbin stopped" ;;
    restart) stop_httpbin; start_httpbin ;;
esac
