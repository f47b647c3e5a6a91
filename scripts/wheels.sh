#!/usr/bin/env bash
# Builds a manylinux wheel per CPython and smoke-tests each one in a fresh
# virtualenv (scripts/wheel_smoke.sh).
#
#   scripts/wheels.sh [--no-smoke] [VERSION | INTERPRETER]...
#
# VERSION is 3.9 ... 3.13: its interpreter is pyenv's (`pyenv root`/versions/
# 3.X.*, the newest) or python3.X on PATH. With no argument: every CPython
# from 3.9 to 3.13 found that way, the others skipped with a word; a version
# named on the command line that is not found is an error. Wheels are built
# one after another (each is a full release build of the extension for its
# interpreter), in target/wheels so that `make develop`'s build stays as it
# is, and are written to dist/. Each is a per-version wheel, not abi3: see
# docs/performance.md.
#
# MANYLINUX=2014 builds manylinux2014 wheels (glibc 2.17 and later) instead
# of ones for this machine's glibc: libpcap and the extension are linked by
# zig against glibc 2.17's symbols (`python3 -m ziglang`: the ziglang
# package from PyPI, which `make wheels MANYLINUX=2014` installs).
set -euo pipefail
cd "$(dirname "$0")/.."
smoke=1
if [ "${1:-}" = "--no-smoke" ]; then smoke=0; shift; fi
required=1
if [ $# = 0 ]; then set -- 3.9 3.10 3.11 3.12 3.13; required=0; fi

# The interpreter for a version: pyenv's build first (a pyenv shim on PATH
# may point at another version), then PATH; it must say it is that version.
find_python() {
    local v=$1 c
    case $v in
        */* | python*) command -v "$v" && return 0; return 1 ;;
    esac
    for c in $(ls -d "$(pyenv root 2>/dev/null || echo "$HOME/.pyenv")"/versions/"$v".*/bin/python"$v" 2>/dev/null | sort -V -r) \
             "$(command -v "python$v" 2>/dev/null)"; do
        [ -x "$c" ] && "$c" -c "import sys; assert '%d.%d' % sys.version_info[:2] == '$v'" 2>/dev/null \
            && { echo "$c"; return 0; }
    done
    return 1
}

pythons=()
for v in "$@"; do
    if py=$(find_python "$v"); then
        pythons+=("$py")
    elif [ "$required" = 1 ]; then
        echo "wheels: no Python $v found" >&2
        exit 1
    else
        echo "wheels: no Python $v found, no wheel for it"
    fi
done
[ ${#pythons[@]} -gt 0 ] || { echo "wheels: no Python found" >&2; exit 1; }

# The lean libpcap the wheels bundle (scripts/build_libpcap.sh), and where
# the wheels are built.
case ${MANYLINUX:-} in
    "")
        prefix=$(bash scripts/build_libpcap.sh target/libpcap | tail -n 1)
        build=target/wheels
        zig=()
        ;;
    2014)
        mkdir -p target/zig
        printf '#!/bin/sh\nexec %s -m ziglang cc -target %s-linux-gnu.2.17 "$@"\n' \
            "$(command -v python3)" "$(uname -m)" > target/zig/cc
        chmod +x target/zig/cc
        prefix=$(CC=$PWD/target/zig/cc bash scripts/build_libpcap.sh target/libpcap-manylinux2014 | tail -n 1)
        build=target/wheels-manylinux2014
        zig=(--zig --compatibility manylinux2014)
        ;;
    *)
        echo "wheels: MANYLINUX must be empty or 2014, not $MANYLINUX" >&2
        exit 1
        ;;
esac

mkdir -p dist
built=()
for py in "${pythons[@]}"; do
    tag=$("$py" -c 'import sys; print("cp%d%d" % sys.version_info[:2])')
    rm -f dist/pyopenbsd-*-"$tag"-"$tag"-*.whl
    start=$SECONDS
    # maturin's repair step patches the extension in target/wheels/maturin/,
    # a hard link to cargo's own artifact: a second build for the same Python,
    # which cargo finds fresh, would start from the patched file (and fail to
    # find the renamed libpcap). Dropping both makes cargo link it afresh.
    rm -rf "$build/maturin" "$build/release/deps/lib_native.so"
    # LIBPCAP_LIBDIR: the pcap crate links the lean libpcap (and reads its
    # version there); LD_LIBRARY_PATH: the repair step finds that one to
    # bundle, not the system's (both are libpcap.so.0.8).
    LIBPCAP_LIBDIR="$prefix/lib" LD_LIBRARY_PATH="$prefix/lib${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}" \
        maturin build --release --strip --auditwheel repair ${zig[@]+"${zig[@]}"} -i "$py" --target-dir "$build" -o dist -q
    wheel=$(ls dist/pyopenbsd-*-"$tag"-"$tag"-*.whl)
    echo "wheels: $(basename "$wheel") ($(du -k "$wheel" | cut -f1) KiB, built in $((SECONDS - start)) s)"
    if [ "$smoke" = 1 ]; then
        PYTHON="$py" bash scripts/wheel_smoke.sh
    fi
    built+=("$wheel")
done
printf 'wheels: %s\n' "${built[@]}"
