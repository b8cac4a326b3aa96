#!/usr/bin/env bash
# The README's first command: installs what is missing (Debian 12), configures build/, builds
# the demo and runs it. Safe to run again: it installs and rebuilds only what is needed.
#
#   ./examples/demo.sh [--no-install]
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$root"
# shellcheck source=../tests/support/deps.sh
source "$root/tests/support/deps.sh"

install=1
for arg in "$@"; do
    case $arg in
        --no-install) install=0 ;;
        -h | --help) sed -n '2,5s/^# \{0,1\}//p' "$0"; exit 0 ;;
        *) echo "unknown option: $arg" >&2; exit 2 ;;
    esac
done
if ((install)); then
    reqivo_ensure_packages "${REQIVO_BUILD_PACKAGES[@]}"
fi

# build/ is shared with tests/run.sh; keep its generator if it already exists.
generator=(-G Ninja)
[[ -f build/CMakeCache.txt ]] && generator=()
mkdir -p build
echo "==> Configuring build/ (log: build/demo-configure.log)"
cmake -S . -B build "${generator[@]}" -DCMAKE_BUILD_TYPE=RelWithDebInfo -DREQIVO_BUILD_EXAMPLES=ON \
    >build/demo-configure.log 2>&1 || { cat build/demo-configure.log >&2; exit 1; }
echo "==> Building reqivo-demo"
cmake --build build --target reqivo-demo -j"$(nproc 2>/dev/null || echo 2)"
echo
exec ./build/examples/demo/reqivo-demo
