"""Dumper: savefiles byte-identical to what tcpdump writes, every write
error reported."""

import errno
import gc
import os
import struct
import subprocess
import sys

import pytest

import pcaptools
from openbsd import pcap
from pcaptools import SAMPLE


def copy_with_dumper(src, dst, count=0):
    with pcap.Offline(src) as f:
        d = pcap.Dumper(f, dst)
        n = f.loop(count, d)
        d.close()
    return n


def test_sample_round_trip_equals_tcpdump(sample, tmp_path):
    ref = pcaptools.tcpdump_copy(sample, tmp_path / "tcpdump.pcap")
    assert copy_with_dumper(sample, tmp_path / "ours.pcap") == 14
    assert (tmp_path / "ours.pcap").read_bytes() == ref == sample.read_bytes()


def test_generated_round_trip_equals_tcpdump(mixed, tmp_path):
    path, recs = mixed
    ref = pcaptools.tcpdump_copy(path, tmp_path / "tcpdump.pcap")
    assert copy_with_dumper(path, tmp_path / "ours.pcap") == len(recs)
    assert (tmp_path / "ours.pcap").read_bytes() == ref
    assert pcaptools.read_pcap(tmp_path / "ours.pcap")[1] == recs


def test_loop_ten_packets_into_a_dumper(mixed, tmp_path):
    path, recs = mixed
    ref = pcaptools.tcpdump_copy(path, tmp_path / "tcpdump.pcap", count=10)
    with pcap.Offline(path) as f:
        assert f.loop(10, pcap.Dumper(f, tmp_path / "ten.pcap")) == 10
    gc.collect()  # the dropped Dumper flushed and closed its file
    assert (tmp_path / "ten.pcap").read_bytes() == ref
    assert pcaptools.read_pcap(tmp_path / "ten.pcap")[1] == recs[:10]


@pytest.mark.parametrize("path", pcaptools.openbsd_params())
def test_openbsd_round_trip(path, tmp_path):
    """Where tcpdump can copy a file, the Dumper writes the same bytes; the
    packet records are always the input's. libpcap writes link type 12
    (which Linux reads as DLT_RAW) back as LINKTYPE_RAW 101, as tcpdump does;
    link types it has no savefile value for (OpenBSD's enc 13 and old pflog
    17 on Linux) are written back as they were read."""
    hdr, recs = pcaptools.read_pcap(path)
    out = tmp_path / "ours.pcap"
    copy_with_dumper(path, out)
    ours = out.read_bytes()
    assert pcaptools.parse_pcap(ours)[1] == recs
    assert ours[24:] == path.read_bytes()[24:]
    ref = tmp_path / "tcpdump.pcap"
    r = subprocess.run(["tcpdump", "-r", str(path), "-w", str(ref)], capture_output=True)
    if r.returncode == 0:
        assert ours == ref.read_bytes()
    else:
        assert b"unknown data link type" in r.stderr
    with pcap.Offline(out) as f, pcap.Offline(path) as g:
        assert f.datalink() == g.datalink()
    if hdr["linktype"] == 12:
        assert struct.unpack("<I", ours[20:24])[0] == 101
    else:
        assert ours == path.read_bytes()


@pytest.mark.parametrize("name", ["enc", "pf.old"])
def test_link_types_libpcap_cannot_write_to_a_pipe(captures, tmp_path, name):
    """The raw link type goes into the header before anything is written,
    so a FIFO gets the same bytes as the file (libpcap's own writer refuses
    these link types: "link-layer type 13 isn't supported in savefiles")."""
    src = captures / "packets" / name
    if not src.exists():
        pytest.skip(f"{src} is absent")
    fifo = tmp_path / "fifo"
    os.mkfifo(fifo)
    import threading
    got = []
    reader = threading.Thread(target=lambda: got.append(fifo.read_bytes()))
    reader.start()
    try:
        with pcap.Offline(src) as f, pcap.Dumper(f, fifo) as d:
            f.loop(0, d)
    finally:
        # Unblock the reader if nothing opened the FIFO (a plain open
        # would wait for ever once the reader has seen EOF and gone).
        try:
            os.close(os.open(fifo, os.O_WRONLY | os.O_NONBLOCK))
        except OSError as e:
            assert e.errno == errno.ENXIO   # no reader left: nothing to unblock
        reader.join(10)
        assert not reader.is_alive()
    assert got == [src.read_bytes()]


