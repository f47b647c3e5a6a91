"""Modifying decoded packets (issue 5): every field settable, payloads that
grow and shrink, ``finalise()``.

Oracles:

- tshark with checksum validation on (IP, TCP, UDP; ICMP, ICMPv6 and IGMP
  are always validated) reads every real capture of
  ``captures/openbsd/`` after our change and ``finalise()``: no checksum is
  bad, the ones of the protocols we changed are good, and it reads back the
  values we set;
- scapy makes the same change to the same packet and recomputes lengths
  and checksums itself: the bytes are equal;
- our own decoder, on the new bytes (round trip);
- the exact error messages of the contract for every kind of bad value.
"""

import types
import ipaddress
import inspect
import random
import struct

import pytest
from scapy.all import ICMP as S_ICMP, IP as S_IP, TCP as S_TCP, UDP as S_UDP, Ether, Raw
from scapy.layers.inet6 import ICMPv6EchoReply, ICMPv6EchoRequest, IPv6 as S_IPv6

from openbsd import packet, pcap
from openbsd.packet import (AH, ARP, DHCP, ESP, ICMP, ICMP6, ICMP6EchoRequest,
                            ICMP6NeighbourAdvertisement, ICMP6NeighbourSolicitation,
                            ICMP6PacketTooBig, ICMP6ParameterProblem, ICMPAddressMaskReply,
                            ICMPEchoRequest, ICMPParameterProblem, ICMPRedirect,
                            ICMPRouterAdvertisement, ICMPTimestampRequest, IGMP, IP, PF, SLL, SLL2,
                            TCP, UDP, VLAN, Enc, Ethernet, IPv6, IPv6DestinationOptionsHeader,
                            IPv6FragmentHeader, IPv6HopByHopHeader, IPv6RoutingHeader, Loopback,
                            Packet, PFOld, createPacket)
from packet_helpers import (CAPTURES, LINKTYPE_ENC, LINKTYPE_ETHERNET, LINKTYPE_LOOP,
                            LINKTYPE_PFLOG, LINKTYPE_PFLOG_OLD, TSHARK, read_feed,
                            read_file_records, tshark_rows, write_pcap)
from test_packet_create import CHECKSUM_PREFS, GOOD, STATUS_FIELDS, scapy_rebuild

OPENBSD = CAPTURES / "openbsd"


def capture_files():
    if not OPENBSD.is_dir():
        return []
    return sorted(f for f in OPENBSD.rglob("*") if f.is_file() and f.name != "README.md")


def capture_packets():
    """(label, packet, complete) for every packet of the OpenBSD captures;
    complete: not cut by the snap length."""
    out = []
    for f in capture_files():
        _, recs = read_file_records(f)
        for i, (p, (data, origlen)) in enumerate(zip(read_feed(f), recs)):
            out.append((f"{f.relative_to(OPENBSD)}#{i}", p, len(data) == origlen))
    return out


# Link types to write our packets with, by their first protocol (the Linux
# numbers tshark knows).
# (tshark has no dissector for the old pflog link type 17.)
LINKTYPE_OF = {"Ethernet": LINKTYPE_ETHERNET, "Loopback": LINKTYPE_LOOP, "PF": LINKTYPE_PFLOG,
               "Enc": LINKTYPE_ENC}


def first_type(p):
    return p.getProtoList()[0].TYPE


# --- unmodified packets --------------------------------------------------------


@pytest.mark.skipif(not capture_files(), reason="shared captures not present")
def test_finalise_leaves_unmodified_packets_alone():
    n = 0
    for label, p, _ in capture_packets():
        before = p.getRaw()
        p.finalise()
        p.finalize()
        assert p.getRaw() is before, label  # the very bytes object it was decoded from
        n += 1
    assert n > 50


def test_reading_fields_does_not_modify():
    p = createPacket(Ethernet, IP, TCP)
    p["ip"].checksum = 0x1111  # deliberately wrong
    p.finalise()
    raw = bytes(p)
    for proto in p.getProtoList():
        for name in dir(type(proto)):
            if not name.startswith("_"):
                getattr(proto, name)
    p.finalise()
    assert bytes(p) == raw


# --- real captures modified: tshark ----------------------------------------------


def modify(p, rnd):
    """A change to every protocol we know of in ``p``; returns what tshark
    should read back: {tshark field: value}."""
    want = {}
    if "ip" in p:
        ip = p["ip"]
        ip.ttl = rnd.randrange(1, 256)
        ip.ident = rnd.randrange(65536)
        ip.src = str(ipaddress.IPv4Address(rnd.getrandbits(32)))
        ip.dst = "10.%d.%d.%d" % (rnd.randrange(256), rnd.randrange(256), rnd.randrange(256))
        want.update({"ip.ttl": str(ip.ttl), "ip.id": str(ip.ident), "ip.src": ip.src})
        # (tshark's ip.dst is the final destination of a source route.)
        if not any(o.optionType in (131, 137) for o in ip.options):
            want["ip.dst"] = ip.dst
    if "ipv6" in p:
        v6 = p["ipv6"]
        v6.hoplimit = rnd.randrange(256)
        v6.src = "2001:db8::%x" % rnd.randrange(1, 65536)
        want.update({"ipv6.hlim": str(v6.hoplimit), "ipv6.src": v6.src})
    if "tcp" in p:
        t = p["tcp"]
        t.srcPort = rnd.randrange(1, 65536)
        t.dstPort = rnd.randrange(1, 65536)
        t.window = rnd.randrange(65536)
        want.update({"tcp.srcport": str(t.srcPort), "tcp.dstport": str(t.dstPort),
                     "tcp.window_size_value": str(t.window)})
    if "udp" in p and "dhcp" not in p:
        u = p["udp"]
        u.srcPort = rnd.randrange(1024, 65536)
        want["udp.srcport"] = str(u.srcPort)
    if "icmp" in p and hasattr(p["icmp"], "identifier"):
        p["icmp"].identifier = rnd.randrange(65536)
        p["icmp"].seq_num = rnd.randrange(65536)
        want["icmp.ident"] = str(p["icmp"].identifier)
        want["icmp.seq"] = str(p["icmp"].seq_num)
    if "icmp6" in p and hasattr(p["icmp6"], "identifier"):
        p["icmp6"].identifier = rnd.randrange(65536)
        want["icmpv6.echo.identifier"] = str(p["icmp6"].identifier)
    if "dhcp" in p:
        p["dhcp"].xid = rnd.randrange(1 << 32)
        want["dhcp.id"] = str(p["dhcp"].xid)
    return want


def grow(p, rnd):
    """Makes the innermost payload-carrying protocol's payload longer or
    shorter (not inside fragments, ESP or AH, whose checksums and integrity
    values cover what we cannot see)."""
    last = p.getProtoList()[-1]
    if "AH" in p or "IPv6FragmentHeader" in p:
        return
    # Not the headers quoted by ICMP errors, nor neighbour discovery options.
    if last.TYPE not in ("TCP", "UDP", "ICMPEchoRequest", "ICMPEchoReply", "ICMPTimestampRequest",
                         "ICMPTimestampReply", "ICMPAddressMaskRequest", "ICMPAddressMaskReply",
                         "ICMP6EchoRequest", "ICMP6EchoReply"):
        return
    old = last.payload
    last.payload = old[:rnd.randrange(len(old) + 1)] + bytes(rnd.randrange(256) for _ in range(rnd.randrange(0, 200)))


