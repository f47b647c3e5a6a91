#!/usr/bin/env bash
# Installs the wheel built for $PYTHON (dist/pyopenbsd-*-cpXY-cpXY-*.whl)
# into a fresh virtualenv and checks it works there on its own: the
# extension loads the libpcap bundled inside the wheel (the lean one, which
# needs only the C library) and nothing else from the wheel, reads the
# sample capture decoded, writes a dump identical to it, and pdump runs.
#
# As root, all of it runs in a private mount namespace in which the machine
# has no Rust toolchain (~/.cargo, ~/.rustup), no libpcap headers and no
# system libpcap: what a user without them gets. pip installs from the wheel
# file alone (--no-index), so nothing can be built or fetched.
set -euo pipefail
cd "$(dirname "$0")/.."
PYTHON=${PYTHON:-python3}
PYTHON=$(command -v "$PYTHON")

if [ -z "${WHEEL_SMOKE_HIDDEN:-}" ] && [ "$(id -u)" = 0 ] && unshare --mount true 2>/dev/null; then
    exec unshare --mount --propagation private env WHEEL_SMOKE_HIDDEN=1 PYTHON="$PYTHON" bash "$0" "$@"
fi
if [ -n "${WHEEL_SMOKE_HIDDEN:-}" ]; then
    for d in "$HOME/.cargo" "$HOME/.rustup" /usr/include/pcap; do
        [ -d "$d" ] && mount -t tmpfs none "$d"
    done
    for f in /usr/include/pcap.h /usr/lib/*-linux-gnu/libpcap.so* /lib/*-linux-gnu/libpcap.so*; do
        [ -e "$f" ] && [ ! -L "$f" ] && mount --bind /dev/null "$f"
    done
    hidden=1
else
    echo "wheel smoke test: not root (or no mount namespace), so Rust, libpcap headers and the system libpcap stay visible"
    hidden=0
fi

tag=$("$PYTHON" -c 'import sys; print("cp%d%d" % sys.version_info[:2])')
wheel=$(ls -t dist/pyopenbsd-*-"$tag"-"$tag"-*.whl | head -n 1)
wheel=$(cd "$(dirname "$wheel")" && pwd)/$(basename "$wheel")
venv=$(mktemp -d)/venv
trap 'rm -rf "$(dirname "$venv")"' EXIT
"$PYTHON" -m venv "$venv"
"$venv/bin/pip" install -q --no-index --disable-pip-version-check "$wheel"
cd "$(dirname "$venv")"   # away from the source tree: import the installed copy
HIDDEN=$hidden WHEEL=$wheel "$venv/bin/python" - <<'PY'
import ctypes, glob, os, shutil, subprocess, sys, tempfile, zipfile
import openbsd, openbsd._native as native
from openbsd import pcap, packet
from openbsd.pdump import SAMPLE
here = os.path.dirname(openbsd.__file__)
assert "site-packages" in here, here
if os.environ["HIDDEN"] == "1":     # the machine looks like a user's without a toolchain
    assert shutil.which("cargo") is None and shutil.which("rustc") is None
    assert not os.path.exists("/usr/include/pcap/pcap.h")
    try:
        ctypes.CDLL("libpcap.so.0.8")
    except OSError:
        pass
    else:
        raise AssertionError("the system libpcap is still loadable")
# The wheel bundles one library, libpcap, which needs only the C library;
# the extension loads it from the wheel's own folder.
libs = sorted(n for n in zipfile.ZipFile(os.environ["WHEEL"]).namelist() if n.startswith("pyopenbsd.libs/"))
assert len(libs) == 1 and os.path.basename(libs[0]).startswith("libpcap-"), libs
ldd = subprocess.run(["ldd", native.__file__], capture_output=True, text=True, check=True).stdout
line = next(l for l in ldd.splitlines() if "libpcap" in l)
assert "pyopenbsd.libs" in line, line
bundled = line.split("=>")[1].split("(")[0].strip()
needed = subprocess.run(["ldd", bundled], capture_output=True, text=True, check=True).stdout
names = sorted(l.split()[0].split("/")[-1] for l in needed.splitlines())
assert [n for n in names if not n.startswith(("linux-vdso", "ld-linux"))] == ["libc.so.6"], needed
# It works: the sample decoded, and written back byte for byte.
f = pcap.Offline(SAMPLE)
pkts = []
f.loop(0, lambda p, ts, n: pkts.append((p, ts, n)), interpret=1)
assert len(pkts) == 14, len(pkts)
assert repr(pkts[4][0]).startswith("[Eth: 00:09:6b:e0:ca:ce->00:02:b3:41:aa:c3] [IP: 192.168.0.9->192.168.0.1] [TCP: 8012->22]"), repr(pkts[4][0])
out = os.path.join(tempfile.mkdtemp(), "out.pcap")
with pcap.Dumper(pcap.Dead(pcap.DLT_EN10MB, 65535), out) as d:
    for p, ts, n in pkts:
        d(p, ts, n)
assert open(out, "rb").read() == open(SAMPLE, "rb").read()
print("wheel smoke test: ok on Python %d.%d (%s, %s)" % (sys.version_info[:2] + (os.path.basename(os.environ["WHEEL"]), bundled)))
PY
out=$(TZ=UTC "$venv/bin/pdump" -c 3 2>/dev/null)
first="11:33:20.012345 [Eth: 00:09:6b:e0:ca:ce->ff:ff:ff:ff:ff:ff] [ARP_REQUEST:  00:09:6b:e0:ca:ce->00:00:00:00:00:00]"
if [ "$(printf '%s\n' "$out" | wc -l)" != 3 ] || [ "$(printf '%s\n' "$out" | head -n 1)" != "$first" ]; then
    printf 'pdump -c 3 printed:\n%s\n' "$out" >&2
    exit 1
fi
echo "pdump entry point: ok (3 packets)"
