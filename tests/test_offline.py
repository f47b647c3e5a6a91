"""Offline and Dead: every packet, length and timestamp checked against
tcpdump, tshark and a hand-written pcap parser; the feed methods' contract."""

import os
import pathlib
import re
import shutil
import struct
import subprocess
import sys

import pytest

import pcaptools
from openbsd import pcap
from pcaptools import OPENBSD, SAMPLE


def records(path):
    with pcap.Offline(path) as f:
        return list(f)


# --- packets, lengths and timestamps against the oracles --------------------


def check_against_oracles(path, tshark_table):
    got = records(path)
    hdr, hand = pcaptools.read_pcap(path)
    # Hand-written parser: every byte, timestamp and wire length.
    assert got == hand
    # tcpdump -tt -xx: count, (sec, usec) and every captured byte.
    dump = pcaptools.tcpdump_records(path)
    if dump is not None:
        assert [(p, ts) for p, ts, _ in got] == dump
    # tshark: (sec, usec), frame.len and frame.cap_len.
    shark = tshark_table.get(path)
    if shark is not None:
        assert [(ts, n, len(p)) for p, ts, n in got] == shark
    assert dump is not None or shark is not None or path.name == "pf.old", \
        f"no external tool could read {path}"
    return got


@pytest.mark.parametrize("path", pcaptools.openbsd_params())
def test_openbsd_capture_matches_tools(path, tshark_table):
    got = check_against_oracles(path, tshark_table)
    assert got, "every capture holds at least one packet"
    hdr, _ = pcaptools.read_pcap(path)
    with pcap.Offline(path) as f:
        assert f.datalink() == hdr["linktype"]
        assert f.snapshot() == hdr["snaplen"]
        assert f.version() == (2, 4)
        assert f.is_swapped() is (hdr["endian"] != pcaptools.native_endian())


def test_openbsd_counts(captures):
    """Packet counts as the README of the captures and tcpdump give them."""
    counts = {p.name: len(records(p)) for p in [captures / n for n in ("ethernet", "loop", "pf", "pf.old", "tdump")]}
    assert counts == {"ethernet": 12, "loop": 8, "pf": 6, "pf.old": 12, "tdump": 10}
    for p in (captures / "packets").iterdir():
        expected = 2 if p.name == "icmp6_parameter_problem" else 1
        assert len(records(p)) == expected, p


def test_sample_matches_tools(sample, tshark_table):
    got = check_against_oracles(sample, tshark_table)
    assert len(got) == 14
    linktype, snap = pcaptools.tcpdump_header(sample)
    assert linktype == "EN10MB"
    with pcap.Offline(sample) as f:
        assert f.datalink() == pcap.DLT_EN10MB
        assert f.snapshot() == snap == 65535


def test_generated_capture_matches_tools(mixed, tshark_table):
    path, written = mixed
    got = check_against_oracles(path, tshark_table)
    assert got == written
    assert len(got) == 5000
    truncated = [r for r in got if len(r[0]) < r[2]]
    assert len(truncated) > 300
    assert all(len(p) == 256 for p, _, _ in truncated)
    assert all(len(p) == n for p, _, n in got if n <= 256)


def test_pcapng_reads_the_same(mixed, sample, captures, tmp_path):
    inputs = [sample, mixed[0]] + pcaptools.openbsd_files()
    converted = 0
    for i, src in enumerate(inputs):
        dst = pcaptools.editcap(src, tmp_path / f"{i}.pcapng", "pcapng")
        if dst is None:
            assert src.name == "pf.old"  # Wireshark cannot read link type 17
            continue
        converted += 1
        assert dst.read_bytes()[:4] == b"\x0a\x0d\x0d\x0a"
        assert records(dst) == records(src), src
        with pcap.Offline(dst) as f, pcap.Offline(src) as g:
            # Wireshark writes pcap's link type 13 (OpenBSD enc) as pcapng's LINKTYPE_ENC
            assert f.datalink() == (pcap.DLT_ENC if g.datalink() == 13 else g.datalink())
            assert f.version() == (1, 0)  # pcapng's own version number
            assert pcap.isPCapFile(dst)
    assert converted >= 3