def check_with_tshark(tmp_path, items):
    """``items``: (label, link type, original bytes, modified and finalised
    packet, {tshark field: value} it should read back). Returns the number
    of good checksums seen."""
    groups = {}
    for item in items:
        groups.setdefault(item[1], []).append(item)
    fields = sorted({f for *_, want in items for f in want})
    checked = 0
    for linktype, group in groups.items():
        # The bad checksums of the packets as they were.
        f = write_pcap(tmp_path / f"{linktype}-orig.pcap", linktype, [orig for _, _, orig, _, _ in group])
        before = tshark_rows(f, STATUS_FIELDS, CHECKSUM_PREFS)
        f = write_pcap(tmp_path / f"{linktype}.pcap", linktype, [bytes(p) for _, _, _, p, _ in group])
        rows = tshark_rows(f, [*STATUS_FIELDS, *fields], CHECKSUM_PREFS)
        assert len(rows) == len(group) == len(before)
        for (label, _, _, p, want), row, row0 in zip(group, rows, before):
            statuses = {k: row[k] for k in STATUS_FIELDS if row[k]}
            # Nothing is bad that was not bad before (the header quoted by
            # an ICMP error is left as it is, and can be bad there), and the
            # first checksum of each protocol present is good (the others
            # may be "unverified": quoted, partial headers).
            bad = sum(v.count("0") for v in statuses.values())
            assert bad <= sum(row0[k].count("0") for k in STATUS_FIELDS), (label, statuses)
            for k, v in statuses.items():
                if k in ("tcp.checksum.status", "udp.checksum.status") and "icmp" in p:
                    continue  # a header quoted by an ICMP error
                if k == "ip.checksum.status" or "AH" not in p and "IPv6FragmentHeader" not in p:
                    assert v[0] == GOOD, (label, k, v)
                    checked += 1
            for k, v in want.items():
                got = row[k][:1]
                if got and got[0].startswith("0x"):
                    got = [str(int(got[0], 16))]
                    v = str(int(v, 0))
                assert got == [v], (label, k, row[k], v)
    return checked


def modify_and_check(label, p, rnd, resize):
    want = modify(p, rnd)
    if resize:
        grow(p, rnd)
    p.finalise()
    # Our own decoder reads the change back from the new bytes.
    q = Packet(type(p.getProtoList()[0]), bytes(p))
    assert [x.TYPE for x in q.getProtoList()] == [x.TYPE for x in p.getProtoList()], label
    return want


@pytest.mark.skipif(TSHARK is None, reason="tshark is a test dependency")
@pytest.mark.skipif(not capture_files(), reason="shared captures not present")
@pytest.mark.parametrize("resize", [False, True], ids=["fields", "fields+payload"])
def test_modified_captures_are_valid_for_tshark(tmp_path, resize):
    rnd = random.Random(5 + resize)
    items = []
    for label, p, complete in capture_packets():
        if not complete or first_type(p) not in LINKTYPE_OF:
            continue
        if "ip" not in p and "ipv6" not in p:
            continue
        original = p.getRaw()
        want = modify_and_check(label, p, rnd, resize)
        items.append((label, LINKTYPE_OF[first_type(p)], original, p, want))
    assert check_with_tshark(tmp_path, items) > 60


# Link types of the crafted cases that tshark dissects.
TSHARK_LINKTYPES = {0, 1, 101, 108, 109, 113, 117, 228, 229, 276}


@pytest.mark.skipif(TSHARK is None, reason="tshark is a test dependency")
@pytest.mark.parametrize("resize", [False, True], ids=["fields", "fields+payload"])
def test_modified_scapy_crafted_packets_are_valid_for_tshark(tmp_path, resize):
    """The packets test_packet_oracle crafts with scapy (every protocol and
    link type), modified the same way."""
    from test_packet_oracle import CASES

    rnd = random.Random(11 + resize)
    items = []
    for case in CASES:
        if not case.tshark or case.klass is None or case.linktype not in TSHARK_LINKTYPES:
            continue
        if len(case.data) != case.origlen:
            continue
        p = Packet(getattr(packet, case.klass), case.data)
        if "ip" not in p and "ipv6" not in p:
            continue
        want = modify_and_check(case.name, p, rnd, resize)
        items.append((case.name, case.linktype, case.data, p, want))
    assert len(items) > 50
    assert check_with_tshark(tmp_path, items) > 100


# --- real captures modified: scapy ---------------------------------------------


def ethernet_packets():
    """Complete Ethernet/IP packets: the captures' and the ones
    test_packet_oracle crafts with scapy."""
    from test_packet_oracle import CASES

    # Not IGMP: scapy adds a router alert option to the IP header of an
    # IGMP message it dissects, so its rebuild is of another packet.
    crafted = [(c.name, Packet(Ethernet, c.data), len(c.data) == c.origlen) for c in CASES
               if c.klass == "Ethernet" and c.linktype == LINKTYPE_ETHERNET
               and not c.name.startswith("igmp")]
    return [(label, p) for label, p, complete in capture_packets() + crafted
            if complete and first_type(p) == "Ethernet" and ("ip" in p or "ipv6" in p)
            and "AH" not in p and "ESP" not in p]


def same_stack(p, s):
    """Whether scapy's dissection has the IP-level stack ours has (scapy
    decodes GRE, for one, and would recompute what is inside)."""
    from scapy.layers.inet6 import _ICMPv6

    ours = []
    for t in (x.TYPE for x in p.getProtoList()):
        if t in ("IP", "IPv6", "TCP", "UDP"):
            ours.append(t)
        elif t.startswith("ICMP6"):
            ours.append("ICMP6")
        elif t.startswith("ICMP"):
            ours.append("ICMP")
    theirs = []
    layer = s
    while layer:
        if type(layer).__name__.endswith("error"):
            break
        for klass, t in ((S_IP, "IP"), (S_IPv6, "IPv6"), (S_TCP, "TCP"), (S_UDP, "UDP"),
                         (S_ICMP, "ICMP"), (_ICMPv6, "ICMP6")):
            if isinstance(layer, klass):
                theirs.append(t)
        layer = layer.payload
    return ours == theirs


@pytest.mark.skipif(not capture_files(), reason="shared captures not present")
def test_same_change_as_scapy_gives_the_same_bytes():
    """The same change made with scapy (its own length and checksum
    computation) gives our bytes."""
    compared = 0
    for label, p in ethernet_packets():
        raw = p.getRaw()
        s = Ether(raw)
        if not same_stack(p, s):
            continue
        if "ip" in p:
            p["ip"].ttl = 99
            p["ip"].dst = "172.16.5.4"
            s[S_IP].ttl = 99
            s[S_IP].dst = "172.16.5.4"
        if "ipv6" in p:
            p["ipv6"].hoplimit = 7
            s[S_IPv6].hlim = 7
        if "tcp" in p:
            p["tcp"].srcPort = 4242
            p["tcp"].flags = ["psh", "ACK"]
            s[S_TCP].sport = 4242
            s[S_TCP].flags = "PA"
        if "udp" in p:
            p["udp"].dstPort = 5353 if "dhcp" not in p else p["udp"].dstPort
            if "dhcp" not in p:
                s[S_UDP].dport = 5353
        if "icmp" in p and hasattr(p["icmp"], "seq_num"):
            p["icmp"].seq_num = 31337
            s[S_ICMP].seq = 31337
        p.finalise()
        if "IPv6FragmentHeader" in p:
            continue  # scapy would compute a checksum over the fragment alone
        assert bytes(p) == scapy_rebuild(s), label
        compared += 1
    assert compared >= 60


