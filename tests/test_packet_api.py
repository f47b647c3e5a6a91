"""The Packet API contract (spec/packet.md): lookups, stack navigation,
bytes, reprs, offsets, payload bounds, option tables, link types, and
robustness (malformed data never raises)."""

import types
import random
import struct

import pytest
from scapy.all import ICMP as S_ICMP, IP as S_IP, TCP as S_TCP, UDP as S_UDP, Ether, Raw
from scapy.layers.inet6 import ICMPv6EchoRequest, IPv6 as S_IPv6, IPv6ExtHdrFragment

from openbsd import packet, pcap
from packet_helpers import (CAPTURES, LINKTYPE_ETHERNET, LINKTYPE_USER0, read_feed,
                            read_file_records, type_names, write_pcap)

E = Ether(src="00:09:6b:e0:ca:ce", dst="00:02:b3:41:aa:c3")
TCP_PKT = bytes(E / S_IP(src="192.168.0.9", dst="192.168.0.1") /
                S_TCP(sport=8012, dport=22, flags="S") / b"data")
ECHO_PKT = bytes(E / S_IP(src="10.0.0.1", dst="10.0.0.2") / S_ICMP(type=8, id=7, seq=9) / b"ping")
IPIP_PKT = bytes(E / S_IP(src="172.16.0.1", dst="172.16.0.2") /
                 S_IP(src="10.1.0.1", dst="10.2.0.1") / S_UDP(sport=7, dport=9) / b"in")
ECHO6_PKT = bytes(E / S_IPv6(src="fe80::1", dst="fe80::2") / ICMPv6EchoRequest(id=1, seq=2))
UDP_PADDED = bytes(E / S_IP(src="10.0.0.1", dst="10.0.0.2") / S_UDP(sport=1, dport=2) / b"ab") + \
    b"\xee" * 16


def P(data, klass=None):
    return packet.Packet(klass or packet.Ethernet, data)


# --- lookups -------------------------------------------------------------------

def test_lookup_is_case_insensitive():
    p = P(TCP_PKT)
    for name in ("ip", "IP", "Ip", "iP"):
        assert p[name].TYPE == "IP"
        assert p[name].offset == 14
    for name in ("tcp", "TCP", "Tcp"):
        assert p[name].TYPE == "TCP"
    assert p["ETHERNET"].TYPE == "Ethernet"


def test_lookup_missing_raises_keyerror():
    p = P(TCP_PKT)
    for name in ("udp", "icmp", "ipv6", "nosuchprotocol", ""):
        with pytest.raises(KeyError):
            p[name]
        assert not p.has_key(name)
        assert name not in p


def test_base_type_matching_icmp():
    p = P(ECHO_PKT)
    icmp = p["icmp"]
    assert icmp.TYPE == "ICMPEchoRequest"
    assert p["ICMPEchoRequest"].offset == icmp.offset == 34
    assert p["icmpechorequest"].TYPE == "ICMPEchoRequest"
    assert icmp.isType("ICMP") and icmp.isType("icmp") and icmp.isType("ICMPEchoRequest")
    assert icmp.isType("icmpechorequest")
    assert not icmp.isType("ICMPEchoReply") and not icmp.isType("ICMP6") and not icmp.isType("IP")
    assert isinstance(icmp, packet.ICMP) and isinstance(icmp, packet.ICMPEchoRequest)
    assert p.has_key("icmp") and "ICMP" in p and "ICMPEchoRequest" in p
    assert "ICMPEchoReply" not in p
    with pytest.raises(KeyError):
        p["ICMPEchoReply"]


def test_base_type_matching_icmp6():
    p = P(ECHO6_PKT)
    e = p["icmp6"]
    assert e.TYPE == "ICMP6EchoRequest"
    assert p["ICMP6EchoRequest"].offset == e.offset == 54
    assert e.isType("ICMP6") and not e.isType("ICMP")
    assert isinstance(e, packet.ICMP6)
    with pytest.raises(KeyError):
        p["icmp"]


