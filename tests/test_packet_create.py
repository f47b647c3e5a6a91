"""Packets built with ``createPacket(*classes)`` (issue 5), checked by
independent oracles:

- tshark, with checksum validation switched on for IP, TCP and UDP (ICMP,
  ICMPv6 and IGMP are always validated), dissects every built packet: the
  protocol chain is the one asked for, every checksum is good, the lengths
  are the packet's, and it reads back the defaults of the contract and the
  values we set;
- scapy rebuilds the same packet with its own length and checksum
  computation (the fields deleted, ``bytes(cls(bytes(pkt)))``): the bytes
  are equal;
- our own decoder reads back the stack, the defaults and what was set.

And the legacy ping.py (``createPacket(IP, ICMPEchoRequest)``, set
``dst``/``identifier``/``seq_num``/``payload``, ``finalise()``, send with a
raw socket) really gets echo replies over the loopback interface (as
root).
"""

import os
import random
import select
import socket
import struct
import time

import pytest
from scapy.all import Ether, IP as S_IP
from scapy.layers.inet6 import IPv6 as S_IPv6

from openbsd import packet, pcap
from openbsd.packet import (ARP, AH, DHCP, ESP, ICMP6EchoRequest, ICMP6NeighbourAdvertisement,
                            ICMP6NeighbourSolicitation, ICMPAddressMaskReply, ICMPEchoReply,
                            ICMPEchoRequest, ICMPTimestampRequest, IGMP, IP, PF, TCP, UDP, VLAN,
                            Enc, Ethernet, IPv6, IPv6DestinationOptionsHeader,
                            IPv6FragmentHeader, IPv6HopByHopHeader, Loopback, Packet, createPacket)
from packet_helpers import (LINKTYPE_ENC, LINKTYPE_ETHERNET, LINKTYPE_LOOP, LINKTYPE_NULL,
                            LINKTYPE_PFLOG, LINKTYPE_RAW, TSHARK, tshark_rows, type_names,
                            write_pcap)

CHECKSUM_PREFS = ["-o", "ip.check_checksum:TRUE", "-o", "tcp.check_checksum:TRUE",
                  "-o", "udp.check_checksum:TRUE"]
STATUS_FIELDS = ["ip.checksum.status", "tcp.checksum.status", "udp.checksum.status",
                 "icmp.checksum.status", "icmpv6.checksum.status", "igmp.checksum.status"]
GOOD = "1"  # tshark's PROTO_CHECKSUM_E_GOOD


def dissect(tmp_path, linktype, packets, fields):
    """tshark's reading (checksums validated) of ``packets``, one row each."""
    f = write_pcap(tmp_path / f"built-{random.getrandbits(32):08x}.pcap", linktype,
                   [bytes(p) for p in packets])
    rows = tshark_rows(f, ["frame.protocols", *STATUS_FIELDS, *fields], CHECKSUM_PREFS)
    assert len(rows) == len(packets)
    return rows


def assert_checksums_good(row, expected_count):
    statuses = [s for f in STATUS_FIELDS for s in row[f]]
    assert statuses == [GOOD] * expected_count, row


