"""dispatch/loop/next/iteration: cnt semantics, return values, and the
callback rules of the contract."""

import os
import subprocess
import sys
import textwrap
import threading
import traceback

import pytest

import pcaptools
from openbsd import pcap


@pytest.fixture
def sample_recs(sample):
    return pcaptools.read_pcap(sample)[1]


def collect(f, method, cnt):
    got = []
    n = getattr(f, method)(cnt, lambda *a: got.append(a))
    assert n == len(got)
    return got


# --- cnt semantics and return values -----------------------------------------


def test_dispatch_cnt_semantics(sample, sample_recs):
    f = pcap.Offline(sample)
    assert collect(f, "dispatch", 3) == sample_recs[:3]       # cnt > 0: at most cnt
    assert collect(f, "dispatch", 1) == sample_recs[3:4]
    assert collect(f, "dispatch", -1) == sample_recs[4:]      # -1: all that remain (file)
    assert collect(f, "dispatch", -1) == []                   # at the end: 0
    f = pcap.Offline(sample)
    assert collect(f, "dispatch", 0) == sample_recs           # 0: until end of file
    assert collect(f, "dispatch", 0) == []
    f = pcap.Offline(sample)
    assert collect(f, "dispatch", 100) == sample_recs         # more than remain
    assert f.dispatch(5, print) == 0


def test_loop_cnt_semantics(sample, sample_recs, mixed):
    f = pcap.Offline(sample)
    assert collect(f, "loop", 5) == sample_recs[:5]
    assert collect(f, "loop", 0) == sample_recs[5:]           # 0: no limit
    assert collect(f, "loop", 0) == []
    f = pcap.Offline(sample)
    assert collect(f, "loop", -1) == sample_recs              # -1: no limit
    f = pcap.Offline(sample)
    assert collect(f, "loop", -7) == sample_recs              # any cnt <= 0
    f = pcap.Offline(sample)
    assert collect(f, "loop", 2**40) == sample_recs           # huge cnt
    path, recs = mixed
    f = pcap.Offline(path)
    assert collect(f, "loop", 4321) == recs[:4321]            # across buffer refills
    assert collect(f, "dispatch", -1) == recs[4321:]


def test_keyword_arguments(sample, sample_recs):
    f = pcap.Offline(sample)
    got = []
    assert f.dispatch(cnt=2, callback=lambda *a: got.append(a), interpret=0) == 2
    assert f.loop(cnt=2, callback=lambda *a: got.append(a)) == 2
    assert got == sample_recs[:4]


def test_callback_arguments(sample):
    seen = []

    def cb(packet, tstamp, length):
        seen.append((type(packet), type(tstamp), [type(x) for x in tstamp], type(length)))

    pcap.Offline(sample).loop(1, cb)
    assert seen == [(bytes, tuple, [int, int], int)]


def test_callback_must_be_callable(sample, sample_recs):
    f = pcap.Offline(sample)
    for bad in (None, 42, "print"):
        with pytest.raises(TypeError, match="callback must be callable"):
            f.dispatch(1, bad)
        with pytest.raises(TypeError, match="callback must be callable"):
            f.loop(1, bad)
    assert f.next() == sample_recs[0]  # checked before reading: nothing was consumed


def test_next_and_end_of_file(sample, sample_recs):
    f = pcap.Offline(sample)
    first = f.next()
    assert isinstance(first, tuple) and len(first) == 3
    packet, (sec, usec), length = first
    assert (packet, (sec, usec), length) == sample_recs[0]
    rest = []
    while (r := f.next()) is not None:
        rest.append(r)
    assert [first] + rest == sample_recs
    assert f.next() is None and f.next() is None
    assert list(f) == []


