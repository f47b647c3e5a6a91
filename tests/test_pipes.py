"""Reading a FIFO (or any stream that may wait for data) does not hold the
GIL while it waits: the writer may be another thread of the same process.
Before the fix this deadlocked (the reader waited in libpcap's fread for
bytes the writer thread could not write without the GIL); the test runs in a
subprocess with a timeout so that a regression fails instead of hanging."""

import subprocess
import sys
import textwrap
import time

from pcaptools import SAMPLE

SCRIPT = textwrap.dedent("""
    import os, sys, tempfile, threading, time
    from openbsd import pcap
    data = open(sys.argv[1], "rb").read()
    fifo = os.path.join(tempfile.mkdtemp(), "fifo")
    os.mkfifo(fifo)
    first = 24 + 16 + 60   # file header + the first record (60 bytes)

    def writer():
        with open(fifo, "wb") as w:
            w.write(data[:first])
            w.flush()
            time.sleep(0.3)    # the reader now waits in libpcap for the rest
            w.write(data[first:])

    t = threading.Thread(target=writer)
    t.start()
    with pcap.Offline(fifo) as f:
        recs = [(ts, n) for _, ts, n in f]
    t.join()
    print(len(recs), sum(n for _, n in recs))
""")


def test_fifo_written_by_a_thread_of_the_same_process():
    r = subprocess.run([sys.executable, "-c", SCRIPT, str(SAMPLE)],
                       capture_output=True, text=True, timeout=60)
    assert r.returncode == 0, r.stderr
    assert r.stdout.split() == ["14", "987"]


def test_fifo_read_with_loop_and_a_thread_writer():
    script = SCRIPT.replace("recs = [(ts, n) for _, ts, n in f]",
                            "recs = []; f.loop(0, lambda p, ts, n: recs.append((ts, n)))")
    r = subprocess.run([sys.executable, "-c", script, str(SAMPLE)],
                       capture_output=True, text=True, timeout=60)
    assert r.returncode == 0, r.stderr
    assert r.stdout.split() == ["14", "987"]


# -- ftell() on a stream that cannot seek ---------------------------------------------

import json  # noqa: E402
import os  # noqa: E402
import stat  # noqa: E402
import struct  # noqa: E402

import pytest  # noqa: E402

import pcaptools  # noqa: E402

FTELL_SCRIPT = textwrap.dedent("""
    import json, os, stat, sys
    from openbsd import pcap
    f = pcap.Offline(sys.argv[1])
    offsets, error = [f.ftell()], None
    try:
        while f.next() is not None:
            offsets.append(f.ftell())
    except pcap.PcapError as e:
        error = str(e)
    print(json.dumps({"offsets": offsets, "error": error, "end": f.ftell(),
                      "fifo": stat.S_ISFIFO(os.fstat(f.fileno()).st_mode)}))
""")


def pcap_record_ends(data):
    """Where the file header and each whole record of a classic pcap file end."""
    ends, off = [24], 24
    while off + 16 <= len(data):
        caplen = struct.unpack_from("<I", data, off + 8)[0]
        if off + 16 + caplen > len(data):
            break
        off += 16 + caplen
        ends.append(off)
    return ends


def pcapng_packet_ends(data):
    """Where the first interface description block and each packet block of
    a (little-endian) pcapng file end: where libpcap stands after reading
    the header and each packet."""
    ends, off = [], 0
    while off + 8 <= len(data):
        kind, length = struct.unpack_from("<II", data, off)
        off += length
        if (kind == 1 and not ends) or kind in (3, 6):
            ends.append(off)
    return ends


def inputs(tmp_path):
    data = SAMPLE.read_bytes()
    recs = pcaptools.parse_pcap(data)[1]
    big = [(bytes(range(100)), (1100000000, 0), 100), (bytes(60), (1100000001, 0), 60)]
    return {
        "pcap": data,
        # a record longer than the snap length: libpcap reads all its 100
        # bytes and hands out 64, so 16 + the caplen handed out is not what
        # was read
        "longer-than-snaplen": pcaptools.pcap_bytes(big, snaplen=64),
        # three records, the header of a fourth and 10 of its 75 bytes
        "cut": data[:24 + sum(16 + len(p) for p, _, _ in recs[:3]) + 16 + 10],
        "pcapng": pcaptools.editcap(SAMPLE, tmp_path / "sample.pcapng", "pcapng").read_bytes(),
    }


