"""The per-packet path reuses timestamp and result tuples only when nobody
else holds them: whatever a caller keeps must stay exactly as it was handed
out. These tests keep every object in every way and compare with tcpdump's
view of the same file (independent of our reader)."""

import subprocess

import pytest

from openbsd import pcap

SAMPLE = pytest.importorskip("openbsd.__main__").SAMPLE


def tcpdump_records(path):
    out = subprocess.run(
        ["tcpdump", "-tt", "-nr", path], capture_output=True, text=True, check=True
    ).stdout
    recs = []
    for line in out.splitlines():
        sec, usec = line.split()[0].split(".")
        recs.append((int(sec), int(usec)))
    return recs


@pytest.fixture(scope="module")
def expected():
    return tcpdump_records(SAMPLE)


def test_callback_keeps_timestamps(expected):
    kept = []
    pcap.Offline(SAMPLE).loop(0, lambda p, ts, n: kept.append(ts))
    assert kept == expected
    assert len({id(t) for t in kept}) == len(kept)


def test_callback_keeps_whole_arguments(expected):
    kept = []
    pcap.Offline(SAMPLE).loop(0, lambda *args: kept.append(args))
    assert [ts for _, ts, _ in kept] == expected
    assert all(len(p) == n for p, _, n in kept)


def test_next_results_kept(expected):
    f = pcap.Offline(SAMPLE)
    results = [f.next() for _ in expected]
    assert f.next() is None
    assert [r[1] for r in results] == expected
    assert len({id(r) for r in results}) == len(results)


def test_next_result_overwritten_only_when_dropped(expected):
    f = pcap.Offline(SAMPLE)
    r = f.next()
    first = r
    r = f.next()
    r = f.next()
    assert first[1] == expected[0]
    assert r[1] == expected[2]


def test_iteration_keeps_tuples(expected):
    seen, whole = [], []
    for rec in pcap.Offline(SAMPLE):
        whole.append(rec)
    for p, ts, n in pcap.Offline(SAMPLE):
        seen.append(ts)
    assert seen == expected
    assert [r[1] for r in whole] == expected


# -- packet bytes ---------------------------------------------------------------
# A `bytes` the caller let go of is refilled for a later packet of the same
# size (src/recycle.rs). Whatever is kept must never change, and a refilled
# object must behave as a new one (contents, hash, equality).

@pytest.fixture(scope="module")
def same_sizes(tmp_path_factory):
    """3000 records of random contents and sizes around the pool's size
    classes (64 bytes wide, up to 2048): most packets reuse an object made
    for another size of the same class."""
    import random
    from pcaptools import write_pcap
    rng = random.Random(7)
    recs = []
    for i in range(3000):
        size = (2, 3, 60, 64, 65, 577, 590, 600, 640, 1514, 2047, 2048, 2049, 3000)[rng.randrange(14)]
        recs.append((rng.randbytes(size), (1_600_000_000 + i, i % 1_000_000), size))
    path = write_pcap(tmp_path_factory.mktemp("reuse") / "same_sizes.pcap", recs)
    return path, [r[0] for r in recs]


def test_dropped_packets_read_right(same_sizes):
    path, want = same_sizes
    got = []

    def cb(p, ts, n):
        # equality, hash (cached in the object) and length of each packet,
        # with the packet itself dropped on return
        got.append((p == want[len(got)], hash(p) == hash(want[len(got)]), len(p) == n))
    assert pcap.Offline(path).loop(0, cb) == len(want)
    assert got == [(True, True, True)] * len(want)


def test_packets_kept_stay_intact(same_sizes):
    path, want = same_sizes
    kept, views = {}, []
    i = [0]

    def cb(p, ts, n):
        if i[0] % 3 == 0:
            kept[i[0]] = p
        elif i[0] % 3 == 1:
            views.append((i[0], memoryview(p)))  # a view holds the object too
        i[0] += 1
    pcap.Offline(path).loop(0, cb)
    assert all(kept[k] == want[k] for k in kept)
    assert all(bytes(v) == want[k] for k, v in views)
    assert len(kept) == 1000 and len(views) == 1000


