"""Decoding the real OpenBSD captures in ../shared/captures/openbsd/.

Every file is decoded through ``Offline(...).loop(0, cb, interpret=1)`` and
through ``Packet(klass, data)``; the protocol stacks (TYPE names) are
asserted for every packet.  Files tshark can read (Ethernet, and pflog 117)
are compared field by field with tshark.  The files Linux tools cannot decode
(link type 12 = OpenBSD loop, 13 = OpenBSD enc, 17 = old pflog) are checked
against values derived by hand from the bytes; each derivation is written
next to the values (offsets are into the captured packet data).

The directory is located relative to the repository (``<repo>/../shared/
captures``); the tests skip, saying so, only when it is absent.
"""

import struct

import pytest

from packet_helpers import (ALL_TSHARK_FIELDS, Mismatches, check_iphdr, check_reprs,
                            compare_with_tshark, read_feed, read_file_records,
                            tshark_rows, type_names)

E_IP_TCP = ["Ethernet", "IP", "TCP"]

# file -> (first protocol class, expected stack of every packet,
#          stack_is_prefix, tshark can decode it)
# stack_is_prefix: the contract does not say whether decoding goes on into the
# datagram quoted by an ICMP error or into a first IPv6 fragment; for those
# the stack must start with the listed protocols.
FILES = {
    "ethernet": ("Ethernet", [E_IP_TCP] * 12, False, True),
    "tdump": ("Ethernet", [E_IP_TCP] * 10, False, True),
    "loop": ("Loopback", [["Loopback", "IP", "ICMPEchoReply"]] * 8, False, False),
    "pf": ("PF", [["PF", "IP", "ICMPEchoRequest"]] * 6, False, True),
    "pf.old": ("PFOld", [["PFOld", "IP", "TCP"]] * 12, False, False),
    "packets/arprequest": ("Ethernet", [["Ethernet", "ARP"]], False, True),
    "packets/dhcp_request": ("Ethernet", [["Ethernet", "IP", "UDP", "DHCP"]], False, True),
    "packets/dhcp_response": ("Ethernet", [["Ethernet", "IP", "UDP", "DHCP"]], False, True),
    "packets/enc": ("Enc", [["Enc", "IP", "ICMPEchoRequest"]], False, False),
    "packets/icmp6_echoreply": ("Ethernet", [["Ethernet", "IPv6", "ICMP6EchoReply"]], False, True),
    "packets/icmp6_echorequest": ("Ethernet", [["Ethernet", "IPv6", "ICMP6EchoRequest"]], False, True),
    "packets/icmp6_neighbor_advertisement": (
        "Ethernet", [["Ethernet", "IPv6", "ICMP6NeighbourAdvertisement"]], False, True),
    "packets/icmp6_neighbor_sol": (
        "Ethernet", [["Ethernet", "IPv6", "ICMP6NeighbourSolicitation"]], False, True),
    "packets/icmp6_parameter_problem": (
        "Loopback", [["Loopback", "IPv6", "ICMP6ParameterProblem"]] * 2, True, False),
    "packets/icmp_address_mask_reply": (
        "Ethernet", [["Ethernet", "IP", "ICMPAddressMaskReply"]], False, True),
    "packets/icmp_address_mask_request": (
        "Ethernet", [["Ethernet", "IP", "ICMPAddressMaskRequest"]], False, True),
    "packets/icmp_echo_reply": ("Ethernet", [["Ethernet", "IP", "ICMPEchoReply"]], False, True),
    "packets/icmp_echo_request": ("Ethernet", [["Ethernet", "IP", "ICMPEchoRequest"]], False, True),
    "packets/icmp_port_unreachable": (
        "Ethernet", [["Ethernet", "IP", "ICMPDestinationUnreachable"]], True, True),
    "packets/icmp_time_exceeded": ("Ethernet", [["Ethernet", "IP", "ICMPTimeExceeded"]], True, True),
    "packets/icmp_timestamp_reply": ("Ethernet", [["Ethernet", "IP", "ICMPTimestampReply"]], False, True),
    "packets/icmp_timestamp_request": (
        "Ethernet", [["Ethernet", "IP", "ICMPTimestampRequest"]], False, True),
    "packets/icmp_unreachable": (
        "Ethernet", [["Ethernet", "IP", "ICMPDestinationUnreachable"]], True, True),
    "packets/ip6_fragments": ("Ethernet", [["Ethernet", "IPv6", "IPv6FragmentHeader"]], True, True),
    "packets/ip_ah": ("Ethernet", [["Ethernet", "IP", "AH", "ICMPEchoRequest"]], False, True),
    "packets/ip_esp": ("Ethernet", [["Ethernet", "IP", "ESP"]], False, True),
    "packets/ip_recordroute": ("Loopback", [["Loopback", "IP", "ICMPEchoRequest"]], False, False),
    "packets/pf": ("PF", [["PF", "IP", "ICMPEchoRequest"]], False, True),
    "packets/pf.old": ("PFOld", [["PFOld", "IP", "TCP"]], False, False),
    "packets/tcp": ("Ethernet", [E_IP_TCP], False, True),
    "packets/udp": ("Ethernet", [["Ethernet", "IP", "UDP"]], False, True),
}

