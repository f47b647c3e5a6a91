"""Capture files read in parts (openbsd.parts): for every file and several
partition sizes, the records of all parts, in order, are exactly those of
the sequential read (Offline.loop); parts that cannot agree raise PcapError
naming the file."""

import os
import random
import struct
import subprocess
import sys
from pathlib import Path

import pytest

import pcaptools
from pcaptools import plain
from openbsd import parts, pcap
from openbsd.pcap import PcapError

REPO = Path(__file__).resolve().parent.parent


def sequential(path, filter=None):
    f = pcap.Offline(str(path))
    if filter:
        f.filter(filter)
    out = []
    f.loop(0, lambda p, ts, n: out.append((bytes(p), ts, n)))
    return out


def in_parts(path, size, filter=None):
    out = []
    for part in parts.plan(str(path), size):
        parts.read_part_records(part.path, part.start, part.end,
                                lambda p, ts, n: out.append((bytes(p), ts, n)), filter)
    return out


@pytest.fixture(scope="module")
def bench_file(tmp_path_factory):
    """The bench generator's capture, 6000 packets (about 3.4 MB)."""
    path = tmp_path_factory.mktemp("parts") / "bench.pcap"
    subprocess.run([sys.executable, str(REPO / "benches" / "gen_capture.py"), str(path), "--count", "6000"],
                   check=True, capture_output=True)
    return path


@pytest.mark.parametrize("size", [70_000, 262_144, 1_000_000, "2MiB", None])
def test_bench_file_parts_equal_sequential(bench_file, size):
    whole = sequential(bench_file)
    assert len(whole) == 6000
    got = in_parts(bench_file, size)
    assert len(got) == len(whole)
    assert got == whole


def test_bench_file_parts_with_filter(bench_file):
    expr = "tcp and port 443 or icmp6"
    whole = sequential(bench_file, expr)
    assert 100 < len(whole) < 6000
    assert in_parts(bench_file, 300_000, expr) == whole


