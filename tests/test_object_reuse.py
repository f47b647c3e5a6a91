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