# Link type in each file header (read with struct from bytes 20-23), which
# Linux libpcap hands back unchanged from datalink() for these numbers.
LINKTYPES = {"loop": 12, "pf": 117, "pf.old": 17, "packets/enc": 13,
             "packets/icmp6_parameter_problem": 12, "packets/ip_recordroute": 12,
             "packets/pf": 117, "packets/pf.old": 17}


@pytest.fixture(scope="module")
def openbsd_dir(captures_dir):
    d = captures_dir / "openbsd"
    if not d.is_dir():
        pytest.skip(f"{d} is absent")
    return d


_cache = {}


def feed_packets(openbsd_dir, name):
    if name not in _cache:
        _cache[name] = read_feed(openbsd_dir / name)
    return _cache[name]


def records(openbsd_dir, name):
    return read_file_records(openbsd_dir / name)[1]


def test_every_file_is_covered(openbsd_dir):
    on_disk = {str(p.relative_to(openbsd_dir)) for p in openbsd_dir.rglob("*") if p.is_file()}
    assert on_disk - {"README.md"} == set(FILES)


@pytest.mark.parametrize("name", sorted(FILES))
def test_file_header_linktype(openbsd_dir, name):
    linktype, recs = read_file_records(openbsd_dir / name)
    assert linktype == LINKTYPES.get(name, 1)
    assert len(recs) == len(FILES[name][1])


@pytest.mark.parametrize("name", sorted(FILES))
def test_stacks_through_feed(openbsd_dir, name):
    from openbsd import pcap

    _klass, stacks, prefix, _ = FILES[name]
    packets = feed_packets(openbsd_dir, name)
    got = [type_names(p) for p in packets]
    if prefix:
        got = [g[:len(s)] for g, s in zip(got, stacks)]
    assert got == stacks
    with pcap.Offline(str(openbsd_dir / name)) as feed:
        dlt = feed.datalink()
    assert dlt == LINKTYPES.get(name, 1)
    assert [p.linktype for p in packets] == [dlt] * len(packets)
    recs = records(openbsd_dir, name)
    assert [bytes(p) for p in packets] == [d for d, _ in recs]


@pytest.mark.parametrize("name", sorted(FILES))
def test_stacks_through_packet_class(openbsd_dir, name):
    from openbsd import packet

    klass_name, stacks, prefix, _ = FILES[name]
    klass = getattr(packet, klass_name)
    got = [type_names(packet.Packet(klass, d)) for d, _ in records(openbsd_dir, name)]
    if prefix:
        got = [g[:len(s)] for g, s in zip(got, stacks)]
    assert got == stacks