def expected(name, data):
    if name == "pcapng":
        return {"offsets": pcapng_packet_ends(data), "error": None, "end": len(data)}
    ends = pcap_record_ends(data)
    if name == "cut":
        # the piece of the fourth record was read too: the offset is the
        # bytes read, where libpcap stopped
        return {"offsets": ends, "end": len(data),
                "error": "-: truncated dump file; tried to read 75 captured bytes, only got 10"}
    return {"offsets": ends, "error": None, "end": len(data)}


@pytest.mark.parametrize("name", ["pcap", "longer-than-snaplen", "cut", "pcapng"])
def test_ftell_on_standard_input_from_a_pipe_counts_the_bytes_read(name, tmp_path):
    """Standard input is a pipe here (a subprocess writes into it): ftell()
    is the number of bytes read, the offset it would be in a file."""
    data = inputs(tmp_path)[name]
    env = dict(os.environ, PYTHONPATH=os.pathsep.join(sys.path))
    r = subprocess.run([sys.executable, "-c", FTELL_SCRIPT, "-"], input=data,
                       capture_output=True, env=env, timeout=60)
    assert r.returncode == 0, r.stderr
    got = json.loads(r.stdout)
    assert got.pop("fifo") is True                     # fileno() is the pipe
    assert got == expected(name, data)
    if name == "pcap":
        assert got["offsets"][:3] == [24, 24 + 16 + 60, 24 + 2 * (16 + 60)]


@pytest.mark.parametrize("name", ["pcap", "pcapng"])
def test_ftell_on_a_fifo_agrees_with_the_same_file(name, tmp_path):
    """A FIFO written by another process: the offsets are those of the same
    data read from a regular file."""
    data = inputs(tmp_path)[name]
    regular = tmp_path / "regular"
    regular.write_bytes(data)
    fifo = tmp_path / "fifo"
    os.mkfifo(fifo)
    writer = subprocess.Popen([sys.executable, "-c", "import shutil, sys; "
                               "shutil.copyfileobj(open(sys.argv[1], 'rb'), open(sys.argv[2], 'wb'))",
                               str(regular), str(fifo)])
    env = dict(os.environ, PYTHONPATH=os.pathsep.join(sys.path))
    try:
        r = subprocess.run([sys.executable, "-c", FTELL_SCRIPT, str(fifo)],
                           capture_output=True, text=True, env=env, timeout=60)
    finally:
        assert writer.wait(60) == 0
    assert r.returncode == 0, r.stderr
    from_file = subprocess.run([sys.executable, "-c", FTELL_SCRIPT, str(regular)],
                               capture_output=True, text=True, env=env, timeout=60)
    got, want = json.loads(r.stdout), json.loads(from_file.stdout)
    assert (got.pop("fifo"), want.pop("fifo")) == (True, False)
    assert got == want == expected(name, data)


SIGNAL_SCRIPT = textwrap.dedent("""
    import os, signal, subprocess, sys
    from openbsd import pcap
    path, mode = sys.argv[1], sys.argv[2]
    # a writer that stalls 1.5 s after two records and a part of the third,
    # while a 0.1 s timer interrupts the reader's waits
    writer = subprocess.Popen([sys.executable, "-c",
        "import sys, time; d = open(sys.argv[1], 'rb').read(); o = sys.stdout.buffer; "
        "o.write(d[:24 + 3 * 76]); o.flush(); time.sleep(1.5); o.write(d[24 + 3 * 76:]); o.flush()",
        path], stdout=subprocess.PIPE)
    os.dup2(writer.stdout.fileno(), 0)
    hits = []
    def handler(*a):
        hits.append(1)
        if mode == "raise" and len(hits) == 3:
            raise RuntimeError("from the handler")
    signal.signal(signal.SIGALRM, handler)
    signal.setitimer(signal.ITIMER_REAL, 0.1, 0.1)
    n = 0
    try:
        with pcap.Offline("-") as f:
            for _ in f:
                n += 1
        print("read", n, len(hits) >= 3)
    except Exception as e:
        print("raised", n, type(e).__name__, e)
    signal.setitimer(signal.ITIMER_REAL, 0)
    writer.wait()
""")


