"""pdump's modern options (issue 18): --nano, --pcapng, and tcpdump's capture
options (--immediate-mode, -B, -Q, -j, -I), checked against tcpdump and
tshark, live on a veth pair (test_live's `net` fixture)."""

import os
import re
import subprocess
import sys

import pytest

from openbsd import pcap
from pcaptools import SAMPLE, need, read_pcap
from test_files_modern import NANOS, nano_file, tshark_fields
from test_live import PY, net, sent, udp_of, watchdog  # noqa: F401  (fixtures)

ENV = dict(os.environ, TZ="UTC", PYTHONDONTWRITEBYTECODE="1")


def pdump(*args, **kw):
    kw.setdefault("timeout", 60)
    return subprocess.run([sys.executable, "-m", "openbsd", *map(str, args)],
                          capture_output=True, text=True, env=ENV, **kw)


def test_nano_prints_nine_digits_as_tcpdump_nano(tmp_path):
    need("tcpdump")
    path = nano_file(tmp_path / "n.pcap")
    r = pdump("--nano", "--epoch", "-r", path)
    assert r.returncode == 0, r.stderr
    ours = [line.split(" ", 1)[0] for line in r.stdout.splitlines()]
    theirs = subprocess.run(["tcpdump", "--nano", "-tt", "-n", "-r", str(path)],
                            capture_output=True, text=True, check=True).stdout
    stamps = [line.split(" ", 1)[0] for line in theirs.splitlines() if not line.startswith("\t")]
    assert ours == stamps and len(ours) == len(NANOS)
    assert all(re.fullmatch(r"\d+\.\d{9}", t) for t in ours)
    # Without --nano: microseconds, as tcpdump -tt.
    r = pdump("--epoch", "-r", path)
    assert [line.split(" ", 1)[0] for line in r.stdout.splitlines()][5] == "1700000005.123456"


def test_nano_write_copies_a_nano_file_byte_for_byte(tmp_path):
    path = nano_file(tmp_path / "n.pcap")
    out = tmp_path / "copy.pcap"
    r = pdump("--nano", "-r", path, "-w", out)
    assert r.returncode == 0, r.stderr
    assert out.read_bytes() == path.read_bytes()
    # Without --nano, -w writes microseconds, as tcpdump -w does.
    r = pdump("-r", path, "-w", out)
    assert read_pcap(out)[0]["nano"] is False


def test_pcapng_write(tmp_path):
    out = tmp_path / "out.pcapng"
    r = pdump("-r", SAMPLE, "-w", out, "--pcapng", "tcp")
    assert r.returncode == 0, r.stderr
    assert out.read_bytes()[:4] == b"\x0a\x0d\x0d\x0a"
    with pcap.Offline(SAMPLE) as f:
        f.filter("tcp")
        assert list(pcap.Offline(out)) == list(f)


@pytest.mark.parametrize("args, message", [
    (["-Q", "in"], "pdump: -Q: only when capturing on an interface (-i)\n"),
    (["--immediate-mode", "-B", "64", "-I"],
     "pdump: --immediate-mode, -B, -I: only when capturing on an interface (-i)\n"),
    (["-i", "lo", "-B", "0"], "pdump: -B BUFFER_SIZE must be between 1 and 2097151 (KiB)\n"),
    (["--pcapng"], "pdump: --pcapng: only with -w FILE\n"),
])
def test_usage_errors(args, message):
    r = pdump(*args)
    assert (r.returncode, r.stdout, r.stderr) == (2, "", message)


def test_bad_direction_is_argparse_s():
    r = pdump("-i", "lo", "-Q", "sideways")
    assert r.returncode == 2 and "invalid choice: 'sideways'" in r.stderr


@pytest.mark.skipif(not hasattr(os, "geteuid") or os.geteuid() != 0, reason="live capture needs root")
def test_live_capture_options_and_refusals(net, tmp_path):
    need("tshark")
    out = tmp_path / "live.pcapng"
    p = subprocess.Popen(
        [sys.executable, "-m", "openbsd", "-i", net.host, "--immediate-mode", "-B", "4096", "-Q", "in",
         "-j", "host", "--nano", "-c", "2", "-w", str(out), "--pcapng", "udp"],
        stderr=subprocess.PIPE, text=True, env=ENV)
    try:
        assert p.stderr.readline().startswith(f"listening on {net.host}, link-type 1")
        # One datagram in, one out: -Q in keeps the first only; -c 2 needs a second one in.
        subprocess.run([PY, "-c", "import socket; socket.socket(socket.AF_INET, socket.SOCK_DGRAM)"
                        f".sendto(b'out', ('{net.peer_ip}', 9))"], check=True, timeout=15)
        sent(net, [(net.port, b"in1"), (net.port, b"in2")])
        assert p.wait(timeout=15) == 0
    finally:
        if p.poll() is None:
            p.kill()
        p.wait()
    assert [udp_of(pkt)[3] for pkt, _, _ in pcap.Offline(out)] == [b"in1", b"in2"]
    rows = tshark_fields(out, "frame.time_epoch", "frame.interface_name")
    assert [r[1] for r in rows] == [net.host] * 2
    assert all(re.fullmatch(r"\d+\.\d{9}", r[0]) for r in rows)
    r = pdump("-i", net.host, "-I", "-c", "1")
    assert (r.returncode, r.stderr) == (1, f"pdump: {net.host}: rfmon=True refused: That device doesn't support monitor mode\n")
