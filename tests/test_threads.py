"""Threads reading feeds at the same time.

Every test runs in a subprocess with a time limit, so that a deadlock fails
the test instead of hanging the suite.

Before the fix, the first packet any thread read asked (once per process,
under a `std::sync::OnceLock`) whether the interpreter's `bytes` layout is
the one the object pool writes; the answer runs Python code. A second thread
making its first read then waited on the lock while holding the GIL, and the
first waited for the GIL: four feeds read from four threads at once hung in
6 runs of 6.
"""

import subprocess
import sys
import textwrap

import pytest

from pcaptools import SAMPLE, read_pcap

# Reads SAMPLE from N threads at once, each on a feed of its own, `rounds`
# times; every thread starts its reads at a barrier. Prints, per round, the
# records each thread got as (len(packet), ts, length) lists.
SCRIPT = textwrap.dedent("""
    import json, os, sys, tempfile, threading
    from openbsd import pcap
    path, mode, n, rounds = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4])
    scratch = tempfile.mkdtemp()

    def read(f, how):
        got = []
        def keep(p, ts, length):
            got.append((bytes(p).hex(), list(ts), length))
        if how == "next":
            while (r := f.next()) is not None:
                keep(*r)
        elif how == "next-interpret":
            while (r := f.next(interpret=1)) is not None:
                keep(*r)   # a Packet: bytes() gives its frame
        elif how == "iter":
            for r in f:
                keep(*r)
        elif how == "loop":
            f.loop(0, keep)
        elif how == "dispatch":
            while f.dispatch(3, keep):
                pass
        elif how == "dumper":
            out = os.path.join(scratch, f"{threading.get_ident()}.pcap")
            with pcap.Dumper(f, out) as d:
                f.loop(0, d)
            with pcap.Offline(out) as back:
                back.loop(0, keep)
        return got

    modes = ["next", "next-interpret", "iter", "loop", "dispatch", "dumper"]
    results = []
    for r in range(rounds):
        feeds = [pcap.Offline(path) for _ in range(n)]
        hows = [mode if mode != "mixed" else modes[(i + r) % len(modes)] for i in range(n)]
        start = threading.Barrier(n)
        got = [None] * n
        def run(i):
            start.wait()
            got[i] = read(feeds[i], hows[i])
        threads = [threading.Thread(target=run, args=(i,)) for i in range(n)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        for f in feeds:
            f.close()
        results.append(got)
    print(json.dumps(results))
""")


def run(mode, n, rounds, timeout):
    r = subprocess.run([sys.executable, "-c", SCRIPT, str(SAMPLE), mode, str(n), str(rounds)],
                       capture_output=True, text=True, timeout=timeout)
    assert (r.returncode, r.stderr) == (0, "")
    return r.stdout


def expected():
    _, recs = read_pcap(SAMPLE)
    return [[p.hex(), list(ts), n] for p, ts, n in recs]


@pytest.mark.parametrize("mode", ["next", "iter", "loop", "dispatch", "next-interpret", "dumper"])
def test_first_reads_of_a_process_from_four_threads_at_once(mode):
    """A fresh process whose first reads are made by four threads at once
    (the state a process sets up on its first read is where it hung); three
    fresh processes per way of reading."""
    import json
    want = expected()
    for _ in range(3):
        [got] = json.loads(run(mode, 4, 1, timeout=30))
        assert got == [want] * 4


def test_stress_many_threads_on_many_feeds_repeatedly():
    """Eight threads on eight feeds of the same file, all starting at once,
    forty rounds, every way of reading mixed: every thread gets every record
    exactly, and nothing hangs."""
    import json
    want = expected()
    rounds = json.loads(run("mixed", 8, 40, timeout=120))
    assert len(rounds) == 40
    for got in rounds:
        assert got == [want] * 8
