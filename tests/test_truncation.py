"""A capture file cut short while it is being read.

Classic pcap files are read from memory-mapped windows (src/mapping.rs,
src/savefile.rs). Reading a mapped page past the end of a file raises
SIGBUS, and the rest of the page holding the new end reads as zeros: the
reader must neither die nor hand out zeros for data. Whatever the cut, the
packets delivered are the file's records, byte for byte, up to where the
file now ends, and the read then ends as libpcap ends a short file (end of
file, or a PcapError saying the file is truncated).
"""

import os
import random
import signal
import subprocess
import sys
import textwrap

import pytest

from openbsd import pcap
from pcaptools import write_pcap

N = 40_000  # about 32 MB: two 16 MiB windows


@pytest.fixture(scope="module")
def original(tmp_path_factory):
    """Records of random sizes and contents, and each record's file offset."""
    rng = random.Random(2026)
    recs, offsets, off = [], [], 24
    for i in range(N):
        size = rng.randrange(60, 1515)
        recs.append((rng.randbytes(size), (1_700_000_000 + i // 1000, i % 1000), size))
        offsets.append(off)
        off += 16 + size
    data_path = tmp_path_factory.mktemp("cut") / "original.pcap"
    write_pcap(data_path, recs)
    return data_path, recs, offsets


def read_with_cut(src, tmp_path, at_packet, cut, mode="loop"):
    """Copies `src`, reads the copy and, while packet `at_packet` is being
    handled, truncates the copy to `cut` bytes. Returns the packets and
    timestamps delivered and the error that ended the read, if any."""
    path = tmp_path / "cut.pcap"
    path.write_bytes(src.read_bytes())
    f = pcap.Offline(str(path))
    got = []
    err = None

    def cb(p, ts, n):
        got.append((p, ts))
        if len(got) == at_packet + 1:
            os.truncate(path, cut)
    try:
        if mode == "loop":
            f.loop(0, cb)
        else:
            while (r := f.next()) is not None:
                cb(*r)
    except pcap.PcapError as e:
        err = e
    f.close()
    return got, err


def whole_before(offsets, recs, cut):
    """How many records lie entirely before `cut`."""
    return sum(1 for o, r in zip(offsets, recs) if o + 16 + len(r[0]) <= cut)


def handled_packet(offsets):
    """The packet being handled when the file is cut: the first one past
    6 MiB, inside the first 16 MiB window, so that the records just after
    it are read from the window mapped before the cut (and those past
    22 MiB from one mapped after it)."""
    return next(i for i, o in enumerate(offsets) if o >= 6 << 20)


def in_one_page(offsets, recs, i):
    """The first record from i on whose header and data share one page."""
    while (offsets[i] // 4096) != (offsets[i] + 16 + len(recs[i][0]) - 1) // 4096:
        i += 1
    return i


CASES = {
    # where the cut falls: h is the packet being handled
    "inside a record's data": lambda o, r, h: o[in_one_page(o, r, h + 50)] + 16 + 30,
    "inside a record header": lambda o, r, h: o[in_one_page(o, r, h + 50)] + 5,
    "at a record boundary": lambda o, r, h: o[h + 50],
    "at a page boundary": lambda o, r, h: (o[h + 50] // 4096) * 4096,
    "in a later window": lambda o, r, h: o[h + 20_000] + 100,
    "before the packet being handled": lambda o, r, h: o[h - 1000] + 40,
    "to nothing": lambda o, r, h: 0,
}


@pytest.mark.parametrize("mode", ["loop", "next"])
@pytest.mark.parametrize("case", list(CASES))
def test_cut_short_while_reading(original, tmp_path, case, mode):
    src, recs, offsets = original
    h = handled_packet(offsets)
    cut = CASES[case](offsets, recs, h)
    got, err = read_with_cut(src, tmp_path, h, cut, mode)
    # every packet delivered is the file's record, byte for byte
    want = [(r[0], r[1]) for r in recs[:len(got)]]
    assert got == want
    # ... and the read went on exactly to where the file now ends
    assert len(got) == max(whole_before(offsets, recs, cut), h + 1)
    if err is not None:
        assert "truncated" in str(err) and str(tmp_path / "cut.pcap") in str(err)
    # a cut inside a record is reported as libpcap reports it
    if case in ("inside a record's data", "inside a record header", "in a later window"):
        assert err is not None


THREAD_CUTS = {
    # inside the windows the threads are walking when the first batch is
    # out (their reads of the pages past the cut raise SIGBUS)
    "near, inside a record's data": lambda o: o[3_000] + 16 + 30,
    "near, inside a record header": lambda o: o[5_000] + 5,
    "near, at a record boundary": lambda o: o[7_000],
    # far past what the threads read ahead when the first batch is out
    "inside a record's data": lambda o: o[20_000] + 16 + 30,
    "inside a record header": lambda o: o[24_000] + 5,
    "at a record boundary": lambda o: o[28_000],
    "at a page boundary": lambda o: (o[32_000] // 4096) * 4096,
}


@pytest.mark.parametrize("threads", [2, 3])
@pytest.mark.parametrize("case", list(THREAD_CUTS))
def test_cut_short_under_threads(original, tmp_path, case, threads):
    """batches(threads=N): the span threads map windows of the file (or
    read them with pread, as their probes judge); a file cut short under
    them hands out the file's records byte for byte up to the cut, none
    lost and none of zeros, then ends as one thread does."""
    pa = pytest.importorskip("pyarrow")
    src, recs, offsets = original
    cut = THREAD_CUTS[case](offsets)
    path = tmp_path / "cut.pcap"
    path.write_bytes(src.read_bytes())
    f = pcap.Offline(str(path))
    reader = pa.RecordBatchReader.from_stream(f.batches(columns=["raw"], batch_size=500, threads=threads))
    got, err = [], None
    try:
        for b in reader:
            if not got:
                os.truncate(path, cut)
            got.extend(b.column("raw").to_pylist())
    except OSError as e:  # the PcapError's words, through pyarrow's reader
        err = e
    f.close()
    assert got == [r[0] for r in recs[:len(got)]]
    if case.startswith("near"):
        # records the threads read before the cut may come out too
        assert len(got) >= whole_before(offsets, recs, cut)
    else:
        assert len(got) == whole_before(offsets, recs, cut)
    if len(got) > whole_before(offsets, recs, cut):
        pass  # read whole before the cut: the read may end either way
    elif cut in offsets:  # at a record's start: the file just ends there
        assert err is None
    else:  # inside a record, as libpcap says it
        assert err is not None and "truncated" in str(err) and str(path) in str(err)


def test_reader_uses_windows(original):
    """The tests above exercise the mapped reader (not a fallback)."""
    f = pcap.Offline(str(original[0]))
    assert f.next() is not None
    assert f._reader() == "mapped"


RUN = textwrap.dedent("""
    import mmap, os, sys, faulthandler
    from openbsd import pcap
    src, tmp = sys.argv[1], sys.argv[2]
    pcap.Offline(src).next()          # the SIGBUS handler is in place now
    {body}
""")


def run_child(body, *args):
    code = RUN.format(body=textwrap.dedent(body).strip())
    env = dict(os.environ)
    env.pop("PYTHONFAULTHANDLER", None)
    return subprocess.run([sys.executable, "-c", code, *map(str, args)],
                          capture_output=True, text=True, timeout=120, env=env)


def test_other_sigbus_still_fatal(original, tmp_path):
    """A SIGBUS outside our windows does what it did before: the process
    dies of it (here: Python's own mmap of a file cut short)."""
    r = run_child("""
        p = os.path.join(tmp, "other.bin")
        with open(p, "wb") as fh:
            fh.write(b"x" * 65536)
        fh = open(p, "rb")
        m = mmap.mmap(fh.fileno(), 0, access=mmap.ACCESS_READ)
        os.truncate(p, 0)
        print("read", m[40000], flush=True)
    """, original[0], tmp_path)
    assert r.returncode == -signal.SIGBUS, (r.returncode, r.stderr[-500:])
    assert "read" not in r.stdout


def test_replaced_handler_means_no_windows(original, tmp_path):
    """When another SIGBUS handler replaced ours (faulthandler enabled after
    the first read), files are read with pread, and a cut still reads
    right."""
    r = run_child("""
        faulthandler.enable()
        f = pcap.Offline(src)
        f.next()
        print(f._reader())
        import shutil
        p = os.path.join(tmp, "copy.pcap")
        shutil.copy(src, p)
        f = pcap.Offline(p)
        n = 0
        for pkt, ts, length in f:
            n += 1
            if n == 100:
                os.truncate(p, 0)
        print(n >= 100)
    """, original[0], tmp_path)
    assert r.returncode == 0, r.stderr[-800:]
    assert r.stdout.split() == ["buffer", "True"]


def test_more_open_files_than_window_slots(original):
    """64 windows can be mapped at once, process-wide; further readers read
    with pread, and every reader reads right."""
    src, recs, _ = original
    feeds = [pcap.Offline(str(src)) for _ in range(70)]
    firsts = [f.next() for f in feeds]
    kinds = [f._reader() for f in feeds]
    # (other tests' feeds still alive may hold some of the 64 slots)
    mapped = kinds.count("mapped")
    assert kinds == ["mapped"] * mapped + ["buffer"] * (70 - mapped)
    assert 0 < mapped <= 64
    assert all(r[0] == recs[0][0] for r in firsts)
    # reading on: each yields the file's records in order
    for f in feeds[60:]:
        got = [f.next()[0] for _ in range(2000)]
        assert got == [r[0] for r in recs[1:2001]]
    for f in feeds[:10]:
        assert f._reader() == "mapped"
        f.close()
    # closed feeds gave their slots back
    more = [pcap.Offline(str(src)) for _ in range(10)]
    for f in more:
        f.next()
    assert [f._reader() for f in more] == ["mapped"] * 10