# (classes, link type, tshark's protocol chain after the link layer,
#  number of checksums tshark validates)
STACKS = [
    ((Ethernet, IP, TCP), LINKTYPE_ETHERNET, "eth:ethertype:ip:tcp", 2),
    ((Ethernet, IP, UDP), LINKTYPE_ETHERNET, "eth:ethertype:ip:udp", 2),
    ((Ethernet, IP, ICMPEchoRequest), LINKTYPE_ETHERNET, "eth:ethertype:ip:icmp", 2),
    ((IP, ICMPEchoRequest), LINKTYPE_RAW, "raw:ip:icmp", 2),
    ((IP, ICMPEchoReply), LINKTYPE_RAW, "raw:ip:icmp", 2),
    ((IP, ICMPTimestampRequest), LINKTYPE_RAW, "raw:ip:icmp", 2),
    ((IP, ICMPAddressMaskReply), LINKTYPE_RAW, "raw:ip:icmp", 2),
    ((IP, TCP), LINKTYPE_RAW, "raw:ip:tcp", 2),
    ((Loopback, IPv6, UDP), LINKTYPE_NULL, "null:ipv6:udp", 1),
    ((Loopback, IP, TCP), LINKTYPE_LOOP, "null:ip:tcp", 2),
    ((Ethernet, IPv6, TCP), LINKTYPE_ETHERNET, "eth:ethertype:ipv6:tcp", 1),
    ((Ethernet, IPv6, ICMP6EchoRequest), LINKTYPE_ETHERNET, "eth:ethertype:ipv6:icmpv6", 1),
    ((Ethernet, IPv6, ICMP6NeighbourSolicitation), LINKTYPE_ETHERNET,
     "eth:ethertype:ipv6:icmpv6", 1),
    ((Ethernet, IPv6, IPv6HopByHopHeader, UDP), LINKTYPE_ETHERNET,
     "eth:ethertype:ipv6:ipv6.hopopts:udp", 1),
    ((Ethernet, IPv6, IPv6DestinationOptionsHeader, ICMP6EchoRequest), LINKTYPE_ETHERNET,
     "eth:ethertype:ipv6:ipv6.dstopts:icmpv6", 1),
    ((Ethernet, IP, IGMP), LINKTYPE_ETHERNET, "eth:ethertype:ip:igmp:igmp", 2),
    ((Ethernet, VLAN, IP, UDP), LINKTYPE_ETHERNET, "eth:ethertype:vlan:ethertype:ip:udp", 2),
    ((Ethernet, IP, IP, TCP), LINKTYPE_ETHERNET, "eth:ethertype:ip:ip:tcp", 3),
    ((Ethernet, IP, IPv6, UDP), LINKTYPE_ETHERNET, "eth:ethertype:ip:ipv6:udp", 2),
    ((Ethernet, IP, UDP, DHCP), LINKTYPE_ETHERNET, "eth:ethertype:ip:udp:dhcp", 2),
    ((Ethernet, ARP), LINKTYPE_ETHERNET, "eth:ethertype:arp", 0),
    ((Ethernet, IP, ESP), LINKTYPE_ETHERNET, "eth:ethertype:ip:esp", 1),
    ((PF, IP, TCP), LINKTYPE_PFLOG, "pflog:ip:tcp", 2),
    ((Enc, IP, UDP), LINKTYPE_ENC, "enc:ip:udp", 2),
]


def stack_id(s):
    return "-".join(c.__name__ for c in s[0])


@pytest.mark.skipif(TSHARK is None, reason="tshark is a test dependency")
@pytest.mark.parametrize("stack", STACKS, ids=stack_id)
def test_built_packets_are_valid_for_tshark(tmp_path, stack):
    classes, linktype, chain, nsums = stack
    p = createPacket(*classes)
    # Our decoder finds the stack that was asked for.
    assert [type(x) for x in p.getProtoList()] == list(classes)
    assert p.linktype is None
    row, = dissect(tmp_path, linktype, [p], ["ip.len", "ipv6.plen", "udp.length", "ip.ttl",
                                             "ip.hdr_len", "tcp.hdr_len", "ip.version"])
    protocols = row["frame.protocols"][0]
    assert protocols == chain, protocols
    assert_checksums_good(row, nsums)
    if "ip" in p:
        ip = p["ip"]
        assert (ip.version, ip.headerLength, ip.ttl) == (4, 5, 255)
        assert row["ip.len"][0] == str(ip.length) == str(len(p) - ip.offset)
        assert row["ip.ttl"][0] == "255" and row["ip.hdr_len"][0] == "20"
    if "ipv6" in p and "ip" not in p:
        v6 = p["ipv6"]
        assert v6.version == 6 and v6.payloadlength == len(p) - v6.offset - 40
        assert row["ipv6.plen"] == [str(v6.payloadlength)]
    if "tcp" in p:
        assert p["tcp"].dataOffset == 5 and row["tcp.hdr_len"] == ["20"]
    if "udp" in p:
        assert row["udp.length"] == [str(p["udp"].length)] == [str(len(p) - p["udp"].offset)]