def test_iteration(sample, sample_recs):
    f = pcap.Offline(sample)
    assert iter(f) is f
    f.next()
    f.next()
    assert [r for r in f] == sample_recs[2:]
    with pytest.raises(StopIteration):
        next(f)
    with pcap.Offline(sample) as f:
        assert [(len(p), ts, n) for p, ts, n in f] == [(len(p), ts, n) for p, ts, n in sample_recs]


def test_mixing_read_styles(mixed):
    path, recs = mixed
    f = pcap.Offline(path)
    got = [f.next()]
    got += collect(f, "dispatch", 10)
    got.append(next(f))
    got += collect(f, "loop", 100)
    got += [r for _, r in zip(range(50), f)]
    got += collect(f, "dispatch", -1)
    assert got == recs


def test_context_manager(sample):
    with pcap.Offline(sample) as f:
        assert f.next() is not None
    assert f.closed
    with pytest.raises(pcap.PcapError, match=r"^feed is closed \(not connected\)$"):
        f.next()
    # closing inside the block: __exit__ does not raise
    with pcap.Offline(sample) as f:
        f.close()
    # exceptions inside the block propagate and the feed is closed
    with pytest.raises(ZeroDivisionError):
        with pcap.Offline(sample) as f:
            1 / 0
    assert f.closed
    with pcap.Dead(pcap.DLT_EN10MB) as d:
        assert d.datalink() == pcap.DLT_EN10MB
    assert d.closed


# --- callback rules ------------------------------------------------------------


class Boom(Exception):
    pass


@pytest.mark.parametrize("method,cnt", [("loop", 0), ("loop", -1), ("loop", 10), ("dispatch", -1), ("dispatch", 0), ("dispatch", 10)])
@pytest.mark.parametrize("at", [1, 4, 10])
def test_exception_stops_at_once_and_propagates(sample, sample_recs, method, cnt, at):
    f = pcap.Offline(sample)
    calls = []
    exc = Boom("stop")

    def callback(packet, tstamp, length):
        calls.append(tstamp)
        if len(calls) == at:
            raise exc

    with pytest.raises(Boom) as info:
        getattr(f, method)(cnt, callback)
    assert info.value is exc
    assert len(calls) == at
    frames = [fr.name for fr in traceback.extract_tb(info.value.__traceback__)]
    assert frames[-1] == "callback"
    # nothing lost, nothing repeated: the next read starts after the packet
    # the callback raised on, whatever the count was
    assert collect(f, "dispatch", 1) == sample_recs[at:at + 1]
    assert [r for r in f] == sample_recs[at + 1:]


@pytest.mark.parametrize("exc_type", [pcap.PcapError, KeyboardInterrupt, SystemExit, Boom])
def test_special_exceptions_propagate_unchanged(sample, exc_type):
    f = pcap.Offline(sample)
    exc = exc_type("from the callback")
    calls = [0]

    def callback(*args):
        calls[0] += 1
        if calls[0] == 2:
            raise exc

    with pytest.raises(exc_type) as info:
        f.loop(-1, callback)
    assert info.value is exc and calls == [2]
    assert str(info.value) == "from the callback"
    assert f.next() is not None


def test_exception_in_last_counted_packet_leaves_no_stale_break(sample, sample_recs):
    f = pcap.Offline(sample)

    def raise_on_third(packet, tstamp, length):
        if tstamp == sample_recs[2][1]:
            raise Boom()

    with pytest.raises(Boom):
        f.dispatch(3, raise_on_third)
    assert collect(f, "dispatch", 2) == sample_recs[3:5]
    assert collect(f, "loop", 2) == sample_recs[5:7]
    assert f.next() == sample_recs[7]


def test_callback_closing_its_feed(sample, sample_recs):
    f = pcap.Offline(sample)
    errors = []

    def callback(*args):
        try:
            f.close()
        except pcap.PcapError as e:
            errors.append(str(e))

    assert f.loop(3, callback) == 3
    assert len(errors) == 3
    assert errors[0].startswith("feed is busy")
    assert not f.closed
    assert f.next() == sample_recs[3]