def test_dead_feed_of_an_openbsd_link_type(tmp_path):
    out = tmp_path / "enc.pcap"
    with pcap.Dumper(pcap.Dead(13, 96), out) as d:
        d(b"\x02\x00\x00\x00" + b"x" * 8, (7, 8), 12)
    hdr, recs = pcaptools.read_pcap(out)
    assert (hdr["linktype"], hdr["snaplen"]) == (13, 96)
    assert recs == [(b"\x02\x00\x00\x00" + b"x" * 8, (7, 8), 12)]
    with pcap.Offline(out) as f:
        assert f.datalink() == 13


def test_swapped_and_nanosecond_inputs_are_written_natively(mixed, tmp_path):
    path, recs = mixed
    swap = ">" if pcaptools.native_endian() == "<" else "<"
    for name, kw in (("be.pcap", dict(endian=swap)), ("ns.pcap", dict(nano=True))):
        src = pcaptools.write_pcap(tmp_path / name, recs, snaplen=256, **kw)
        ref = pcaptools.tcpdump_copy(src, tmp_path / ("tcpdump-" + name))
        copy_with_dumper(src, tmp_path / ("ours-" + name))
        assert (tmp_path / ("ours-" + name)).read_bytes() == ref == path.read_bytes()


def test_pcapng_input_written_as_classic_pcap(sample, tmp_path):
    ng = pcaptools.editcap(sample, tmp_path / "s.pcapng", "pcapng")
    copy_with_dumper(ng, tmp_path / "out.pcap")
    assert (tmp_path / "out.pcap").read_bytes() == pcaptools.tcpdump_copy(ng, tmp_path / "t.pcap") \
        == sample.read_bytes()


def test_buffer_types_and_header(tmp_path):
    out = tmp_path / "kinds.pcap"
    feed = pcap.Dead(pcap.DLT_EN10MB, 300)
    with pcap.Dumper(feed, out) as d:
        assert d.ftell() == 24
        d(b"bytes", (1, 2), 5)
        assert d.ftell() == 24 + 16 + 5
        d(bytearray(b"bytearray"), (3, 4), 100)
        d(memoryview(b"xxmemoryview")[2:], (5, 6), 10)
        d(memoryview(b"abcdefgh")[::2], (7, 8), 4)  # non-contiguous
        d(memoryview(b"wxyz").cast("I"), (9, 10), 4)  # not a byte format
        d(b"", (11, 999999), 0)
        import array
        d(array.array("H", [0x4142, 0x4344]), (12, 0), 4)  # any buffer: its raw bytes
        d.flush()
        assert d.ftell() == os.path.getsize(out)
    assert d.closed
    hdr, recs = pcaptools.read_pcap(out)
    assert hdr == dict(endian=pcaptools.native_endian(), nano=False, version=(2, 4), snaplen=300, linktype=1)
    assert recs == [(b"bytes", (1, 2), 5), (b"bytearray", (3, 4), 100), (b"memoryview", (5, 6), 10),
                    (b"aceg", (7, 8), 4), (b"wxyz", (9, 10), 4), (b"", (11, 999999), 0),
                    (array.array("H", [0x4142, 0x4344]).tobytes(), (12, 0), 4)]
    # tcpdump reads it (it prints no timestamp for the empty record)
    assert pcaptools.tcpdump_records(out) == [(p, ts) for p, ts, _ in recs if p]


