# Shared helpers of the peer scripts (nginx.sh, httpbin.sh). Sourced, not run.
#
# A peer is a real server the integration tests talk to, started on loopback on ports the
# kernel picked, in a private temporary directory, and described by an env file
# (<dir>/<peer>.env) that tests read. Stopping a peer kills its whole process group and removes
# its directory, so nothing outlives a test run.
# shellcheck shell=bash

peer_die() {
    echo "error: $*" >&2
    exit 1
}

# The system interpreter: the one Debian's python3-* packages are installed for (a python3 found
# first in PATH may be another installation without them).
PEER_PYTHON=/usr/bin/python3

# Prints <count> distinct free TCP ports on 127.0.0.1 (the kernel picks them; they are released
# before the server binds them, which is safe enough on a machine that is not short of ports).
peer_free_ports() {
    "$PEER_PYTHON" - "$1" <<'PY'
import socket, sys
socks = []
for _ in range(int(sys.argv[1])):
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    s.bind(("127.0.0.1", 0))
    socks.append(s)
print(" ".join(str(s.getsockname()[1]) for s in socks))
PY
}

# True when a TCP connection to <host> <port> is accepted.
peer_port_open() {
    (exec 3<>"/dev/tcp/$1/$2") 2>/dev/null
}

# Waits (bounded) until <port> on 127.0.0.1 accepts connections while process <pid> lives.
peer_wait_port() {
    local port=$1 pid=$2 what=$3 deadline=$((SECONDS + ${PEER_START_TIMEOUT:-10}))
    while ! peer_port_open 127.0.0.1 "$port"; do
        kill -0 "$pid" 2>/dev/null || { echo "error: $what exited during start-up" >&2; return 1; }
        ((SECONDS < deadline)) || { echo "error: $what did not accept connections on 127.0.0.1:$port within ${PEER_START_TIMEOUT:-10} s" >&2; return 1; }
        sleep 0.1
    done
}

# Kills process group <pgid> (TERM, then KILL after a grace period) and waits until it is gone.
peer_kill_group() {
    local pgid=$1 signal=${2:-TERM} i
    [[ $pgid =~ ^[0-9]+$ ]] && ((pgid > 1)) || return 0
    kill "-$signal" -- "-$pgid" 2>/dev/null || return 0
    for ((i = 0; i < 50; i++)); do
        kill -0 -- "-$pgid" 2>/dev/null || return 0
        sleep 0.1
    done
    kill -KILL -- "-$pgid" 2>/dev/null || true
    for ((i = 0; i < 20; i++)); do
        kill -0 -- "-$pgid" 2>/dev/null || return 0
        sleep 0.1
    done
    echo "warning: process group $pgid survived SIGKILL" >&2
}

# Reads KEY from env file <file> (lines KEY=VALUE, no quoting).
peer_env_get() {
    local file=$1 key=$2 line
    [[ -f $file ]] || return 0
    while IFS= read -r line; do
        [[ $line == "$key="* ]] && { printf '%s\n' "${line#*=}"; return 0; }
    done <"$file"
}

# Parses "start|stop [--dir DIR]" into PEER_ACTION and PEER_DIR (default: build/tests/peers
# of the source tree, where the CTest fixtures put them too).
peer_parse_args() {
    PEER_ACTION=${1:-}
    shift || true
    PEER_DIR=${REQIVO_PEERS_DIR:-}
    while (($#)); do
        case $1 in
            --dir) PEER_DIR=${2:?--dir needs a value}; shift 2 ;;
            --dir=*) PEER_DIR=${1#--dir=}; shift ;;
            *) peer_die "unknown argument: $1" ;;
        esac
    done
    case $PEER_ACTION in
        start | stop | restart) ;;
        *) peer_die "usage: $0 start|stop|restart [--dir DIR]  (DIR holds <peer>.env)" ;;
    esac
    if [[ -z $PEER_DIR ]]; then
        PEER_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")/../../.." && pwd)/build/tests/peers"
    fi
    mkdir -p "$PEER_DIR"
    PEER_DIR=$(cd "$PEER_DIR" && pwd)
}

# A private run directory for one peer, readable by unprivileged worker processes (nginx started
# as root runs its workers as nobody, who may not be able to enter root's $TMPDIR).
peer_make_rundir() {
    local d base=${TMPDIR:-/tmp}
    ((EUID != 0)) || base=/tmp
    d=$(mktemp -d "$base/reqivo-$1.XXXXXX")
    chmod 755 "$d"
    printf '%s\n' "$d"
}

# Starts a watchdog that stops process group <pgid> and removes <rundir> as soon as <envfile>
# is gone or names another process group (the build tree was deleted, or the peer was replaced
# without being stopped), or after REQIVO_PEER_MAX_SECONDS (default 7200). A peer therefore
# never outlives its build tree, whatever happened to the test run that started it.
peer_start_watchdog() {
    local envfile=$1 key=$2 pgid=$3 rundir=$4 max=${REQIVO_PEER_MAX_SECONDS:-7200}
    [[ $max =~ ^[0-9]+$ ]] || max=7200
    setsid bash -c '
        envfile=$1 key=$2 pgid=$3 rundir=$4 deadline=$((SECONDS + $5))
        while kill -0 -- "-$pgid" 2>/dev/null; do
            current=$(grep -s "^$key=" "$envfile" | cut -d= -f2)
            if [[ $current != "$pgid" ]] || ((SECONDS >= deadline)); then
                kill -TERM -- "-$pgid" 2>/dev/null
                for _ in 1 2 3 4 5 6 7 8 9 10; do
                    kill -0 -- "-$pgid" 2>/dev/null || break
                    sleep 0.5
                done
                kill -KILL -- "-$pgid" 2>/dev/null
                [[ $rundir == */reqivo-* ]] && rm -rf -- "$rundir"
                exit 0
            fi
            sleep 2
        done
    ' peer-watchdog "$envfile" "$key" "$pgid" "$rundir" "$max" </dev/null >/dev/null 2>&1 &
}