def test_callback_reentering_its_feed(sample, sample_recs):
    f = pcap.Offline(sample)
    seen = []

    def callback(*args):
        for call in (lambda: f.dispatch(1, print), lambda: f.loop(1, print), f.next, f.datalink,
                     lambda: f.filter("tcp"), f.ftell, lambda: list(f)):
            with pytest.raises(pcap.PcapError, match="^feed is busy"):
                call()
        seen.append(args)

    assert f.dispatch(2, callback) == 2
    assert seen == sample_recs[:2]
    assert collect(f, "dispatch", -1) == sample_recs[2:]  # the failed filter() did not apply


def test_uncaught_reentry_error_propagates(sample, sample_recs):
    f = pcap.Offline(sample)
    with pytest.raises(pcap.PcapError, match="^feed is busy") as info:
        f.loop(0, lambda *a: f.close())
    assert traceback.extract_tb(info.value.__traceback__)[-1].name == "<lambda>"
    assert list(f) == sample_recs[1:]


def test_other_thread_touching_a_feed_being_read(sample):
    f = pcap.Offline(sample)
    results = []

    def other():
        try:
            f.next()
        except pcap.PcapError as e:
            results.append(str(e))

    def callback(*args):
        t = threading.Thread(target=other)
        t.start()
        t.join(10)
        assert not t.is_alive(), "deadlock"

    f.dispatch(1, callback)
    assert len(results) == 1 and results[0].startswith("feed is busy")


def test_callback_using_another_feed(sample, sample_recs):
    outer, inner = pcap.Offline(sample), pcap.Offline(sample)
    pairs = []
    outer.loop(0, lambda *a: pairs.append((a, inner.next())))
    assert pairs == list(zip(sample_recs, sample_recs))


def test_kept_packets_stay_intact(mixed):
    """Packets are Python objects of their own: keeping them while later
    reads refill the buffers changes nothing."""
    path, recs = mixed
    f = pcap.Offline(path)
    kept = []
    f.loop(0, lambda p, t, n: kept.append((p, t, n)))
    assert kept == recs
    f = pcap.Offline(path)
    kept = [f.next() for _ in range(3)]
    f.loop(0, lambda *a: None)
    f.close()
    assert kept == recs[:3]


# --- signals ---------------------------------------------------------------------

SIGINT_SCRIPT = textwrap.dedent("""
    import os, signal, sys, time, traceback
    from openbsd import pcap
    path, kind, expr = sys.argv[1], sys.argv[2], sys.argv[3]
    size = os.path.getsize(path)
    r, w = os.pipe()
    parent = os.getpid()
    if os.fork() == 0:
        time.sleep(0.3)
        os.write(w, repr(time.monotonic()).encode())
        os.kill(parent, signal.SIGINT)
        os._exit(0)
    rounds = 0
    try:
        while True:
            f = pcap.Offline(path)
            if expr:
                f.filter(expr)
            rounds += 1
            f.loop(0, slice if kind == "builtin" else pcap.Dumper(f, os.devnull))
            f.close()
    except KeyboardInterrupt as e:
        caught = time.monotonic()
        sent = float(os.read(r, 100))
        line = traceback.extract_tb(e.__traceback__)[-1].line
        # SIGINT may land outside loop() (in Offline(), say, when f is the
        # previous, closed feed): the test then tries again.
        off = f.ftell() if line.startswith("f.loop(") else -1
        print(rounds, off, size, caught - sent, line)
""")


