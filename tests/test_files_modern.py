"""Nanosecond savefiles and pcapng output (issue 18).

Oracles: tcpdump (``--nano``), tshark, editcap and capinfos (Wireshark's own
readers and writers), and the hand-written pcap reader/writer of
pcaptools.
"""

import re
import struct
import subprocess
import sys

import pytest

import openbsd.pcap as pcap
from pcaptools import SAMPLE, native_endian, need, read_pcap, tshark_fields, write_pcap

# Fractions that show how libpcap turns nanoseconds into microseconds:
# divided by 1000, rounded towards zero (999 ns is 0 us, 1999 ns is 1 us).
NANOS = [0, 1, 999, 1000, 1999, 123456789, 999999999]


def nano_records():
    return [(bytes([i]) * 60, (1_700_000_000 + i, ns), 60 + i) for i, ns in enumerate(NANOS)]


def nano_file(path):
    """A nanosecond savefile (pcaptools writes `usec * 1000` when nano: give
    it the nanoseconds in the low digits by writing the bytes here)."""
    e = native_endian()
    out = [struct.pack(e + "IHHiIII", 0xA1B23C4D, 2, 4, 0, 0, 65535, 1)]
    for pkt, (sec, ns), wire in nano_records():
        out.append(struct.pack(e + "IIII", sec, ns, len(pkt), wire) + pkt)
    path.write_bytes(b"".join(out))
    return path


def tcpdump_stamps(path, nano):
    need("tcpdump")
    out = subprocess.run(["tcpdump", "-r", str(path), "-n", "-tt"] + (["--nano"] if nano else []),
                         capture_output=True, text=True, check=True).stdout
    stamp = re.compile(r"(\d+)\.(\d{%d}) " % (9 if nano else 6))
    # (Lines starting with a tab are hex dumps of payloads tcpdump cannot decode.)
    return [tuple(map(int, stamp.match(line).groups())) for line in out.splitlines() if not line.startswith("\t")]


@pytest.fixture(params=["fast", "libpcap"])
def reader(request, monkeypatch):
    """Both readers of Offline: the project's own and libpcap's."""
    if request.param == "libpcap":
        monkeypatch.setenv("PYOPENBSD_NO_FAST_READER", "1")
    return request.param


# --- nanosecond savefiles -----------------------------------------------------


def test_nano_file_read_at_nano_precision(tmp_path, reader):
    path = nano_file(tmp_path / "n.pcap")
    f = pcap.Offline(path, precision="nano")
    assert f.precision == "nano"
    got = [ts for _, ts, _ in f]
    assert got == [ts for _, ts, _ in nano_records()]
    assert got == tcpdump_stamps(path, nano=True)


def test_nano_file_read_at_micro_precision_truncates_like_libpcap(tmp_path, reader):
    path = nano_file(tmp_path / "n.pcap")
    f = pcap.Offline(path)
    assert f.precision == "micro"
    got = [ts for _, ts, _ in f]
    assert [us for _, us in got] == [0, 0, 0, 1, 1, 123456, 999999]
    assert got == tcpdump_stamps(path, nano=False)


def test_micro_file_read_at_nano_precision(tmp_path, reader):
    path = write_pcap(tmp_path / "u.pcap", [(b"x" * 20, (5, 123456), 20), (b"y" * 20, (6, 0), 20)])
    got = [ts for _, ts, _ in pcap.Offline(path, precision="nano")]
    assert got == [(5, 123456000), (6, 0)] == tcpdump_stamps(path, nano=True)


def test_dumper_of_a_nano_feed_copies_a_nano_file_byte_for_byte(tmp_path, reader):
    src = nano_file(tmp_path / "n.pcap")
    out = tmp_path / "copy.pcap"
    f = pcap.Offline(src, precision="nano")
    with pcap.Dumper(f, out) as d:
        assert f.loop(0, d) == len(NANOS)
    assert out.read_bytes() == src.read_bytes()


