#!/usr/bin/env bash
# Checks the source distribution (dist/pyopenbsd-*.tar.gz, from `make sdist`):
#  1. it holds everything a build needs: every file git tracks under src/ and
#     python/, Cargo.toml, Cargo.lock, pyproject.toml, README.md;
#  2. `pip install` of it in a fresh virtualenv builds the extension from
#     source (Rust toolchain and libpcap headers needed, as for any sdist);
#  3. the installed copy works: it reads the sample capture, decodes a packet,
#     writes a dump identical to the sample, and the pdump command runs.
set -euo pipefail
cd "$(dirname "$0")/.."
PYTHON=${PYTHON:-python3}
sdist=$(ls -t dist/pyopenbsd-*.tar.gz | head -n 1)
top=$(basename "$sdist" .tar.gz)

# 1. contents
listing=$(mktemp)
tmp=$(mktemp -d)
trap 'rm -rf "$tmp" "$listing"' EXIT
tar tzf "$sdist" | sed "s|^$top/||" | sort >"$listing"
missing=0
for f in Cargo.toml Cargo.lock pyproject.toml README.md PKG-INFO; do
  grep -qxF "$f" "$listing" || { echo "sdist lacks $f" >&2; missing=1; }
done
if git rev-parse --is-inside-work-tree >/dev/null 2>&1; then
  while IFS= read -r f; do
    grep -qxF "$f" "$listing" || { echo "sdist lacks $f (tracked by git)" >&2; missing=1; }
  done < <(git ls-files src python)
fi
[ "$missing" = 0 ]
echo "sdist contents: ok ($(wc -l <"$listing") files)"

# 2. build from source in a fresh virtualenv
venv=$tmp/venv
"$PYTHON" -m venv "$venv"
"$venv/bin/pip" install -q --upgrade pip
start=$(date +%s)
# The extension is compiled from the sdist's own files; the crates it
# depends on (Arrow and Parquet take minutes to compile) are taken from the
# repository's target directory when `make test` compiled them already, as
# a user's cargo cache would. SDIST_CLEAN=1 builds everything afresh.
if [ -z "${SDIST_CLEAN:-}" ]; then
    export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$(cd "$(dirname "$0")/.." && pwd)/target}"
fi
"$venv/bin/pip" install -q "$sdist"
echo "sdist build and install: $(( $(date +%s) - start )) s"

# 3. use it, away from the source tree
cd "$tmp"
"$venv/bin/python" - <<'PY'
import os, subprocess, tempfile
import openbsd, openbsd._native as native
from openbsd import pcap
from openbsd.pdump import SAMPLE
here = os.path.dirname(openbsd.__file__)
assert "site-packages" in here, here
# Built from source: links the system's libpcap (nothing bundled).
ldd = subprocess.run(["ldd", native.__file__], capture_output=True, text=True).stdout
line = next(l for l in ldd.splitlines() if "libpcap" in l)
assert "pyopenbsd.libs" not in line and "not found" not in line, line
pkts = []
with pcap.Offline(SAMPLE) as f:
    assert f.loop(0, lambda p, ts, n: pkts.append((p, ts, n)), interpret=1) == 14
assert repr(pkts[4][0]) == "[Eth: 00:09:6b:e0:ca:ce->00:02:b3:41:aa:c3] [IP: 192.168.0.9->192.168.0.1] [TCP: 8012->22]", repr(pkts[4][0])
assert pkts[4][0]["ip"].src == "192.168.0.9"
out = os.path.join(tempfile.mkdtemp(), "out.pcap")
with pcap.Dumper(pcap.Dead(pcap.DLT_EN10MB, 65535), out) as d:
    for p, ts, n in pkts:
        d(p, ts, n)
assert open(out, "rb").read() == open(SAMPLE, "rb").read()
print("sdist smoke test: ok (%s)" % line.split("=>")[1].split("(")[0].strip())
PY
lines=$("$venv/bin/pdump" -c 3 2>/dev/null | wc -l)
[ "$lines" = 3 ] || { echo "pdump -c 3 printed $lines lines" >&2; exit 1; }
echo "pdump entry point: ok"
