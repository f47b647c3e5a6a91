"""Reading a FIFO (or any stream that may wait for data) does not hold the
GIL while it waits: the writer may be another thread of the same process.
Before the fix this deadlocked (the reader waited in libpcap's fread for
bytes the writer thread could not write without the GIL); the test runs in a
subprocess with a timeout so that a regression fails instead of hanging."""

import subprocess
import sys
import textwrap

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