@pytest.mark.skipif(not capture_files(), reason="shared captures not present")
def test_payload_change_same_as_scapy():
    rnd = random.Random(9)
    compared = 0
    for label, p in ethernet_packets():
        inner = p.getProtoList()[-1]
        if inner.TYPE not in ("TCP", "UDP", "ICMPEchoRequest", "ICMPEchoReply",
                              "ICMP6EchoRequest", "ICMP6EchoReply"):
            continue
        if "IPv6FragmentHeader" in p:
            continue
        ip = p["ip"] if "ip" in p else p["ipv6"]
        end = ip.offset + (ip.length if ip.TYPE == "IP" else 40 + ip.payloadlength)
        trailer = p.getRaw()[end:]
        new = bytes(rnd.randrange(256) for _ in range(rnd.randrange(0, 100)))
        s = Ether(p.getRaw()[:end])
        layer = {"TCP": S_TCP, "UDP": S_UDP, "ICMPEchoRequest": S_ICMP, "ICMPEchoReply": S_ICMP,
                 "ICMP6EchoRequest": ICMPv6EchoRequest, "ICMP6EchoReply": ICMPv6EchoReply}[inner.TYPE]
        target = s[layer]
        if layer in (ICMPv6EchoRequest, ICMPv6EchoReply):
            target.data = new
        else:
            target.remove_payload()
            target.add_payload(Raw(new))
        inner.payload = new
        p.finalise()
        assert inner.payload == new
        assert bytes(p) == scapy_rebuild(s) + trailer, label
        compared += 1
    assert compared >= 15


# --- round trips, growth, shrinking, re-locating ------------------------------------


def tcp_packet(payload=b"hello world"):
    p = createPacket(Ethernet, IP, TCP)
    p["ip"].src, p["ip"].dst = "192.168.0.9", "192.168.0.1"
    p["tcp"].srcPort, p["tcp"].dstPort = 8012, 22
    p["tcp"].payload = payload
    p.finalise()
    return p


def test_round_trip_decode_modify_finalise_decode():
    p = tcp_packet()
    q = Packet(Ethernet, bytes(p))
    q["ethernet"].src = "02:AA:bb:cc:dd:ee"
    q["ip"].tos = 0x10
    q["ip"].flags = "df"
    q["ip"].ttl = 64
    q["tcp"].seq_num = 2**32 - 1
    q["tcp"].flags = ["SYN", "ack"]
    q["tcp"].options = [(2, b"\x05\xb4"), (4, b""), (1, b""), (3, b"\x02")]
    q.finalise()
    r = Packet(Ethernet, bytes(q))
    assert r["ethernet"].src == "02:aa:bb:cc:dd:ee"
    assert (r["ip"].tos, r["ip"].flags, r["ip"].ttl) == (0x10, 2, 64)
    assert r["tcp"].seq_num == 2**32 - 1 and r["tcp"].flags == 0x12
    assert r["tcp"].options == [(2, b"\x05\xb4"), (4, b""), (1, b""), (3, b"\x02"), (0, b"")]
    assert r["tcp"].dataOffset == 8 and r["tcp"].payload == b"hello world"
    assert r["ip"].length == 20 + 32 + 11 == len(r) - 14
    assert repr(r) == "[Eth: 02:aa:bb:cc:dd:ee->00:00:00:00:00:00] [IP: 192.168.0.9->192.168.0.1] [TCP: 8012->22]"


def test_payload_growth_and_shrink_follow_in_the_lengths():
    p = tcp_packet(b"x" * 10)
    ip, tcp = p["ip"], p["tcp"]
    assert ip.length == 50
    tcp.payload = b"y" * 1000
    assert ip.length == 1040 and len(p) == 1054 and tcp.payload == b"y" * 1000
    tcp.payload = b""
    assert ip.length == 40 and len(p) == 54 and tcp.payload == b""
    # UDP and IPv6 lengths follow too.
    q = createPacket(Ethernet, IPv6, UDP)
    q["udp"].payload = b"abc"
    assert (q["ipv6"].payloadlength, q["udp"].length) == (11, 11)
    q.finalise()
    assert Packet(Ethernet, bytes(q))["udp"].payload == b"abc"


def test_views_follow_layers_that_move():
    p = tcp_packet()
    tcp = p["tcp"]
    assert tcp.offset == 34
    p["ip"].optionsField = b"\x01\x01\x01\x00"
    assert p["ip"].headerLength == 6 and p["ip"].length == 20 + 4 + 20 + 11
    assert tcp.offset == 38 and (tcp.srcPort, tcp.dstPort, tcp.payload) == (8012, 22, b"hello world")
    p["ip"].options = []
    assert tcp.offset == 34 and p["ip"].headerLength == 5
    p["ethernet"].payload = bytes(p["ethernet"].payload)  # same bytes: same stack
    assert tcp.srcPort == 8012


def test_payload_replacement_re_locates_inner_layers():
    inner = createPacket(IP, UDP)
    inner["ip"].src = "10.9.9.9"
    inner["udp"].dstPort = 53
    inner["udp"].payload = b"query"
    inner.finalise()
    outer = createPacket(Ethernet, IP, TCP)
    outer["ip"].protocol = "ip_in_ip"
    assert [x.TYPE for x in outer.getProtoList()] == ["Ethernet", "IP"]
    outer["ip"].payload = bytes(inner)
    assert [x.TYPE for x in outer.getProtoList()] == ["Ethernet", "IP", "IP", "UDP"]
    assert outer["ip"]["ip"].src == "10.9.9.9" and outer["udp"].payload == b"query"
    assert outer["ip"].length == 20 + len(inner)
    # The Ethernet payload replaced by an ARP packet: a new stack.
    arp = createPacket(Ethernet, ARP)
    outer["ethernet"].etype = "arp"
    outer["ethernet"].payload = arp["arp"].payload if False else bytes(arp)[14:]
    assert [x.TYPE for x in outer.getProtoList()] == ["Ethernet", "ARP"]


def test_payload_of_cut_packet_keeps_its_announced_length():
    p = tcp_packet(b"z" * 100)
    cut = Packet(Ethernet, bytes(p)[:80])  # snap length 80
    assert cut["ip"].length == 140
    cut["tcp"].payload = b"q" * 10
    # 26 captured payload bytes became 10: the announced length follows.
    assert cut["ip"].length == 124
    cut.finalise()
    assert cut["ip"].length == 124
    assert Packet(Ethernet, bytes(cut))["tcp"].payload == b"q" * 10


def test_ethernet_trailer_stays_after_the_datagram():
    p = createPacket(Ethernet, IP, UDP)
    p.finalise()
    padded = Packet(Ethernet, bytes(p) + b"\xab" * 18)  # 60-byte minimum frame
    padded["udp"].payload = b"data"
    padded.finalise()
    assert bytes(padded).endswith(b"data" + b"\xab" * 18)
    assert padded["ip"].length == 32 and padded["udp"].payload == b"data"


def test_fragments_keep_their_inner_checksums():
    p = createPacket(IP, UDP)
    p["udp"].payload = b"first part"
    p.finalise()
    good = p["udp"].checksum
    p["ip"].flags = "MF"
    p["udp"].checksum = 0x1234  # as if for the whole datagram
    p.finalise()
    assert p["udp"].checksum == 0x1234 and p["ip"].flags == 1


