#!/usr/bin/env bash
# Installs what is missing, builds, and runs every test of Reqivo. The README's test command,
# and all that CI runs.
#
#   ./tests/run.sh [--quick] [--no-install]
#
# Stages, each counted:
#   dependencies  Debian packages (apt-get, via sudo when not root), only those missing
#   build/        GCC, RelWithDebInfo, warnings as errors; ctest (unit, integration against
#                 nginx/httpbin on loopback, QML, corpus replay, benchmark smoke, install test,
#                 the docs' C++ code blocks compiled, the Doxygen API reference with warnings
#                 as errors)
#   build-asan/   the same tests under AddressSanitizer + UndefinedBehaviorSanitizer (but the
#                 two documentation tests, which do not depend on how the library is built)
#   build-fuzz/   clang + libFuzzer; every fuzz_* target for REQIVO_FUZZ_SECONDS (20) each,
#                 over a copy of its seed corpus tests/fuzz/corpus/<name without fuzz_>/
# The last line is "N passed, N failed": every ctest test, plus one per other stage. The exit
# status is non-zero when anything failed. A missing dependency is a failure, never a skip.
#
#   --quick       skip the sanitizer and fuzz stages (for a developer's quick check)
#   --no-install  never run apt-get; missing packages still fail the run
set -euo pipefail

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$root"
# shellcheck source=support/deps.sh
source "$root/tests/support/deps.sh"

usage() { sed -n '2,20s/^# \{0,1\}//p' "$0"; }
quick=0
install=1
for arg in "$@"; do
    case $arg in
        --quick) quick=1 ;;
        --no-install) install=0 ;;
        -h | --help) usage; exit 0 ;;
        *) echo "unknown option: $arg" >&2; usage >&2; exit 2 ;;
    esac
done

jobs=$(nproc 2>/dev/null || echo 2)
# With ccache (CMakeLists.txt uses it when present), paths relative to the clone: a second clone
# or build tree hits the same cache entries.
export CCACHE_BASEDIR=$root CCACHE_NOHASHDIR=1
ctest_jobs=2
fuzz_seconds=${REQIVO_FUZZ_SECONDS:-20}
[[ $fuzz_seconds =~ ^[0-9]+$ ]] || { echo "REQIVO_FUZZ_SECONDS must be a number" >&2; exit 2; }
logdir=$root/build/test-logs
mkdir -p "$logdir"

passed=0
failed=0
summary=()

record() { # record <pass|fail> <description> <seconds>
    if [[ $1 == pass ]]; then
        passed=$((passed + 1))
        summary+=("  PASS  $2 (${3} s)")
    else
        failed=$((failed + 1))
        summary+=("  FAIL  $2 (${3} s)")
    fi
}

# stage <description> <command...>: runs the command with errexit in force and counts it as one
# passed or failed stage; stage_rc holds its exit status. It always returns 0 and must not be
# called as a condition (bash would then ignore errexit inside the command).
stage_rc=0
stage() {
    local what=$1 start=$SECONDS
    shift
    echo
    echo "==> $what"
    set +e
    (set -eo pipefail; "$@")
    stage_rc=$?
    set -e
    if ((stage_rc == 0)); then
        record pass "$what" $((SECONDS - start))
    else
        echo "==> FAILED: $what (exit status $stage_rc)" >&2
        record fail "$what" $((SECONDS - start))
    fi
}

# run_ctest <build dir> <description> [VAR=value...]: runs the tests of a build tree in the given
# environment and adds each test's result to the tally (one failure when ctest could not run).
run_ctest() {
    local dir=$1 what=$2 start=$SECONDS log rc total nfailed
    shift 2
    log=$logdir/ctest-$(basename "$dir").log
    echo
    echo "==> $what"
    set +e
    env "$@" ctest --test-dir "$dir" --output-on-failure --no-tests=error -j"$ctest_jobs" 2>&1 | tee "$log"
    rc=${PIPESTATUS[0]}
    set -e
    local line
    line=$(grep -E '^[0-9]+% tests passed, [0-9]+ tests? failed out of [0-9]+' "$log" | tail -n1 || true)
    if [[ $line =~ ([0-9]+)\ tests?\ failed\ out\ of\ ([0-9]+) ]]; then
        nfailed=${BASH_REMATCH[1]}
        total=${BASH_REMATCH[2]}
        passed=$((passed + total - nfailed))
        failed=$((failed + nfailed))
        local verdict=PASS
        ((nfailed == 0 && rc == 0)) || verdict=FAIL
        if ((nfailed == 0 && rc != 0)); then failed=$((failed + 1)); fi
        summary+=("  $verdict  $what: $((total - nfailed)) of $total tests passed ($((SECONDS - start)) s)")
    else
        record fail "$what: ctest did not run the tests (exit status $rc)" $((SECONDS - start))
    fi
}