def test_bad_arguments(tmp_path):
    feed = pcap.Dead(pcap.DLT_EN10MB)
    with pcap.Dumper(feed, tmp_path / "x.pcap") as d:
        for args, error, message in [
            (("text", (1, 2), 4), TypeError, "packet must be bytes, bytearray, memoryview or a Packet, not str"),
            ((b"x", (1, 2**32), 1), ValueError,
             "tstamp microseconds must be between -2147483648 and 4294967295, got 4294967296"),
            ((b"x", (1, -2**31 - 1), 1), ValueError,
             "tstamp microseconds must be between -2147483648 and 4294967295, got -2147483649"),
            ((b"x", (1, 1), -1), ValueError, "length must be between 0 and 4294967295, got -1"),
            ((b"x", (2**32, 0), 1), ValueError,
             "tstamp seconds must be between -2147483648 and 4294967295, got 4294967296"),
            ((b"x", (-2**31 - 1, 0), 1), ValueError,
             "tstamp seconds must be between -2147483648 and 4294967295, got -2147483649"),
            ((b"x", (1,), 1), ValueError, "tstamp must be a tuple (sec, usec), got a tuple of length 1"),
            ((b"x", 5, 1), TypeError, "tstamp must be a tuple (sec, usec), not int"),
            ((b"x", (1.0, 0), 1), TypeError, "tstamp seconds must be an int, not float"),
            ((b"x", (1, 0), "1"), TypeError, "length must be an int, not str"),
        ]:
            with pytest.raises(error) as e:
                d(*args)
            assert type(e.value) is error and str(e.value) == message, args
    assert pcaptools.read_pcap(tmp_path / "x.pcap")[1] == []


def test_close_twice_and_use_after_close(tmp_path):
    d = pcap.Dumper(pcap.Dead(pcap.DLT_EN10MB), tmp_path / "c.pcap")
    d.close()
    assert d.closed
    for call in (d.close, d.flush, d.ftell, lambda: d(b"x", (1, 1), 1)):
        with pytest.raises(pcap.PcapError) as e:
            call()
        assert str(e.value) == "dumper is closed (not connected)"
    with d:  # __exit__ on a closed dumper does not raise
        pass
    assert "closed" in repr(d)


def test_context_manager_flushes_and_closes(sample, tmp_path):
    out = tmp_path / "cm.pcap"
    with pcap.Offline(sample) as f, pcap.Dumper(f, out) as d:
        assert f.dispatch(-1, d) == 14
    assert d.closed
    assert out.read_bytes() == sample.read_bytes()


def test_dropped_dumper_flushes(sample, tmp_path):
    out = tmp_path / "dropped.pcap"
    f = pcap.Offline(sample)
    d = pcap.Dumper(f, str(out))
    assert d.filename == str(out)
    f.loop(-1, d)
    del d
    gc.collect()
    assert out.read_bytes() == sample.read_bytes()


def test_dumper_outlives_its_feed(sample, tmp_path):
    out = tmp_path / "outlive.pcap"
    f = pcap.Offline(sample)
    d = pcap.Dumper(f, out)
    first = f.next()
    f.close()
    d(*first)
    d.close()
    assert pcaptools.read_pcap(out)[1] == [first]


def test_dumper_on_closed_feed(sample, tmp_path):
    f = pcap.Offline(sample)
    f.close()
    with pytest.raises(pcap.PcapError, match=r"^feed is closed \(not connected\)$"):
        pcap.Dumper(f, tmp_path / "x.pcap")
    assert not (tmp_path / "x.pcap").exists()


@pytest.mark.parametrize("target,reason", [
    ("missing/dir/out.pcap", "No such file or directory"),
    (".", "Is a directory"),
])
def test_open_errors_name_the_path(tmp_path, target, reason):
    path = tmp_path / target
    with pytest.raises(pcap.PcapError) as e:
        pcap.Dumper(pcap.Dead(pcap.DLT_EN10MB), path)
    assert str(e.value) == f"{path}: {reason}"
    assert e.value.errno == {"No such file or directory": errno.ENOENT, "Is a directory": errno.EISDIR}[reason]