@pytest.mark.parametrize("name", sorted(n for n, v in FILES.items() if v[3]))
def test_fields_match_tshark(openbsd_dir, name):
    """Every field we expose, for every packet, equals tshark's value."""
    from openbsd import packet

    path = openbsd_dir / name
    rows = tshark_rows(path, ALL_TSHARK_FIELDS)
    klass = getattr(packet, FILES[name][0])
    recs = records(openbsd_dir, name)
    m = Mismatches()
    for i, (p, row, (raw, _)) in enumerate(zip(feed_packets(openbsd_dir, name), rows, recs)):
        # tshark does not reassemble the first IPv6 fragment: what follows the
        # fragment header (if we decode it) is checked by hand below.
        skip = ("ICMP6EchoRequest",) if name == "packets/ip6_fragments" else ()
        for label, q in (("feed", p), ("Packet()", packet.Packet(klass, raw))):
            mm = compare_with_tshark(q, row, raw, skip=skip)
            check_reprs(q, mm)
            if q.has_key("icmp") and q["icmp"].TYPE in (
                    "ICMPDestinationUnreachable", "ICMPTimeExceeded"):
                check_iphdr(q, row, mm)
            m.extend(f"#{i} {label}: {x}" for x in mm)
    assert len(rows) == len(recs)
    assert not m, "\n".join(m)


def test_first_ethernet_packet_repr(openbsd_dir):
    p = feed_packets(openbsd_dir, "ethernet")[0]
    assert repr(p) == ("[Eth: 00:09:6b:e0:ca:ce->00:02:b3:41:aa:c3] "
                       "[IP: 192.168.0.9->192.168.0.1] [TCP: 8012->22]")


def test_ethernet_values(openbsd_dir):
    """Values a legacy script reads, written out (also given by tcpdump -v)."""
    p = feed_packets(openbsd_dir, "ethernet")[0]
    assert p["ethernet"].src == "00:09:6b:e0:ca:ce"
    assert p["ethernet"].dst == "00:02:b3:41:aa:c3"
    assert p["ethernet"].etype == 0x800
    ip = p["ip"]
    assert (ip.version, ip.headerLength, ip.tos, ip.length, ip.ident, ip.flags,
            ip.fragmentOffset, ip.ttl, ip.protocol, ip.checksum) == (
        4, 5, 0x10, 64, 22756, 2, 0, 64, 6, 0x6069)  # checksum: bytes 24-25 of the frame
    assert (ip.src, ip.dst) == ("192.168.0.9", "192.168.0.1")
    tcp = p["tcp"]
    assert (tcp.srcPort, tcp.dstPort, tcp.seq_num, tcp.ack_num, tcp.dataOffset, tcp.flags,
            tcp.window, tcp.checksum, tcp.urgent) == (8012, 22, 1438057491, 0, 11, 2, 16384,
                                                      0xCA92, 0)
    # options [mss 1460,nop,nop,sackOK,nop,wscale 0,nop,nop,TS val 1978907379 ecr 0]
    assert tcp.options == [(2, b"\x05\xb4"), (1, b""), (1, b""), (4, b""), (1, b""),
                           (3, b"\x00"), (1, b""), (1, b""),
                           (8, struct.pack("!II", 1978907379, 0))]
    assert tcp.payload == b""
    assert tcp.offset == 34 and ip.offset == 14 and p["ethernet"].offset == 0
    # 4th packet: "seq 1:22 ... length 21: SSH: SSH-1.99-OpenSSH_3.5"
    p4 = feed_packets(openbsd_dir, "ethernet")[3]
    assert p4["tcp"].payload.startswith(b"SSH-1.99-OpenSSH_3.5")
    assert len(p4["tcp"].payload) == 21
    # tdump: snap length 96 cuts 146-byte frames; the TCP payload is what
    # was captured: 96 - 14 - 20 - 32 = 30 of the 80 bytes.
    t = feed_packets(openbsd_dir, "tdump")[0]
    assert t["ip"].length == 132
    assert len(t["tcp"].payload) == 30
    assert len(t["ip"].payload) == 96 - 34