def test_linking_fields_and_defaults():
    p = createPacket(Ethernet, IP, TCP)
    assert p["ethernet"].etype == 0x800 and p["ip"].protocol == 6
    assert createPacket(Ethernet, IPv6, UDP)["ethernet"].etype == 0x86DD
    assert createPacket(Ethernet, ARP)["ethernet"].etype == 0x806
    assert createPacket(Ethernet, VLAN, IP)["vlan"].etype == 0x800
    assert createPacket(Loopback, IP)["loopback"].addressFamily == 2
    assert createPacket(Loopback, IPv6)["loopback"].addressFamily == 24
    assert createPacket(IPv6, ICMP6EchoRequest)["ipv6"].nextheader == 58
    assert createPacket(IP, UDP)["ip"].protocol == 17
    assert createPacket(IP, IP)["ip"].protocol == 4
    assert createPacket(IPv6, IPv6FragmentHeader, TCP)["IPv6FragmentHeader"].nextheader == 6
    e = createPacket(IP, ICMPEchoRequest)["icmp"]
    assert (e.itype, e.code, e.identifier, e.seq_num, e.payload) == (8, 0, 0, 0, b"")
    assert type(e) is ICMPEchoRequest
    assert createPacket(IP, ICMPEchoReply)["icmp"].itype == 0
    assert createPacket(IP, packet.ICMP)["icmp"].itype == 8
    na = createPacket(IPv6, ICMP6NeighbourAdvertisement)["icmp6"]
    assert na.icmp6type == 136 and len(bytes(na.packet)) == 40 + 24
    d = createPacket(Ethernet, IP, UDP, DHCP)
    assert (d["udp"].srcPort, d["udp"].dstPort) == (68, 67)
    assert (d["dhcp"].op, d["dhcp"].cookie, d["dhcp"].options) == (1, 0x63825363, [])
    a = createPacket(Ethernet, ARP)["arp"]
    assert (a.hardware_type, a.protocol_type, a.hardware_size, a.protocol_size, a.opcode) == \
        (1, 0x800, 6, 4, 1)
    assert createPacket(PF, IP)["pf"].length == 45
    # A fresh packet is not modified: finalise() leaves it as it is.
    raw = bytes(p)
    p.finalise()
    assert bytes(p) == raw
    # The legacy initialise() re-decodes: nothing changes.
    p.initialise()
    p.initialize()
    assert bytes(p) == raw and [x.TYPE for x in p.getProtoList()] == ["Ethernet", "IP", "TCP"]


@pytest.mark.parametrize("classes, message", [
    ((IP, ARP), "createPacket: ARP cannot follow IP"),
    ((Ethernet, TCP), "createPacket: TCP cannot follow Ethernet"),
    ((TCP, IP), "createPacket: IP cannot follow TCP"),
    ((IP, DHCP), "createPacket: DHCP cannot follow IP"),
    ((Enc, TCP), "createPacket: TCP cannot follow Enc"),
    ((Ethernet, IPv6, IPv6HopByHopHeader, ARP), "createPacket: ARP cannot follow IPv6HopByHopHeader"),
    # ICMP and IGMP are IPv4's, ICMPv6 is IPv6's
    ((IP, ICMP6EchoRequest), "createPacket: ICMP6EchoRequest cannot follow IP"),
    ((IPv6, ICMPEchoRequest), "createPacket: ICMPEchoRequest cannot follow IPv6"),
    ((IPv6, IGMP), "createPacket: IGMP cannot follow IPv6"),
    ((IPv6, AH, ICMPEchoReply), "createPacket: ICMPEchoReply cannot follow AH"),
    ((IP, AH, ICMP6EchoRequest), "createPacket: ICMP6EchoRequest cannot follow AH"),
    ((IPv6, IPv6HopByHopHeader, ICMPEchoRequest), "createPacket: ICMPEchoRequest cannot follow IPv6HopByHopHeader"),
])
def test_impossible_stacks_are_refused(classes, message):
    with pytest.raises(ValueError) as e:
        createPacket(*classes)
    assert str(e.value) == message