def test_bad_path_types(tmp_path):
    d = pcap.Dead(pcap.DLT_EN10MB)
    with pytest.raises(ValueError, match="NUL"):
        pcap.Dumper(d, "a\0b")
    with pytest.raises(TypeError, match="expected a path"):
        pcap.Dumper(d, 42)
    with pytest.raises(TypeError):
        pcap.Dumper("not a feed", tmp_path / "x.pcap")


def test_disk_full_is_reported(sample):
    if not os.path.exists("/dev/full"):
        pytest.skip("no /dev/full on this system")
    f = pcap.Offline(sample)
    d = pcap.Dumper(f, "/dev/full")
    with pytest.raises(pcap.PcapError) as e:
        f.loop(-1, d)  # small packets: buffered, the error may come later
        d.flush()
    assert str(e.value) == ("/dev/full: write failed: No space left on device "
                            "(the file header is not written yet; 14 records were not written)")
    assert e.value.errno == errno.ENOSPC
    # The records were dropped (the error said so); the header is still
    # tried, and close() says it could not write it; then it is closed.
    with pytest.raises(pcap.PcapError) as e:
        d.close()
    assert str(e.value) == "/dev/full: write failed: No space left on device (the file header is not written yet)"
    assert d.closed
    with pytest.raises(pcap.PcapError, match=r"^dumper is closed \(not connected\)$"):
        d.close()


def test_disk_full_reported_by_close(sample):
    if not os.path.exists("/dev/full"):
        pytest.skip("no /dev/full on this system")
    f = pcap.Offline(sample)
    d = pcap.Dumper(f, "/dev/full")
    f.loop(-1, d)
    with pytest.raises(pcap.PcapError) as e:
        d.close()
    assert str(e.value) == ("/dev/full: write failed: No space left on device "
                            "(the file header is not written yet; 14 records were not written)")
    assert d.closed


def test_disk_full_reported_while_writing(mixed):
    """Enough data to overflow the stdio buffer: the write itself raises,
    and the loop stops at that packet."""
    if not os.path.exists("/dev/full"):
        pytest.skip("no /dev/full on this system")
    path, recs = mixed
    f = pcap.Offline(path)
    d = pcap.Dumper(f, "/dev/full")
    with pytest.raises(pcap.PcapError, match="No space left on device"):
        f.loop(-1, d)
    assert f.next() is not None  # the feed is fine; the loop stopped early
    with pytest.raises(pcap.PcapError, match="the file header is not written yet"):
        d.close()


def test_dropped_dumper_with_pending_error_reports_unraisable(sample):
    if not os.path.exists("/dev/full"):
        pytest.skip("no /dev/full on this system")
    import sys
    seen = []
    old = sys.unraisablehook
    sys.unraisablehook = lambda u: seen.append(u.exc_value)
    try:
        f = pcap.Offline(sample)
        d = pcap.Dumper(f, "/dev/full")
        f.loop(-1, d)
        del d
        gc.collect()
    finally:
        sys.unraisablehook = old
    assert len(seen) == 1 and isinstance(seen[0], pcap.PcapError)
    assert "No space left on device" in str(seen[0])


Y2038 = [(b"a" * 20, (0x7FFFFFFF, 1), 20), (b"b" * 20, (0x80000000, 2), 20), (b"c" * 20, (0xFFFFFFFF, 999999), 20)]


