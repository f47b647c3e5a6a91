#!/usr/bin/env bash
# Create the benchmark virtualenv at benches/.venv, install the peer readers
# (benches/requirements.txt) one by one, then install pyopenbsd from the repo
# root. Any single failure is reported and skipped: bench.py prints
# "not installed" for a reader that is missing. Always exits 0 unless the
# venv itself cannot be created.
#
#   bash benches/setup.sh            # create/refresh venv, install everything
#   SKIP_PYOPENBSD=1 bash benches/setup.sh   # peers only
#   PYTHON=python3.12 bash benches/setup.sh  # another interpreter
set -u

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
ROOT="$(cd "$HERE/.." && pwd)"
VENV="$HERE/.venv"
BUILD="$HERE/.build"
PY="${PYTHON:-python3}"
mkdir -p "$BUILD"

say() { printf '[bench setup] %s\n' "$*"; }

if [ ! -x "$VENV/bin/python" ]; then
    say "creating venv $VENV with $PY"
    "$PY" -m venv "$VENV" || { say "FAILED to create venv"; exit 1; }
fi
VPY="$VENV/bin/python"
PIP=("$VPY" -m pip --disable-pip-version-check --no-input)

if [ ! -f /usr/include/pcap/pcap.h ] && [ ! -f /usr/include/pcap.h ]; then
    say "WARNING: libpcap headers not found (apt-get install libpcap-dev);"
    say "         pypcap, pcapy-ng and the C floor need them"
fi

# import name of each requirement, to skip what is already there
import_name() {
    case "$1" in
        pypcap) echo pcap ;;
        pcapy-ng) echo pcapy ;;
        python-libpcap) echo pylibpcap ;;
        *) echo "$1" ;;
    esac
}

declare -a OK=() FAILED=()
while read -r pkg; do
    [ -z "$pkg" ] && continue
    mod="$(import_name "$pkg")"
    if "$VPY" -c "import $mod" >/dev/null 2>&1; then
        OK+=("$pkg"); continue
    fi
    say "installing $pkg"
    log="$BUILD/install-$pkg.log"
    if "${PIP[@]}" install "$pkg" >"$log" 2>&1 && "$VPY" -c "import $mod" >>"$log" 2>&1; then
        OK+=("$pkg")
    else
        say "FAILED to install $pkg (continuing without it); last lines of $log:"
        tail -n 15 "$log" | sed 's/^/    /'
        FAILED+=("$pkg")
    fi
done < <(sed -e 's/#.*//' -e 's/[[:space:]]*$//' -e '/^$/d' "$HERE/requirements.txt" | awk '{print $1}')

# pyopenbsd itself, from the repo root (maturin build via pip). Always
# rebuilt so the bench measures the current tree.
PYOPENBSD="skipped"
if [ -z "${SKIP_PYOPENBSD:-}" ]; then
    say "installing pyopenbsd from $ROOT (maturin release build, can take minutes)"
    log="$BUILD/install-pyopenbsd.log"
    # pip builds from a copy of the tree; a target directory of our own
    # keeps the compiled dependencies between runs (minutes saved per run).
    export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$BUILD/target}"
    if "${PIP[@]}" install --force-reinstall --no-deps "$ROOT" >"$log" 2>&1 \
        && (cd "$BUILD" && "$VPY" -c "import openbsd.pcap") >>"$log" 2>&1; then
        PYOPENBSD="ok"
    else
        PYOPENBSD="FAILED"
        say "FAILED to build/install pyopenbsd (bench rows will say not installed); last lines of $log:"
        tail -n 25 "$log" | sed 's/^/    /'
        # do not leave a stale build of an older tree behind
        "${PIP[@]}" uninstall -y pyopenbsd >/dev/null 2>&1 || true
    fi
fi

say "venv:      $VENV"
say "installed: ${OK[*]:-none}"
[ "${#FAILED[@]}" -gt 0 ] && say "FAILED:    ${FAILED[*]}"
say "pyopenbsd: $PYOPENBSD"
exit 0