def test_a_signal_handler_that_returns_does_not_end_a_pipe_read():
    """A read waiting on a pipe is interrupted by each signal; the handlers
    run and the read goes on (PEP 475), instead of failing with
    'Interrupted system call'."""
    r = subprocess.run([sys.executable, "-c", SIGNAL_SCRIPT, str(SAMPLE), "return"],
                       capture_output=True, text=True, timeout=60)
    assert (r.returncode, r.stderr) == (0, "")
    assert r.stdout == "read 14 True\n"


def test_a_signal_handler_that_raises_ends_a_pipe_read_with_its_exception():
    r = subprocess.run([sys.executable, "-c", SIGNAL_SCRIPT, str(SAMPLE), "raise"],
                       capture_output=True, text=True, timeout=60)
    assert (r.returncode, r.stderr) == (0, "")
    assert r.stdout == "raised 2 RuntimeError from the handler\n"


FIFO_OPEN_SCRIPT = textwrap.dedent("""
    import os, signal, subprocess, sys, tempfile
    from openbsd import pcap
    path, mode = sys.argv[1], sys.argv[2]
    fifo = os.path.join(tempfile.mkdtemp(), "fifo")
    os.mkfifo(fifo)
    # the writer opens the FIFO after 0.5 s; a 0.1 s timer interrupts the
    # reader's open meanwhile
    writer = subprocess.Popen([sys.executable, "-c",
        "import sys, time; time.sleep(0.5); open(sys.argv[1], 'wb').write(open(sys.argv[2], 'rb').read())",
        fifo, path])
    hits = []
    def handler(*a):
        hits.append(1)
        if mode == "raise":
            raise RuntimeError("from the handler")
    signal.signal(signal.SIGALRM, handler)
    signal.setitimer(signal.ITIMER_REAL, 0.1, 0.1)
    try:
        with pcap.Offline(fifo) as f:
            print("read", len(list(f)), len(hits) >= 2)
    except Exception as e:
        print("raised", type(e).__name__, e)
        os.open(fifo, os.O_RDONLY | os.O_NONBLOCK)   # let the writer finish
    signal.setitimer(signal.ITIMER_REAL, 0)
    writer.wait()
""")


@pytest.mark.parametrize("mode, expected", [
    ("return", "read 14 True\n"),
    ("raise", "raised RuntimeError from the handler\n"),
])
def test_signals_while_opening_a_fifo(mode, expected):
    """Opening a FIFO waits for its writer; a signal handler that returns
    lets the open go on, one that raises ends it with its exception."""
    r = subprocess.run([sys.executable, "-c", FIFO_OPEN_SCRIPT, str(SAMPLE), mode],
                       capture_output=True, text=True, timeout=60)
    assert (r.returncode, r.stderr, r.stdout) == (0, "", expected)


def test_closed_while_another_thread_reads(tmp_path):
    """`closed` answers while a read runs in another thread (it raised
    "feed is busy" before): the feed is open."""
    import os
    import threading
    from openbsd import pcap
    fifo = tmp_path / "fifo"
    os.mkfifo(fifo)
    data = SAMPLE.read_bytes()
    go_on = threading.Event()

    def writer():
        with open(fifo, "wb") as w:
            w.write(data[:24 + 76])
            w.flush()
            go_on.wait(30)
            w.write(data[24 + 76:])

    t = threading.Thread(target=writer)
    t.start()
    f = pcap.Offline(fifo)
    got = []
    r = threading.Thread(target=lambda: got.extend(f))
    r.start()
    try:
        deadline = time.monotonic() + 10
        while not got and time.monotonic() < deadline:   # the first record was read:
            time.sleep(0.01)                             # the reader now waits for more
        time.sleep(0.1)
        assert f.closed is False
    finally:
        go_on.set()
        t.join(30)
        r.join(30)
    assert len(got) == 14
    f.close()
    assert f.closed is True


# -- a read that a raising signal handler ended resumes where it stopped ---------------