def test_big_endian_file(mixed, tmp_path):
    path, recs = mixed
    swap = ">" if pcaptools.native_endian() == "<" else "<"
    other = pcaptools.write_pcap(tmp_path / "swapped.pcap", recs, snaplen=256, endian=swap)
    assert other.read_bytes()[:4] == (bytes.fromhex("a1b2c3d4") if swap == ">" else bytes.fromhex("d4c3b2a1"))
    with pcap.Offline(other) as f:
        assert f.is_swapped() is True
        assert f.version() == (2, 4)
        assert f.snapshot() == 256
        assert list(f) == recs
    with pcap.Offline(path) as f:
        assert f.is_swapped() is False
    # tcpdump agrees on the swapped file too
    assert pcaptools.tcpdump_records(other) == [(p, ts) for p, ts, _ in recs]


def test_nanosecond_file_gives_microseconds(tmp_path):
    path = tmp_path / "ns.pcap"
    data = pcaptools.pcap_bytes([], nano=True)[:24]
    import struct
    for i, nsec in enumerate([0, 999, 1000, 123456789, 999999999]):
        data += struct.pack("<IIII", 1000 + i, nsec, 3, 70) + b"abc"
    path.write_bytes(data)
    got = records(path)
    assert [ts for _, ts, _ in got] == [(1000, 0), (1001, 0), (1002, 1), (1003, 123456), (1004, 999999)]
    assert [(p, n) for p, _, n in got] == [(b"abc", 70)] * 5
    assert [ts for _, ts in pcaptools.tcpdump_records(path)] == [ts for _, ts, _ in got]


def test_records_with_caplen_zero(tmp_path):
    recs = [(b"", (5, 6), 0), (b"", (7, 8), 1500), (b"x", (9, 10), 1)]
    path = pcaptools.write_pcap(tmp_path / "zero.pcap", recs)
    assert records(path) == recs


# --- Offline extras -----------------------------------------------------------


def test_offline_extras(sample):
    f = pcap.Offline(str(sample))
    assert f.lookupnet() == (0, 0)
    assert f.version() == (2, 4)
    assert f.is_swapped() is False
    fd = f.fileno()
    assert int(f) == fd
    assert os.path.samestat(os.fstat(fd), os.stat(sample))
    assert "sample.pcap" in repr(f)
    f.close()
    assert f.closed
    try:
        st = os.fstat(fd)
    except OSError:
        pass  # closed
    else:  # the number may have been reused since, but not for our file
        assert not os.path.samestat(st, os.stat(sample)), "close() left the file open"


def test_ftell_advances_by_record(sample):
    hdr, recs = pcaptools.read_pcap(sample)
    with pcap.Offline(sample) as f:
        assert f.ftell() == 24
        off = 24
        for pkt, _, _ in recs:
            assert f.next()[0] == pkt
            off += 16 + len(pkt)
            assert f.ftell() == off
        assert f.next() is None
        assert f.ftell() == os.path.getsize(sample)


@pytest.mark.parametrize("linktype", [1, 189, 220, 239])
@pytest.mark.parametrize("before", [0, 1])
@pytest.mark.parametrize("damage", ["caplen", "cut"])
def test_ftell_after_a_bad_record_is_its_offset(tmp_path, linktype, before, damage):
    """After a record that cannot be read (a capture length past the
    maximum, or a record cut short), ftell() is that record's offset, and the
    next read tries it again, whichever reader reads the file: the fast
    reader (Ethernet) or libpcap (USB_LINUX 189, USB_LINUX_MMAPPED 220 and
    NFLOG 239, whose headers libpcap rewrites). Before, libpcap's reader
    stood 16 bytes further and read on from there, inventing empty packets.
    A file cut short that grows is then read on where it grew."""
    good = bytes(64) + b"x" * 12             # room for a usbmon header, and data
    recs = [(good, (1, 0), len(good))] * (before + 1)
    data = pcaptools.pcap_bytes(recs, linktype=linktype)
    at = 24 + before * (16 + len(good))      # where the bad record starts
    if damage == "caplen":
        path = tmp_path / "bad.pcap"
        path.write_bytes(data[:at] + struct.pack("<IIII", 2, 0, 0x3C0000, 0x3C0000) + bytes(40))
        want = "invalid packet capture length 3932160"
    else:
        path = tmp_path / "cut.pcap"
        path.write_bytes(data[:at + 16 + 10])
        want = "truncated dump file; tried to read 76 captured bytes, only got 10"
    with pcap.Offline(path) as f:
        assert [f.next()[2] for _ in range(before)] == [76] * before
        for _ in range(2):
            with pytest.raises(pcap.PcapError) as e:
                f.next()
            assert str(e.value).startswith(f"{path}: {want}")
            assert f.ftell() == at
        if damage == "cut":
            with open(path, "ab") as out:
                out.write(data[at + 16 + 10:])
            assert f.next() == (good, (1, 0), 76)
            assert f.ftell() == len(data) and f.next() is None


