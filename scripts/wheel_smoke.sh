#!/usr/bin/env bash
# Installs the built wheel (dist/pyopenbsd-*.whl) into a fresh virtualenv
# and checks it works there on its own: the extension loads the libpcap
# bundled inside the wheel (not the system's), reads the sample capture,
# decodes a packet, writes a dump that tcpdump reads back, and pdump runs.
set -euo pipefail
cd "$(dirname "$0")/.."
PYTHON=${PYTHON:-python3}
wheel=$(ls -t dist/pyopenbsd-*.whl | head -n 1)
venv=$(mktemp -d)/venv
trap 'rm -rf "$(dirname "$venv")"' EXIT
"$PYTHON" -m venv "$venv"
"$venv/bin/pip" install -q "$wheel"
cd "$(dirname "$venv")"   # away from the source tree: import the installed copy
"$venv/bin/python" - <<'PY'
import os, subprocess, sys, tempfile
import openbsd, openbsd._native as native
from openbsd import pcap, packet
from openbsd.pdump import SAMPLE
here = os.path.dirname(openbsd.__file__)
assert "site-packages" in here, here
# The extension must resolve libpcap from the wheel's own libs folder.
ldd = subprocess.run(["ldd", native.__file__], capture_output=True, text=True).stdout
line = next(l for l in ldd.splitlines() if "libpcap" in l)
assert "pyopenbsd.libs" in line, line
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
print("wheel smoke test: ok (%s)" % line.split("=>")[1].split("(")[0].strip())
PY
"$venv/bin/pdump" -c 3 >/dev/null
echo "pdump entry point: ok"