def test_create_packet_argument_errors():
    with pytest.raises(TypeError, match="at least one protocol class"):
        createPacket()
    with pytest.raises(TypeError, match="not a protocol class"):
        createPacket(int)
    with pytest.raises(TypeError, match="not a protocol class"):
        createPacket(Ethernet, "IP")


def scapy_rebuild(raw, first="ether"):
    """scapy's own lengths and checksums for the same packet: every length
    and checksum field of IP, IPv6, TCP, UDP, ICMP and ICMPv6 deleted, then
    the packet built (and dissected and built once more, as a check that
    scapy reads what it wrote the same way)."""
    from scapy.all import ICMP as S_ICMP, TCP as S_TCP, UDP as S_UDP
    from scapy.layers.inet6 import _ICMPv6

    cls = {"ether": Ether, "ip": S_IP, "ipv6": S_IPv6}[first]
    # ``raw``: bytes, or a scapy packet with its changes already made.
    pkt = cls(raw) if isinstance(raw, bytes) else raw
    fields = {S_IP: ("len", "chksum"), S_IPv6: ("plen",), S_TCP: ("chksum",),
              S_UDP: ("len", "chksum"), S_ICMP: ("chksum",), _ICMPv6: ("cksum",)}
    layer = pkt
    deleted = 0
    while layer:
        # The headers quoted by ICMP errors (IPerror, UDPerror, ...) are
        # left as they are, like ours.
        for klass, names in fields.items():
            if isinstance(layer, klass) and not type(layer).__name__.endswith("error"):
                for f in names:
                    if f in layer.fields:
                        delattr(layer, f)  # also drops scapy's cached raw bytes
                        deleted += 1
        layer = layer.payload
    assert deleted, "nothing for scapy to recompute"
    out = bytes(cls(bytes(pkt)))
    return out


@pytest.mark.parametrize("classes, first", [
    ((Ethernet, IP, TCP), "ether"),
    ((Ethernet, IP, UDP), "ether"),
    ((Ethernet, IP, ICMPEchoRequest), "ether"),
    ((IP, ICMPEchoRequest), "ip"),
    ((Ethernet, IPv6, TCP), "ether"),
    ((Ethernet, IPv6, UDP), "ether"),
    ((Ethernet, IPv6, ICMP6EchoRequest), "ether"),
    ((IPv6, ICMP6EchoRequest), "ipv6"),
    ((Ethernet, IP, IP, UDP), "ether"),
], ids=lambda x: x if isinstance(x, str) else "-".join(c.__name__ for c in x))
def test_built_and_filled_packets_match_scapys_recomputation(classes, first):
    rnd = random.Random(hash(classes) & 0xFFFF)
    for _ in range(20):
        p = createPacket(*classes)
        if "ethernet" in p:
            e = p["ethernet"]
            e.src = "02:00:00:%02x:%02x:%02x" % tuple(rnd.randrange(256) for _ in range(3))
            e.dst = "02:00:00:aa:bb:cc"
        for ip in (x for x in p.getProtoList() if isinstance(x, IP)):
            ip.src = "10.%d.%d.%d" % tuple(rnd.randrange(256) for _ in range(3))
            ip.dst = "192.168.%d.%d" % (rnd.randrange(256), rnd.randrange(256))
            ip.ttl = rnd.randrange(256)
            ip.ident = rnd.randrange(65536)
            ip.flags = rnd.choice([0, "DF", ["df"]])
        if "ipv6" in p:
            v6 = p["ipv6"]
            v6.src = "2001:db8::%x" % rnd.randrange(1, 65536)
            v6.dst = "fe80::%x:%x" % (rnd.randrange(65536), rnd.randrange(1, 65536))
            v6.hoplimit = rnd.randrange(256)
            v6.flowlabel = rnd.randrange(1 << 20)
        if "tcp" in p:
            t = p["tcp"]
            t.srcPort, t.dstPort = rnd.randrange(65536), rnd.randrange(65536)
            t.seq_num, t.ack_num = rnd.randrange(1 << 32), rnd.randrange(1 << 32)
            t.flags = rnd.choice([["syn"], ["SYN", "ACK"], "psh", 0x18])
            t.window = rnd.randrange(65536)
            if rnd.random() < 0.5:
                t.options = [(2, b"\x05\xb4"), (1, b""), (3, b"\x07")]
        if "udp" in p:
            u = p["udp"]
            u.srcPort, u.dstPort = rnd.randrange(1024, 65536), rnd.randrange(1024, 65536)
        if "icmp" in p:
            p["icmp"].identifier = rnd.randrange(65536)
            p["icmp"].seq_num = rnd.randrange(65536)
        if "icmp6" in p:
            p["icmp6"].identifier = rnd.randrange(65536)
            p["icmp6"].seq_num = rnd.randrange(65536)
        inner = p.getProtoList()[-1]
        inner.payload = bytes(rnd.randrange(256) for _ in range(rnd.randrange(0, 300)))
        p.finalise()
        assert bytes(p) == scapy_rebuild(bytes(p), first)