@pytest.mark.parametrize("kind", ["str", "bytes", "path"])
def test_filename_as_given(sample, kind):
    name = {"str": str(sample), "bytes": os.fsencode(sample), "path": pathlib.Path(sample)}[kind]
    with pcap.Offline(name) as f:
        assert f.filename is name
        assert len(list(f)) == 14
    assert pcap.isPCapFile(name)


def test_relative_filename(sample, monkeypatch):
    monkeypatch.chdir(sample.parent)
    with pcap.Offline("sample.pcap") as f:
        assert f.filename == "sample.pcap"
        assert len(list(f)) == 14


def test_feed_class_hierarchy():
    assert issubclass(pcap.Offline, pcap.Feed)
    assert issubclass(pcap.Dead, pcap.Feed)
    assert issubclass(pcap.Live, pcap.Feed)
    assert issubclass(pcap.PcapError, OSError)
    assert pcap.PcapError.__module__ == "openbsd.pcap"


def test_dead_feed():
    d = pcap.Dead(pcap.DLT_EN10MB, 128)
    assert d.datalink() == pcap.DLT_EN10MB
    assert d.snapshot() == 128
    assert pcap.Dead(pcap.DLT_RAW).snapshot() == 1500
    assert pcap.Dead(linktype=pcap.DLT_PFLOG, snaplen=200).datalink() == pcap.DLT_PFLOG
    with pytest.raises(ValueError) as e:
        pcap.Dead(pcap.DLT_EN10MB, 0)
    assert str(e.value) == "snaplen must be between 1 and 2147483647, got 0"
    with pytest.raises(pcap.PcapError, match=r"^Dead\(linktype=1\): Packets aren't available from a pcap_open_dead pcap_t$"):
        d.dispatch(1, print)
    with pytest.raises(pcap.PcapError, match="Packets aren't available"):
        d.next()
    with pytest.raises(pcap.PcapError, match="Packets aren't available"):
        d.loop(-1, print)
    d.close()
    with pytest.raises(pcap.PcapError, match=r"^feed is closed \(not connected\)$"):
        d.datalink()


def test_inject_cannot_send(sample):
    with pcap.Offline(sample) as f:
        with pytest.raises(pcap.PcapError) as e:
            f.inject(b"\x00" * 60)
        assert str(e.value) == f"{sample}: cannot inject packets: an Offline feed reads a file and cannot send"
    with pytest.raises(pcap.PcapError, match=r"^Dead\(linktype=1\): cannot inject packets: a Dead feed has no interface"):
        pcap.Dead(pcap.DLT_EN10MB).inject(b"\x00" * 60)


def test_stats_not_available_for_files(sample):
    with pcap.Offline(sample) as f:
        with pytest.raises(pcap.PcapError, match=re.escape(f"{sample}: Statistics aren't available from savefiles")):
            f.stats()


def test_interpret_hands_out_packets(mixed):
    from openbsd import packet
    path, recs = mixed
    f = pcap.Offline(path)
    first = f.next(1)
    assert isinstance(first[0], packet.Packet) and bytes(first[0]) == recs[0][0]
    assert first[1:] == recs[0][1:]
    got = []
    assert f.dispatch(10, lambda *a: got.append(a), 1) == 10
    assert f.loop(0, lambda *a: got.append(a), interpret=True) == len(recs) - 11
    assert all(isinstance(p, packet.Packet) for p, _, _ in got)
    assert [(bytes(p), t, n) for p, t, n in got] == recs[1:]


def dlt_header_values():
    """The DLT_* macros of <pcap/dlt.h> as this platform's preprocessor sees them."""
    if not os.path.exists("/usr/include/pcap/dlt.h") or shutil.which("cpp") is None:
        pytest.skip("no /usr/include/pcap/dlt.h or cpp to read it")
    out = subprocess.run(["cpp", "-dM", "-"], input="#include <pcap/dlt.h>\n", text=True,
                         capture_output=True, check=True).stdout
    return {m.group(1): int(m.group(2), 0) for m in re.finditer(r"^#define (DLT_\w+) (\d+|0x[0-9a-fA-F]+)$", out, re.M)}