def test_modified_packets_go_to_dumper_and_compare(tmp_path):
    p = tcp_packet()
    p["tcp"].payload = b"changed"
    p.finalise()
    out = tmp_path / "m.pcap"
    with pcap.Dumper(pcap.Dead(1, 65535), out) as d:
        d(p, (0, 0), len(p))
    _, recs = read_file_records(out)
    assert recs[0][0] == bytes(p) == p.getRaw()


# --- every field: ranges, values read back ---------------------------------------


def make(stack, name):
    return createPacket(*stack)[name]


# (stack, lookup name, field, bits) for every integer field of every class.
INT_FIELDS = [
    ((Ethernet,), "ethernet", "Ethernet", [("etype", 16)]),
    ((Ethernet, VLAN), "vlan", "VLAN", [("vid", 12), ("pcp", 3), ("dei", 1), ("etype", 16)]),
    ((Loopback,), "loopback", "Loopback", [("addressFamily", 32)]),
    ((SLL,), "sll", "SLL", [("packetType", 16), ("arphrdType", 16), ("addressLength", 16),
                            ("protocol", 16)]),
    ((SLL2,), "sll2", "SLL2", [("protocol", 16), ("ifindex", 32), ("arphrdType", 16),
                               ("packetType", 8), ("addressLength", 8)]),
    ((PF,), "pf", "PF", [("length", 8), ("safamily", 8), ("action", 8), ("reason", 8),
                         ("rulenr", 32), ("subrulenr", 32), ("direction", 8)]),
    ((PFOld,), "pfold", "PFOld", [("safamily", 32), ("ruleno", 16), ("reason", 16),
                                  ("action", 16), ("direction", 16)]),
    ((Enc, IP), "enc", "Enc", [("addressFamily", 32), ("spi", 32), ("flags", 32)]),
    ((IP,), "ip", "IP", [("version", 4), ("headerLength", 4), ("tos", 8), ("length", 16),
                         ("ident", 16), ("flags", 3), ("fragmentOffset", 13), ("ttl", 8),
                         ("protocol", 8), ("checksum", 16)]),
    ((IPv6,), "ipv6", "IPv6", [("version", 4), ("diffservices", 8), ("flowlabel", 20),
                               ("payloadlength", 16), ("nextheader", 8), ("hoplimit", 8)]),
    ((IPv6, IPv6HopByHopHeader), "IPv6HopByHopHeader", "IPv6HopByHopHeader",
     [("nextheader", 8), ("length", 8)]),
    ((IPv6, IPv6DestinationOptionsHeader), "IPv6DestinationOptions",
     "IPv6DestinationOptionsHeader", [("nextheader", 8), ("length", 8)]),
    ((IPv6, IPv6RoutingHeader), "IPv6RoutingHeader", "IPv6RoutingHeader",
     [("nextheader", 8), ("length", 8), ("routingType", 8), ("segmentsLeft", 8)]),
    ((IPv6, IPv6FragmentHeader), "IPv6FragmentHeader", "IPv6FragmentHeader",
     [("nextheader", 8), ("reserved", 8), ("fragmentOffset", 13), ("res", 2),
      ("moreFragments", 1), ("identification", 32)]),
    ((IP, ICMPTimestampRequest), "icmp", "ICMP",
     [("itype", 8), ("code", 8), ("checksum", 16), ("identifier", 16), ("seq_num", 16),
      ("origin_ts", 32), ("receive_ts", 32), ("transmit_ts", 32)]),
    ((IP, ICMPParameterProblem), "icmp", "ICMPParameterProblem", [("pointer", 8)]),
    ((IP, ICMPRouterAdvertisement), "icmp", "ICMPRouterAdvertisement",
     [("num_addresses", 8), ("address_size", 8), ("lifetime", 16)]),
    ((IP, packet.ICMPRouterSolicitation), "icmp", "ICMPRouterSolicitation",
     [("num_addresses", 8), ("address_size", 8), ("lifetime", 16)]),
    ((IPv6, ICMP6EchoRequest), "icmp6", "ICMP6",
     [("icmp6type", 8), ("code", 8), ("checksum", 16), ("identifier", 16), ("seq_num", 16)]),
    ((IPv6, ICMP6PacketTooBig), "icmp6", "ICMP6PacketTooBig", [("mtu", 32)]),
    ((IPv6, ICMP6ParameterProblem), "icmp6", "ICMP6ParameterProblem", [("pointer", 32)]),
    ((IPv6, packet.ICMP6DestinationUnreachable), "icmp6", "ICMP6DestinationUnreachable",
     [("unused", 32)]),
    ((IPv6, packet.ICMP6TimeExceeded), "icmp6", "ICMP6TimeExceeded", [("unused", 32)]),
    ((IPv6, ICMP6NeighbourAdvertisement), "icmp6", "ICMP6NeighbourAdvertisement", [("flags", 3)]),
    ((IP, TCP), "tcp", "TCP", [("srcPort", 16), ("dstPort", 16), ("seq_num", 32), ("ack_num", 32),
                               ("dataOffset", 4), ("reserved", 4), ("flags", 8), ("window", 16),
                               ("checksum", 16), ("urgent", 16)]),
    ((IP, UDP), "udp", "UDP", [("srcPort", 16), ("dstPort", 16), ("length", 16), ("checksum", 16)]),
    ((IP, UDP, DHCP), "dhcp", "DHCP", [("op", 8), ("htype", 8), ("hlen", 8), ("hops", 8),
                                       ("xid", 32), ("secs", 16), ("flags", 16), ("cookie", 32)]),
    ((Ethernet, ARP), "arp", "ARP", [("hardware_type", 16), ("protocol_type", 16),
                                     ("hardware_size", 8), ("protocol_size", 8), ("opcode", 16)]),
    ((IP, AH), "ah", "AH", [("nextheader", 8), ("length", 8), ("reserved", 16), ("spi", 32),
                            ("sequence", 32)]),
    ((IP, ESP), "esp", "ESP", [("spi", 32), ("sequence", 32)]),
    ((IP, IGMP), "igmp", "IGMP", [("itype", 8), ("maxresp", 8), ("checksum", 16)]),
]

INT_CASES = [(stack, name, cls, field, bits) for stack, name, cls, fields in INT_FIELDS
             for field, bits in fields]


@pytest.mark.parametrize("stack, name, cls, field, bits", INT_CASES,
                         ids=[f"{c[2]}.{c[3]}" for c in INT_CASES])
def test_every_integer_field_is_settable_within_its_range(stack, name, cls, field, bits):
    top = (1 << bits) - 1
    for value in (0, 1, top, random.Random(bits).randrange(top + 1)):
        obj = make(stack, name)
        setattr(obj, field, value)
        if cls == "Loopback":
            # Read in whichever byte order gives the smaller number.
            swapped = int.from_bytes(value.to_bytes(4, "big"), "little")
            assert getattr(obj, field) == min(value, swapped)
            continue
        assert getattr(obj, field) == value, (field, value)
        assert obj.packet.getRaw() != bytes(make(stack, name).packet) or value == getattr(
            make(stack, name), field)
    # The message names the class the field is documented on, its range and
    # the value.
    prefix = {"ICMPTimestampRequest": "ICMP"}.get(cls, cls)
    for bad in (top + 1, -1, 2**70):
        obj = make(stack, name)
        before = bytes(obj.packet)
        with pytest.raises(ValueError) as e:
            setattr(obj, field, bad)
        assert str(e.value) == f"{prefix}.{field} must be in 0..{top}, got {bad}"
        assert bytes(obj.packet) == before  # nothing written
    with pytest.raises(TypeError) as e:
        setattr(make(stack, name), field, 1.5)
    assert str(e.value) == f"{prefix}.{field} must be an int, not float"
    with pytest.raises(AttributeError):
        delattr(make(stack, name), field)