# Peers (nginx, httpbin, nghttpd) are stopped by their CTest cleanup fixtures; this catches the ones an
# interrupted or crashed run left behind.
stop_peers() {
    local dir peer
    for dir in build build-asan; do
        for peer in nginx httpbin nghttpd; do
            if [[ -f $root/$dir/tests/peers/$peer.env ]]; then
                "$root/tests/support/peers/$peer.sh" stop --dir "$root/$dir/tests/peers" \
                    >/dev/null 2>&1 || true
            fi
        done
    done
}
trap stop_peers EXIT
trap 'exit 130' INT TERM

# configure_build <dir> <description> <cmake args...>
configure_build() {
    local dir=$1
    shift
    if [[ -f $dir/CMakeCache.txt ]] && ! grep -q '^CMAKE_GENERATOR:INTERNAL=Ninja$' "$dir/CMakeCache.txt"; then
        echo "error: $dir was configured with another generator; remove it and run again" >&2
        return 1
    fi
    cmake -S "$root" -B "$dir" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo "$@"
    # Keep going past a failed target: the tests that did build still run and report.
    cmake --build "$dir" -j"$jobs" -- -k 0
}
# True when <dir> was configured far enough to have tests to run.
configured() { [[ -f $1/CTestTestfile.cmake ]]; }

# --- dependencies -----------------------------------------------------------------------------
packages=("${REQIVO_BUILD_PACKAGES[@]}" "${REQIVO_TEST_PACKAGES[@]}")
check_packages() {
    if ((install)); then
        reqivo_ensure_packages "${packages[@]}"
    elif command -v dpkg-query >/dev/null 2>&1; then
        local missing
        missing=$(reqivo_missing_packages "${packages[@]}" | tr '\n' ' ')
        if [[ -n $missing ]]; then
            echo "error: missing Debian packages (--no-install given): $missing" >&2
            return 1
        fi
    else
        echo "note: not a Debian system; not checking packages (--no-install)"
    fi
}
stage "dependencies" check_packages
if ((stage_rc != 0)); then
    # Nothing can build without them.
    printf '%s\n' "" "==> Summary" "${summary[@]}"
    echo "$passed passed, $failed failed"
    exit 1
fi

# The library reads proxies from the environment as curl does (http_proxy, https_proxy,
# all_proxy, no_proxy, upper-case forms) and every test talks to loopback peers: a developer's
# or CI's proxy settings must not send them elsewhere. Unset after the dependencies stage, which
# may need a proxy to reach the package mirrors; the proxy tests set their own.
unset http_proxy HTTP_PROXY https_proxy HTTPS_PROXY all_proxy ALL_PROXY no_proxy NO_PROXY

# --- GCC build and tests ----------------------------------------------------------------------
stage "build/ (GCC, RelWithDebInfo, -Werror)" configure_build build \
    -DCMAKE_CXX_COMPILER=g++ -DREQIVO_WERROR=ON \
    -DREQIVO_BUILD_TESTS=ON -DREQIVO_BUILD_EXAMPLES=ON -DREQIVO_BUILD_BENCHMARKS=ON \
    -DREQIVO_BUILD_FUZZERS=OFF -DREQIVO_SANITIZE=
if configured build; then
    run_ctest build "tests in build/"
fi

# --- ASan + UBSan -----------------------------------------------------------------------------
# -O1 -g1 (line tables) is what the sanitizers recommend, and halves this build's compile time
# against -O2 -g; reports keep their file:line frames. Examples and benchmark smoke runs are
# built too: every test of build/ runs again here.
if ((!quick)); then
    stage "build-asan/ (GCC, AddressSanitizer + UndefinedBehaviorSanitizer)" configure_build \
        build-asan -DCMAKE_CXX_COMPILER=g++ -DREQIVO_WERROR=ON \
        "-DCMAKE_CXX_FLAGS_RELWITHDEBINFO=-O1 -g1 -DNDEBUG" \
        -DREQIVO_SANITIZE=address,undefined -DREQIVO_BUILD_TESTS=ON \
        -DREQIVO_BUILD_EXAMPLES=ON -DREQIVO_BUILD_BENCHMARKS=ON -DREQIVO_BUILD_FUZZERS=OFF
    if configured build-asan; then
        # LSAN suppressions cover third-party libraries only (see the file), never Reqivo.
        run_ctest build-asan "tests in build-asan/ (ASan + UBSan)" \
            ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 \
            UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
            LSAN_OPTIONS=suppressions=$root/tests/support/lsan.supp:print_suppressions=0
    fi