@pytest.mark.parametrize("cls", [
    "ICMPEchoReply", "ICMPDestinationUnreachable", "ICMPSourceQuench", "ICMPRedirect",
    "ICMPEchoRequest", "ICMPRouterAdvertisement", "ICMPRouterSolicitation", "ICMPTimeExceeded",
    "ICMPParameterProblem", "ICMPTimestampRequest", "ICMPTimestampReply",
    "ICMPInformationRequest", "ICMPInformationReply", "ICMPAddressMaskRequest",
    "ICMPAddressMaskReply", "ICMP6DestinationUnreachable", "ICMP6PacketTooBig",
    "ICMP6TimeExceeded", "ICMP6ParameterProblem", "ICMP6EchoRequest", "ICMP6EchoReply",
    "ICMP6NeighbourSolicitation", "ICMP6NeighbourAdvertisement"])
def test_icmp_subclass_type_is_class_name(cls):
    klass = getattr(packet, cls)
    assert klass.TYPE == cls
    base = packet.ICMP6 if cls.startswith("ICMP6") else packet.ICMP
    assert issubclass(klass, base)


def test_type_names_of_classes():
    expected = {"Ethernet": "Ethernet", "VLAN": "VLAN", "Loopback": "Loopback", "PF": "PF",
                "PFOld": "PFOld", "Enc": "Enc", "IP": "IP", "IPv6": "IPv6",
                "IPv6HopByHopHeader": "IPv6HopByHopHeader",
                "IPv6RoutingHeader": "IPv6RoutingHeader",
                "IPv6FragmentHeader": "IPv6FragmentHeader",
                "IPv6DestinationOptionsHeader": "IPv6DestinationOptions",
                "ICMP": "ICMP", "ICMP6": "ICMP6", "TCP": "TCP", "UDP": "UDP", "DHCP": "DHCP",
                "ARP": "ARP", "AH": "AH", "ESP": "ESP", "IGMP": "IGMP", "Raw": "Raw"}
    for cls, type_name in expected.items():
        assert getattr(packet, cls).TYPE == type_name, cls


def test_lookup_from_protocol_searches_inward_only():
    p = P(TCP_PKT)
    ip = p["ip"]
    # the protocol itself is not searched: one IP header -> KeyError
    with pytest.raises(KeyError):
        ip["ip"]
    assert not ip.has_key("ip")
    assert "ip" not in ip
    assert ip["tcp"].offset == p["tcp"].offset == 34
    assert ip.has_key("TCP") and "tcp" in ip
    # nothing outward either
    with pytest.raises(KeyError):
        p["tcp"]["ip"]
    with pytest.raises(KeyError):
        p["tcp"]["ethernet"]
    assert not p["tcp"].has_key("ethernet")
    assert p["ethernet"]["tcp"].TYPE == "TCP"
    with pytest.raises(KeyError):
        p["ethernet"]["ethernet"]


def test_ip_in_ip_lookup():
    p = P(IPIP_PKT)
    assert type_names(p) == ["Ethernet", "IP", "IP", "UDP"]
    outer, inner = p["ip"], p["ip"]["ip"]
    assert (outer.offset, outer.src, outer.protocol) == (14, "172.16.0.1", 4)
    assert (inner.offset, inner.src, inner.dst) == (34, "10.1.0.1", "10.2.0.1")
    assert p["ip"].has_key("ip")
    with pytest.raises(KeyError):
        p["ip"]["ip"]["ip"]
    assert p["ip"]["ip"]["udp"].dstPort == 9
    assert p["IP"]["Ip"]["UDP"].srcPort == 7


# --- stack, bytes, lengths, reprs ------------------------------------------------

def test_get_proto_list_and_len_of_protocols():
    p = P(TCP_PKT)
    protos = p.getProtoList()
    assert isinstance(protos, list)
    assert [x.TYPE for x in protos] == ["Ethernet", "IP", "TCP"]
    assert [len(x) for x in protos] == [3, 2, 1]
    assert [x.offset for x in protos] == [0, 14, 34]
    for x in protos:
        assert x.packet is p
        assert isinstance(x, packet.Protocol)


def test_bytes_getraw_len():
    for data in (TCP_PKT, ECHO_PKT, IPIP_PKT, UDP_PADDED):
        p = P(data)
        assert bytes(p) == data
        assert p.getRaw() == data
        assert isinstance(p.getRaw(), bytes)
        assert len(p) == len(data)