def test_setting_marks_modified_and_finalise_fixes_checksums():
    p = createPacket(IP, TCP)
    raw = bytes(p)
    p["tcp"].srcPort = 80
    assert bytes(p) != raw
    before = p["tcp"].checksum
    p.finalise()
    assert p["tcp"].checksum != before


@pytest.mark.parametrize("stack, name, field, value, expected", [
    ((IP,), "ip", "protocol", "tcp", 6),
    ((IP,), "ip", "protocol", "Ip_In_Ip", 4),
    ((IP,), "ip", "protocol", "icmp6", 58),
    ((IP,), "ip", "flags", ["df", "MF"], 3),
    ((IP,), "ip", "flags", "res", 4),
    ((IP,), "ip", "flags", [], 0),
    ((IP, TCP), "tcp", "flags", ["syn", "ack"], 0x12),
    ((IP, TCP), "tcp", "flags", ("FIN", "psh", 4), 0x0D),
    ((IP, TCP), "tcp", "flags", {"ece", "cwr"}, 0xC0),
    ((IP, TCP), "tcp", "flags", "urg", 0x20),
    ((IPv6,), "ipv6", "nextheader", "no_next_header", 59),
    ((IPv6, IPv6FragmentHeader), "IPv6FragmentHeader", "nextheader", "udp", 17),
    ((IP, AH), "ah", "nextheader", "esp", 50),
    ((Ethernet,), "ethernet", "etype", "ip6", 0x86DD),
    ((Ethernet,), "ethernet", "etype", "pppoe", 0x8864),
    ((Ethernet, VLAN), "vlan", "etype", "arp", 0x806),
    ((Loopback,), "loopback", "addressFamily", "inet6", 24),
    ((PF,), "pf", "action", "DROP", 1),
    ((PF,), "pf", "reason", "Normalize" if False else "norm", 4),
    ((PF,), "pf", "direction", "out", 2),
    ((PF,), "pf", "safamily", "inet", 2),
    ((PFOld,), "pfold", "action", "rdr", 8),
    ((Enc, IP), "enc", "flags", ["conf", "AUTH"], 0xC00),
    ((Enc, IP), "enc", "addressFamily", "inet6", 24),
    ((Ethernet, ARP), "arp", "opcode", "rarp_reply", 4),
    ((IP, UDP, DHCP), "dhcp", "flags", ["broadcast"], 0x8000),
    ((IP, UDP, DHCP), "dhcp", "op", "bootreply", 2),
    ((IP, IGMP), "igmp", "itype", "leave_group", 0x17),
    ((IP, ICMPEchoRequest), "icmp", "itype", "icmpechoreply", 0),
    ((IP, packet.ICMPDestinationUnreachable), "icmp", "code", "port_unreachable", 3),
    ((IP, ICMPRedirect), "icmp", "code", "host_redirect", 1),
    ((IPv6, ICMP6EchoRequest), "icmp6", "icmp6type", "echo_reply", 129),
    ((IPv6, ICMP6NeighbourAdvertisement), "icmp6", "flags", ["router", "override"], 5),
])
def test_option_names_are_accepted_case_insensitively(stack, name, field, value, expected):
    obj = make(stack, name)
    setattr(obj, field, value)
    assert getattr(obj, field) == expected