fi

# --- libFuzzer ----------------------------------------------------------------------------------
# fuzz_one <binary>: runs one fuzzer over a private copy of its seed corpus.
fuzz_one() {
    local bin=$1 name corpus work
    name=$(basename "$bin")
    corpus=$root/tests/fuzz/corpus/${name#fuzz_}
    [[ -d $corpus ]] || corpus=$root/tests/fuzz/corpus/$name
    if [[ ! -d $corpus ]]; then
        echo "error: no seed corpus for $name (expected tests/fuzz/corpus/${name#fuzz_}/)" >&2
        return 1
    fi
    work=$(mktemp -d "${TMPDIR:-/tmp}/reqivo-$name.XXXXXX")
    mkdir -p "$work/corpus" "$work/artifacts"
    cp -R "$corpus/." "$work/corpus/"
    local -a extra=()
    [[ -f $root/tests/fuzz/${name#fuzz_}.dict ]] && extra+=("-dict=$root/tests/fuzz/${name#fuzz_}.dict")
    # Past findings are read as extra seeds (libFuzzer writes only to the first directory).
    local regressions=$root/tests/fuzz/regressions/${name#fuzz_}
    [[ -d $regressions ]] || regressions=""
    local rc=0
    ASAN_OPTIONS=abort_on_error=0:detect_leaks=1 UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
        "$bin" "${extra[@]}" -max_total_time="$fuzz_seconds" -timeout=10 -rss_limit_mb=2048 \
        -print_final_stats=1 -artifact_prefix="$work/artifacts/" "$work/corpus" ${regressions:+"$regressions"} \
        >"$logdir/$name.log" 2>&1 || rc=$?
    if ((rc != 0)) || compgen -G "$work/artifacts/*" >/dev/null; then
        # The finding: what the harness printed before the sanitizer's or libFuzzer's report.
        local at
        at=$(grep -n -m1 -E 'ERROR: (libFuzzer|AddressSanitizer|LeakSanitizer)|runtime error:' \
            "$logdir/$name.log" | cut -d: -f1 || true)
        if [[ -n $at ]]; then
            sed -n "$((at > 12 ? at - 12 : 1)),$((at + 40))p" "$logdir/$name.log"
        else
            tail -n 40 "$logdir/$name.log"
        fi
        tail -n 8 "$logdir/$name.log"
        mkdir -p "$root/build-fuzz/artifacts"
        cp -R "$work/artifacts/." "$root/build-fuzz/artifacts/" 2>/dev/null || true
        echo "error: $name failed (exit status $rc); inputs kept in build-fuzz/artifacts/," \
            "full log in $logdir/$name.log" >&2
        rm -rf -- "$work"
        return 1
    fi
    tail -n 8 "$logdir/$name.log"
    rm -rf -- "$work"
}

if ((!quick)); then
    stage "build-fuzz/ (clang, libFuzzer)" configure_build build-fuzz \
        -DCMAKE_CXX_COMPILER=clang++ -DREQIVO_BUILD_FUZZERS=ON -DREQIVO_BUILD_TESTS=OFF \
        -DREQIVO_BUILD_EXAMPLES=OFF -DREQIVO_BUILD_BENCHMARKS=OFF -DREQIVO_SANITIZE=
    if [[ -f build-fuzz/CMakeCache.txt ]]; then
        mapfile -t fuzzers < <(find build-fuzz -type f -name 'fuzz_*' -perm -u+x \
            ! -name '*.*' -not -path '*/CMakeFiles/*' | sort)
        if ((${#fuzzers[@]} == 0)); then
            echo "error: no fuzz_* executables in build-fuzz/" >&2
            record fail "fuzzers: none found in build-fuzz/" 0
        fi
        for bin in "${fuzzers[@]}"; do
            stage "$(basename "$bin") for ${fuzz_seconds} s" fuzz_one "$bin"
        done
    fi
fi

# --- summary ------------------------------------------------------------------------------------
stop_peers
echo
echo "==> Summary"
printf '%s\n' "${summary[@]}"
echo "$passed passed, $failed failed"
((failed == 0))