def test_loop_by_hand(openbsd_dir):
    """Link type 12 from OpenBSD = DLT_LOOP, read as DLT_RAW on Linux.

    Packet 0 bytes: ``00 00 00 02`` address family 2 (AF_INET, network
    order) | ``45 00 00 54 0d a0 00 00 ff 01 b0 06 7f 00 00 01 7f 00 00 01``
    IPv4, length 84, id 0x0da0, ttl 255, proto 1, checksum 0xb006,
    127.0.0.1 -> 127.0.0.1 | ``00 00 e8 fd 04 06 00 00`` ICMP echo reply,
    checksum 0xe8fd, id 0x0406 = 1030, seq 0.  Packets 1-7: the same with
    seq 1..7 (ids and checksums listed below, read the same way).
    """
    idents = [0x0DA0, 0x0C7C, 0x48F7, 0x7F44, 0x7E70, 0x3AFD, 0x50CC, 0x0F0D]
    ipsums = [0xB006, 0xB12A, 0x74AF, 0x3E62, 0x3F36, 0x82A9, 0x6CDA, 0xAE99]
    icmpsums = [0xE8FD, 0xC317, 0x9C10, 0x6FA2, 0x32BC, 0x145E, 0xFFCB, 0x1ADD]
    for i, p in enumerate(feed_packets(openbsd_dir, "loop")):
        lo = p["loopback"]
        assert lo.addressFamily == 2
        assert repr(lo) == ""
        assert lo.offset == 0 and lo.payload == bytes(p)[4:]
        ip = p["ip"]
        assert (ip.offset, ip.version, ip.headerLength, ip.length, ip.ident, ip.ttl,
                ip.protocol, ip.checksum, ip.src, ip.dst) == (
            4, 4, 5, 84, idents[i], 255, 1, ipsums[i], "127.0.0.1", "127.0.0.1")
        icmp = p["icmp"]
        assert (icmp.offset, icmp.itype, icmp.code, icmp.checksum, icmp.identifier,
                icmp.seq_num) == (24, 0, 0, icmpsums[i], 1030, i)
        assert len(icmp.payload) == 84 - 20 - 8
        # the empty Loopback repr is left out of the packet's repr
        assert repr(p).startswith("[IP: 127.0.0.1->127.0.0.1]")


def test_ip_recordroute_by_hand(openbsd_dir):
    """packets/ip_recordroute: loop header, IPv4 with a 40-byte option area.

    ``00 00 00 02`` AF_INET | ``4f`` version 4, header length 15 words |
    ``00 00 7c`` tos 0, length 124 | ``02 5d`` id | ``00 00`` | ``ff 01``
    ttl 255, ICMP | ``0e 78`` checksum | 127.0.0.1 -> 127.0.0.1 | options
    (IP offset 20..60): ``07`` record route, ``27`` length 39, ``04``
    pointer 4 (nothing recorded yet), then 9 four-byte slots holding
    whatever was in the buffer: 00ffffff a8bcbfcf ... (decoded below), then
    ``00`` end of list | ICMP at 4 + 60 = 64: ``08 00 72 51 72 37 00 12``
    echo request, checksum 0x7251, id 0x7237 = 29239, seq 18.
    Captured 96 of 128 bytes.
    """
    p = feed_packets(openbsd_dir, "packets/ip_recordroute")[0]
    ip = p["ip"]
    assert (ip.headerLength, ip.length, ip.ident, ip.ttl, ip.protocol, ip.checksum) == (
        15, 124, 0x025D, 255, 1, 0x0E78)
    raw = bytes(p)
    assert ip.optionsField == raw[24:64]
    assert raw[24:27] == b"\x07\x27\x04"
    kinds = [type(o).__name__ for o in ip.options]
    assert len(kinds) == 2 and kinds[0].endswith("RecordRoute") and kinds[1].endswith("EndOfList")
    rr = ip.options[0]
    assert (rr.pointer, rr.length) == (4, 39)
    assert rr.addresses == ["0.255.255.255", "255.168.188.191", "207.140.188.191",
                            "207.5.75.0", "28.1.0.0", "0.0.16.0", "0.236.188.191",
                            "207.47.74.0", "28.0.0.0"]
    icmp = p["icmp"]
    assert (icmp.offset, icmp.itype, icmp.checksum, icmp.identifier, icmp.seq_num) == (
        64, 8, 0x7251, 29239, 18)
    # IP length 124 runs past the 96 captured bytes: payload is what is there
    assert ip.payload == raw[64:]