RESUME_SCRIPT = textwrap.dedent("""
    import json, os, signal, subprocess, sys
    from openbsd import pcap
    path, cuts, how, positions = sys.argv[1], json.loads(sys.argv[2]), sys.argv[3], json.loads(sys.argv[4])
    # a writer that stops for 0.4 s at each cut, while a 0.1 s timer whose
    # handler raises interrupts the reader's waits
    writer = subprocess.Popen([sys.executable, "-c",
        "import json, sys, time; d = open(sys.argv[1], 'rb').read(); o = sys.stdout.buffer\\n"
        "at = 0\\n"
        "for cut in json.loads(sys.argv[2]) + [len(d)]:\\n"
        "    o.write(d[at:cut]); o.flush(); at = cut; time.sleep(0.4)\\n",
        path, json.dumps(cuts)], stdout=subprocess.PIPE)
    os.dup2(writer.stdout.fileno(), 0)
    # The handler raises once per try (re-armed in each), never in the
    # except clause.
    armed = False
    def handler(*a):
        global armed
        if armed:
            armed = False
            raise KeyboardInterrupt
    signal.signal(signal.SIGALRM, handler)
    f = pcap.Offline("-")
    signal.setitimer(signal.ITIMER_REAL, 0.1, 0.1)
    got, marks = [], []
    def keep(p, ts, n):
        got.append([bytes(p).hex(), list(ts), n])
    while True:
        try:
            armed = True
            if how == "next":
                while (r := f.next()) is not None:
                    keep(*r)
                break
            if f.loop(0, keep) == 0 and writer.poll() is not None:
                break
        except KeyboardInterrupt:
            # Where the feed stands. The handler may also have struck in
            # this script between the feed handing a packet over and its
            # being kept: the offset tells (after k packets: positions[k]),
            # and such a packet is kept as None.
            at = f.ftell()
            marks.append(at)
            if at in positions:
                got.extend([None] * (positions.index(at) - len(got)))
    signal.setitimer(signal.ITIMER_REAL, 0)
    print(json.dumps({"records": got, "marks": marks, "end": f.ftell()}))
    writer.wait()
""")


def resume_inputs(tmp_path):
    data = SAMPLE.read_bytes()
    ng = pcaptools.editcap(SAMPLE, tmp_path / "sample.pcapng", "pcapng").read_bytes()
    ends, ng_ends = pcap_record_ends(data), pcapng_packet_ends(ng)
    return {
        # in a record header, in a record's data, at a record boundary
        "pcap": (data, [ends[0] + 8, ends[2] + 16 + 30, ends[4]], ends),
        # in a block header, in a packet block's body, at a block boundary
        "pcapng": (ng, [ng_ends[0] + 4, ng_ends[3] + 40, ng_ends[6]], ng_ends),
    }


@pytest.mark.parametrize("how", ["next", "loop"])
@pytest.mark.parametrize("name", ["pcap", "pcapng"])
def test_a_read_a_raising_signal_handler_ended_resumes_where_it_stopped(name, how, tmp_path):
    """A pipe read waits for the rest of a record (or of a pcapng block),
    and a signal handler raises (Ctrl-C): the caller gets the exception,
    and the next read goes on from the start of that record. Every packet
    arrives once, as in the file; nothing is lost, repeated or invented; at
    every interruption the feed stands where the file has the end of a
    packet; the end is the end (before, the reader fell out of step: empty
    packets with timestamp (0, 0), "invalid packet capture length", or
    "error reading dump file: Success" at the end)."""
    data, cuts, positions = resume_inputs(tmp_path)[name]     # offset after k packets
    path = tmp_path / "input"
    path.write_bytes(data)
    r = subprocess.run([sys.executable, "-c", RESUME_SCRIPT, str(path), json.dumps(cuts), how,
                        json.dumps(positions)], capture_output=True, text=True, timeout=60)
    assert (r.returncode, r.stderr) == (0, "")
    got = json.loads(r.stdout)
    want = [[p.hex(), list(ts), n] for p, ts, n in pcaptools.read_pcap(SAMPLE)[1]]
    assert len(got["marks"]) >= len(cuts)                     # interrupted at every cut
    assert set(got["marks"]) <= set(positions)                # always between packets
    assert len(got["records"]) == len(want)
    # every packet kept is the file's packet at its place (None: handed
    # over, and lost by this script's Python code when the handler struck
    # just after the call; at most one per interruption)
    assert [g for g, w in zip(got["records"], want) if g is not None and g != w] == []
    assert got["records"].count(None) <= len(got["marks"])
    assert got["end"] == len(data)
