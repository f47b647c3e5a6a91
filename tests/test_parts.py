"""Capture files read in parts (openbsd.parts): for every file and several
partition sizes, the records of all parts, in order, are exactly those of
the sequential read (Offline.loop); parts that cannot agree raise PcapError
naming the file."""

import random
import struct
import subprocess
import sys
from pathlib import Path

import pytest

import pcaptools
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