@pytest.mark.parametrize("stack, name, field, value, message", [
    ((IP,), "ip", "protocol", "tcpx",
     "IP.protocol must be a number or one of ICMP, IGMP, IP_IN_IP, TCP, UDP, IPv6, ROUTING_HEADER, "
     "FRAGMENTATION_HEADER, ESP, AH, ICMP6, NO_NEXT_HEADER, DESTINATION_OPTIONS_HEADER, got 'tcpx'"),
    ((IP, TCP), "tcp", "flags", ["syn", "bogus"],
     "TCP.flags must be a number or one of URG, ACK, PSH, RST, SYN, FIN, ECE, CWR, got 'bogus'"),
    ((IP,), "ip", "flags", ["DF", 8], "IP.flags must be in 0..7, got 8"),
    ((Ethernet,), "ethernet", "etype", "ipx",
     "Ethernet.etype must be a number or one of IP, ARP, RARP, IP6, PPPOE, LOOPBACK, VLAN, got 'ipx'"),
    ((PF,), "pf", "direction", "sideways", "PF.direction must be a number or one of inout, in, out, got 'sideways'"),
    ((IP, ICMPEchoRequest), "icmp", "code", "port_unreachable",
     "ICMP.code must be a number or one of ECHO_REQUEST, got 'port_unreachable'"),
    ((IP,), "ip", "ttl", "high", "IP.ttl must be an int, not str"),
    ((IP,), "ip", "src", "1.2.3", "IP.src must be an IPv4 address, got '1.2.3'"),
    ((IP,), "ip", "dst", "256.1.1.1", "IP.dst must be an IPv4 address, got '256.1.1.1'"),
    ((IP,), "ip", "dst", "::1", "IP.dst must be an IPv4 address, got '::1'"),
    ((IP,), "ip", "dst", 1234, "IP.dst must be an IPv4 address, got 1234"),
    ((IPv6,), "ipv6", "src", "fe80::1::2", "IPv6.src must be an IPv6 address, got 'fe80::1::2'"),
    ((IPv6,), "ipv6", "dst", "10.0.0.1", "IPv6.dst must be an IPv6 address, got '10.0.0.1'"),
    ((IPv6, ICMP6NeighbourSolicitation), "icmp6", "target_addr", "x",
     "ICMP6.target_addr must be an IPv6 address, got 'x'"),
    ((IP, IGMP), "igmp", "group", "224.0.0", "IGMP.group must be an IPv4 address, got '224.0.0'"),
    ((IP, ICMPRedirect), "icmp", "gateway_addr", "gw", "ICMPRedirect.gateway_addr must be an IPv4 address, got 'gw'"),
    ((IP, ICMPAddressMaskReply), "icmp", "subnet_mask", "255.255.255",
     "ICMPAddressMaskReply.subnet_mask must be an IPv4 address, got '255.255.255'"),
    ((Ethernet,), "ethernet", "dst", "00:11:22:33:44", "Ethernet.dst must be a MAC address, got '00:11:22:33:44'"),
    ((Ethernet,), "ethernet", "src", "00:11:22:33:44:gg", "Ethernet.src must be a MAC address, got '00:11:22:33:44:gg'"),
    ((Ethernet, ARP), "arp", "sender_hardware_addr", "1:2:3",
     "ARP.sender_hardware_addr must be a MAC address, got '1:2:3'"),
    ((Ethernet, ARP), "arp", "target_proto_addr", "10.0.0.256",
     "ARP.target_proto_addr must be an IPv4 address, got '10.0.0.256'"),
    ((IP, UDP, DHCP), "dhcp", "chaddr", "zz", "DHCP.chaddr must be a MAC address, got 'zz'"),
    ((IP, UDP, DHCP), "dhcp", "ciaddr", "", "DHCP.ciaddr must be an IPv4 address, got ''"),
    ((IP, UDP, DHCP), "dhcp", "sname", "s" * 64, "DHCP.sname must be at most 63 bytes, got 64"),
    ((IP, UDP, DHCP), "dhcp", "filename", "f" * 200, "DHCP.filename must be at most 127 bytes, got 200"),
    ((PF,), "pf", "ifname", "averyveryverylongname0", "PF.ifname must be at most 15 bytes, got 22"),
    ((PF,), "pf", "ruleset", "r" * 16, "PF.ruleset must be at most 15 bytes, got 16"),
    ((PF,), "pf", "ifname", 5, "PF.ifname must be a str, not int"),
    ((PF,), "pf", "pad", b"\x00", "PF.pad must be 3 bytes, got 1"),
    ((PFOld,), "pfold", "ifname", "x" * 16, "PFOld.ifname must be at most 15 bytes, got 16"),
    ((SLL,), "sll", "address", "00:11:22:33:44:55:66:77:88", "SLL.address must be at most 8 bytes, got 9"),
    ((SLL2,), "sll2", "address", "zz:11", "SLL2.address must be a hardware address, got 'zz:11'"),
    ((IP,), "ip", "optionsField", b"\x01\x01\x01", "IP.optionsField must be a multiple of 4 bytes, at most 40, got 3"),
    ((IP,), "ip", "optionsField", "abcd", "IP.optionsField must be bytes, not str"),
    ((IP,), "ip", "options", [b"\x01" * 41], "IP.options must be at most 40 bytes, got 44"),
    ((IP, TCP), "tcp", "options", [(2, b"\x05\xb4")] * 11, "TCP.options must be at most 40 bytes, got 44"),
    ((IP, TCP), "tcp", "options", [(1, b"x")], "TCP.options: option 1 carries no data"),
    ((IP, TCP), "tcp", "options", [(300, b"")], "TCP.options must be in 0..255, got 300"),
    ((IP, TCP), "tcp", "options", [2], "TCP.options items must be (kind, data) tuples or bytes, not int"),
    ((IP, TCP), "tcp", "options", [(1, b"", 3)],
     "TCP.options items must be (kind, data) tuples or bytes, not a tuple of length 3"),
    ((IP,), "ip", "options", ["nop"], "IP.options items must be (kind, data) tuples, IPOption objects or bytes, not str"),
    ((IP,), "ip", "options", [(1, b"x")], "IP.options: option 1 carries no data"),
    ((IP,), "ip", "options", [(7, b"x" * 254)], "IP.options: option 7 data must be at most 253 bytes, got 254"),
    ((IP, TCP), "tcp", "options", [(8, b"x" * 254)], "TCP.options: option 8 data must be at most 253 bytes, got 254"),
    ((IP, TCP), "tcp", "payload", "text", "TCP.payload must be bytes, not str"),
    ((IP, TCP), "tcp", "payload", 5, "TCP.payload must be bytes, not int"),
    ((IP, UDP), "udp", "payload", b"x" * 65600, "UDP.payload: the change makes IP.length 65628, outside 0..65535"),
    ((IPv6, IPv6HopByHopHeader), "IPv6HopByHopHeader", "options", b"\x01\x00",
     "IPv6HopByHopHeader.options must make the header a multiple of 8 bytes, at most 2048: 2 + 2 bytes"),
    ((IPv6, IPv6RoutingHeader), "IPv6RoutingHeader", "data", b"\x00" * 3,
     "IPv6RoutingHeader.data must make the header a multiple of 8 bytes, at most 2048: 4 + 3 bytes"),
    ((IP, AH), "ah", "icv", b"\x00" * 6, "AH.icv must be a multiple of 4 bytes, at most 1012, got 6"),
    ((IPv6, ICMP6NeighbourSolicitation), "icmp6", "linklayer_addr", "00:11",
     "ICMP6.linklayer_addr must be a MAC address, got '00:11'"),
])
def test_bad_values_raise_with_exact_messages(stack, name, field, value, message):
    obj = make(stack, name)
    before = bytes(obj.packet)
    with pytest.raises((ValueError, TypeError)) as e:
        setattr(obj, field, value)
    assert str(e.value) == message
    assert bytes(obj.packet) == before


@pytest.mark.parametrize("stack, name, field, value, expected", [
    ((IP,), "ip", "src", "192.168.0.1", "192.168.0.1"),
    ((IP,), "ip", "dst", b"\x0a\x00\x00\x01", "10.0.0.1"),
    ((IPv6,), "ipv6", "src", "FE80:0000::02E0:29ff:fe94:495D", "fe80::2e0:29ff:fe94:495d"),
    ((IPv6,), "ipv6", "dst", "::ffff:1.2.3.4", "::ffff:1.2.3.4"),
    ((Ethernet,), "ethernet", "dst", "FF-FF-FF-FF-FF-FF", "ff:ff:ff:ff:ff:ff"),
    ((Ethernet,), "ethernet", "src", b"\x00\x09\x6b\xe0\xca\xce", "00:09:6b:e0:ca:ce"),
    ((Ethernet, ARP), "arp", "sender_hardware_addr", "0:9:6b:e0:ca:ce", "00:09:6b:e0:ca:ce"),
    ((Ethernet, ARP), "arp", "sender_proto_addr", "192.168.0.9", "192.168.0.9"),
    ((Ethernet, ARP), "arp", "target_hardware_addr", "00:02:b3:41:aa:c3", "00:02:b3:41:aa:c3"),
    ((Ethernet, ARP), "arp", "target_proto_addr", "192.168.0.1", "192.168.0.1"),
    ((IP, UDP, DHCP), "dhcp", "ciaddr", "1.2.3.4", "1.2.3.4"),
    ((IP, UDP, DHCP), "dhcp", "yiaddr", "1.2.3.5", "1.2.3.5"),
    ((IP, UDP, DHCP), "dhcp", "siaddr", "1.2.3.6", "1.2.3.6"),
    ((IP, UDP, DHCP), "dhcp", "giaddr", "1.2.3.7", "1.2.3.7"),
    ((IP, UDP, DHCP), "dhcp", "chaddr", "00:e0:29:94:49:5d", "00:e0:29:94:49:5d"),
    ((IP, UDP, DHCP), "dhcp", "sname", "server", "server"),
    ((IP, UDP, DHCP), "dhcp", "filename", "pxeboot", "pxeboot"),
    ((IP, UDP, DHCP), "dhcp", "options", [(53, b"\x01"), (61, b"\x01\x02")], [(53, b"\x01"), (61, b"\x01\x02")]),
    ((PF,), "pf", "ifname", "pflog0", "pflog0"),
    ((PF,), "pf", "ruleset", "anchor", "anchor"),
    ((PF,), "pf", "pad", b"\x01\x02\x03", b"\x01\x02\x03"),
    ((PFOld,), "pfold", "ifname", "fxp0", "fxp0"),
    ((SLL,), "sll", "address", "00:11:22:33:44:55", "00:11:22:33:44:55"),
    ((SLL2,), "sll2", "address", "de:ad:be:ef", "de:ad:be:ef"),
    ((IP, IGMP), "igmp", "group", "224.0.0.251", "224.0.0.251"),
    ((IP, ICMPRedirect), "icmp", "gateway_addr", "10.0.0.254", "10.0.0.254"),
    ((IP, ICMPAddressMaskReply), "icmp", "subnet_mask", "255.255.255.0", "255.255.255.0"),
    ((IPv6, ICMP6NeighbourSolicitation), "icmp6", "target_addr", "fe80::1", "fe80::1"),
    ((IPv6, ICMP6NeighbourSolicitation), "icmp6", "linklayer_addr", "00:e0:29:94:49:5d", "00:e0:29:94:49:5d"),
    ((IPv6, ICMP6NeighbourAdvertisement), "icmp6", "linklayer_addr", "00:e0:29:94:49:5e", "00:e0:29:94:49:5e"),
    ((IP,), "ip", "optionsField", b"\x01\x01\x01\x00", b"\x01\x01\x01\x00"),
    ((IP, TCP), "tcp", "options", [(2, b"\x05\xb4"), (1, b""), (1, b"")],
     [(2, b"\x05\xb4"), (1, b""), (1, b""), (0, b"")]),  # padded with End of List
    ((IP, TCP), "tcp", "options", b"\x01\x01\x01\x01", [(1, b"")] * 4),
    ((IPv6, IPv6HopByHopHeader), "IPv6HopByHopHeader", "options", b"\x01\x0c" + bytes(12), b"\x01\x0c" + bytes(12)),
    ((IPv6, IPv6DestinationOptionsHeader), "IPv6DestinationOptions", "options", b"\x01\x04\x00\x00\x00\x00", b"\x01\x04\x00\x00\x00\x00"),
    ((IPv6, IPv6RoutingHeader), "IPv6RoutingHeader", "data", bytes(12), bytes(12)),
    ((IP, AH), "ah", "icv", b"\x11" * 12, b"\x11" * 12),
    ((IP, ICMPEchoRequest), "icmp", "payload", b"ping", b"ping"),
])
def test_other_fields_are_settable(stack, name, field, value, expected):
    obj = make(stack, name)
    setattr(obj, field, value)
    assert getattr(obj, field) == expected
    p = obj.packet
    p.finalise()
    q = Packet(type(p.getProtoList()[0]), bytes(p))
    assert getattr(q[name], field) == expected