@pytest.mark.parametrize("kind", [bytes, bytearray, memoryview])
def test_packet_accepts_bytes_like(kind):
    p = packet.Packet(packet.Ethernet, kind(TCP_PKT))
    assert type_names(p) == ["Ethernet", "IP", "TCP"]
    assert bytes(p) == TCP_PKT


def test_packet_copies_its_data():
    buf = bytearray(TCP_PKT)
    p = packet.Packet(packet.Ethernet, buf)
    buf[26:30] = b"\x01\x02\x03\x04"
    assert p["ip"].src == "192.168.0.9"
    assert bytes(p) == TCP_PKT


def test_reprs():
    p = P(TCP_PKT)
    assert repr(p["ethernet"]) == "Eth: 00:09:6b:e0:ca:ce->00:02:b3:41:aa:c3"
    assert repr(p["ip"]) == "IP: 192.168.0.9->192.168.0.1"
    assert repr(p["tcp"]) == "TCP: 8012->22"
    assert repr(p) == ("[Eth: 00:09:6b:e0:ca:ce->00:02:b3:41:aa:c3] "
                       "[IP: 192.168.0.9->192.168.0.1] [TCP: 8012->22]")
    u = P(UDP_PADDED)
    assert repr(u["udp"]) == "UDP: 1->2"
    assert repr(u).endswith("[UDP: 1->2]")


def test_loopback_repr_is_empty_and_left_out():
    data = struct.pack(">I", 2) + bytes(S_IP(src="127.0.0.1", dst="127.0.0.1") /
                                        S_UDP(sport=5, dport=6))
    p = packet.Packet(packet.Loopback, data)
    assert type_names(p) == ["Loopback", "IP", "UDP"]
    assert repr(p["loopback"]) == ""
    assert repr(p) == "[IP: 127.0.0.1->127.0.0.1] [UDP: 5->6]"


# --- payload bounds ----------------------------------------------------------------

def test_payload_bounds_exclude_ethernet_padding():
    p = P(UDP_PADDED)
    assert p["ethernet"].payload == UDP_PADDED[14:]
    assert p["ip"].length == 30
    assert p["ip"].payload == UDP_PADDED[34:44]
    assert p["udp"].payload == b"ab"


def test_payload_types_and_bounds_tcp():
    p = P(TCP_PKT)
    assert p["tcp"].payload == b"data"
    assert p["ip"].payload == TCP_PKT[34:]
    assert isinstance(p["tcp"].payload, bytes)


def test_ip_length_past_data_is_clamped():
    data = bytearray(TCP_PKT)
    data[16:18] = b"\xff\xff"  # IP total length 65535, 44 bytes there
    p = P(bytes(data))
    assert p["ip"].length == 65535
    assert p["ip"].payload == bytes(data[34:])
    assert p["tcp"].payload == b"data"


def test_header_beyond_ip_length_is_absent():
    # IP total length 20: nothing is carried, the TCP bytes after it are
    # trailer, not a TCP header.
    data = bytearray(TCP_PKT)
    data[16:18] = b"\x00\x14"
    p = P(bytes(data))
    assert type_names(p) == ["Ethernet", "IP"]
    assert p["ip"].payload == b""
    assert p["ethernet"].payload == bytes(data[14:])


def test_icmp_payload():
    p = P(ECHO_PKT)
    assert p["icmp"].payload == b"ping"
    assert (p["icmp"].identifier, p["icmp"].seq_num) == (7, 9)


# --- option tables -----------------------------------------------------------------

def _tables(cls):
    out = []
    for name in dir(cls):
        if name.startswith("__"):
            continue
        try:
            v = getattr(cls, name)
        except Exception:  # noqa: BLE001 - a descriptor that needs an instance
            continue
        if isinstance(v, packet.Options):
            out.append((name, v))
    return out


def _has_table(cls, required):
    """Some class attribute of ``cls`` is an option table {name: value}
    holding every ``required`` entry (names compared case-insensitively)."""
    want = {k.upper(): v for k, v in required.items()}
    for _name, table in _tables(cls):
        have = {str(k).upper(): v for k, v in table.items()}
        if all(have.get(k) == v for k, v in want.items()):
            return True
    return False