def test_icmp6_parameter_problem_by_hand(openbsd_dir):
    """packets/icmp6_parameter_problem: ``00 00 00 18`` loop AF 24 (INET6) |
    IPv6 ``60 00 00 00`` | ``04 d8`` payload length 1240 | ``3a`` next
    header 58 | ``40`` hop limit 64 | ::1 -> ::1 | ICMPv6 at 44: ``04 00 e9
    3e 00 00 00 2c`` type 4 parameter problem, code 0, checksum 0xe93e,
    pointer 0x2c = 44.  Captured 96 of 1284 bytes.
    """
    for p in feed_packets(openbsd_dir, "packets/icmp6_parameter_problem"):
        assert p["loopback"].addressFamily == 24
        ip6 = p["ipv6"]
        assert (ip6.offset, ip6.version, ip6.payloadlength, ip6.nextheader, ip6.hoplimit,
                ip6.src, ip6.dst) == (4, 6, 1240, 58, 64, "::1", "::1")
        assert ip6.payload == bytes(p)[44:]
        pp = p["icmp6"]
        assert pp.TYPE == "ICMP6ParameterProblem"
        assert (pp.offset, pp.icmp6type, pp.code, pp.checksum, pp.pointer) == (44, 4, 0, 0xE93E, 44)
        assert p["ICMP6ParameterProblem"] is not None


def test_pf_by_hand(openbsd_dir):
    """pf and packets/pf, link type 117 (the OpenBSD 3.4-4.x pflog header).

    ``2d`` length 45 (header = 45 + 3 = 48 bytes) | ``02`` AF_INET | ``01``
    action 1 (drop) | ``00`` reason 0 (match) | ``6c 6f 30 00 ...`` ifname
    "lo0" NUL-padded to 16 | 16 NULs: ruleset "" | ``00 00 00 01`` rulenr 1
    | ``ff ff ff ff`` subrulenr 2**32-1 (no subrule, shown as 0) | ``02``
    direction 2 (out) | ``00 00 00`` pad | IPv4 at 48: 127.0.0.1 ->
    127.0.0.1, ICMP echo request id 0x7a60 = 31328, seq 0..5.
    (tshark's pflog dissector agrees: test_fields_match_tshark.)
    """
    for name, n in (("pf", 6), ("packets/pf", 1)):
        packets = feed_packets(openbsd_dir, name)
        assert len(packets) == n
        for i, p in enumerate(packets):
            pf = p["pf"]
            assert pf.TYPE == "PF"
            assert (pf.length, pf.safamily, pf.action, pf.reason, pf.ifname, pf.ruleset,
                    pf.rulenr, pf.subrulenr, pf.direction, pf.pad) == (
                45, 2, 1, 0, "lo0", "", 1, 2**32 - 1, 2, b"\x00\x00\x00")
            assert repr(pf) == "PF rule 1/0 (match) drop out on lo0"
            assert pf.payload == bytes(p)[48:]
            assert p["ip"].offset == 48
            icmp = p["icmp"]
            assert (icmp.offset, icmp.identifier, icmp.seq_num) == (68, 31328, i)
            assert repr(p).startswith("[PF rule 1/0 (match) drop out on lo0] "
                                      "[IP: 127.0.0.1->127.0.0.1]")