def test_dumper_of_a_micro_feed_writes_microseconds(tmp_path):
    src = nano_file(tmp_path / "n.pcap")
    out = tmp_path / "copy.pcap"
    f = pcap.Offline(src)
    with pcap.Dumper(f, out) as d:
        f.loop(0, d)
    header, recs = read_pcap(out)
    assert header["nano"] is False
    assert [ts for _, ts, _ in recs] == tcpdump_stamps(src, nano=False)


def test_dead_feed_with_nano_precision(tmp_path):
    out = tmp_path / "dead.pcap"
    with pcap.Dumper(pcap.Dead(pcap.DLT_EN10MB, 96, precision="nano"), out) as d:
        d(b"\0" * 60, (7, 123456789), 60)
    assert read_pcap(out)[0]["nano"] is True
    assert tcpdump_stamps(out, nano=True) == [(7, 123456789)]


def test_precision_must_be_micro_or_nano(tmp_path):
    with pytest.raises(ValueError, match='precision must be one of "micro", "nano", not "milli"'):
        pcap.Offline(SAMPLE, precision="milli")
    with pytest.raises(TypeError, match="precision must be a str, not int"):
        pcap.Dead(1, precision=9)
    with pytest.raises(TypeError):
        pcap.Offline(SAMPLE, "nano")  # keyword only


# --- pcapng output --------------------------------------------------------------


FIELDS = ("frame.time_epoch", "frame.len", "frame.cap_len", "frame.encap_type", "data.data")


def copy_pcapng(src, out, **kw):
    f = pcap.Offline(src, **kw)
    with pcap.Dumper(f, out, format="pcapng") as d:
        n = f.loop(0, d)
    return n


def test_pcapng_copy_reads_back_identically_in_tshark(tmp_path):
    out = tmp_path / "sample.pcapng"
    n = copy_pcapng(SAMPLE, out)
    assert n == len(read_pcap(SAMPLE)[1]) > 0
    # tshark: every frame's time, lengths, encapsulation and bytes agree.
    fields = ("frame.time_epoch", "frame.len", "frame.cap_len", "frame.encap_type", "frame.protocols")
    assert tshark_fields(out, *fields) == tshark_fields(SAMPLE, *fields)
    # ... and our own reader gives back the original records.
    assert list(pcap.Offline(out)) == list(pcap.Offline(SAMPLE))
    assert pcap.Offline(out).version() == (1, 0)


def test_pcapng_headers_seen_by_capinfos(tmp_path):
    need("capinfos")
    out = tmp_path / "sample.pcapng"
    copy_pcapng(SAMPLE, out)
    info = subprocess.run(["capinfos", str(out)], capture_output=True, text=True, check=True).stdout
    snaplen = read_pcap(SAMPLE)[0]["snaplen"]
    assert "File type:           Wireshark/... - pcapng" in info
    assert "Capture application: pyopenbsd" in info
    assert "Number of interfaces in file: 1" in info
    assert f"Capture length = {snaplen}" in info
    assert "Time precision = microseconds (6)" in info


def test_pcapng_converted_by_editcap_gives_the_original_records(tmp_path):
    need("editcap")
    out = tmp_path / "sample.pcapng"
    copy_pcapng(SAMPLE, out)
    back = tmp_path / "back.pcap"
    subprocess.run(["editcap", "-F", "pcap", str(out), str(back)], check=True, capture_output=True)
    assert read_pcap(back)[1] == read_pcap(SAMPLE)[1]
    assert read_pcap(back)[0]["linktype"] == read_pcap(SAMPLE)[0]["linktype"]