PROTOCOLS = {"ICMP": 1, "IGMP": 2, "IP_IN_IP": 4, "TCP": 6, "UDP": 17, "IPv6": 41,
             "ROUTING_HEADER": 43, "FRAGMENTATION_HEADER": 44, "ESP": 50, "AH": 51, "ICMP6": 58,
             "NO_NEXT_HEADER": 59, "DESTINATION_OPTIONS_HEADER": 60}


@pytest.mark.parametrize("cls,required", [
    ("Ethernet", {"IP": 0x800, "ARP": 0x806, "RARP": 0x8035, "IP6": 0x86DD, "PPPOE": 0x8864,
                  "LOOPBACK": 0x9000}),
    ("Loopback", {"UNSPEC": 0, "LOCAL": 1, "INET": 2, "APPLETALK": 16, "LINK": 18,
                  "INET6": 24}),
    ("Enc", {"CONF": 0x400, "AUTH": 0x800, "AUTH_AH": 0x2000}),
    ("IP", {"MF": 1, "DF": 2, "RES": 4}),
    ("IP", PROTOCOLS),
    ("IPv6", PROTOCOLS),
    ("AH", PROTOCOLS),
    ("TCP", {"URG": 32, "ACK": 16, "PSH": 8, "RST": 4, "SYN": 2, "FIN": 1}),
    ("DHCP", {"BROADCAST": 0x8000}),
    ("ARP", {"ARP_REQUEST": 1, "ARP_REPLY": 2, "RARP_REQUEST": 3, "RARP_REPLY": 4}),
    ("ICMP", {"ICMPEchoReply": 0, "ICMPDestinationUnreachable": 3, "ICMPSourceQuench": 4,
              "ICMPRedirect": 5, "ICMPEchoRequest": 8, "ICMPRouterAdvertisement": 9,
              "ICMPRouterSolicitation": 10, "ICMPTimeExceeded": 11, "ICMPParameterProblem": 12,
              "ICMPTimestampRequest": 13, "ICMPTimestampReply": 14,
              "ICMPInformationRequest": 15, "ICMPInformationReply": 16,
              "ICMPAddressMaskRequest": 17, "ICMPAddressMaskReply": 18}),
    ("ICMP6NeighbourAdvertisement", {"ROUTER": 4, "SOLICITED": 2, "OVERRIDE": 1}),
])
def test_option_tables_are_class_attributes(cls, required):
    klass = getattr(packet, cls)
    assert _has_table(klass, required), (cls, [n for n, _ in _tables(klass)])


def test_option_tables_on_subclasses_and_instances():
    # an ICMP subclass inherits ICMP's type table; instances see it too
    assert _has_table(packet.ICMPEchoRequest, {"ICMPEchoRequest": 8})
    p = P(TCP_PKT)
    assert _has_table(type(p["tcp"]), {"SYN": 2})


# --- link types ----------------------------------------------------------------------

def test_linktype_of_feed_packets(tmp_path):
    path = write_pcap(tmp_path / "e.pcap", LINKTYPE_ETHERNET, [TCP_PKT, ECHO_PKT])
    packets = read_feed(path)
    assert [p.linktype for p in packets] == [pcap.DLT_EN10MB] * 2
    assert [type_names(p) for p in packets] == [["Ethernet", "IP", "TCP"],
                                                ["Ethernet", "IP", "ICMPEchoRequest"]]


def test_interpret_on_next_dispatch_loop(tmp_path):
    path = write_pcap(tmp_path / "e.pcap", LINKTYPE_ETHERNET, [TCP_PKT, ECHO_PKT, IPIP_PKT])
    want = [repr(P(d)) for d in (TCP_PKT, ECHO_PKT, IPIP_PKT)]
    with pcap.Offline(str(path)) as f:
        got = []
        while True:
            r = f.next(interpret=1)
            if r is None:
                break
            pkt, ts, length = r
            assert isinstance(pkt, packet.Packet)
            assert length == len(pkt)
            got.append(repr(pkt))
    assert got == want
    with pcap.Offline(str(path)) as f:
        got = []
        f.dispatch(-1, lambda pkt, ts, length: got.append(repr(pkt)), interpret=1)
    assert got == want
    with pcap.Offline(str(path)) as f:
        got = []
        f.loop(0, lambda pkt, ts, length: got.append(repr(pkt)), 1)
    assert got == want
    with pcap.Offline(str(path)) as f:
        got = []
        f.loop(0, lambda pkt, ts, length: got.append(type(pkt)))
    assert got == [bytes] * 3