@pytest.mark.parametrize("kind,expr", [
    ("builtin", ""),
    ("dumper", ""),
    ("builtin", "udp"),
], ids=["slice", "Dumper", "filter-rejecting-all"])
def test_sigint_stops_a_long_loop(big_file, tmp_path, kind, expr):
    """The callback is C code (no bytecode runs, so the interpreter never
    checks for signals by itself); the file is read again and again until
    SIGINT arrives, which must stop loop() in the middle of the file."""
    env = dict(os.environ, PYTHONPATH=os.pathsep.join(sys.path))
    script = tmp_path / "sigint.py"
    script.write_text(SIGINT_SCRIPT)
    for attempt in range(3):
        r = subprocess.run([sys.executable, str(script), str(big_file), kind, expr],
                           capture_output=True, text=True, timeout=60, env=env)
        assert r.returncode == 0, r.stderr
        rounds, off, size, latency, line = r.stdout.split(" ", 4)
        # A signal that lands after the last check of a round (signals are
        # checked every 1024 records) stops loop() at the file's end, as it
        # should: the test then tries again for one in the middle.
        if line.strip().startswith("f.loop(") and int(off) < int(size):
            break
    else:
        pytest.fail(f"SIGINT never stopped loop() in the middle of the file: {r.stdout}")
    assert 24 < int(off) < int(size), "interrupted in the middle of the file"
    assert float(latency) < 0.5


PIPE_SCRIPT = textwrap.dedent("""
    import os, signal, subprocess, sys, time
    from openbsd import pcap
    fifo, head, tail = sys.argv[1], sys.argv[2], sys.argv[3]
    # the writer sends the header and three packets, then pauses 3 s; SIGINT
    # comes while the read waits for the rest
    writer = subprocess.Popen([sys.executable, "-c",
        "import sys, time; f = open(sys.argv[1], 'wb'); f.write(open(sys.argv[2], 'rb').read()); f.flush();"
        "time.sleep(3); f.write(open(sys.argv[3], 'rb').read())", fifo, head, tail])
    f = pcap.Offline(fifo)
    got = []
    subprocess.Popen(["sh", "-c", "sleep 0.5; kill -INT %d" % os.getpid()])
    try:
        f.loop(0, lambda *a: got.append(a))
        print("finished", len(got))
    except KeyboardInterrupt:
        print("KeyboardInterrupt", len(got))
    except pcap.PcapError as e:
        print("PcapError", len(got), e)
    writer.wait()
""")


def test_sigint_while_waiting_on_a_pipe(sample, tmp_path):
    data = sample.read_bytes()
    cut = 24 + sum(16 + len(p) for p, _, _ in pcaptools.parse_pcap(data)[1][:3])  # three whole packets
    (tmp_path / "head").write_bytes(data[:cut])
    (tmp_path / "tail").write_bytes(data[cut:])
    fifo = tmp_path / "fifo"
    os.mkfifo(fifo)
    script = tmp_path / "pipe.py"
    script.write_text(PIPE_SCRIPT)
    env = dict(os.environ, PYTHONPATH=os.pathsep.join(sys.path))
    r = subprocess.run([sys.executable, str(script), str(fifo), str(tmp_path / "head"), str(tmp_path / "tail")],
                       capture_output=True, text=True, timeout=60, env=env)
    assert r.returncode == 0, r.stderr
    assert r.stdout.split()[:2] == ["KeyboardInterrupt", "3"], r.stdout


def test_iteration_through_itertools_keeps_every_object(mixed):
    """Consumers that hold results in odd ways (zip and enumerate reuse their
    own tuples, deque drops old ones, dict keys keep timestamps...) always
    see the packets as they are in the file."""
    import collections
    import itertools
    path, recs = mixed
    pairs = list(zip(pcap.Offline(path), pcap.Offline(path)))
    assert [a for a, b in pairs] == recs and all(a == b for a, b in pairs)
    f = pcap.Offline(path)
    assert list(zip(f, f)) == list(zip(recs[0::2], recs[1::2]))
    assert [r for _, r in enumerate(pcap.Offline(path))] == recs
    assert list(itertools.islice(pcap.Offline(path), 100, 200, 7)) == recs[100:200:7]
    assert list(collections.deque(pcap.Offline(path), maxlen=3)) == recs[-3:]
    by_ts = {ts: (p, n) for p, ts, n in pcap.Offline(path)}
    assert by_ts == {ts: (p, n) for p, ts, n in recs}
    assert list(map(lambda r: r[1], pcap.Offline(path))) == [ts for _, ts, _ in recs]
    assert sorted(pcap.Offline(path), key=lambda r: r[2]) == sorted(recs, key=lambda r: r[2])
    f = pcap.Offline(path)
    chunks = [list(itertools.islice(f, 333)) for _ in range(16)]
    assert [r for c in chunks for r in c] == recs
    f = pcap.Offline(path)
    nexts = [f.next() for _ in range(len(recs))]
    assert nexts == recs and f.next() is None


