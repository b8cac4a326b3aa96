#!/usr/bin/python3
"""The api_nodiscard test (see CMakeLists.txt).

nodiscard_probe.py --cxx g++ --includes 'a|b' --defines 'X|Y' nodiscard_probe.cpp

Compiles the probe twice with -Werror=unused-result: with REQIVO_PROBE_AWAITED it must compile
(the probe is sound), without it every line marked "// DISCARDED" must be an unused-result
error and nothing else may fail.
"""
import argparse
import os
import re
import subprocess
import sys


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--cxx", required=True)
    parser.add_argument("--includes", required=True)
    parser.add_argument("--defines", default="")
    parser.add_argument("source")
    args = parser.parse_args()

    flags = ["-std=c++20", "-fPIC", "-fsyntax-only", "-fdiagnostics-color=never",
             "-Werror=unused-result"]
    if "clang" in os.path.basename(args.cxx):
        flags.append("-ferror-limit=0")  # clang stops after 20 errors otherwise
    flags += ["-I" + d for d in args.includes.split("|") if d]
    flags += ["-D" + d for d in args.defines.split("|") if d]

    awaited = subprocess.run([args.cxx, *flags, "-DREQIVO_PROBE_AWAITED", args.source],
                             capture_output=True, text=True)
    if awaited.returncode != 0:
        sys.exit("api_nodiscard: the awaited probe does not compile:\n" + awaited.stderr)

    dropped = subprocess.run([args.cxx, *flags, args.source], capture_output=True, text=True)
    if dropped.returncode == 0:
        sys.exit("api_nodiscard: dropping a coroutine's task compiled without error")

    with open(args.source, encoding="utf-8") as f:
        expected = {n for n, line in enumerate(f, 1) if line.rstrip().endswith("// DISCARDED")}
    name = re.escape(os.path.basename(args.source))
    flagged, other = set(), []
    for line in dropped.stderr.splitlines():
        # GCC tags it [-Werror=unused-result], clang [-Werror,-Wunused-result].
        m = re.search(name + r":(\d+):\d+: error: .*\[-Werror(=|,-W)unused-result\]", line)
        if m:
            flagged.add(int(m.group(1)))
        elif ": error: " in line:
            other.append(line)
    if other:
        sys.exit("api_nodiscard: unexpected errors:\n" + "\n".join(other))
    missing, extra = sorted(expected - flagged), sorted(flagged - expected)
    if missing or extra:
        sys.exit("api_nodiscard: no unused-result error on lines %s; unexpected ones on lines %s"
                 "\n%s" % (missing, extra, dropped.stderr))
    print("api_nodiscard: all %d discarded tasks are errors" % len(expected))


if __name__ == "__main__":
    main()
