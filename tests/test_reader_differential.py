"""The three ways a classic pcap file is read (mapped windows, buffered
reads, libpcap's own reader) agree on damaged files: the same records and the
same error; after an error our readers stand at the start of the record
that could not be read. Files are the bundled sample and a generated
one, damaged by seeded random edits (bytes flipped, lengths rewritten,
cuts, garbage appended), read with and without a filter, through
iteration, loop, next() and dispatch()."""

import random
import struct

import pytest

import pcaptools
from openbsd import pcap

MODES = {
    "mapped": {},
    "buffer": {"PYOPENBSD_NO_MMAP": "1"},
    "libpcap": {"PYOPENBSD_NO_FAST_READER": "1"},
}
SEEDS = range(400)


HOW = ("iter", "loop", "next", "dispatch")
FILTERS = (None, "tcp or arp", "udp and len > 100")


def read(path, how, expr=None):
    """Records, error and final position, read one of the four ways."""
    got, err = [], None
    f = pcap.Offline(path)
    if expr:
        f.filter(expr)
    try:
        if how == "iter":
            for pkt, ts, n in f:
                got.append((pkt, ts, n))
        elif how == "loop":
            f.loop(0, lambda pkt, ts, n: got.append((pkt, ts, n)))
        elif how == "next":
            while (r := f.next()) is not None:
                got.append(r)
        else:
            while f.dispatch(7, lambda pkt, ts, n: got.append((pkt, ts, n))) > 0:
                pass
    except pcap.PcapError as e:
        err = str(e)
    pos = f.ftell()
    f.close()
    return got, err, pos


def record_offsets(data, endian):
    """Where each record starts, a partial last one included."""
    offs, off = [], 24
    while off < len(data):
        offs.append(off)
        if off + 16 > len(data):
            break
        caplen = struct.unpack_from(endian + "I", data, off + 8)[0]
        off += 16 + caplen
    return offs


def damage(data, rng):
    data = bytearray(data)
    endian = pcaptools.native_endian()
    for _ in range(rng.randint(1, 3)):
        offs = [o for o in record_offsets(bytes(data), endian) if o + 16 <= len(data)]
        what = rng.choice(["flip", "caplen", "wirelen", "cut", "garbage", "zeros"])
        if what == "flip" and len(data) > 24:
            i = rng.randrange(24, len(data))
            data[i] ^= 1 << rng.randrange(8)
        elif what in ("caplen", "wirelen") and offs:
            at = rng.choice(offs) + (8 if what == "caplen" else 12)
            value = rng.choice([0, 1, 13, 59, 60, 61, 65535, 65536, 262144, 262145,
                                rng.randrange(1 << 32)])
            struct.pack_into(endian + "I", data, at, value)
        elif what == "cut":
            del data[rng.randrange(24, len(data) + 1):]
        elif what == "garbage":
            data += rng.randbytes(rng.randrange(1, 40))
        elif what == "zeros" and offs:
            at = rng.choice(offs)
            data[at:at + 16] = bytes(16)
    return bytes(data)


@pytest.fixture(scope="module")
def originals(sample, mixed):
    return [sample.read_bytes(), mixed[0].read_bytes()[:200_000]]


@pytest.mark.parametrize("seed", SEEDS)
def test_readers_agree_on_damaged_files(seed, originals, tmp_path, monkeypatch):
    rng = random.Random(seed)
    data = damage(originals[seed % len(originals)], rng)
    path = tmp_path / f"damaged-{seed}.pcap"
    path.write_bytes(data)
    how = HOW[seed // 2 % len(HOW)]
    expr = FILTERS[seed // 8 % len(FILTERS)]
    results = {}
    for mode, env in MODES.items():
        for var in ("PYOPENBSD_NO_MMAP", "PYOPENBSD_NO_FAST_READER"):
            monkeypatch.delenv(var, raising=False)
        for var, value in env.items():
            monkeypatch.setenv(var, value)
        results[mode] = read(path, how, expr)
    got, err, pos = results["libpcap"]
    for mode in ("mapped", "buffer"):
        assert results[mode][:2] == (got, err), mode
    if err is None:
        assert results["mapped"][2] == results["buffer"][2] == pos == len(data)
    elif expr is None:
        # after an error every reader stands at the start of the record
        # that could not be read
        start = record_offsets(data, pcaptools.native_endian())[len(got)]
        assert results["mapped"][2] == results["buffer"][2] == pos == start
    else:
        # with a filter, at the start of a record at or before it (a read
        # that failed may have passed records the filter refused)
        starts = set(record_offsets(data, pcaptools.native_endian()))
        assert results["mapped"][2] == results["buffer"][2]
        assert {results["mapped"][2], pos} <= starts