def test_unknown_linktype_gives_raw(tmp_path):
    data = [b"\x00\x01\x02\x03" * 5, b"", b"\x45" + b"\x00" * 30]
    path = write_pcap(tmp_path / "u.pcap", LINKTYPE_USER0, data)
    packets = read_feed(path)
    assert len(packets) == 3
    for p, d in zip(packets, data):
        assert type_names(p) == ["Raw"]
        assert p["raw"].payload == d
        assert p["raw"].offset == 0
        assert bytes(p) == d
        assert p.linktype == LINKTYPE_USER0


def test_packet_with_raw_class():
    p = packet.Packet(packet.Raw, b"abc")
    assert type_names(p) == ["Raw"]
    assert p["raw"].payload == b"abc"


@pytest.mark.parametrize("klass,data,stack", [
    ("IP", bytes(S_IP(src="1.2.3.4", dst="5.6.7.8") / S_UDP(sport=1, dport=2)), ["IP", "UDP"]),
    ("IPv6", bytes(S_IPv6(src="::1", dst="::2") / S_UDP(sport=1, dport=2)), ["IPv6", "UDP"]),
    ("Loopback", struct.pack("<I", 24) + bytes(S_IPv6(src="::1", dst="::2") / S_UDP()),
     ["Loopback", "IPv6", "UDP"]),
    ("Loopback", struct.pack(">I", 24) + bytes(S_IPv6(src="::1", dst="::2") / S_UDP()),
     ["Loopback", "IPv6", "UDP"]),
    ("Loopback", struct.pack(">I", 2) + bytes(S_IP() / S_ICMP()), ["Loopback", "IP", "ICMPEchoRequest"]),
])
def test_first_protocol_classes(klass, data, stack):
    p = packet.Packet(getattr(packet, klass), data)
    assert type_names(p) == stack


def test_ipv6_first_fragment_header_and_nonfirst():
    d = bytes(E / S_IPv6(src="::1", dst="::2") / IPv6ExtHdrFragment(id=5, offset=10, m=1, nh=58) /
              (b"\x80" * 16))
    p = P(d)
    assert type_names(p) == ["Ethernet", "IPv6", "IPv6FragmentHeader"]
    assert p["IPv6FragmentHeader"].offset == 54
    assert p["ipv6"].nextheader == 44


# --- field types ---------------------------------------------------------------------

def test_field_types():
    p = P(TCP_PKT)
    ip, tcp, eth = p["ip"], p["tcp"], p["ethernet"]
    for v in (ip.version, ip.headerLength, ip.tos, ip.length, ip.ident, ip.flags,
              ip.fragmentOffset, ip.ttl, ip.protocol, ip.checksum, tcp.srcPort, tcp.dstPort,
              tcp.seq_num, tcp.ack_num, tcp.dataOffset, tcp.flags, tcp.window, tcp.checksum,
              tcp.urgent, eth.etype):
        assert type(v) is int
    for v in (ip.src, ip.dst, eth.src, eth.dst):
        assert type(v) is str
    assert type(ip.optionsField) is bytes and ip.optionsField == b""
    assert ip.options == []
    assert tcp.options == []


def test_field_types_ipv6():
    p = P(ECHO6_PKT)
    ip6 = p["ipv6"]
    assert (ip6.src, ip6.dst) == ("fe80::1", "fe80::2")
    for v in (ip6.version, ip6.diffservices, ip6.flowlabel, ip6.payloadlength, ip6.nextheader,
              ip6.hoplimit):
        assert type(v) is int
    assert ip6.version == 6 and ip6.nextheader == 58


# --- robustness ----------------------------------------------------------------------

FIRST_CLASSES = ["Ethernet", "Loopback", "IP", "IPv6", "PF", "PFOld", "Enc", "Raw"]


