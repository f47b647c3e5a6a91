"""Feeds and dumpers dropped without close() release everything, silently;
isPCapFile never raises for bad files."""

import gc
import os
import subprocess
import sys

import pytest

import pcaptools
from openbsd import pcap

FD_DIR = "/proc/self/fd"


def open_fds():
    if not os.path.isdir(FD_DIR):
        pytest.skip("no /proc/self/fd to count descriptors")
    return len(os.listdir(FD_DIR))


def test_dropped_feeds_leak_no_descriptors(sample, mixed, tmp_path):
    gc.collect()
    before = open_fds()
    for i in range(5000):
        f = pcap.Offline(sample if i % 2 else mixed[0])
        if i % 3 == 0:
            f.next()            # mid-file
        elif i % 3 == 1:
            f.dispatch(-1, slice)  # at the end
        if i % 7 == 0:
            f.filter("tcp")
        del f
    for i in range(1000):
        pcap.Dead(pcap.DLT_EN10MB)
    gc.collect()
    assert open_fds() == before


def test_dropped_dumpers_leak_no_descriptors(sample, tmp_path):
    gc.collect()
    before = open_fds()
    feed = pcap.Offline(sample)
    pkt = feed.next()
    for i in range(2000):
        d = pcap.Dumper(feed, tmp_path / f"{i}.pcap")
        if i % 2:
            d(*pkt)
        del d
    feed.close()
    gc.collect()
    assert open_fds() == before
    # every dropped dumper was flushed: a header, and the packet when written
    assert (tmp_path / "0.pcap").stat().st_size == 24
    assert pcaptools.read_pcap(tmp_path / "1999.pcap")[1] == [pkt]


def test_failed_opens_leak_no_descriptors(tmp_path):
    bad = tmp_path / "bad.pcap"
    bad.write_bytes(b"garbage" * 10)
    empty = tmp_path / "empty.pcap"
    empty.write_bytes(b"")
    gc.collect()
    before = open_fds()
    for _ in range(1000):
        for p in (bad, empty, tmp_path / "missing", tmp_path):
            with pytest.raises(pcap.PcapError):
                pcap.Offline(p)
            assert pcap.isPCapFile(p) is False
        with pytest.raises(pcap.PcapError):
            pcap.Dumper(pcap.Dead(1), tmp_path / "no" / "dir.pcap")
    gc.collect()
    assert open_fds() == before


def test_reference_cycles_are_collected(sample, tmp_path):
    gc.collect()
    before = open_fds()
    for i in range(200):
        f = pcap.Offline(sample)
        d = pcap.Dumper(f, tmp_path / f"{i}.pcap")
        holder = [f, d]
        holder.append(holder)
        f.loop(0, lambda *a, h=holder: h[1](*a))
        del f, d, holder
    gc.collect()
    assert open_fds() == before
    assert (tmp_path / "7.pcap").read_bytes() == sample.read_bytes()


def test_garbage_collection_prints_nothing(sample, tmp_path):
    code = f"""
from openbsd import pcap
for i in range(100):
    f = pcap.Offline({str(sample)!r})
    d = pcap.Dumper(f, {str(tmp_path)!r} + "/%d.pcap" % i)
    f.loop(3, d)
    g = pcap.Offline({str(sample)!r}); g.next()
    h = pcap.Dead(1)
keep = pcap.Offline({str(sample)!r})  # alive at interpreter exit
dump = pcap.Dumper(keep, {str(tmp_path)!r} + "/exit.pcap")
keep.loop(0, dump)
"""
    r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                       env=dict(os.environ, PYTHONPATH=os.pathsep.join(sys.path)))
    assert r.returncode == 0
    assert r.stdout == "" and r.stderr == ""
    assert pcaptools.read_pcap(tmp_path / "99.pcap")[1] == pcaptools.read_pcap(sample)[1][:3]
    # the dumper still alive at exit was flushed too
    assert (tmp_path / "exit.pcap").read_bytes() == sample.read_bytes()


def test_is_pcap_file(sample, mixed, tmp_path, captures):
    assert pcap.isPCapFile(sample) is True
    assert pcap.isPCapFile(str(sample)) is True
    assert pcap.isPCapFile(os.fsencode(sample)) is True
    assert pcap.isPCapFile(mixed[0]) is True
    for p in pcaptools.openbsd_files():
        assert pcap.isPCapFile(p) is True, p
    ng = pcaptools.editcap(sample, tmp_path / "s.pcapng", "pcapng")
    assert pcap.isPCapFile(ng) is True
    swap = ">" if pcaptools.native_endian() == "<" else "<"
    assert pcap.isPCapFile(pcaptools.write_pcap(tmp_path / "be.pcap", [], endian=swap)) is True
    assert pcap.isPCapFile(pcaptools.write_pcap(tmp_path / "ns.pcap", [], nano=True)) is True
    # header fine, record cut short: it still opens as a capture file
    (tmp_path / "cut.pcap").write_bytes(sample.read_bytes()[:100])
    assert pcap.isPCapFile(tmp_path / "cut.pcap") is True


def test_is_pcap_file_false_never_raises(sample, tmp_path):
    (tmp_path / "empty").write_bytes(b"")
    (tmp_path / "text").write_text("hello\n")
    (tmp_path / "short").write_bytes(sample.read_bytes()[:10])
    (tmp_path / "file").write_bytes(b"")
    for p in ("empty", "text", "short", "missing", ".", "file/below"):
        assert pcap.isPCapFile(tmp_path / p) is False, p
    assert pcap.isPCapFile("/dev/null") is False
    link = tmp_path / "link.pcap"
    link.symlink_to(sample)
    assert pcap.isPCapFile(link) is True
    assert pcap.isPCapFile("a\0b") is False
    assert pcap.isPCapFile(b"\xff\xfe/nope") is False
    if os.geteuid() != 0:
        locked = tmp_path / "locked.pcap"
        locked.write_bytes(sample.read_bytes())
        locked.chmod(0)
        try:
            assert pcap.isPCapFile(locked) is False
        finally:
            locked.chmod(0o600)


def test_is_pcap_file_rejects_non_paths():
    with pytest.raises(TypeError, match="expected a path"):
        pcap.isPCapFile(42)


def test_is_pcap_file_does_not_read_fifos(sample, tmp_path):
    """A FIFO is not read: with no writer, opening it would wait forever, and
    with one, the header read would be taken from the real reader."""
    fifo = tmp_path / "fifo"
    os.mkfifo(fifo)
    # in a child, so that a regression hangs the child, not the test run
    code = f"from openbsd import pcap; print(pcap.isPCapFile({str(fifo)!r}))"
    r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60,
                       env=dict(os.environ, PYTHONPATH=os.pathsep.join(sys.path)))
    assert (r.returncode, r.stdout, r.stderr) == (0, "False\n", "")
    # with a writer: false, and the reader after it gets the whole stream
    writer = subprocess.Popen([sys.executable, "-c",
                               "import sys; open(sys.argv[1], 'wb').write(open(sys.argv[2], 'rb').read())",
                               str(fifo), str(sample)])
    try:
        assert pcap.isPCapFile(fifo) is False
        with pcap.Offline(fifo) as f:
            got = [(bytes(p), ts, n) for p, ts, n in f]
    finally:
        writer.wait(timeout=60)
    assert got == [(d, ts, n) for d, ts, n in pcaptools.read_pcap(sample)[1]]