NAMES = ["DLT_NULL", "DLT_EN10MB", "DLT_EN3MB", "DLT_AX25", "DLT_PRONET", "DLT_CHAOS", "DLT_IEEE802",
         "DLT_ARCNET", "DLT_SLIP", "DLT_PPP", "DLT_FDDI", "DLT_ATM_RFC1483", "DLT_LOOP", "DLT_ENC",
         "DLT_RAW", "DLT_SLIP_BSDOS", "DLT_PPP_BSDOS", "DLT_IEEE802_11", "DLT_PFSYNC", "DLT_PFLOG",
         "DLT_LINUX_SLL", "DLT_LINUX_SLL2", "DLT_IPV4", "DLT_IPV6"]


def test_dlt_constants_match_the_header():
    values = dlt_header_values()
    for name in NAMES:
        assert getattr(pcap, name) == values[name], name
    if sys.platform.startswith("linux"):
        assert (pcap.DLT_RAW, pcap.DLT_LOOP, pcap.DLT_ENC, pcap.DLT_PFSYNC) == (12, 108, 109, 246)
    assert set(NAMES) <= set(pcap.__all__)


def test_file_descriptors_are_not_inherited(sample, tmp_path):
    """Like every file Python opens (PEP 446), capture files are close-on-exec."""
    with pcap.Offline(sample) as f:
        assert os.get_inheritable(f.fileno()) is False
        with pcap.Dumper(f, tmp_path / "x.pcap"):
            fds = {int(n) for n in os.listdir("/proc/self/fd")} if os.path.isdir("/proc/self/fd") else set()
            for fd in fds - {f.fileno()}:
                try:
                    if os.path.samestat(os.fstat(fd), os.stat(tmp_path / "x.pcap")):
                        assert os.get_inheritable(fd) is False
                except OSError:
                    pass


STDIN_SCRIPT = """
import os, sys
from openbsd import pcap
f = pcap.Offline(sys.argv[1])
recs = list(f)
f.close()
os.fstat(0)  # closing the feed left stdin open
print(len(recs), sum(len(p) for p, _, _ in recs), recs[-1][1])
"""


@pytest.mark.parametrize("how", ["pipe", "file"])
def test_dash_reads_standard_input(mixed, how):
    """libpcap's and tcpdump's convention: "-" is standard input."""
    path, recs = mixed
    env = dict(os.environ, PYTHONPATH=os.pathsep.join(sys.path))
    with open(path, "rb") as fh:
        if how == "pipe":
            r = subprocess.run([sys.executable, "-c", STDIN_SCRIPT, "-"], input=fh.read(),
                               capture_output=True, env=env)
        else:
            r = subprocess.run([sys.executable, "-c", STDIN_SCRIPT, "-"], stdin=fh, capture_output=True, env=env)
    assert r.returncode == 0, r.stderr
    assert r.stdout.decode().strip().split(maxsplit=2) == [str(len(recs)), str(sum(len(p) for p, _, _ in recs)), str(recs[-1][1])]
    # isPCapFile("-") looks for a file named "-": it never consumes stdin
    assert pcap.isPCapFile("-") is os.path.isfile("-")


def test_empty_standard_input():
    env = dict(os.environ, PYTHONPATH=os.pathsep.join(sys.path))
    r = subprocess.run([sys.executable, "-c", "from openbsd import pcap; pcap.Offline('-')"],
                       stdin=subprocess.DEVNULL, capture_output=True, text=True, env=env)
    assert "PcapError: -: empty file, not a capture file" in r.stderr


def test_fifo(sample, tmp_path):
    fifo = tmp_path / "fifo"
    os.mkfifo(fifo)
    import threading
    writer = threading.Thread(target=lambda: fifo.write_bytes(sample.read_bytes()))
    writer.start()
    try:
        with pcap.Offline(fifo) as f:
            assert list(f) == pcaptools.read_pcap(sample)[1]
            assert f.ftell() == sample.stat().st_size     # the bytes read from the FIFO
    finally:
        writer.join(10)


def test_nanosecond_pcapng(mixed, tmp_path):
    """pcapng with nanosecond resolution (if_tsresol 9), made by editcap from
    a nanosecond pcap file: microseconds, truncated, like the pcap file."""
    import struct
    path, recs = mixed
    data = pcaptools.pcap_bytes([], snaplen=256, nano=True)
    for i, (p, (s, u), n) in enumerate(recs[:200]):
        data += struct.pack("<IIII", s, u * 1000 + i % 1000, len(p), n) + p  # sub-microsecond digits
    src = tmp_path / "ns.pcap"
    src.write_bytes(data)
    ng = pcaptools.editcap(src, tmp_path / "ns.pcapng", "pcapng")
    assert records(ng) == records(src) == recs[:200]
