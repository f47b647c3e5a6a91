"""The type stubs (python/openbsd/pcap.pyi, packet.pyi) under `mypy --strict`:
a typed legacy-style script type-checks (and runs), and scripts with a type
mistake are rejected at the right line, so the check can fail."""

import os
import datetime
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
                        "[IP: 0.0.0.0->192.168.0.1] [TCP: 0->22] 2 "
                        + datetime.datetime.fromtimestamp(1100000000).strftime("%b %d %H:%M:%S") + "\n")


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
    # The modern options (issue 18).
    ("precision_typo", 'pcap.Live("lo", precision="nanos")', "arg-type"),
    ("direction_typo", 'pcap.Live("lo").setdirection("input")', "arg-type"),
    ("format_typo", 'pcap.Dumper(pcap.Dead(1), "o", format="ng")', "arg-type"),
    ("flags_not_bool", 'up: bool = pcap.interfaces()[0].flags', "assignment"),
    ("aiter_not_sync", 'for rec in pcap.Live("lo").aiter(): pass', "attr-defined"),
]


def mypy_each(mypy, tmp_path, header, cases):
    """Writes each case's lines after `header` to a script of its own, runs
    mypy on them all at once and returns {script name: [(line, kind,
    message)]} for every line mypy printed; asserts mypy failed."""
    paths = []
    for name, lines, _ in cases:
        path = tmp_path / f"{name}.py"
        path.write_text(header + lines + "\n")
        paths.append(path)
    r = mypy(*paths)
    assert r.returncode == 1, r.stdout + r.stderr
    found = {}
    for out in r.stdout.splitlines():
        path, lineno, kind, message = out.split(":", 3)
        found.setdefault(os.path.basename(path), []).append((int(lineno), kind.strip(), message.strip()))
    return found


def test_wrong_scripts_are_rejected(mypy, tmp_path):
    found = mypy_each(mypy, tmp_path, HEADER, WRONG)
    errors = {name: [(n, kind, msg.rsplit("  [", 1)[-1]) for n, kind, msg in lines] for name, lines in found.items()}
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
        'pcap.Live("lo", precision="nano")',
        'pcap.Live("lo").setdirection("in")',
        'pcap.Dumper(pcap.Dead(1), "o", format="pcapng")',
        'up: bool = "up" in pcap.interfaces()[0].flags',
        'async def f() -> None:\n    async for rec in pcap.Live("lo").aiter(): pass',
    ]
    assert len(right) == len(WRONG)
    path = tmp_path / "right.py"
    path.write_text(HEADER + "\n".join(right) + "\n")
    r = mypy(path)
    assert (r.returncode, r.stdout) == (0, "")


# `interpret=` decides what a read hands out: the overloads in pcap.pyi tie
# a callback for `bytes` to interpret omitted/0/False/None and a callback for
# `Packet` to interpret=1/True; `next()` and iteration follow. Each script
# below makes the mix-up once; mypy must name it, exactly, at that line.
INTERPRET_HEADER = HEADER + """\
def raw(data: bytes, tstamp: Tuple[int, int], length: int) -> None: ...
def decoded(packet: Packet, tstamp: Tuple[int, int], length: int) -> None: ...
feed = pcap.Offline("x")
"""

_RAW_CB = '"Callable[[bytes, tuple[int, int], int], None]"'
_DECODED_CB = '"Callable[[Packet, tuple[int, int], int], None]"'


def _no_variant(method, callback, interpret):
    return (f'No overload variant of "{method}" of "Feed" matches argument types '
            f'"int", {callback}, "{interpret}"  [call-overload]')


def _needs_either(method, callback):
    return (f'Argument 2 to "{method}" of "Feed" has incompatible type {callback}; '
            'expected "Callable[[bytes | Packet, tuple[int, int], int], object]"  [arg-type]')


_BYTES_GETITEM = 'No overload variant of "__getitem__" of "bytes" matches argument type "str"  [call-overload]'

