# Debian packages Reqivo needs, and the function that installs the missing ones.
#
# Sourced by tests/run.sh and examples/demo.sh, so that both README commands install the same
# way: dpkg-query first, and apt-get (with sudo when not root) only for what is missing, so a
# second run touches nothing.  Packages come from Debian 12's archive and nowhere else.
# shellcheck shell=bash

# Building the library and the examples.
REQIVO_BUILD_PACKAGES=(
    build-essential cmake ninja-build pkg-config ccache
    qt6-base-dev qt6-websockets-dev qt6-declarative-dev qcoro-qt6-dev zlib1g-dev libnghttp2-dev
    # The br and zstd content codings (decoders in the library, encoders for the tests' bodies).
    libbrotli-dev libzstd-dev
    # QML modules the demo and the QML examples import at run time (QtQuick.Controls needs
    # QtQuick.Templates, a package of its own: examples/llmchat).
    qml6-module-qtqml qml6-module-qtqml-models qml6-module-qtquick qml6-module-qtquick-window
    qml6-module-qtquick-controls qml6-module-qtquick-layouts qml6-module-qtqml-workerscript
    qml6-module-qtquick-templates
    # Reqivo::Testing's MockServer makes its TLS certificates with libcrypto.
    libssl-dev
)

# Everything the full test run adds: clang with its libFuzzer/sanitizer runtime, the peers the
# integration tests talk to on loopback (nginx, httpbin under gunicorn, Python websockets),
# openssl for test certificates, curl for the peers' smoke checks, libcurl and wrk for the
# benchmark comparators, the QML test runner with the modules QML tests and the example
# apps import (examples/qmlapp: QtQuick and ListModel from QtQml.Models), and doxygen for the
# API reference (the apidocs test).
REQIVO_TEST_PACKAGES=(
    clang libclang-rt-14-dev
    nginx-light gunicorn python3-httpbin python3-websockets openssl curl
    # httpbin's /brotli imports it.
    python3-brotli
    libcurl4-openssl-dev wrk
    # HTTP/2 peers and the benchmark ceiling: nginx's /echo module, nghttpd, the scripted
    # h2peer.py, h2load.
    libnginx-mod-http-echo nghttp2-server python3-h2 nghttp2-client
    qml6-module-qttest qml6-module-qtquick qml6-module-qtqml-workerscript qml6-module-qtqml-models
    qt6-declarative-dev-tools
    doxygen
)

# Prints the packages among "$@" that are not installed.
reqivo_missing_packages() {
    local pkg status
    for pkg in "$@"; do
        status=$(dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null || true)
        [[ $status == "install ok installed" ]] || printf '%s\n' "$pkg"
    done
}

# Installs the packages among "$@" that are missing. Exits with a message when it cannot.
reqivo_ensure_packages() {
    if ! command -v dpkg-query >/dev/null 2>&1 || ! command -v apt-get >/dev/null 2>&1; then
        echo "error: dpkg-query/apt-get not found. This script supports Debian 12; install" >&2
        echo "       these packages (or their equivalents) yourself: $*" >&2
        exit 1
    fi

    local -a missing
    mapfile -t missing < <(reqivo_missing_packages "$@")
    ((${#missing[@]} == 0)) && return 0

    local -a as_root=()
    if ((EUID != 0)); then
        if ! command -v sudo >/dev/null 2>&1; then
            echo "error: missing Debian packages: ${missing[*]}" >&2
            echo "       Not root and sudo is not installed. As root, run:" >&2
            echo "       apt-get update && apt-get install -y ${missing[*]}" >&2
            exit 1
        fi
        # Ask for a password only when someone can type it.
        if [[ -t 0 ]]; then as_root=(sudo); else as_root=(sudo -n); fi
    fi

    echo "==> Installing missing Debian packages: ${missing[*]}"
    # Keep package scripts from starting daemons (nginx would listen on port 80 of every
    # interface); the tests start their own peers on loopback. Only when no policy is in place.
    local policy=/usr/sbin/policy-rc.d added_policy=0
    if [[ ! -e $policy ]] &&
        "${as_root[@]}" sh -c "printf '#!/bin/sh\nexit 101\n' > $policy && chmod 755 $policy" 2>/dev/null; then
        added_policy=1
    fi
    local rc=0
    {
        "${as_root[@]}" env DEBIAN_FRONTEND=noninteractive apt-get update -q &&
            "${as_root[@]}" env DEBIAN_FRONTEND=noninteractive apt-get install -y -q "${missing[@]}"
    } || rc=$?
    if ((added_policy)); then
        "${as_root[@]}" rm -f "$policy" || true
    fi
    if ((rc != 0)); then
        echo "error: could not install: ${missing[*]} (apt-get exit status $rc)." >&2
        if ((EUID != 0)); then
            echo "       Run this script as root, or allow sudo for apt-get." >&2
        fi
        exit 1
    fi

    mapfile -t missing < <(reqivo_missing_packages "$@")
    if ((${#missing[@]} != 0)); then
        echo "error: still not installed after apt-get: ${missing[*]}" >&2
        exit 1
    fi
}
