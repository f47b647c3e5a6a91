"""The fast reader maps a classic pcap file's 16 MiB windows where that is
cheap and reads them with pread where the page cache makes mapping costly
(src/io/map_cost.rs): pages cached 4 KiB at a time cost 3-6 ms a window
to map. A file is put in that state here (its pages dropped from the
cache, then read back one 4 KiB page at a time in random order, read-ahead
off), and read: after its first (costly) window the reader goes on with
pread, tries a window again after 16 MiB, then after twice as many bytes
each time a try was costly again, and hands out every record byte for
byte whichever way it read it."""

import os
import random
import sys
from pathlib import Path

import pytest

from openbsd import pcap
from pcaptools import write_pcap

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "benches"))
from bench import scatter_cache as cache_4k_at_a_time  # noqa: E402  (the bench's costly state)

MIB = 1 << 20


@pytest.fixture(scope="module")
def big(tmp_path_factory):
    """A 104 MiB capture of records of random sizes (60-1514 bytes), each
    starting with its number; and its records."""
    rng = random.Random(1607)
    base = rng.randbytes(1514)
    recs, size, i = [], 24, 0
    while size < 104 * MIB:
        n = rng.randint(60, 1514)
        recs.append((i.to_bytes(4, "big") + base[4:n], (1_700_000_000 + i // 1000, i % 1000 * 1000), n + 7))
        size += 16 + n
        i += 1
    path = write_pcap(tmp_path_factory.mktemp("cache") / "big.pcap", recs)
    return path, recs


def runs(kinds):
    """The kinds, consecutive repeats folded."""
    out = []
    for k in kinds:
        if not out or out[-1] != k:
            out.append(k)
    return out


@pytest.mark.skipif(not hasattr(os, "posix_fadvise"), reason="no posix_fadvise")
def test_costly_windows_are_read_and_mapping_tried_again(big):
    path, recs = big
    cache_4k_at_a_time(path)
    f = pcap.Offline(str(path))
    got, kinds = [], []
    for rec in f:
        got.append(rec)
        kinds.append(f._reader())
    f.close()
    assert got == recs
    # Windows mapped (each costly) at 0, 32 and 80 MiB; 16, 32 and 64 MiB
    # read after them (the last to the end of the file).
    assert runs(kinds) == ["mapped", "buffer"] * 3
    tries, at = [], 0
    for _ in range(3):
        tries.append(kinds.index("mapped", at))
        at = kinds.index("buffer", tries[-1])
    offs = [24 + sum(16 + len(p) for p, _, _ in recs[:i]) for i in tries]
    assert [round(o / MIB) for o in offs] == [0, 32, 80]


@pytest.mark.skipif(not hasattr(os, "posix_fadvise"), reason="no posix_fadvise")
def test_tables_equal_across_every_switch(big):
    """The columnar path (runs of records taken whole from the bytes at
    hand) gives the file's records in the costly state too."""
    pa = pytest.importorskip("pyarrow")
    path, recs = big
    cache_4k_at_a_time(path)
    f = pcap.Offline(str(path))
    t = pa.table(f.batches(columns=["ts", "caplen", "len"]))
    f.close()
    assert t.column("caplen").to_pylist() == [len(p) for p, _, _ in recs]
    assert t.column("len").to_pylist() == [w for _, _, w in recs]
    ns = [(s * 1_000_000 + us) * 1000 for _, (s, us), _ in recs]
    assert t.column("ts").cast(pa.int64()).to_pylist() == ns