# (name, the one wrong line, mypy's exact error for it)
WRONG_INTERPRET = [
    ("bytes_cb_interpret_1", "feed.loop(0, raw, interpret=1)", _no_variant("loop", _RAW_CB, "int")),
    ("bytes_cb_dispatch_1", "feed.dispatch(-1, raw, 1)", _no_variant("dispatch", _RAW_CB, "int")),
    # True and False are also bools, so mypy measures the callback against
    # the run-time-flag form (which takes either) and says so.
    ("bytes_cb_interpret_true", "feed.loop(0, raw, interpret=True)", _needs_either("loop", _RAW_CB)),
    ("packet_cb_no_interpret", "feed.loop(0, decoded)",
     'Argument 2 to "loop" of "Feed" has incompatible type ' + _DECODED_CB
     + '; expected "Callable[[bytes, tuple[int, int], int], object]"  [arg-type]'),
    ("packet_cb_interpret_0", "feed.dispatch(0, decoded, interpret=0)", _no_variant("dispatch", _DECODED_CB, "int")),
    ("packet_cb_interpret_false", "feed.loop(0, decoded, False)", _needs_either("loop", _DECODED_CB)),
    # An int only known at run time could be either: write bool(n).
    ("packet_cb_int_variable", "n = 1\nfeed.loop(0, decoded, n)", _no_variant("loop", _DECODED_CB, "int")),
    ("lambda_decodes_bytes", 'feed.loop(0, lambda p, ts, n: print(p["ip"].src))', _BYTES_GETITEM),
    ("next_decoded_as_bytes", "rec = feed.next(interpret=1)\nif rec:\n    print(rec[0].hex())",
     '"Packet" has no attribute "hex"  [attr-defined]'),
    ("next_raw_as_packet", 'rec = feed.next()\nif rec:\n    print(rec[0]["ip"])', _BYTES_GETITEM),
    ("iteration_as_packet", 'for data, ts, length in feed:\n    print(data["ip"])', _BYTES_GETITEM),
]


def test_interpret_mixups_are_rejected(mypy, tmp_path):
    found = mypy_each(mypy, tmp_path, INTERPRET_HEADER, WRONG_INTERPRET)
    errors = {name: [(n, msg) for n, kind, msg in lines if kind == "error"] for name, lines in found.items()}
    last = INTERPRET_HEADER.count("\n")
    assert errors == {
        f"{name}.py": [(last + lines.count("\n") + 1, message)] for name, lines, message in WRONG_INTERPRET}


def test_interpret_right_callbacks_pass(mypy, tmp_path):
    """The same calls, each with the callback its `interpret` hands packets
    to; the run-time flag takes a callback for either; a Dumper takes both."""
    right = [
        "feed.loop(0, raw)", "feed.loop(0, raw, interpret=0)", "feed.dispatch(-1, raw, None)",
        "feed.loop(0, raw, False)",
        "feed.loop(0, decoded, interpret=1)", "feed.dispatch(-1, decoded, 1)", "feed.loop(0, decoded, True)",
        'feed.loop(0, lambda p, ts, n: print(p["ip"].src), interpret=1)',
        "feed.loop(0, lambda p, ts, n: print(p.hex()))",
        "def either(p: Union[bytes, Packet], ts: Tuple[int, int], n: int) -> None: ...",
        "flag = bool(len(sys.argv) > 1)",
        "feed.loop(0, either, interpret=flag)", "feed.loop(0, either, interpret=1)", "feed.loop(0, either)",
        'with pcap.Dumper(feed, "o") as dump:\n    feed.loop(0, dump)\n    feed.loop(0, dump, 1)',
        'rec = feed.next(interpret=True)\nif rec:\n    print(rec[0]["ip"].src)',
        "raw_rec = feed.next(0)\nif raw_rec:\n    print(raw_rec[0].hex())",
        "either_rec = feed.next(flag)\nif either_rec:\n    print(len(either_rec[0]))",
        "for data, ts, length in feed:\n    print(data.hex())",
    ]
    path = tmp_path / "right.py"
    path.write_text("import sys\nfrom typing import Union\n" + INTERPRET_HEADER + "\n".join(right) + "\n")
    r = mypy(path)
    assert (r.returncode, r.stdout) == (0, "")


def test_parts_module_type_checks(mypy):
    # A pure-Python module (no stub), checked as it is (openbsd/dask.py too,
    # by hand: analysing dask and pandas takes over a minute).
    r = mypy(REPO / "python" / "openbsd" / "parts.py")
    assert (r.returncode, r.stdout, r.stderr) == (0, "", "")
