"""Smoke checks of the packet decoder's object lifetimes and lookups (the
oracle tests cover field values)."""

import gc
import struct
import weakref

import pytest

from openbsd import packet as P
from openbsd import pcap

# Eth/IPv4/TCP SYN (first packet of captures/openbsd/ethernet).
PKT = bytes.fromhex(
    "0002b341aac300096be0cace08004510004058e440004006"
    "6069c0a80009c0a800011f4c001655b704130000000"
    "0b0024000ca920000020405b4010104020103030001010"
    "80a75f3baf300000000"
)


@pytest.fixture
def capture(tmp_path):
    path = tmp_path / "smoke.pcap"
    with open(path, "wb") as f:
        f.write(struct.pack("<IHHiIII", 0xA1B2C3D4, 2, 4, 0, 0, 65535, 1))
        for i in range(500):
            f.write(struct.pack("<IIII", 1000 + i, i, len(PKT), len(PKT)) + PKT)
    return str(path)


def test_lookups_are_views_of_the_same_layer():
    p = P.Packet(P.Ethernet, PKT)
    assert p["ip"] == p["IP"] and hash(p["ip"]) == hash(p["IP"])
    assert p["ip"] is not p["IP"]
    assert p["tcp"] == p.getProtoList()[2]
    assert p["ip"] != p["tcp"]
    assert p["ip"] != P.Packet(P.Ethernet, PKT)["ip"]
    assert p["ip"] != "IP"
    assert p["ip"].packet is p


def test_protocol_object_outlives_its_packet_reference():
    ip = P.Packet(P.Ethernet, PKT)["ip"]
    gc.collect()
    assert ip.src == "192.168.0.9"
    assert ip.packet["tcp"].dstPort == 22


def test_packets_are_freed_after_the_callback_without_the_collector(capture):
    gc.disable()
    try:
        seen, refs = [], []

        def cb(p, ts, length):
            seen.append((p["ip"].src, p["tcp"].srcPort))
            refs.append(weakref.ref(p))

        with pcap.Offline(capture) as f:
            assert f.loop(-1, cb, 1) == 500
        assert [r() for r in refs] == [None] * 500
    finally:
        gc.enable()
    assert seen[0] == ("192.168.0.9", 8012)


def test_kept_packets_stay_valid_and_are_freed(capture):
    kept = []
    with pcap.Offline(capture) as f:
        f.loop(-1, lambda p, ts, n: kept.append((p, p["tcp"])), 1)
    assert len(kept) == 500
    assert all(t.srcPort == 8012 and p["tcp"] == t and t.packet is p for p, t in kept)
    refs = [weakref.ref(p) for p, _ in kept]
    del kept
    assert [r() for r in refs] == [None] * 500


def test_next_and_iteration_interpret(capture):
    with pcap.Offline(capture) as f:
        p, ts, length = f.next(1)
        assert repr(p).startswith("[Eth: 00:09:6b:e0:ca:ce->00:02:b3:41:aa:c3] [IP:")
        assert p.linktype == 1
    with pcap.Offline(capture) as f:
        assert sum(1 for _ in f) == 500


def test_truncated_and_garbage_input_never_raises():
    for n in range(len(PKT) + 1):
        p = P.Packet(P.Ethernet, PKT[:n])
        for o in p.getProtoList():
            repr(o)
            o.payload
    assert repr(P.Packet(P.IP, b"\x45")) == ""