def test_pf_old_by_hand(openbsd_dir):
    """pf.old and packets/pf.old, link type 17 (pflog of OpenBSD <= 3.3).

    ``00 00 00 02`` safamily 2 (AF_INET, 4 bytes) | ``74 75 6e 30 00...``
    ifname "tun0" NUL-padded to 16 | ``00 00`` ruleno 0 | ``00 00`` reason 0
    (match) | ``00 01`` action 1 (drop) | ``00 01`` direction 1 (in) | IPv4
    at 28: 68.18.67.181 -> 203.33.166.194, TCP (sport, dport, seq, flags)
    as listed below, read at IP offsets 20, 22, 24 and 33.
    """
    tcp = [(3225, 3874811403, 2)] * 3 + [(3466, 3894369903, 2)] * 3 + \
          [(3723, 3913399399, 2)] * 3 + [(3225, 0, 4), (3466, 0, 4), (3723, 0, 4)]
    for name, n in (("pf.old", 12), ("packets/pf.old", 1)):
        packets = feed_packets(openbsd_dir, name)
        assert len(packets) == n
        for i, p in enumerate(packets):
            pf = p["pfold"]
            assert pf.TYPE == "PFOld"
            assert pf.isType("PF") and p["pf"].TYPE == "PFOld" and p.has_key("pf")
            assert (pf.safamily, pf.ifname, pf.ruleno, pf.reason, pf.action, pf.direction) == (
                2, "tun0", 0, 0, 1, 1)
            assert repr(pf) == "Old PF rule 0 (match) drop in on tun0"
            assert pf.payload == bytes(p)[28:]
            ip = p["ip"]
            assert (ip.offset, ip.src, ip.dst, ip.protocol) == (
                28, "68.18.67.181", "203.33.166.194", 6)
            t = p["tcp"]
            assert (t.offset, t.srcPort, t.dstPort, t.seq_num, t.flags) == (48, *tcp[i][:1], 4662,
                                                                           *tcp[i][1:])


def test_enc_by_hand(openbsd_dir):
    """packets/enc, link type 13 (OpenBSD DLT_ENC; Linux calls 13 SLIP_BSDOS).

    ``02 00 00 00`` address family in the capturing host's (little-endian
    i386, the file's) byte order: 2 = AF_INET | ``00 00 10 f2`` spi 0x10f2
    | ``00 28 00 00`` flags, little-endian 0x2800 = AUTH 0x800 | AUTH_AH
    0x2000 | IPv4 at 12: ``45 00 00 54 76 d1 00 00 ff 01 00 09`` length 84,
    id 0x76d1, ttl 255, ICMP, checksum 0x0009, 192.168.2.3 -> 192.168.2.2 |
    ICMP at 32: ``08 00 42 b0 b7 51 00 00`` echo request, checksum 0x42b0,
    id 0xb751 = 46929, seq 0.
    """
    p = feed_packets(openbsd_dir, "packets/enc")[0]
    enc = p["enc"]
    assert enc.TYPE == "Enc"
    assert enc.addressFamily == 2
    assert enc.spi == 0x10F2
    assert enc.flags == 0x2800
    assert repr(enc) in ("Enc (AUTH,AUTH_AH)", "Enc (AUTH_AH,AUTH)")
    ip = p["ip"]
    assert (ip.offset, ip.length, ip.ident, ip.ttl, ip.protocol, ip.checksum, ip.src, ip.dst) == (
        12, 84, 0x76D1, 255, 1, 0x0009, "192.168.2.3", "192.168.2.2")
    icmp = p["icmp"]
    assert (icmp.offset, icmp.TYPE, icmp.checksum, icmp.identifier, icmp.seq_num) == (
        32, "ICMPEchoRequest", 0x42B0, 46929, 0)