@pytest.mark.parametrize("reader", ["fast", "libpcap"])
def test_seconds_past_2038_round_trip(tmp_path, monkeypatch, reader):
    """A savefile stores 32-bit seconds. Whichever way they are read back
    (unsigned, or negative as libpcap 1.10 reads them), a Dumper writes the
    same 32 bits."""
    src = pcaptools.write_pcap(tmp_path / "y2038.pcap", Y2038)
    if reader == "libpcap":
        monkeypatch.setenv("PYOPENBSD_NO_FAST_READER", "1")
    copy_with_dumper(src, tmp_path / "out.pcap")
    assert (tmp_path / "out.pcap").read_bytes() == src.read_bytes()
    with pcap.Dumper(pcap.Dead(pcap.DLT_EN10MB, 65535), tmp_path / "signed.pcap") as d:
        d(b"a" * 20, (0x7FFFFFFF, 1), 20)
        d(b"b" * 20, (-2**31, 2), 20)
        d(b"c" * 20, (-1, 999999), 20)
    assert (tmp_path / "signed.pcap").read_bytes() == src.read_bytes()


def test_seconds_past_2038_same_from_every_reader(tmp_path, monkeypatch):
    src = pcaptools.write_pcap(tmp_path / "y2038.pcap", Y2038)
    fast = list(pcap.Offline(src))
    monkeypatch.setenv("PYOPENBSD_NO_FAST_READER", "1")
    slow = list(pcap.Offline(src))
    assert fast == Y2038
    assert slow == fast


def test_dumper_takes_decoded_packets(mixed, tmp_path):
    path, recs = mixed
    with pcap.Offline(path) as f, pcap.Dumper(f, tmp_path / "decoded.pcap") as d:
        assert f.loop(0, d, interpret=1) == len(recs)
    assert (tmp_path / "decoded.pcap").read_bytes() == path.read_bytes()


DASH_SCRIPT = """
import os, sys
from openbsd import pcap
f = pcap.Offline(sys.argv[1])
with pcap.Dumper(f, "-") as d:      # libpcap's convention: standard output
    f.loop(0, d)
os.write(1, b"still open" if os.get_inheritable(1) else b"not inheritable")
"""


def test_dash_writes_standard_output_and_leaves_it_open(sample):
    env = dict(os.environ, PYTHONPATH=os.pathsep.join(__import__("sys").path))
    r = subprocess.run([__import__("sys").executable, "-c", DASH_SCRIPT, str(sample)], capture_output=True, env=env)
    assert r.returncode == 0, r.stderr
    data = sample.read_bytes()
    assert r.stdout == data + b"still open"


def test_packet_longer_than_the_snap_length(tmp_path):
    """Written whole (as the legacy module did); libpcap reads back the snap
    length, tshark the whole record."""
    frame = bytes(range(256)) * 5 + bytes(234)  # 1514 bytes
    out = tmp_path / "long.pcap"
    with pcap.Dumper(pcap.Dead(pcap.DLT_EN10MB), out) as d:  # snaplen 1500
        d(frame, (1, 2), len(frame))
    hdr, recs = pcaptools.read_pcap(out)
    assert hdr["snaplen"] == 1500 and recs == [(frame, (1, 2), 1514)]
    assert list(pcap.Offline(out)) == [(frame[:1500], (1, 2), 1514)]


@pytest.mark.parametrize("tstamp,length,message", [
    ((0, 0), 2**100, f"length must be between 0 and 4294967295, got {2**100}"),
    ((0, 0), 2**32, "length must be between 0 and 4294967295, got 4294967296"),
    ((2**100, 0), 2, f"tstamp seconds must be between -2147483648 and 4294967295, got {2**100}"),
    ((-2**100, 0), 2, f"tstamp seconds must be between -2147483648 and 4294967295, got {-2**100}"),
    ((0, 2**100), 2, f"tstamp microseconds must be between -2147483648 and 4294967295, got {2**100}"),
    ((0, -2**64), 2, f"tstamp microseconds must be between -2147483648 and 4294967295, got {-2**64}"),
])
def test_integers_too_large_for_c_are_value_errors(tmp_path, tstamp, length, message):
    """Not OverflowError: out of range is out of range, however far."""
    with pcap.Dumper(pcap.Dead(pcap.DLT_EN10MB), tmp_path / "x.pcap") as d:
        with pytest.raises(ValueError) as e:
            d(b"ab", tstamp, length)
        assert type(e.value) is ValueError and str(e.value) == message
        assert d.ftell() == 24