def test_header_option_lengths_follow():
    p = createPacket(IPv6, IPv6HopByHopHeader, UDP)
    p["IPv6HopByHopHeader"].options = b"\x01\x0c" + bytes(12)
    assert p["IPv6HopByHopHeader"].length == 1 and p["udp"].offset == 56
    assert p["ipv6"].payloadlength == 16 + 8
    q = createPacket(IP, AH, ICMPEchoRequest)
    q["ah"].icv = bytes(12)
    assert q["ah"].length == 4 and q["icmp"].offset == 44 and q["ip"].length == 52
    r = createPacket(IP, TCP)
    r["tcp"].options = [(2, b"\x05\xb4")]
    assert r["tcp"].dataOffset == 6 and r["ip"].length == 44
    o = packet.Packet(IP, bytes(createPacket(IP)))
    o["ip"].options = [b"\x07\x07\x04" + bytes(4)]
    assert o["ip"].headerLength == 7 and [type(x).__name__ for x in o["ip"].options] == [
        "IPOptionRecordRoute", "IPOptionEndOfList"]
    assert o["ip"].options[0].addresses == ["0.0.0.0"]
    o["ip"].options = o["ip"].options  # the decoded objects can be set back
    assert o["ip"].headerLength == 7


@pytest.mark.parametrize("layers, name", [((IP,), "ip"), ((IP, TCP), "tcp")])
def test_ip_and_tcp_options_take_the_same_items(layers, name):
    """One rule for IP.options and TCP.options: a list item is a (kind,
    data) tuple (kinds 0 and 1 are one byte; others kind, length, data) or
    one option's bytes as on the wire; the list is padded with End of List
    to a multiple of 4 bytes, and the header length follows."""
    p = packet.Packet(IP, bytes(createPacket(*layers)))
    at = 20 if name == "ip" else 40                # where the options start
    wire = b"\x01" + b"\x44\x03\x05" + b"\x01\x01" + b"\x88\x04\x12\x34" + b"\x00\x00"
    p[name].options = [(1, b""), (68, b"\x05"), b"\x01\x01", (136, b"\x12\x34")]
    assert bytes(p)[at:at + 12] == wire
    assert (p["ip"].headerLength if name == "ip" else p["tcp"].dataOffset) == 8
    kinds = [o.optionType if name == "ip" else o[0] for o in p[name].options]
    assert kinds == [1, 68, 1, 1, 136, 0]
    p[name].options = p[name].options              # what the getter gives is taken back
    assert bytes(p)[at:at + 12] == wire
    p[name].options = [b"\x01"]                   # padded: NOP, then End of List
    assert bytes(p)[at:at + 4] == b"\x01\x00\x00\x00"


def test_linklayer_option_removed_with_none():
    p = createPacket(IPv6, ICMP6NeighbourSolicitation)
    ns = p["icmp6"]
    ns.linklayer_addr = "00:11:22:33:44:55"
    assert len(ns.payload) == 8 and p["ipv6"].payloadlength == 32
    ns.linklayer_addr = None
    assert ns.linklayer_addr is None and ns.payload == b"" and p["ipv6"].payloadlength == 24


def test_quoted_header_of_icmp_errors_is_writable():
    inner = createPacket(IP, UDP)
    inner["ip"].dst = "10.0.0.7"
    inner.finalise()
    p = createPacket(IP, packet.ICMPDestinationUnreachable)
    p["icmp"].payload = bytes(inner)
    hdr = p["icmp"].iphdr
    assert hdr.dst == "10.0.0.7"
    hdr.ttl = 3
    assert p["icmp"].iphdr.ttl == 3
    with pytest.raises(ValueError, match="not part of its packet's stack"):
        hdr.payload = b""


def test_a_view_of_a_layer_that_disappeared():
    p = createPacket(IP, TCP)
    tcp = p["tcp"]
    p["ip"].protocol = "udp"  # the 20 TCP bytes now read as UDP + 12 bytes
    assert [x.TYPE for x in p.getProtoList()] == ["IP", "UDP"]
    # The old view reads the bytes where its header was; resizing it is refused.
    assert tcp.srcPort == 0
    with pytest.raises(ValueError, match="not part of its packet's stack"):
        tcp.payload = b"x"
    tcp.window = 5  # a fixed-size field is still written where it was
    assert bytes(p)[34:36] == b"\x00\x05"


def test_a_view_reads_and_writes_what_is_left_of_its_header():
    p = createPacket(Ethernet, IP, TCP)
    ip = p["ip"]
    p["ethernet"].payload = b"\x45\x0a"  # a cut IP header: not in the stack
    assert [x.TYPE for x in p.getProtoList()] == ["Ethernet"]
    # the view reads the two bytes left of its header, and writes them
    assert (ip.version, ip.tos) == (4, 0x0a)
    ip.tos = 3
    assert bytes(p)[14:] == b"\x45\x03"
    # a field past the packet's end reads 0 and is not written
    assert ip.ttl == 0
    with pytest.raises(ValueError, match=r"^IP\.ttl lies outside the captured bytes of its header$"):
        ip.ttl = 5
    assert bytes(p)[14:] == b"\x45\x03"