def test_ip6_fragments_first_fragment(openbsd_dir):
    """packets/ip6_fragments: first fragment (offset 0, M=1) of an ICMPv6 echo
    request; tcpdump: ``frag (0x47a2f806:0|1448) ICMP6, echo request, id
    12106, seq 0``.  The fragment header is at 14 + 40 = 54; if the decoder
    goes on into the first fragment's ICMPv6 header (not pinned by the
    contract), it must read that header correctly."""
    p = feed_packets(openbsd_dir, "packets/ip6_fragments")[0]
    assert p["ipv6"].nextheader == 44
    assert p["ipv6"].payloadlength == 1456
    frag = p["IPv6FragmentHeader"]
    assert frag.offset == 54
    names = type_names(p)
    if len(names) > 3:
        assert names[3:] == ["ICMP6EchoRequest"]
        echo = p["icmp6"]
        assert (echo.offset, echo.identifier, echo.seq_num) == (62, 12106, 0)


def test_dhcp_values(openbsd_dir):
    """DHCP request, values as tcpdump -v prints them."""
    p = feed_packets(openbsd_dir, "packets/dhcp_request")[0]
    d = p["dhcp"]
    assert (d.op, d.htype, d.hlen, d.hops, d.xid, d.flags) == (1, 1, 6, 0, 0x45DE8C67, 0)
    assert d.chaddr == "00:1b:fc:be:91:cc"
    assert (d.ciaddr, d.yiaddr, d.siaddr, d.giaddr) == ("0.0.0.0",) * 4
    assert d.cookie == 0x63825363
    assert (d.sname, d.filename) == ("", "")
    opts = dict(d.options)
    assert opts[53] == b"\x03"  # DHCP-Message: Request
    assert opts[50] == bytes([10, 9, 10, 10])  # Requested-IP 10.9.10.10
    assert opts[12] == b"gakutei"
    assert opts[55] == bytes([1, 28, 2, 3, 15, 6, 12, 44, 47])
    assert [c for c, _ in d.options][:4] == [53, 50, 12, 55]
    assert all(c not in (0, 255) for c, _ in d.options)


def test_ah_values(openbsd_dir):
    """tcpdump: AH(length=4(24-bytes),spi=0x000010f2,seq=0xa47a63fb,
    icv=0x48c4527df65d048fa71327cb): ICMP echo request, id 43522, seq 0."""
    p = feed_packets(openbsd_dir, "packets/ip_ah")[0]
    ah = p["ah"]
    assert (ah.nextheader, ah.length, ah.reserved, ah.spi, ah.sequence) == (1, 4, 0, 0x10F2,
                                                                            0xA47A63FB)
    assert ah.icv == bytes.fromhex("48c4527df65d048fa71327cb")
    assert ah.offset == 34
    assert p["icmp"].offset == 58
    assert (p["icmp"].identifier, p["icmp"].seq_num) == (43522, 0)
    e = feed_packets(openbsd_dir, "packets/ip_esp")[0]
    assert (e["esp"].spi, e["esp"].sequence) == (0x100A, 1)
    assert len(e["esp"].payload) == 120 - 20 - 8
    assert type_names(e)[-1] == "ESP"


def test_neighbour_advertisement_values(openbsd_dir):
    """tcpdump: neighbor advertisement, tgt is fe80::2e0:29ff:fe94:495d,
    Flags [solicited, override], destination link-address option:
    00:e0:29:94:49:5d."""
    p = feed_packets(openbsd_dir, "packets/icmp6_neighbor_advertisement")[0]
    na = p["icmp6"]
    assert na.TYPE == "ICMP6NeighbourAdvertisement"
    assert na.target_addr == "fe80::2e0:29ff:fe94:495d"
    assert na.flags == 2 | 1
    assert na.linklayer_addr == "00:e0:29:94:49:5d"
    assert p["ipv6"].src == "fe80::2e0:29ff:fe94:495d"
    assert p["ipv6"].dst == "fe80::200:e2ff:fe8c:7c27"