def test_a_damaged_fraction_of_a_second_is_copied_as_it_was(tmp_path):
    """A record whose microseconds field is out of range (a damaged file)
    is read as libpcap reads it, and a Dumper writes it back unchanged, as
    tcpdump -r -w does."""
    recs = [(b"a" * 60, (1, 5), 60), (b"b" * 60, (2, 0xFFFFFFFF), 60), (b"c" * 60, (3, 1000000), 60),
            (b"d" * 60, (4, 0x80000000), 60)]
    src = pcaptools.write_pcap(tmp_path / "in.pcap", recs)
    with pcap.Offline(src) as feed:
        assert [t for _, t, _ in feed] == [(1, 5), (2, -1), (3, 1000000), (4, -2**31)]
    with pcap.Offline(src) as feed, pcap.Dumper(feed, tmp_path / "out.pcap") as d:
        assert feed.loop(0, d) == 4
    assert (tmp_path / "out.pcap").read_bytes() == src.read_bytes()
    subprocess.run(["tcpdump", "-r", str(src), "-w", str(tmp_path / "td.pcap")], check=True, capture_output=True)
    assert (tmp_path / "td.pcap").read_bytes() == src.read_bytes()


PIPE_WRITER = """
import os, signal, subprocess, sys
from openbsd import pcap
mode, fmt = sys.argv[1], sys.argv[2]
# a reader that starts draining after 1 s: the pipe fills and writes block,
# while a 0.05 s timer interrupts them
r = subprocess.Popen([sys.executable, "-c",
                      "import sys, time; time.sleep(1); print(len(sys.stdin.buffer.read()))"],
                     stdin=subprocess.PIPE)
os.dup2(r.stdin.fileno(), 1)
r.stdin.close()
hits = []
def handler(*a):
    hits.append(1)
    if mode == "raise" and len(hits) == 5:
        raise RuntimeError("from the handler")
signal.signal(signal.SIGALRM, handler)
signal.setitimer(signal.ITIMER_REAL, 0.05, 0.05)
n = 0
try:
    with pcap.Dumper(pcap.Dead(pcap.DLT_EN10MB), "-", format=fmt) as d:
        for n in range(20000):
            d(b"x" * 200, (1, 0), 200)
        at = d.ftell()
    result = f"wrote {at} {len(hits) >= 5}"
except Exception as e:
    result = f"raised {type(e).__name__} {e}"
signal.setitimer(signal.ITIMER_REAL, 0)
os.close(1)
r.wait()
print(result, file=sys.stderr)
"""


@pytest.mark.parametrize("fmt, size", [
    ("pcap", 4320024),               # 24 + 20000 * (16 + 200)
    ("pcapng", 4640080),             # 48 + 32 + 20000 * (28 + 200 + 4)
])
@pytest.mark.parametrize("mode", ["return", "raise"])
def test_signals_while_writing_to_a_full_pipe(mode, fmt, size):
    """A write blocked on a full pipe is interrupted by each signal: the
    handlers run and the write goes on (PEP 475), or ends with what a
    handler raised; ftell() counts the bytes written to the pipe."""
    r = subprocess.run([sys.executable, "-c", PIPE_WRITER, mode, fmt], capture_output=True, text=True, timeout=60)
    assert r.returncode == 0
    expected = f"wrote {size} True" if mode == "return" else "raised RuntimeError from the handler"
    assert r.stderr.strip() == expected
    if mode == "return":
        assert r.stdout == f"{size}\n"   # every byte reached the reader