def test_pcapng_nanoseconds_and_comments(tmp_path):
    src = nano_file(tmp_path / "n.pcap")
    out = tmp_path / "n.pcapng"
    f = pcap.Offline(src, precision="nano")
    with pcap.Dumper(f, out, format="pcapng") as d:
        for i, (pkt, ts, n) in enumerate(f):
            d(pkt, ts, n, comment=f"packet {i}" if i % 2 else None)
    rows = tshark_fields(out, "frame.time_epoch", "frame.comment", "frame.len")
    assert [r[0] for r in rows] == ["%d.%09d" % ts for _, ts, _ in nano_records()]
    assert [r[1] for r in rows] == [f"packet {i}" if i % 2 else "" for i in range(len(NANOS))]
    assert [int(r[2]) for r in rows] == [n for _, _, n in nano_records()]
    assert list(pcap.Offline(out, precision="nano")) == [(p, ts, n) for p, ts, n in nano_records()]
    # editcap rewrites the file; nothing changes in what it holds.
    again = tmp_path / "again.pcapng"
    subprocess.run(["editcap", "-F", "pcapng", str(out), str(again)], check=True, capture_output=True)
    assert tshark_fields(again, "frame.time_epoch", "frame.comment") == [r[:2] for r in rows]


def test_pcapng_input_copied_to_pcapng_keeps_timestamps(tmp_path):
    need("editcap")
    src = nano_file(tmp_path / "n.pcap")
    ng = tmp_path / "n.pcapng"
    subprocess.run(["editcap", "-F", "pcapng", str(src), str(ng)], check=True, capture_output=True)
    out = tmp_path / "copy.pcapng"
    copy_pcapng(ng, out, precision="nano")
    fields = ("frame.time_epoch", "frame.len", "frame.cap_len", "frame.encap_type")
    assert tshark_fields(out, *fields) == tshark_fields(ng, *fields)


def test_comment_needs_pcapng(tmp_path):
    out = tmp_path / "x.pcap"
    with pcap.Dumper(pcap.Dead(1), out) as d:
        with pytest.raises(pcap.PcapError) as e:
            d(b"\0" * 14, (0, 0), 14, comment="no room")
    assert str(e.value) == f'{out}: a comment needs format="pcapng" (a pcap savefile has no room for one)'
    with pcap.Dumper(pcap.Dead(1), tmp_path / "x.pcapng", format="pcapng") as d:
        with pytest.raises(ValueError, match="comment too long"):
            d(b"\0" * 14, (0, 0), 14, comment="x" * 65536)


def test_format_must_be_pcap_or_pcapng(tmp_path):
    with pytest.raises(ValueError, match='format must be "pcap" or "pcapng", not "pcapnp"'):
        pcap.Dumper(pcap.Dead(1), tmp_path / "x", format="pcapnp")
    assert not (tmp_path / "x").exists()


def test_pcapng_ftell_counts_the_bytes_written(tmp_path):
    out = tmp_path / "x.pcapng"
    with pcap.Dumper(pcap.Dead(1), out, format="pcapng") as d:
        head = d.ftell()
        d(b"\0" * 14, (0, 0), 14)
        one = d.ftell()
    assert (head, one - head) == (48 + 32, 28 + 16 + 4)
    assert out.stat().st_size == one


def test_pcapng_unwritable_path_names_it(tmp_path):
    bad = tmp_path / "no" / "such" / "dir.pcapng"
    with pytest.raises(pcap.PcapError) as e:
        pcap.Dumper(pcap.Dead(1), bad, format="pcapng")
    assert str(bad) in str(e.value) and e.value.errno == 2


def test_pcapng_to_standard_output(tmp_path):
    script = ("import sys\nfrom openbsd import pcap\n"
              "with pcap.Offline(sys.argv[1]) as f, pcap.Dumper(f, '-', format='pcapng') as d:\n"
              "    f.loop(0, d)\n")
    r = subprocess.run([sys.executable, "-c", script, str(SAMPLE)], capture_output=True, timeout=60)
    assert (r.returncode, r.stderr) == (0, b"")
    out = tmp_path / "stdout.pcapng"
    out.write_bytes(r.stdout)
    assert r.stdout[:4] == b"\x0a\x0d\x0d\x0a"
    assert list(pcap.Offline(out)) == list(pcap.Offline(SAMPLE))
