#!/usr/bin/env bash
# Starts or stops nghttpd (Debian package nghttp2-server), an HTTP/2-only server, on loopback.
#
#   nghttpd.sh start|stop|restart [--dir DIR]
#
# "start" runs two nghttpd processes from a fresh temporary directory (docroot, certificates,
# logs) on kernel-chosen ports of 127.0.0.1 and writes DIR/nghttpd.env, which tests read:
#   cleartext HTTP/2 with prior knowledge (no HTTP/1.1, no Upgrade: the client must start with
#   the HTTP/2 connection preface); and TLS that offers only "h2" by ALPN (no HTTP/1.1 either).
# Both serve the same docroot and echo the body of every POST and PUT. "stop" kills the process
# group and removes the directory.
#
# Environment: REQIVO_NGHTTPD_LARGE_BYTES  size of /large.bin (default 4 MiB)
#              PEER_START_TIMEOUT          seconds to wait for the ports (default 10)
set -euo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source=common.sh
source "$here/common.sh"
# shellcheck source=certs.sh
source "$here/certs.sh"

peer_parse_args "$@"
envfile=$PEER_DIR/nghttpd.env

stop_nghttpd() {
    local rundir pgid
    rundir=$(peer_env_get "$envfile" NGHTTPD_RUNDIR)
    pgid=$(peer_env_get "$envfile" NGHTTPD_PGID)
    [[ -n $pgid ]] && peer_kill_group "$pgid" TERM
    if [[ -n $rundir && $rundir == */reqivo-nghttpd.* && -d $rundir ]]; then
        rm -rf -- "$rundir"
    fi
    rm -f -- "$envfile"
}

# The docroot: small files with known content and /large.bin, a deterministic AES-CTR
# keystream like nginx's (incompressible, checkable by SHA-256).
make_docroot() {
    local docroot=$1 large_bytes=$2
    mkdir -p "$docroot"
    printf 'Hello from nghttpd\n' >"$docroot/small.txt"
    printf '{"hello":"nghttpd","n":1}\n' >"$docroot/hello.json"
    : >"$docroot/empty.txt"
    printf '<!doctype html><title>Reqivo test peer</title><p>Hello from nghttpd</p>\n' \
        >"$docroot/index.html"
    head -c "$large_bytes" /dev/zero |
        openssl enc -aes-128-ctr -nosalt -K 000102030405060708090a0b0c0d0e0f \
            -iv 00000000000000000000000000000000 >"$docroot/large.bin"
}

start_nghttpd() {
    command -v nghttpd >/dev/null || peer_die "nghttpd not found (Debian package nghttp2-server)"
    command -v openssl >/dev/null || peer_die "openssl not found (Debian package openssl)"
    local large_bytes=${REQIVO_NGHTTPD_LARGE_BYTES:-4194304}
    [[ $large_bytes =~ ^[0-9]+$ ]] || peer_die "REQIVO_NGHTTPD_LARGE_BYTES must be a number"

    local rundir
    rundir=$(peer_make_rundir nghttpd)
    peer_make_certs "$rundir/certs"
    make_docroot "$rundir/docroot" "$large_bytes"

    local attempt port tls_port pid="" ok=0
    for attempt in 1 2 3; do
        read -r port tls_port < <(peer_free_ports 2)
        # setsid: both servers share a process group of their own, killed as one. Their output
        # goes to files so that the CTest fixture returns at once.
        (
            cd "$rundir"
            exec setsid bash -c '
                nghttpd --no-tls -a 127.0.0.1 -d "$1/docroot" --echo-upload "$2" \
                    >"$1/cleartext.log" 2>&1 &
                nghttpd -a 127.0.0.1 -d "$1/docroot" --echo-upload "$3" \
                    "$1/certs/server.key" "$1/certs/server.pem" >"$1/tls.log" 2>&1 &
                wait -n
                kill -TERM 0' nghttpd-peer "$rundir" "$port" "$tls_port"
        ) </dev/null >"$rundir/out.log" 2>&1 &
        pid=$!
        if peer_wait_port "$port" "$pid" nghttpd 2>"$rundir/wait.log" &&
            peer_wait_port "$tls_port" "$pid" nghttpd 2>>"$rundir/wait.log"; then
            ok=1
            break
        fi
        kill -KILL -- "-$pid" 2>/dev/null || kill -KILL "$pid" 2>/dev/null || true
        wait "$pid" 2>/dev/null || true
        grep -qi "address already in use" "$rundir"/*.log 2>/dev/null || break
        echo "nghttpd: a chosen port was taken, retrying" >&2
    done
    if ((!ok)); then
        cat "$rundir/wait.log" "$rundir/cleartext.log" "$rundir/tls.log" >&2 2>/dev/null || true
        rm -rf -- "$rundir"
        peer_die "nghttpd did not start"
    fi
    {
        echo "NGHTTPD_HOST=127.0.0.1"
        echo "NGHTTPD_PORT=$port"
        echo "NGHTTPD_URL=http://127.0.0.1:$port"
        echo "NGHTTPD_TLS_PORT=$tls_port"
        echo "NGHTTPD_TLS_URL=https://127.0.0.1:$tls_port"
        echo "NGHTTPD_DOCROOT=$rundir/docroot"
        echo "NGHTTPD_CERTS_DIR=$rundir/certs"
        echo "NGHTTPD_CA_FILE=$rundir/certs/ca.pem"
        echo "NGHTTPD_SMALL_PATH=/small.txt"
        echo "NGHTTPD_LARGE_PATH=/large.bin"
        echo "NGHTTPD_LARGE_SIZE=$large_bytes"
        echo "NGHTTPD_LARGE_SHA256=$(sha256sum "$rundir/docroot/large.bin" | cut -d' ' -f1)"
        echo "NGHTTPD_PID=$pid"
        echo "NGHTTPD_PGID=$pid"
        echo "NGHTTPD_RUNDIR=$rundir"
    } >"$envfile.tmp"
    mv "$envfile.tmp" "$envfile"
    peer_start_watchdog "$envfile" NGHTTPD_PGID "$pid" "$rundir"
    echo "nghttpd ready: h2c=$port h2=$tls_port (env: $envfile)"
}

case $PEER_ACTION in
    start) stop_nghttpd; start_nghttpd ;;
    stop) stop_nghttpd; echo "nghttpd stopped" ;;
    restart) stop_nghttpd; start_nghttpd ;;
esac