def test_a_fifo_read_by_a_thread_of_the_same_process(tmp_path):
    """Opening a FIFO for writing waits for its reader without the GIL, so
    the reader may be a thread of the same process (it deadlocked before)."""
    script = """
import os, sys, threading, time
from openbsd import pcap
fifo = sys.argv[1]
os.mkfifo(fifo)
got = []
def reader():
    time.sleep(0.3)   # the Dumper is opening the FIFO by then
    got.append(open(fifo, "rb").read())
t = threading.Thread(target=reader)
t.start()
with pcap.Offline(sys.argv[2]) as feed, pcap.Dumper(feed, fifo) as d:
    feed.loop(0, d)
t.join()
print(got[0] == open(sys.argv[2], "rb").read())
"""
    r = subprocess.run([sys.executable, "-c", script, str(tmp_path / "fifo"), str(pcaptools.SAMPLE)],
                       capture_output=True, text=True, timeout=30)
    assert (r.returncode, r.stdout, r.stderr) == (0, "True\n", "")


# -- a full disk: the error says what the file holds ---------------------------------

def expected_file(fmt, header, sent):
    """What a Dumper's file holds after `sent` records (packet, (sec, usec),
    wire), `header` being its first bytes (pcapng: our section header and
    the interface description, 80 bytes)."""
    if fmt == "pcap":
        return pcaptools.pcap_bytes(sent, snaplen=65535, endian=pcaptools.native_endian())
    b = pcaptools.PcapngBuilder(pcaptools.native_endian())
    return header[:80] + b"".join(b.epb(0, sec * 10**6 + usec, p, wire) for p, (sec, usec), wire in sent)


def read_back(fmt, path):
    """Records as a reader that is not ours sees them: tcpdump, or tshark
    for pcapng (which tcpdump reads through the same libpcap as we do)."""
    if fmt == "pcap":
        return pcaptools.tcpdump_records(path)
    rows = pcaptools.tshark_fields(path, "frame.time_epoch", "frame.cap_len")
    return [(int(float(t)), int(n)) for t, n in rows]


@pytest.mark.parametrize("fmt", ["pcap", "pcapng"])
@pytest.mark.parametrize("size", [60, 100, 1000])
def test_a_full_disk_says_what_the_file_holds(small_disk, size, fmt):
    """Write until the disk is full. The error names the number of records
    the file holds and of records taken but not written; the file is the
    header and exactly those first records, ending at a record (pcapng:
    block) boundary (a record the full disk cut short is cut off). Before,
    53 writes that had returned normally were silently missing from the
    file (pcapng: the file ended inside a block)."""
    import re
    out = small_disk / f"out.{fmt}"
    d = pcap.Dumper(pcap.Dead(pcap.DLT_EN10MB, 65535), out, format=fmt)
    sent = []
    with pytest.raises(pcap.PcapError) as e:
        for i in range(100000):
            packet = bytes(6) + bytes([2, 0, 0, 0, 0, 1]) + b"\x88\xb5" + bytes([i % 256]) * (size - 14)
            d(packet, (i, 0), size)
            sent.append((packet, (i, 0), size))
    assert e.value.errno == errno.ENOSPC
    m = re.fullmatch(re.escape(f"{out}: write failed: No space left on device ") +
                     r"\(the file holds (\d+) records; (\d+) more were not written\)", str(e.value))
    assert m, str(e.value)
    held, dropped = int(m[1]), int(m[2])
    assert held + dropped == len(sent) and held > 0 and dropped > 0
    data = out.read_bytes()
    assert data == expected_file(fmt, data, sent[:held])
    assert d.ftell() == out.stat().st_size
    # read to the end, without an error
    if fmt == "pcap":
        assert read_back(fmt, out) == [(p, ts) for p, ts, _ in sent[:held]]
    else:
        assert read_back(fmt, out) == [(ts[0], len(p)) for p, ts, _ in sent[:held]]
        with pcap.Offline(out) as f:
            assert [(p, ts) for p, ts, _ in f] == [(p, ts) for p, ts, _ in sent[:held]]
    d.close()                                              # nothing is waiting: closes cleanly
    assert out.stat().st_size == len(data)