# -- breakloop() -----------------------------------------------------------------

@pytest.mark.parametrize("fmt", ["pcap", "pcapng"])
@pytest.mark.parametrize("mode", ["loop", "dispatch"])
def test_breakloop_in_the_callback_stops_after_that_packet(mixed, tmp_path, fmt, mode):
    """Classic pcap (read by the Rust reader) and pcapng (read by libpcap's
    own loop) stop alike, and the next read goes on from the next packet."""
    path = mixed[0] if fmt == "pcap" else pcaptools.editcap(mixed[0], tmp_path / "m.pcapng", "pcapng")
    want = [(bytes(p), ts) for p, ts, _ in pcap.Offline(str(path))]
    f = pcap.Offline(str(path))
    read = getattr(f, mode)
    got = []

    def cb(p, ts, n):
        got.append((bytes(p), ts))
        if len(got) in (10, 11, 500):
            f.breakloop()
    assert read(-1 if mode == "dispatch" else 0, cb) == 10
    assert read(-1 if mode == "dispatch" else 0, cb) == 1
    assert read(-1 if mode == "dispatch" else 0, cb) == 489
    assert read(-1 if mode == "dispatch" else 0, cb) == len(want) - 500
    assert got == want


def test_breakloop_before_a_read_makes_it_return_zero(sample):
    f = pcap.Offline(sample)
    f.breakloop()
    assert f.loop(0, lambda *a: None) == 0
    assert f.dispatch(3, lambda *a: None) == 3        # used up by the first
    f.breakloop()
    assert f.next()[1] == (1100000000, 55380)        # next() does not look at it
    assert f.loop(0, lambda *a: None) == 0
    assert f.loop(0, lambda *a: None) == 10


def test_breakloop_from_another_thread_stops_a_long_loop(big_file):
    """The reading thread's callback runs Python, which lets another thread
    run now and then: breakloop() from there stops the loop early."""
    f = pcap.Offline(str(big_file))
    started = threading.Event()
    count = [0]

    def cb(p, ts, n):
        count[0] += 1
        if count[0] == 1000:
            started.set()
    result = []
    th = threading.Thread(target=lambda: result.append(f.loop(0, cb)))
    th.start()
    assert started.wait(10)
    f.breakloop()
    th.join(30)
    assert not th.is_alive()
    assert 1000 <= result[0] == count[0] < 2_000_000
    assert f.loop(0, cb) == 2_000_000 - result[0]    # the rest of the file


# -- counts too large for C ---------------------------------------------------------

@pytest.mark.parametrize("mode", ["loop", "dispatch"])
@pytest.mark.parametrize("cnt", [2**63, 2**70, -2**63 - 1, -2**70])
def test_a_count_too_large_for_c_means_no_limit(sample, mode, cnt):
    """A count past what the C type holds saturates: no limit (a negative
    one of any size is -1), never OverflowError."""
    got = []
    with pcap.Offline(sample) as f:
        assert getattr(f, mode)(cnt, lambda *p: got.append(p[1])) == 14
        assert getattr(f, mode)(cnt, lambda *p: got.append(p[1])) == 0
    assert got == [t for _, t, _ in pcaptools.read_pcap(sample)[1]]