def test_fields_past_a_shortened_header_are_neither_read_nor_written():
    p = createPacket(IP, packet.ICMPTimestampRequest)
    ts = p["icmp"]
    ts.transmit_ts = 7
    assert ts.transmit_ts == 7 and len(p) == 40
    ts.itype = "ICMPEchoRequest"  # an 8-byte header: the timestamps are payload now
    assert p["icmp"].TYPE == "ICMPEchoRequest"
    assert ts.transmit_ts == 0
    before = bytes(p)
    with pytest.raises(ValueError, match=r"^ICMP\.transmit_ts lies outside the captured bytes of its header$"):
        ts.transmit_ts = 5
    assert bytes(p) == before


def test_random_assignments_never_crash():
    """Random values of random types into every field of packets decoded from
    random and real bytes: only ValueError/TypeError (or AttributeError for
    the read-only members) come out, the packet stays decodable, and
    finalise() then succeeds."""
    rnd = random.Random(2024)
    sources = [bytes(p) for _, p, _ in capture_packets()][:40]
    sources += [bytes(createPacket(*s)) for s, *_ in INT_FIELDS]
    values = [0, 1, -1, 255, 65535, 2**32, 2**80, "tcp", "SYN", "1.2.3.4", "fe80::1",
              "00:11:22:33:44:55", "", "x" * 300, b"", b"\x01\x02\x03\x04", bytes(64),
              ["syn", "ack"], [(2, b"\x05\xb4")], [], None, 1.5, object(), [b"\x01"]]
    firsts = [Ethernet, IP, IPv6, Loopback, PF, PFOld, Enc, SLL, SLL2]
    errors = 0
    for i in range(3000):
        if sources and rnd.random() < 0.6:
            data = bytearray(rnd.choice(sources))
            for _ in range(rnd.randrange(4)):
                if data:
                    data[rnd.randrange(len(data))] = rnd.randrange(256)
            first = rnd.choice(firsts) if rnd.random() < 0.2 else Ethernet
        else:
            data = bytes(rnd.getrandbits(8) for _ in range(rnd.randrange(120)))
            first = rnd.choice(firsts)
        p = Packet(first, bytes(data))
        protos = p.getProtoList()
        for _ in range(rnd.randrange(1, 6)):
            if not protos:
                break
            obj = rnd.choice(protos)
            names = [n for n in dir(type(obj)) if not n.startswith("_") and n != "TYPE"
                     and not callable(getattr(type(obj), n))
                     and not n.endswith("Options")]
            name = rnd.choice(names)
            try:
                setattr(obj, name, rnd.choice(values))
            except (ValueError, TypeError, AttributeError):
                errors += 1
            protos = p.getProtoList() or protos
        p.finalise()
        q = Packet(first, bytes(p))
        repr(q)
        for proto in q.getProtoList():
            for n in dir(type(proto)):
                if not n.startswith("_"):
                    getattr(proto, n)
    assert errors > 100


# Fields whose getter gives a summary of the bytes rather than all of them:
# option lists (malformed options are left out), padded names (bytes that
# are not UTF-8 read as U+FFFD).
LOSSY_FIELDS = {"options", "ifname", "ruleset", "sname", "filename"}


def test_assigning_a_field_its_own_value_changes_nothing():
    """For every field of every protocol of the captures (and of the same
    packets with random bytes changed): reading it and assigning the value
    back leaves the packet byte for byte as it was."""
    rnd = random.Random(7)
    packets = [p for _, p, _ in capture_packets()]
    for p in list(packets):
        d = bytearray(bytes(p))
        for _ in range(3):
            d[rnd.randrange(len(d))] = rnd.randrange(256)
        packets.append(packet.Packet(type(p.getProtoList()[0]), bytes(d)))
    checked = 0
    for p in packets:
        for o in p.getProtoList():
            for k in dir(type(o)):
                # (From the class a field with named values gives its table.)
                desc = inspect.getattr_static(type(o), k, None)
                if k.startswith("_") or k in LOSSY_FIELDS or not hasattr(desc, "__set__") \
                        or k in ("payload", "packet", "offset"):
                    continue
                try:
                    value = getattr(o, k)
                except AttributeError:
                    continue
                if value is None or isinstance(value, (list, packet.Protocol)):
                    continue
                before = bytes(p)
                try:
                    setattr(o, k, value)
                except AttributeError:
                    continue  # read-only
                assert bytes(p) == before, (repr(p), type(o).__name__, k, value)
                checked += 1
    assert checked > 3000, checked


def test_dhcp_option_lists_are_padded_to_the_bootp_minimum():
    for name in ("dhcp_request", "dhcp_response"):
        p = read_feed(OPENBSD / "packets" / name)[0]
        before = bytes(p)
        assert len(before) == 14 + 20 + 8 + 300
        p["dhcp"].options = p["dhcp"].options
        assert bytes(p) == before, name
    d = createPacket(IP, UDP, DHCP)
    d["dhcp"].options = [(53, b"\x01")]
    # 240 bytes of header and cookie, 3 of option, End, zeros up to 300
    assert d["dhcp"].payload == b"\x35\x01\x01\xff" + bytes(56)
    assert d["udp"].length == 8 + 300 and d["ip"].length == 20 + 8 + 300
    long = [(12, b"h" * 200)]
    d["dhcp"].options = long
    assert d["dhcp"].payload == b"\x0c\xc8" + b"h" * 200 + b"\xff"
    d["dhcp"].options = b"\x35\x01\x01\xff"  # bytes are taken as they are
    assert d["dhcp"].payload == b"\x35\x01\x01\xff"
    for k, name in ((0, "Pad"), (255, "End")):
        with pytest.raises(ValueError) as e:
            d["dhcp"].options = [(53, b"\x01"), (k, b"")]
        assert str(e.value) == (f"DHCP.options: a list cannot hold option {k} ({name}): End and the "
                                "padding are added (assign bytes to write them yourself)")
        assert d["dhcp"].payload == b"\x35\x01\x01\xff"


def test_a_held_icmp_object_keeps_its_class_after_a_type_change():
    p = createPacket(IP, ICMPEchoRequest)
    ic = p["icmp"]
    ic.itype = "ICMPEchoReply"
    assert p["icmp"].TYPE == "ICMPEchoReply" and p["icmp"].isType("icmpechoreply")
    # the held object answers for its class, as TYPE does
    assert ic.TYPE == "ICMPEchoRequest"
    assert ic.isType("ICMPEchoRequest") and ic.isType("ICMP") and ic.isType("Protocol")
    assert not ic.isType("ICMPEchoReply")
    # while its fields and repr read the bytes as they are now
    assert ic.itype == 0 and repr(ic) == repr(p["icmp"])


def _ones_complement(data):
    s = sum(struct.unpack("!%dH" % (len(data) // 2), data))
    while s >> 16:
        s = (s & 0xFFFF) + (s >> 16)
    return ~s & 0xFFFF


def test_finalise_keeps_the_quoted_header_as_it_is():
    p = read_feed(OPENBSD / "packets" / "icmp_port_unreachable")[0]
    q = p["icmp"].iphdr
    at = q.offset
    quoted = bytes(p)[at:at + 20]
    assert _ones_complement(quoted) != 0  # the capture's quoted checksum is stale
    q.ttl = 3
    p.finalise()
    after = bytes(p)
    assert after[at:at + 20] == quoted[:8] + b"\x03" + quoted[9:]  # only the ttl changed
    icmp = p["icmp"]
    assert _ones_complement(after[icmp.offset:icmp.offset + len(icmp.payload) + 8]) == 0