def exercise(p):
    """Touch everything a script could read; nothing may raise (except the
    KeyError of a missing lookup)."""
    raw = bytes(p)
    assert len(p) == len(raw)
    repr(p)
    protos = p.getProtoList()
    last = 0
    for pos, proto in enumerate(protos):
        assert 0 <= proto.offset <= len(raw)
        assert proto.offset >= last
        last = proto.offset
        assert len(proto) == len(protos) - pos
        repr(proto)
        proto.isType("ip")
        proto.has_key("tcp")
        "udp" in proto
        payload = proto.payload
        assert isinstance(payload, bytes)
        assert len(payload) <= len(raw) - proto.offset
        assert raw[proto.offset:].find(payload) >= 0
        for name in dir(proto):
            if name.startswith("_"):
                continue
            value = getattr(proto, name)
            if name in ("options", "iphdr") and value is not None:
                if isinstance(value, list):
                    for o in value:
                        repr(o)
                        for n in dir(o):
                            if not n.startswith("_"):
                                getattr(o, n)
                else:
                    for n in dir(value):
                        if not n.startswith("_"):
                            getattr(value, n)
    for name in ("ethernet", "ip", "ipv6", "tcp", "udp", "icmp", "icmp6", "pf", "raw"):
        if p.has_key(name):
            p[name]
        else:
            with pytest.raises(KeyError):
                p[name]


def _real_packets():
    out = [(LINKTYPE_ETHERNET, d) for d in (TCP_PKT, ECHO_PKT, IPIP_PKT, ECHO6_PKT, UDP_PADDED)]
    d = CAPTURES / "openbsd"
    if d.is_dir():
        for f in sorted(d.rglob("*")):
            if f.is_file() and f.name != "README.md":
                lt, recs = read_file_records(f)
                out.append((lt, recs[0][0]))
    return out


KLASS_BY_LINKTYPE = {1: "Ethernet", 12: "Loopback", 13: "Enc", 17: "PFOld", 117: "PF"}


def test_every_prefix_of_real_packets_decodes():
    n = 0
    for lt, data in _real_packets():
        klass = getattr(packet, KLASS_BY_LINKTYPE[lt])
        for cut in range(len(data) + 1):
            p = packet.Packet(klass, data[:cut])
            exercise(p)
            n += 1
            # a prefix never decodes more protocols than the whole packet
            assert len(p.getProtoList()) <= len(packet.Packet(klass, data).getProtoList())
    assert n > 300  # five crafted packets, plus the captures when present


def test_random_bytes_never_raise():
    rng = random.Random(4)
    for klass_name in FIRST_CLASSES:
        klass = getattr(packet, klass_name)
        for _ in range(300):
            data = bytes(rng.getrandbits(8) for _ in range(rng.randrange(0, 200)))
            exercise(packet.Packet(klass, data))


def test_mutated_real_packets_never_raise():
    """Flip bytes of real packets (keeps them plausible deep in the stack)."""
    rng = random.Random(7)
    base = _real_packets()
    for _ in range(3000):
        lt, data = base[rng.randrange(len(base))]
        data = bytearray(data)
        for _ in range(rng.randrange(1, 6)):
            if data:
                data[rng.randrange(len(data))] = rng.getrandbits(8)
        klass = getattr(packet, KLASS_BY_LINKTYPE[lt])
        exercise(packet.Packet(klass, bytes(data)))


@pytest.mark.parametrize("desc,mutate", [
    ("ip header length 15 with 20 bytes", lambda d: d[:14] + b"\x4f" + d[15:34]),
    ("ip header length below 5", lambda d: d[:14] + b"\x42" + d[15:]),
    ("tcp data offset 15", lambda d: d[:46] + b"\xf0" + d[47:]),
    ("tcp data offset below 5", lambda d: d[:46] + b"\x20" + d[47:]),
    ("ip length 0", lambda d: d[:16] + b"\x00\x00" + d[18:]),
    ("ethertype ipv6 over ipv4 bytes", lambda d: d[:12] + b"\x86\xdd" + d[14:]),
    ("vlan tag with nothing after", lambda d: d[:12] + b"\x81\x00"),
    ("empty", lambda d: b""),
])
def test_malformed_lengths(desc, mutate):
    d = mutate(TCP_PKT)
    p = P(d)
    exercise(p)
    assert bytes(p) == d
    if desc.startswith("ip header length") or desc.startswith("tcp data offset"):
        assert "tcp" not in p  # a header that does not fit is absent


