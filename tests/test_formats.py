"""Unusual classic pcap files: the fast record reader gives exactly what
libpcap's own reader gives (PYOPENBSD_NO_FAST_READER turns the fast path
off), and both agree with tcpdump where tcpdump reads the file."""

import struct

import pytest

import pcaptools
from openbsd import pcap

E = pcaptools.native_endian()


def header(snap=65535, linktype=1, magic=pcaptools.MAGIC_US, minor=4):
    return struct.pack(E + "IHHiIII", magic, 2, minor, 0, 0, snap, linktype)


def record(data, ts=(1, 2), wire=None):
    return struct.pack(E + "IIII", ts[0], ts[1], len(data), len(data) if wire is None else wire) + data


def read_all(path):
    got, err = [], None
    try:
        for r in pcap.Offline(path):
            got.append(r)
    except pcap.PcapError as e:
        err = str(e)
    return got, err


CASES = {
    # a record longer than the file's snap length: libpcap cuts it to the snap length
    "caplen-over-snaplen": (header(100) + record(b"a" * 50) + record(b"b" * 150, (3, 4)) + record(b"c" * 60, (5, 6)),
                            [(b"a" * 50, (1, 2), 50), (b"b" * 100, (3, 4), 150), (b"c" * 60, (5, 6), 60)], None),
    "caplen-over-len": (header() + record(b"a" * 50, wire=10) + record(b"b" * 5),
                        [(b"a" * 50, (1, 2), 10), (b"b" * 5, (1, 2), 5)], None),
    "snaplen-0": (header(0) + record(b"a" * 300) + record(b"b" * 5),
                  [(b"a" * 300, (1, 2), 300), (b"b" * 5, (1, 2), 5)], None),
    "huge-records": (header(262144) + record(b"a" * 200000) + record(b"x" * 262144) + record(b"b" * 5),
                     [(b"a" * 200000, (1, 2), 200000), (b"x" * 262144, (1, 2), 262144), (b"b" * 5, (1, 2), 5)], None),
    "fcs-bits-in-linktype": (header(linktype=1 | 0x10000000 | 0x04000000) + record(b"a" * 50),
                             [(b"a" * 50, (1, 2), 50)], None),
    "modified-pcap": (struct.pack(E + "IHHiIII", 0xA1B2CD34, 2, 4, 0, 0, 65535, 1)
                      + struct.pack(E + "IIII", 1, 2, 5, 5) + b"\0" * 8 + b"abcde",
                      [(b"abcde", (1, 2), 5)], None),
    # a fraction of a second past 2^31 (out of range): as libpcap reads it,
    # a signed 32-bit number, nanoseconds divided by 1000 towards zero
    "usec-over-2^31": (header() + record(b"a" * 50, (1, 0x80000000)) + record(b"b" * 5, (2, 0xFFFFFFFF))
                       + record(b"c" * 5, (3, 999999)),
                       [(b"a" * 50, (1, -2147483648), 50), (b"b" * 5, (2, -1), 5), (b"c" * 5, (3, 999999), 5)],
                       None),
    "nsec-over-2^31": (header(magic=pcaptools.MAGIC_NS) + record(b"a" * 50, (1, 0x80000000))
                       + record(b"b" * 5, (2, 0xFFFFFFFF)) + record(b"c" * 5, (3, 0xF0000000))
                       + record(b"d" * 5, (4, 999999999)),
                       [(b"a" * 50, (1, -2147483), 50), (b"b" * 5, (2, 0), 5), (b"c" * 5, (3, -268435), 5),
                        (b"d" * 5, (4, 999999), 5)], None),
    "caplen-over-maximum": (header(100) + record(b"a" * 50) + struct.pack(E + "IIII", 1, 2, 300000, 300000) + b"z" * 10,
                            [(b"a" * 50, (1, 2), 50)],
                            "invalid packet capture length 300000, bigger than snaplen of 100"),
}


@pytest.mark.parametrize("name", CASES)
def test_fast_reader_equals_libpcap(name, tmp_path, monkeypatch):
    data, expected, error = CASES[name]
    path = tmp_path / f"{name}.pcap"
    path.write_bytes(data)
    monkeypatch.delenv("PYOPENBSD_NO_FAST_READER", raising=False)
    fast = read_all(path)
    monkeypatch.setenv("PYOPENBSD_NO_FAST_READER", "1")
    slow = read_all(path)
    assert fast == slow
    got, err = fast
    assert got == expected
    if error is None:
        assert err is None
    else:
        assert err == f"{path}: {error}"
    dump = pcaptools.tcpdump_records(path, error="")
    if dump is not None and name not in ("caplen-over-len", "huge-records", "usec-over-2^31", "nsec-over-2^31"):
        # (tcpdump itself refuses caplen > len records, dumps at most 64 KiB in
        # hex, and prints a fraction as unsigned where libpcap gives it signed)
        assert dump == [(p, ts) for p, ts, _ in got]


def test_fast_reader_equals_libpcap_on_generated(mixed, monkeypatch):
    path, recs = mixed
    monkeypatch.setenv("PYOPENBSD_NO_FAST_READER", "1")
    f = pcap.Offline(path)
    f.filter("tcp or arp")
    slow = list(f)
    off = f.ftell()
    monkeypatch.delenv("PYOPENBSD_NO_FAST_READER")
    f = pcap.Offline(path)
    f.filter("tcp or arp")
    assert list(f) == slow
    assert f.ftell() == off == path.stat().st_size