def test_next_and_iteration_reuse(same_sizes):
    path, want = same_sizes
    f = pcap.Offline(path)
    ok, kept = [], []
    for i in range(len(want)):
        p, ts, n = f.next()
        ok.append(p == want[i] and hash(p) == hash(want[i]))
        if i % 5 == 0:
            kept.append((i, p))
        del p
    assert f.next() is None
    assert all(ok)
    assert all(p == want[i] for i, p in kept)
    got = [p == w for (p, _, _), w in zip(pcap.Offline(path), want)]
    assert got == [True] * len(want)
    whole = list(pcap.Offline(path))
    assert [r[0] for r in whole] == want
    # iteration keeping some packets, the loop variable holding the last
    kept, ok = [], []
    for i, (p, ts, n) in enumerate(pcap.Offline(path)):
        ok.append(p == want[i] and hash(p) == hash(want[i]) and len(p) == n)
        if i % 4 == 1:
            kept.append((i, p))
    assert all(ok) and len(ok) == len(want)
    assert all(p == want[i] for i, p in kept)


def test_dispatch_in_pieces_reuses_safely(same_sizes):
    path, want = same_sizes
    f = pcap.Offline(path)
    got = []
    while f.dispatch(7, lambda p, ts, n: got.append(p if len(got) % 2 else bytes(p))) > 0:
        pass
    assert got == want


# -- decoded packets --------------------------------------------------------------
# With interpret=1 a Packet the caller let go of (no other reference, no
# protocol object, no weak reference) is decoded into again. Anything kept
# must stay exactly as handed out.

def _summary(p):
    """What a packet says about itself, for comparing kept packets later."""
    return (bytes(p), [type(x).__name__ for x in p.getProtoList()], repr(p))


@pytest.fixture(scope="module")
def decoded(mixed):
    """Each packet of the mixed capture, summarised from a fresh decode of
    its bytes (no reuse involved: Packet(Ethernet, data))."""
    from openbsd import packet
    path, recs = mixed
    return path, [_summary(packet.Packet(packet.Ethernet, r[0])) for r in recs]


def test_dropped_decoded_packets_read_right(decoded):
    path, want = decoded
    got = []
    pcap.Offline(str(path)).loop(0, lambda p, ts, n: got.append(_summary(p)), interpret=1)
    assert got == want


def test_decoded_packets_kept_in_every_way(decoded):
    import weakref
    path, want = decoded
    kept, views, refs, raws = {}, {}, {}, {}
    i = [0]

    def cb(p, ts, n):
        k = i[0]
        i[0] += 1
        if k % 4 == 0:
            kept[k] = p                       # the packet itself
        elif k % 4 == 1:
            views[k] = p.getProtoList()[-1]   # a protocol object holds it
        elif k % 4 == 2:
            refs[k] = (weakref.ref(p), _summary(p))  # only a weak reference
        else:
            raws[k] = p.getRaw()              # its bytes, not the packet
    pcap.Offline(str(path)).loop(0, cb, interpret=1)
    assert all(_summary(p) == want[k] for k, p in kept.items())
    assert all(_summary(v.packet) == want[k] for k, v in views.items())
    assert all(raws[k] == want[k][0] for k in raws)
    for k, (r, s) in refs.items():
        assert s == want[k]
        p = r()
        assert p is None or _summary(p) == want[k]   # dead, or still itself
    assert len(kept) + len(views) + len(refs) + len(raws) == len(want)


def test_decoded_next_and_iteration(decoded):
    path, want = decoded
    f = pcap.Offline(str(path))
    got, kept = [], []
    for k in range(len(want)):
        r = f.next(interpret=1)
        got.append(_summary(r[0]))
        if k % 7 == 0:
            kept.append((k, r[0]))
        del r
    assert f.next() is None
    assert got == want
    assert all(_summary(p) == want[k] for k, p in kept)


def test_modified_packet_dropped_then_reused(decoded):
    """A packet changed by the callback and dropped is decoded into again:
    the next packets must not inherit the change."""
    path, want = decoded
    got = []

    def cb(p, ts, n):
        got.append(_summary(p))
        if "ip" in p:
            p["ip"].ttl = 1
            p.finalise()
    pcap.Offline(str(path)).loop(0, cb, interpret=1)
    assert got == want