# -- a pipe that fills, signals, and threads ---------------------------------------

PIPE_RESUME = """
import os, signal, sys, threading, time
from openbsd import pcap
out_path, n, fmt = sys.argv[1], int(sys.argv[2]), sys.argv[3]
# the file's header, and each record's bytes (pcapng: the header is the
# section header and interface description blocks, a record an enhanced
# packet block)
head, each = (24, 16 + 214) if fmt == "pcap" else (80, 28 + 216 + 4)
r, w = os.pipe()
stdout = os.dup(1)
os.dup2(w, 1)
os.close(w)
got = bytearray()
def reader():
    # A thread of this process: it can only read while the writer waits
    # without the GIL. It stops for a while, so that the pipe fills.
    time.sleep(0.5)
    while True:
        chunk = os.read(r, 4096)
        if not chunk:
            break
        got.extend(chunk)
        if len(got) < 200000:
            time.sleep(0.002)
t = threading.Thread(target=reader)
t.start()
ticks = [0]
def ticker():
    while t.is_alive():
        ticks[0] += 1
        time.sleep(0.01)
threading.Thread(target=ticker, daemon=True).start()
armed = False
def handler(*a):
    # raises once per try (re-armed in each), never in the except clauses
    global armed
    if armed:
        armed = False
        raise KeyboardInterrupt
signal.signal(signal.SIGALRM, handler)
signal.setitimer(signal.ITIMER_REAL, 0.03, 0.03)
interrupts = 0
d = pcap.Dumper(pcap.Dead(pcap.DLT_EN10MB, 65535), "-", format=fmt)
while True:
    try:
        armed = True
        # ftell() counts the records taken (a call that raised took none,
        # but the timer may also strike between a call and the next line)
        i = (d.ftell() - head) // each
        if i == n:
            break
        packet = bytes(12) + b"\\x88\\xb5" + i.to_bytes(4, "big") * 50
        d(packet, (i, 0), len(packet))
    except KeyboardInterrupt:
        interrupts += 1
while not d.closed:
    try:
        armed = True
        d.close()
    except KeyboardInterrupt:
        interrupts += 1
signal.setitimer(signal.ITIMER_REAL, 0)
os.dup2(stdout, 1)                   # the pipe's last writer is closed: the reader ends
t.join()
open(out_path, "wb").write(got)
print(interrupts > 0, ticks[0] > 10)
"""


@pytest.mark.parametrize("fmt", ["pcap", "pcapng"])
def test_a_dumper_on_a_full_pipe_interrupted_by_signals(tmp_path, fmt):
    """A Dumper writes to a pipe that fills (its reader, a thread of the
    same process, pauses), and a timer's handler raises KeyboardInterrupt
    again and again. A call that raised did not take its record (the caller
    writes it again); the waits hold no GIL (the reader and another thread
    run meanwhile); the stream is every record once, whole, in order, as
    tcpdump reads it. Before, the stream got an all-zero record header, or
    the process hung."""
    n = 3000
    out = tmp_path / f"stream.{fmt}"
    r = subprocess.run([sys.executable, "-c", PIPE_RESUME, str(out), str(n), fmt],
                       capture_output=True, text=True, timeout=60)
    assert (r.returncode, r.stderr, r.stdout) == (0, "", "True True\n")
    want = []
    for i in range(n):
        packet = bytes(12) + b"\x88\xb5" + i.to_bytes(4, "big") * 50
        want.append((packet, (i, 0), len(packet)))
    data = out.read_bytes()
    assert data == expected_file(fmt, data, want)
    if fmt == "pcap":
        assert read_back(fmt, out) == [(p, ts) for p, ts, _ in want]
    else:
        assert read_back(fmt, out) == [(ts[0], len(p)) for p, ts, _ in want]