def test_ping_bytes():
    """The legacy ping.py steps, checked byte by byte against a packet built
    by hand."""
    p = createPacket(IP, ICMPEchoRequest)
    p["ip"].src = "127.0.0.1"
    p["ip"].dst = "127.0.0.1"
    p["icmp"].identifier = 0x1234
    p["icmp"].seq_num = 7
    p["icmp"].payload = b"abcdefgh"
    p.finalise()
    icmp = struct.pack("!BBHHH", 8, 0, 0, 0x1234, 7) + b"abcdefgh"
    ip = struct.pack("!BBHHHBBH4s4s", 0x45, 0, 20 + len(icmp), 0, 0, 255, 1, 0,
                     socket.inet_aton("127.0.0.1"), socket.inet_aton("127.0.0.1"))

    def csum(b):
        s = sum(struct.unpack("!%dH" % (len(b) // 2), b))
        while s >> 16:
            s = (s & 0xFFFF) + (s >> 16)
        return ~s & 0xFFFF

    ip = ip[:10] + struct.pack("!H", csum(ip)) + ip[12:]
    icmp = icmp[:2] + struct.pack("!H", csum(icmp)) + icmp[4:]
    assert bytes(p) == ip + icmp
    assert p.getRaw() == ip + icmp
    q = Packet(IP, bytes(p))
    assert (q["icmp"].identifier, q["icmp"].seq_num, q["icmp"].payload) == (0x1234, 7, b"abcdefgh")


@pytest.mark.skipif(not hasattr(os, "geteuid") or os.geteuid() != 0,
                    reason="sending with a raw socket (IP_HDRINCL) needs root")
def test_legacy_ping_over_loopback_gets_echo_replies():
    """The legacy ping.py, for real (only its Python 2 syntax changed): a
    template packet from createPacket(IP, ICMPEchoRequest) with dst, ttl,
    the "df" flag and the identifier set; for each ping the sequence number
    and a timestamped payload, finalise(), sendto() on a raw ICMP socket
    with IP_HDRINCL; the replies read back from that socket with
    Packet(IP, reply) and p.has_key("icmpechoreply"). The same replies are
    captured on lo with Live and decoded."""
    identifier = random.randrange(1, 65536)
    dst = socket.gethostbyname("127.0.0.1")

    ppack = createPacket(IP, ICMPEchoRequest)
    ppack["ip"].dst = dst
    ppack["ip"].ttl = 64
    ppack["ip"].flags = "df"
    ppack["icmp"].identifier = identifier

    s = socket.socket(socket.AF_INET, socket.SOCK_RAW, socket.IPPROTO_ICMP)
    s.setsockopt(socket.IPPROTO_IP, socket.IP_HDRINCL, 1)
    captured = []
    replies = {}
    with pcap.Live("lo", 65535, 0, 100) as live:
        live.filter(f"icmp and icmp[0] == 0 and icmp[4:2] == {identifier}")
        try:
            for seq in range(3):
                ppack["icmp"].seq_num = seq
                stamp = time.time_ns() // 1000
                ppack["icmp"].payload = stamp.to_bytes(8, "big") + b"a" * 40
                ppack.finalise()
                assert s.sendto(ppack.getRaw(), (dst, 0)) == 20 + 8 + 48
            deadline = time.monotonic() + 5
            while time.monotonic() < deadline and (len(replies) < 3 or len(captured) < 3):
                live.dispatch(-1, lambda pkt, ts, length: captured.append(pkt), interpret=1)
                if select.select([s], [], [], 0.05)[0]:
                    reply = s.recvfrom(2000)[0]
                    p = Packet(IP, reply)
                    if p.has_key("icmpechoreply") and p["icmpechoreply"].identifier == identifier:
                        replies[p["icmp"].seq_num] = p
        finally:
            s.close()
    assert sorted(replies) == [0, 1, 2]
    for seq, p in replies.items():
        assert p["ip"].src == dst
        assert len(p.getRaw()) - p["icmp"].offset == 8 + 48
        sent_at = int.from_bytes(p["icmp"].payload[:8], "big")
        assert 0 <= time.time_ns() // 1000 - sent_at < 10_000_000
    assert len(captured) >= 3
    for pkt in captured:
        echo = pkt["ICMPEchoReply"]
        assert echo.identifier == identifier and echo.payload.endswith(b"a" * 40)
        assert pkt["ip"].src == pkt["ip"].dst == "127.0.0.1"


def test_inject_and_dumper_take_built_packets(tmp_path):
    p = createPacket(Ethernet, IP, UDP)
    p["udp"].payload = b"x" * 10
    p["ip"].dst = "10.1.2.3"
    p.finalise()
    out = tmp_path / "built.pcap"
    with pcap.Dumper(pcap.Dead(1, 65535), out) as d:
        d(p, (1, 2), len(p))
        p["udp"].dstPort = 9999  # modified after the first write
        d(p, (1, 3), len(p))
    got = []
    with pcap.Offline(str(out)) as f:
        f.loop(0, lambda pkt, ts, length: got.append(pkt), interpret=1)
    assert [x["udp"].dstPort for x in got] == [0, 9999]
    assert bytes(got[1]) == bytes(p)
    with pytest.raises(Exception, match="Offline feed"):
        pcap.Offline(str(out)).inject(p)


@pytest.mark.skipif(not hasattr(os, "geteuid") or os.geteuid() != 0,
                    reason="injecting on lo needs root")
def test_inject_a_modified_packet_on_lo():
    """Live.inject() of a modified Packet sends its current bytes: captured
    on lo, identical."""
    p = createPacket(Ethernet, IP, UDP)
    p["ip"].src = p["ip"].dst = "127.0.0.1"
    port = random.randrange(20000, 60000)
    p["udp"].srcPort = p["udp"].dstPort = port
    p["udp"].payload = os.urandom(16)
    p.finalise()
    got = []
    with pcap.Live("lo", 65535, 0, 100) as live:
        live.filter(f"udp port {port}")
        assert live.inject(p) == len(p)
        deadline = time.monotonic() + 5
        while time.monotonic() < deadline and not got:
            live.dispatch(-1, lambda pkt, ts, length: got.append(bytes(pkt)))
    assert got and got[0] == bytes(p)
