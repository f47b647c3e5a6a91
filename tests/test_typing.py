"""The type stubs (python/openbsd/pcap.pyi, packet.pyi) under `mypy --strict`:
a typed legacy-style script type-checks (and runs), and scripts with a type
mistake are rejected at the right line, so the check can fail."""

import os
import subprocess
import sys

import pytest

from pcaptools import REPO

# No importorskip: mypy is in the Makefile's venv, and a missing mypy must
# fail here rather than skip the check silently.

EXAMPLE = REPO / "tests" / "typing_example.py"


@pytest.fixture(scope="module")
def mypy(tmp_path_factory):
    cache = tmp_path_factory.mktemp("mypy-cache")

    def run(*paths):
        env = dict(os.environ, MYPYPATH=str(REPO / "python"))
        return subprocess.run(
            [sys.executable, "-m", "mypy", "--strict", "--cache-dir", str(cache),
             "--no-error-summary", "--hide-error-context", "--no-pretty", *map(str, paths)],
            cwd=REPO, env=env, capture_output=True, text=True, timeout=300)
    return run


def test_example_type_checks(mypy):
    r = mypy(EXAMPLE)
    assert (r.returncode, r.stdout, r.stderr) == (0, "", "")


def test_example_runs():
    r = subprocess.run([sys.executable, str(EXAMPLE)], capture_output=True, text=True, timeout=60)
    assert (r.returncode, r.stderr) == (0, "")
    assert r.stdout == ("9 [('192.168.0.1', 5), ('192.168.0.9', 4)] [22, 8012, 22, 8012, 8012] "
                        "64 12 5 100 [Eth: 00:00:00:00:00:00->00:00:00:00:00:00] "
                        "[IP: 0.0.0.0->192.168.0.1] [TCP: 0->22] 2\n")


HEADER = """\
from typing import Tuple
from openbsd import pcap
from openbsd.packet import Packet, Ethernet
"""

# (name, the one wrong line, mypy's error code for it)
WRONG = [
    ("str_for_int", 'pcap.Dead("ethernet")', "arg-type"),
    ("snaplen_str", 'pcap.Live("lo", snaplen="96")', "arg-type"),
    ("misspelt_field", 'print(Packet(Ethernet, b"")["ip"].source)', "attr-defined"),
    ("field_type", 'port: str = Packet(Ethernet, b"")["tcp"].dstPort', "assignment"),
    ("callback_arity", 'pcap.Offline("x").loop(0, len)', "arg-type"),          # len takes one argument
    ("tstamp_not_tuple", 'pcap.Dumper(pcap.Dead(1), "o")(b"", 1100000000, 60)', "arg-type"),
    ("filter_int", 'pcap.Offline("x").filter(22)', "arg-type"),
    ("next_may_be_none", 'data, ts, n = pcap.Offline("x").next()', "misc"),
    ("ttl_str", 'Packet(Ethernet, b"")["ip"].ttl = "64"', "assignment"),
]


def test_wrong_scripts_are_rejected(mypy, tmp_path):
    paths = []
    for name, line, _ in WRONG:
        path = tmp_path / f"{name}.py"
        path.write_text(HEADER + line + "\n")
        paths.append(path)
    r = mypy(*paths)
    assert r.returncode == 1, r.stdout + r.stderr
    errors = {}
    for out in r.stdout.splitlines():
        path, lineno, kind, _ = out.split(":", 3)
        errors.setdefault(os.path.basename(path), []).append((int(lineno), kind.strip(), out.rsplit("  [", 1)[-1]))
    wrong_line = HEADER.count("\n") + 1
    assert errors == {f"{name}.py": [(wrong_line, "error", code + "]")] for name, _, code in WRONG}


def test_right_versions_of_the_wrong_scripts_pass(mypy, tmp_path):
    """The same lines, corrected: only the mistake made them fail."""
    right = [
        'pcap.Dead(pcap.DLT_EN10MB)',
        'pcap.Live("lo", snaplen=96)',
        'print(Packet(Ethernet, b"")["ip"].src)',
        'port: int = Packet(Ethernet, b"")["tcp"].dstPort',
        'pcap.Offline("x").loop(0, lambda packet, tstamp, length: None)',
        'pcap.Dumper(pcap.Dead(1), "o")(b"", (1100000000, 0), 60)',
        'pcap.Offline("x").filter("tcp port 22")',
        'rec = pcap.Offline("x").next()\nif rec is not None:\n    data, ts, n = rec',
        'Packet(Ethernet, b"")["ip"].ttl = 64',
    ]
    assert len(right) == len(WRONG)
    path = tmp_path / "right.py"
    path.write_text(HEADER + "\n".join(right) + "\n")
    r = mypy(path)
    assert (r.returncode, r.stdout) == (0, "")