def test_feed_with_malformed_packets_does_not_raise(tmp_path):
    rng = random.Random(11)
    recs = [bytes(rng.getrandbits(8) for _ in range(rng.randrange(0, 120))) for _ in range(200)]
    path = write_pcap(tmp_path / "junk.pcap", LINKTYPE_ETHERNET, recs)
    packets = read_feed(path)
    assert [bytes(p) for p in packets] == recs
    for p in packets:
        exercise(p)


# --- adversarial option and length fields -----------------------------------------------

def _tcp_with_options(opts):
    """Ethernet/IPv4/TCP whose option area is ``opts`` (padded to 4 bytes)."""
    opts = opts + b"\x00" * (-len(opts) % 4)
    tcp = struct.pack("!HHIIBBHHH", 1, 2, 0, 0, (5 + len(opts) // 4) << 4, 0x02, 1000, 0, 0) + opts
    ip = struct.pack("!BBHHHBBH4s4s", 0x45, 0, 20 + len(tcp), 1, 0, 64, 6, 0,
                     bytes([10, 0, 0, 1]), bytes([10, 0, 0, 2]))
    return bytes(E)[:12] + b"\x08\x00" + ip + tcp


@pytest.mark.parametrize("opts", [
    b"\x02\x00\x05\xb4",          # MSS with length 0
    b"\x02\x01\x05\xb4",          # MSS with length 1
    b"\x08\x28" + b"\x00" * 10,   # timestamp claiming 40 bytes
    b"\x01" * 40,                 # 40 NOPs (the most a header holds)
    b"\x05",                      # a kind byte with no length byte
])
def test_malformed_tcp_options_end_the_list(opts):
    p = P(_tcp_with_options(opts))
    assert type_names(p) == ["Ethernet", "IP", "TCP"]
    options = p["tcp"].options
    assert isinstance(options, list)
    area = (p["tcp"].dataOffset - 5) * 4
    assert len(options) <= area
    for kind, data in options:
        assert isinstance(kind, int) and isinstance(data, bytes) and len(data) <= area


def test_tcp_options_well_formed_prefix_is_kept():
    p = P(_tcp_with_options(b"\x02\x04\x05\xb4\x01\x02\x00\x05"))  # MSS, NOP, broken
    assert p["tcp"].options[:2] == [(2, b"\x05\xb4"), (1, b"")]


@pytest.mark.parametrize("opts", [
    b"\x07\x00\x04\x00",          # record route with length 0
    b"\x07\x01\x04\x00",          # record route with length 1
    b"\x83\x28\x04" + b"\x00" * 5,  # loose source route claiming 40 bytes
    b"\x44\x02\x05\x00",          # timestamp too short for its fields
])
def test_malformed_ip_options_never_raise(opts):
    opts = opts + b"\x00" * (-len(opts) % 4)
    hl = 5 + len(opts) // 4
    ip = struct.pack("!BBHHHBBH4s4s", 0x40 | hl, 0, hl * 4 + 8, 1, 0, 64, 17, 0,
                     bytes([10, 0, 0, 1]), bytes([10, 0, 0, 2])) + opts
    p = P(bytes(E)[:12] + b"\x08\x00" + ip + struct.pack("!HHHH", 1, 2, 8, 0))
    assert type_names(p) == ["Ethernet", "IP", "UDP"]
    assert p["ip"].optionsField == opts
    for o in p["ip"].options:
        repr(o)
        for name in dir(o):
            if not name.startswith("_"):
                getattr(o, name)
    assert len(p["ip"].options) <= len(opts)


def test_icmp_error_with_cut_quoted_header():
    quoted = bytes(S_IP(src="10.0.0.2", dst="10.0.0.3") / S_UDP(sport=1, dport=2))[:10]
    d = bytes(E / S_IP(src="10.0.0.1", dst="10.0.0.2") / S_ICMP(type=3, code=1) / Raw(quoted))
    p = P(d)
    icmp = p["icmp"]
    assert icmp.TYPE == "ICMPDestinationUnreachable"
    assert icmp.iphdr is None  # a quoted header cut short is not decoded
    assert icmp.payload == quoted


def test_deep_stacks_never_raise():
    # 30 VLAN tags, and a chain of 20 IPv6 destination-options headers
    vlan = bytes(E)[:12] + b"".join(struct.pack("!HH", 0x8100, i) for i in range(30)) + \
        b"\x08\x00" + bytes(S_IP() / S_UDP())
    exercise(P(vlan))
    ext = b"".join(bytes([60, 0]) + b"\x01\x04\x00\x00\x00\x00" for _ in range(20))
    ip6 = struct.pack("!IHBB16s16s", 6 << 28, len(ext), 60, 64, b"\x00" * 15 + b"\x01",
                      b"\x00" * 15 + b"\x02") + ext
    exercise(P(bytes(E)[:12] + b"\x86\xdd" + ip6))


def test_every_prefix_of_crafted_packets_decodes():
    from test_packet_oracle import CASES

    for case in CASES:
        if not case.klass:
            continue
        klass = getattr(packet, case.klass)
        full = len(packet.Packet(klass, case.data).getProtoList())
        for cut in range(len(case.data) + 1):
            p = packet.Packet(klass, case.data[:cut])
            exercise(p)
            assert len(p.getProtoList()) <= full


# --- packets outlive their feed; Dumper takes a Packet ------------------------------------

def test_packets_outlive_the_feed(tmp_path):
    import gc

    path = write_pcap(tmp_path / "e.pcap", LINKTYPE_ETHERNET, [TCP_PKT, IPIP_PKT])
    kept, protos = [], []
    feed = pcap.Offline(str(path))

    def keep(pkt, tstamp, length):
        kept.append(pkt)
        protos.append(pkt["ip"])

    feed.loop(0, keep, interpret=1)
    feed.close()
    del feed
    gc.collect()
    assert [bytes(p) for p in kept] == [TCP_PKT, IPIP_PKT]
    assert [x.src for x in protos] == ["192.168.0.9", "172.16.0.1"]
    assert protos[1]["ip"].dst == "10.2.0.1"
    assert protos[0].packet is kept[0]
    kept.clear()
    gc.collect()
    # a protocol object keeps its packet alive
    assert protos[0].packet["tcp"].dstPort == 22
    assert bytes(protos[1].packet) == IPIP_PKT


def test_dumper_writes_interpreted_packets_unchanged(tmp_path):
    src = write_pcap(tmp_path / "in.pcap", LINKTYPE_ETHERNET, [TCP_PKT, ECHO_PKT, UDP_PADDED])
    out = tmp_path / "out.pcap"
    with pcap.Offline(str(src)) as feed:
        dumper = pcap.Dumper(feed, str(out))
        feed.loop(0, dumper, interpret=1)
        dumper.close()
    assert [d for d, _ in read_file_records(out)[1]] == [TCP_PKT, ECHO_PKT, UDP_PADDED]


def test_stacks_end_at_twelve_protocols():
    from openbsd.packet import IP, UDP, VLAN, Ethernet, Packet, createPacket
    b = bytes(createPacket(Ethernet, IP, UDP))
    deep = b[:12] + b"\x81\x00\x00\x01" * 11 + b[12:]   # Ethernet, 11 VLAN tags, IP, UDP
    p = Packet(Ethernet, deep)
    assert [x.TYPE for x in p.getProtoList()] == ["Ethernet"] + ["VLAN"] * 11
    assert "udp" not in p
    assert p.getProtoList()[-1].payload == b[12:][2:]  # the last tag's payload: the IP datagram
    with pytest.raises(ValueError, match=r"^createPacket: at most 12 protocols$"):
        createPacket(Ethernet, *[VLAN] * 11, IP)


def test_option_tables_are_read_only():
    t = packet.TCP.FlagsOptions
    with pytest.raises(TypeError):
        t["BOGUS"] = 1
    assert "BOGUS" not in packet.TCP.FlagsOptions
    # reading works as with the legacy dicts
    assert t["SYN"] == 2 and dict(t)["ACK"] == 16 and ("FIN", 1) in t.items()
    assert packet.ProtocolOptions["TCP"] == 6
    with pytest.raises(TypeError):
        packet.ProtocolOptions["TCP"] = 7