@pytest.mark.parametrize("path", pcaptools.openbsd_params())
def test_shared_captures_parts_equal_sequential(path):
    whole = sequential(path)
    size = path.stat().st_size
    for n in sorted({1, 7, 40, max(1, size // 3), size // 2 + 1, size}):
        if size // n > 400:
            continue
        assert in_parts(path, n) == whole, n


def test_pcapng_parts_equal_sequential(bench_file, tmp_path):
    ng = pcaptools.editcap(bench_file, tmp_path / "bench.pcapng", "pcapng")
    assert ng is not None
    whole = sequential(ng)
    assert len(whole) == 6000
    for size in [100_000, 400_000, None]:
        assert in_parts(ng, size) == whole, size
    assert parts.split_points(ng, 0, 100_000)[0] == 0


def test_nanosecond_pcap_and_pcapng_parts(bench_file, tmp_path):
    ns = pcaptools.editcap(bench_file, tmp_path / "bench-ns.pcap", "nsecpcap")
    assert ns is not None
    assert in_parts(ns, 250_000) == sequential(ns)
    # pcapng with nanosecond time stamps (if_tsresol 9), as libpcap scales them.
    ng = pcaptools.editcap(ns, tmp_path / "bench-ns.pcapng", "pcapng")
    assert ng.read_bytes().find(b"\x09\x00\x01\x00\x09") > 0
    assert in_parts(ng, 250_000) == sequential(ng)


def test_big_endian_file_parts(tmp_path):
    recs = [rec(random.Random(i).randbytes(i % 300 + 1), (1_200_000_000 + i, i)) for i in range(800)]
    path = pcaptools.write_pcap(tmp_path / "be.pcap", recs, endian=">")
    whole = sequential(path)
    assert whole == recs
    assert in_parts(path, 10_000) == whole


def test_caplen_above_snaplen_read_as_offline(tmp_path):
    # libpcap cuts a record longer than the snap length to it: so do parts
    # (such a record is no split candidate; a whole-file part reads it).
    recs = [rec(bytes([i]) * (50 + i)) for i in range(40)]
    path = pcaptools.write_pcap(tmp_path / "over.pcap", recs, snaplen=64)
    whole = sequential(path)
    assert [len(p) for p, _, _ in whole] == [min(50 + i, 64) for i in range(40)]
    assert in_parts(path, None) == whole


def rec(data, ts=(1_000_000_000, 5), wire=None):
    return (bytes(data), ts, len(data) if wire is None else wire)


def adversarial_records(seed, count=1500, snaplen=2048):
    """Payloads holding plausible record headers, whole pcap files (a
    capture of a capture download), zero-filled payloads, and plain ones."""
    rnd = random.Random(seed)
    inner = pcaptools.pcap_bytes([rec(rnd.randbytes(rnd.randrange(200))) for _ in range(6)])
    out = []
    for i in range(count):
        k = i % 5
        if k == 0:
            p = bytes(rnd.randrange(60, 1500))
        elif k == 1:
            p = inner[rnd.randrange(0, 40):]
        elif k == 2:
            p = b"".join(struct.pack("<IIII", 7, 7, c, c + 1) for c in
                         (rnd.randrange(snaplen) for _ in range(rnd.randrange(1, 60))))
        elif k == 3:
            p = inner * rnd.randrange(1, 3)
        else:
            p = rnd.randbytes(rnd.randrange(snaplen))
        p = p[:snaplen]
        out.append(rec(p, (1_100_000_000 + i, i), len(p) + 2))
    return out


@pytest.mark.parametrize("seed", [1, 2])
def test_adversarial_payloads(tmp_path, seed):
    path = pcaptools.write_pcap(tmp_path / "adv.pcap", adversarial_records(seed), snaplen=2048)
    whole = sequential(path)
    assert len(whole) == 1500
    for size in [3000, 2063, 50_000, 123_457]:
        assert in_parts(path, size) == whole, size


def test_parts_smaller_than_one_record(tmp_path):
    recs = [rec(bytes([i]) * 700) for i in range(40)]
    path = pcaptools.write_pcap(tmp_path / "big-records.pcap", recs, snaplen=1024)
    whole = sequential(path)
    for size in [1, 100, 699, 716, 717]:
        got = in_parts(path, size)
        assert got == whole, size


def test_records_exactly_at_part_edges(tmp_path):
    # 24-byte header, then records of 16 + 84 = 100 bytes: with parts of
    # 100 bytes shifted by the header, every edge is a record start.
    recs = [rec(bytes([i % 256]) * 84) for i in range(2000)]
    path = pcaptools.write_pcap(tmp_path / "edges.pcap", recs, snaplen=96)
    whole = sequential(path)
    for size in [100, 1000, 1024, 24 + 100 * 7]:
        assert in_parts(path, size) == whole, size


def test_zero_filled_file_tail_and_payloads(tmp_path):
    recs = [rec(bytes(1400)) for _ in range(300)]
    path = pcaptools.write_pcap(tmp_path / "zeros.pcap", recs)
    assert in_parts(path, 40_000) == sequential(path)


def test_a_part_in_doubt_is_read_by_the_part_before(tmp_path):
    # Every payload holds, at the same place, a header whose length jumps to
    # the same place in the next payload: two chains that never meet.
    payload = b"\xab" * 8 + struct.pack("<IIII", 9, 9, 100, 100) + b"\xcd" * 76
    recs = [rec(payload, (i, 0)) for i in range(6000)]
    path = pcaptools.write_pcap(tmp_path / "parallel.pcap", recs)
    size = path.stat().st_size
    assert parts.split_points(path, 0, 100_000) == (24, size)
    assert parts.split_points(path, 100_000, 200_000) is None
    assert in_parts(path, 100_000) == sequential(path)


def test_truncated_file_gives_every_record_then_pcap_error(tmp_path):
    recs = [rec(bytes([i]) * 300) for i in range(200)]
    data = pcaptools.pcap_bytes(recs)
    path = tmp_path / "cut.pcap"
    path.write_bytes(data[:-100])
    got = []
    with pytest.raises(PcapError) as e:
        for part in parts.plan(path, 20_000):
            parts.read_part_records(part.path, part.start, part.end,
                                    lambda p, ts, n: got.append((bytes(p), ts, n)))
    assert str(e.value) == f"{path}: truncated dump file; tried to read 300 captured bytes, only got 200"
    assert got == [(r[0], r[1], r[2]) for r in recs[:-1]]


def test_a_part_off_the_record_chain_raises(tmp_path):
    from openbsd import _native

    recs = [rec(bytes(100)) for _ in range(10)]
    data = pcaptools.pcap_bytes(recs)
    with pytest.raises(PcapError, match=r"^x\.pcap: split point 150 is not a record boundary"):
        _native._read_part("x.pcap", data[:24], data, 0, 24, 150, len(data), lambda *a: None)


def test_unsplittable_files_say_why(tmp_path):
    bad = tmp_path / "bad.pcap"
    bad.write_bytes(b"\x00" * 100)
    with pytest.raises(PcapError, match="bad.pcap: not a classic pcap or pcapng file"):
        parts.read_part_records(bad, 0, 100, print)
    with pytest.raises(PcapError, match="No such file"):
        parts.plan(tmp_path / "nope.pcap")


def test_urls_memory_and_file(bench_file):
    fsspec = pytest.importorskip("fsspec")
    whole = sequential(bench_file)
    fs = fsspec.filesystem("memory")
    fs.pipe("/caps/a.pcap", bench_file.read_bytes())
    assert in_parts("memory://caps/a.pcap", 500_000) == whole
    assert in_parts(f"file://{bench_file}", 500_000) == whole
    both = parts.plan(["memory://caps/a.pcap", f"file://{bench_file}"], "1MiB")
    assert len(both) == 2 * 4


def test_plan_globs_and_sizes(tmp_path, bench_file):
    for i in range(3):
        (tmp_path / f"c{i}.pcap").write_bytes(bench_file.read_bytes()[:24])
    got = parts.plan(str(tmp_path / "c*.pcap"))
    assert got == [parts.Part(str(tmp_path / f"c{i}.pcap"), 0, 24) for i in range(3)]
    assert parts.parse_size("256MiB") == 256 * 2**20
    assert parts.parse_size("1.5k") == 1536
    assert parts.parse_size("2GB") == 2 * 10**9
    with pytest.raises(ValueError, match="bad size 'lots'"):
        parts.parse_size("lots")
    with pytest.raises(PcapError, match="no file matches"):
        parts.plan(str(tmp_path / "none*.pcap"))


# --- pcapng of several sections, late interfaces --------------------------------


def ng_block(btype, body, e="<"):
    body = body + b"\0" * (-len(body) % 4)
    n = 12 + len(body)
    return struct.pack(e + "II", btype, n) + body + struct.pack(e + "I", n)


def ng_shb(e="<"):
    return ng_block(0x0A0D0D0A, struct.pack(e + "IHHq", 0x1A2B3C4D, 1, 0, -1), e)


def ng_idb(snaplen=4000, tsresol=None, e="<", linktype=1):
    opts = b""
    if tsresol is not None:
        opts = struct.pack(e + "HH", 9, 1) + bytes([tsresol, 0, 0, 0]) + struct.pack(e + "HH", 0, 0)
    return ng_block(1, struct.pack(e + "HHI", linktype, 0, snaplen) + opts, e)


def ng_epb(ifid, t, data, wire=None, e="<"):
    return ng_block(6, struct.pack(e + "IIIII", ifid, t >> 32, t & 0xFFFFFFFF, len(data),
                                   len(data) if wire is None else wire) + data, e)


def late_interfaces_pcapng(seed, sections=4, e="<"):
    """Sections of the same byte order, each with its first interface up
    front and a second one (another time stamp resolution) described after
    packets; payloads that hold whole pcapng blocks; an interface
    statistics block now and then."""
    rnd = random.Random(seed)
    out = b""
    for sec in range(sections):
        res0, res1 = [(None, 9), (9, 0x80 | 20), (3, None), (6, 9)][sec % 4]
        scale = {None: 10**6, 9: 10**9, 3: 10**3, 6: 10**6, 0x80 | 20: 2**20}
        out += ng_shb(e) + ng_idb(tsresol=res0, e=e)
        n = rnd.randrange(150, 400)
        for i in range(n):
            if i == n // 3:
                out += ng_idb(tsresol=res1, e=e)
            ifid = 1 if i > n // 3 and i % 2 else 0
            kind = i % 5
            if kind == 0:
                data = b"".join(ng_epb(0, 7, b"\x11" * 8, e=e) for _ in range(rnd.randrange(1, 4)))
            elif kind == 1:
                data = ng_idb(e=e) + ng_shb(e)
            else:
                data = rnd.randbytes(rnd.randrange(0, 1500))
            if i % 37 == 3:
                out += ng_block(5, struct.pack(e + "III", ifid, 0, 0), e)  # interface statistics
            sc = scale[res1 if ifid else res0]
            t = (1_700_000_000 + 1000 * sec + i) * sc + rnd.randrange(sc)
            out += ng_epb(ifid, t, data, e=e)
    return out


@pytest.mark.parametrize("e", ["<", ">"])
def test_pcapng_sections_and_late_interfaces(tmp_path, e):
    path = tmp_path / "sections.pcapng"
    path.write_bytes(late_interfaces_pcapng(7, e=e))
    whole = sequential(path)
    assert len(whole) > 800
    size = path.stat().st_size
    for n in [700, 4096, 50_000, size // 3 + 1, None]:
        assert in_parts(path, n) == whole, n
    # A part far into the file reads its section's interfaces before it,
    # without any part before it run in this process (a new name).
    fresh = tmp_path / "fresh.pcapng"
    fresh.write_bytes(path.read_bytes())
    got = []
    for last in reversed(parts.plan(fresh, 50_000)):  # the last part with records
        parts.read_part_records(fresh, last.start, last.end, lambda p, ts, n: got.append((bytes(p), ts, n)))
        if got:
            break
    # (pcapng split points come up to 260 KiB after the offset: the part of
    # 50000.. starts at 315792, in the third section.)
    assert last.start > 0 and 0 < len(got) < len(whole) // 2
    assert got == whole[-len(got):]
    # In nanoseconds too (interfaces of 10^-3, 10^-6, 10^-9 and 2^-20 s).
    nano = []
    pcap.Offline(str(path), precision="nano").loop(0, lambda p, ts, n: nano.append((bytes(p), ts, n)))
    got = []
    for part in parts.plan(path, 20_000):
        parts.read_part_records(part.path, part.start, part.end,
                                lambda p, ts, n: got.append((bytes(p), ts, n)), precision="nano")
    assert got == nano
    assert any(ts[1] % 1000 for _, ts, _ in got)


def test_concatenated_pcapng_files_from_editcap(bench_file, tmp_path):
    # `cat a.pcapng b.pcapng c.pcapng`: three sections, microsecond and
    # nanosecond interfaces.
    a = pcaptools.editcap(bench_file, tmp_path / "a.pcapng", "pcapng")
    ns = pcaptools.editcap(bench_file, tmp_path / "ns.pcap", "nsecpcap")
    b = pcaptools.editcap(ns, tmp_path / "b.pcapng", "pcapng")
    path = tmp_path / "cat.pcapng"
    path.write_bytes(a.read_bytes() + b.read_bytes() + a.read_bytes())
    whole = sequential(path)
    assert len(whole) == 18000
    for n in [250_000, 1_000_000, "4MiB"]:
        assert in_parts(path, n) == whole, n


def test_pcapng_sections_of_other_byte_orders_fail_as_offline(tmp_path):
    # libpcap reads the second section's header in the first one's order:
    # its length is absurd (or, were it the same both ways, its byte-order
    # magic is): the records before, then the same error.
    path = tmp_path / "orders.pcapng"
    path.write_bytes(late_interfaces_pcapng(3, 1, "<") + late_interfaces_pcapng(4, 1, ">"))
    first = []
    with pytest.raises(PcapError) as want:
        pcap.Offline(str(path)).loop(0, lambda p, ts, n: first.append((bytes(p), ts, n)))
    assert str(want.value) == f"{path}: pcapng block size 469762048 > maximum 16777216"
    assert len(first) > 100
    for n in [3000, 40_000, None]:
        got = []
        with pytest.raises(PcapError) as e:
            for part in parts.plan(path, n):
                parts.read_part_records(part.path, part.start, part.end,
                                        lambda p, ts, n: got.append((bytes(p), ts, n)))
        assert str(e.value) == str(want.value)
        assert got == first, n


def test_late_interface_of_another_snap_length_fails_as_offline(tmp_path):
    path = tmp_path / "snap.pcapng"
    path.write_bytes(ng_shb() + ng_idb(4000) + ng_epb(0, 5, b"x" * 60) + ng_idb(3000) + ng_epb(1, 6, b"y"))
    msg = "an interface has a snapshot length 3000 different from the snapshot length of the first interface"
    with pytest.raises(PcapError, match=msg):
        sequential(path)
    with pytest.raises(PcapError, match=f"^{path}: {msg}$"):
        in_parts(path, 40)


def test_a_packet_longer_than_the_snap_length_fails_as_offline(tmp_path):
    """libpcap refuses a pcapng packet whose capture length exceeds the snap
    length; parts must not cut it down to the snap length and go on."""
    path = tmp_path / "long.pcapng"
    path.write_bytes(ng_shb() + ng_idb(64) + ng_epb(0, 5, b"x" * 60) + ng_epb(0, 6, b"y" * 100)
                     + ng_epb(0, 7, b"z" * 60))
    msg = "invalid packet capture length 100, bigger than snaplen of 64"
    got = []
    f = pcap.Offline(str(path))
    with pytest.raises(PcapError, match=f"^{path}: {msg}$"):
        f.loop(0, lambda p, ts, n: got.append((bytes(p), ts, n)))
    assert [p for p, _, _ in got] == [b"x" * 60]
    for size in (40, 1000):
        out = []
        with pytest.raises(PcapError, match=f"^{path}: {msg}$"):
            for part in parts.plan(str(path), size):
                parts.read_part_records(part.path, part.start, part.end,
                                        lambda p, ts, n: out.append((bytes(p), ts, n)))
        assert out == got


@pytest.mark.parametrize("fmt", [None, "nsecpcap", "pcapng"])
def test_nano_precision_parts_equal_offline_nano(bench_file, tmp_path, fmt):
    rnd = random.Random(9)
    ns = tmp_path / "b.ns.pcap"
    with open(ns, "wb") as f:  # nanosecond fractions that are not whole microseconds
        f.write(pcaptools.pcap_bytes([], nano=True))
        for data, (sec, _), wire in pcaptools.read_pcap(bench_file)[1][:3000]:
            f.write(struct.pack("<IIII", sec, rnd.randrange(10**9), len(data), wire) + data)
    path = {None: bench_file, "nsecpcap": ns}.get(fmt) or pcaptools.editcap(ns, tmp_path / "b.pcapng", "pcapng")
    want = []
    pcap.Offline(str(path), precision="nano").loop(0, lambda p, ts, n: want.append((bytes(p), ts, n)))
    got = []
    for part in parts.plan(path, 300_000):
        parts.read_part_records(part.path, part.start, part.end,
                                lambda p, ts, n: got.append((bytes(p), ts, n)), precision="nano")
    assert got == want
    assert (fmt is None) == all(ts[1] % 1000 == 0 for _, ts, _ in got)
    assert got != in_parts(path, 300_000)
    with pytest.raises(ValueError, match='^precision must be one of "micro", "nano", not "pico"$'):
        parts.read_part_records(path, 0, 100, print, precision="pico")


def test_nano_precision_table_column(tmp_path):
    pa = pytest.importorskip("pyarrow")
    ns = tmp_path / "sections.pcapng"
    ns.write_bytes(late_interfaces_pcapng(8))
    want = pa.table(pcap.Offline(str(ns), precision="nano").batches(columns=["ts"]))["ts"]
    got = pa.concat_tables(pa.table(parts.read_part(p.path, p.start, p.end, ["ts"], precision="nano"))
                           for p in parts.plan(ns, 30_000))["ts"]
    assert got.to_pylist() == want.to_pylist()
    assert any(v % 1000 for v in got.cast(pa.int64()).to_pylist())


def test_a_part_holds_a_window_not_its_range(tmp_path):
    # A 64 MiB part read to a callback: the peak RSS grows by a window (16
    # MiB of the file mapped, page cache shared with other processes, or a
    # 4 MiB buffer), not by the part's size (as when it read its range
    # whole).
    one = struct.pack("<IIII", 1_700_000_000, 0, 1400, 1400) + bytes(range(256)) * 5 + bytes(120)
    path = tmp_path / "big.pcap"
    path.write_bytes(pcaptools.pcap_bytes([]) + one * (64 * 2**20 // len(one)))
    # VmHWM: this process's peak RSS in KiB (ru_maxrss would start at the
    # forking parent's).
    code = f"""
from openbsd import parts
def hwm():
    return int(next(l for l in open("/proc/self/status") if l.startswith("VmHWM")).split()[1])
before = hwm()
n = parts.read_part_records({str(path)!r}, 0, {path.stat().st_size}, lambda *a: None)
print(n, hwm() - before)
"""
    out = subprocess.run([sys.executable, "-c", code], check=True, capture_output=True, text=True).stdout.split()
    assert int(out[0]) == 64 * 2**20 // len(one)
    assert int(out[1]) < 20 * 1024, f"peak RSS grew by {int(out[1]) // 1024} MiB"


@pytest.mark.parametrize("batch_size,filter", [(65536, None), (100, None), (1000, "tcp and port 443 or icmp6")])
def test_part_tables_equal_the_sequential_table(bench_file, batch_size, filter):
    # The columnar read takes records in runs (up to 1024 at a time, cut at
    # batch boundaries): the parts' rows and batch sizes are the sequential
    # table's.
    pa = pytest.importorskip("pyarrow")
    cols = ["ts", "ip_src", "ip_dst", "sport", "dport", "len", "raw"]
    f = pcap.Offline(str(bench_file))
    if filter:
        f.filter(filter)
    want = pa.table(f.batches(columns=cols))
    for size in (70_000, 1_000_000, None):
        tables = [pa.table(parts.read_part(p.path, p.start, p.end, cols, filter, batch_size))
                  for p in parts.plan(bench_file, size)]
        for t in tables:
            sizes = [b.num_rows for b in t.to_batches()]
            assert all(n == batch_size for n in sizes[:-1]) and all(0 < n <= batch_size for n in sizes[-1:]), sizes
        got = pa.concat_tables(tables)
        assert got.schema == want.schema and plain(got).equals(plain(want))


READ_WATCHING_MAPS = """
import os, signal, sys
from openbsd import parts
path, pread = sys.argv[1], sys.argv[2] == "pread"
if pread:
    parts.read_part_records(path, 0, 100, lambda *a: None)  # our SIGBUS handler is installed here
    signal.signal(signal.SIGBUS, signal.SIG_DFL)  # ... and replaced: no mapping from now on
seen, got = set(), []
def cb(p, ts, n):
    seen.update(line.split()[-1] for line in open("/proc/self/maps") if line.rstrip().endswith(path))
    got.append((bytes(p), ts, n))
for part in parts.plan(path, 1_000_000):
    parts.read_part_records(part.path, part.start, part.end, cb)
print(len(got), hash(tuple(got)), sorted(seen))
"""


def test_a_local_part_is_mapped_unless_sigbus_is_not_ours(bench_file):
    # A local file's bytes are mapped (seen in /proc/self/maps while the
    # callback runs); when SIGBUS is no longer handled by the reader (a
    # handler set after its first read), they are read with pread. Both
    # give the sequential read.
    want = sequential(bench_file)
    out = {}
    for how in ("mapped", "pread"):
        r = subprocess.run([sys.executable, "-c", READ_WATCHING_MAPS, str(bench_file), how],
                           check=True, capture_output=True, text=True, env={**os.environ, "PYTHONHASHSEED": "0"})
        out[how] = r.stdout.split(maxsplit=2)
    assert out["mapped"][2].strip() == repr([str(bench_file)])
    assert out["pread"][2].strip() == "[]"
    assert out["mapped"][:2] == out["pread"][:2]
    assert int(out["mapped"][0]) == len(want) == 6000


CUT_WHILE_READ = """
import os, signal, sys
from openbsd import parts
from openbsd.pcap import PcapError
path, pread = sys.argv[1], sys.argv[2] == "pread"
if pread:
    parts.read_part_records(path, 0, 100, lambda *a: None)
    signal.signal(signal.SIGBUS, signal.SIG_DFL)
size = os.path.getsize(path)
n = [0]
def cb(p, ts, length):
    if n[0] == 0:
        os.truncate(path, size // 3)
    n[0] += 1
try:
    parts.read_part_records(path, 0, size, cb)
except PcapError as e:
    print(n[0], e)
"""


@pytest.mark.parametrize("how", ["mapped", "pread"])
def test_a_file_cut_short_while_a_part_reads_it_raises(bench_file, tmp_path, how):
    # A 10 MB file (the bench file's records three times over) loses two
    # thirds while its single part is read (cut in the callback of its
    # first record): PcapError naming the file, after the records read
    # before the cut, never a crash or zeros as records. (The pread path
    # had read its first 4 MiB chunk before the cut.)
    path = tmp_path / "cut.pcap"
    data = bench_file.read_bytes()
    path.write_bytes(data + data[24:] * 2)
    r = subprocess.run([sys.executable, "-c", CUT_WHILE_READ, str(path), how],
                       capture_output=True, text=True, timeout=60)
    assert r.returncode == 0, r.stderr
    n, msg = r.stdout.split(maxsplit=1)
    assert 0 < int(n) < 3 * 6000
    if how == "mapped":
        assert msg.strip() == f"{path}: the file was cut short while it was read (it changed under the reader)"
    else:
        assert msg.startswith(f"{path}: read fewer than ") and "the file changed while it was read?" in msg
