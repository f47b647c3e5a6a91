"""Helpers shared by the packet tests (test_packet_*.py, test_docs_packet.py).

- ``write_pcap``: write a classic pcap file by hand (any link type, any
  caplen/origlen), independent of ``openbsd.pcap.Dumper``.
- ``tshark_rows``: run ``tshark -T fields`` over a capture; every field comes
  back as the list of all its occurrences in the packet (outer first), so the
  inner IP of IP-in-IP or the IP header quoted by an ICMP error is index 1.
- ``read_feed`` / ``read_raw``: read a capture through ``openbsd.pcap.Offline``
  with ``interpret=1`` / ``interpret=0``.
- ``compare_stack``: compare every field our protocol objects expose with
  tshark's value for the same packet (the field map is ``TSHARK_CHECKS``).
"""

import ipaddress
import shutil
import struct
import subprocess
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
# The shared captures live next to the repository (also in CI, where the repo
# is cloned next to shared/).
CAPTURES = REPO.parent / "shared" / "captures"
SAMPLE = REPO / "python" / "openbsd" / "data" / "sample.pcap"

TSHARK = shutil.which("tshark")

# Link-type numbers as written in pcap file headers.
LINKTYPE_NULL = 0
LINKTYPE_ETHERNET = 1
LINKTYPE_RAW_OPENBSD_LOOP = 12  # DLT_RAW on Linux, DLT_LOOP in OpenBSD files
LINKTYPE_ENC_OPENBSD = 13
LINKTYPE_RAW_OPENBSD = 14  # OpenBSD's DLT_RAW (Linux: PPP_BSDOS)
LINKTYPE_PFLOG_OLD = 17
LINKTYPE_RAW = 101
LINKTYPE_LOOP = 108
LINKTYPE_ENC = 109
LINKTYPE_LINUX_SLL = 113
LINKTYPE_PFLOG = 117
LINKTYPE_USER0 = 147
LINKTYPE_IPV4 = 228
LINKTYPE_IPV6 = 229
LINKTYPE_LINUX_SLL2 = 276


def write_pcap(path, linktype, records, snaplen=65535, byteorder="<"):
    """Write a classic (v2.4, microsecond) pcap file.

    ``records`` are ``bytes`` (caplen == origlen) or ``(data, origlen)``
    tuples for packets cut by the snap length.  Returns the path.
    """
    path = Path(path)
    with open(path, "wb") as f:
        f.write(struct.pack(byteorder + "IHHiIII", 0xA1B2C3D4, 2, 4, 0, 0, snaplen, linktype))
        for i, rec in enumerate(records):
            if isinstance(rec, tuple):
                data, origlen = rec
            else:
                data, origlen = rec, len(rec)
            data = bytes(data)
            f.write(struct.pack(byteorder + "IIII", 1_000_000 + i, i, len(data), origlen))
            f.write(data)
    return path


_TSHARK_CACHE = {}


def tshark_rows(path, fields, extra_args=()):
    """One dict per packet: field name -> list of every occurrence (str)."""
    key = (str(path), tuple(fields), tuple(extra_args))
    if key in _TSHARK_CACHE:
        return _TSHARK_CACHE[key]
    assert TSHARK, "tshark is a test dependency (make deps installs it)"
    # absolute TCP sequence numbers (also inside SACK blocks)
    cmd = [TSHARK, "-r", str(path), "-n", "-T", "fields",
           "-o", "tcp.relative_sequence_numbers:FALSE",
           "-E", "separator=\t", "-E", "occurrence=a", "-E", "aggregator=|",
           *extra_args]
    for f in fields:
        cmd += ["-e", f]
    res = subprocess.run(cmd, capture_output=True, text=True)
    assert res.returncode == 0, f"tshark failed: {res.stderr}"
    rows = []
    for line in res.stdout.split("\n")[:-1]:
        cols = line.split("\t")
        cols += [""] * (len(fields) - len(cols))
        rows.append({f: (c.split("|") if c != "" else []) for f, c in zip(fields, cols)})
    _TSHARK_CACHE[key] = rows
    return rows


def read_feed(path):
    """Packets of a capture, decoded (``interpret=1``), via ``Offline.loop``."""
    from openbsd import pcap

    out = []
    with pcap.Offline(str(path)) as feed:
        n = feed.loop(0, lambda pkt, ts, length: out.append(pkt), interpret=1)
    assert n == len(out)
    return out


def read_raw(path):
    """Raw packet bytes of a capture, via ``Offline.loop`` with interpret=0."""
    from openbsd import pcap

    out = []
    with pcap.Offline(str(path)) as feed:
        feed.loop(0, lambda pkt, ts, length: out.append(bytes(pkt)))
    return out


def read_file_records(path):
    """(linktype, [(data, origlen)]) parsed by hand from a classic pcap file."""
    d = Path(path).read_bytes()
    magic = struct.unpack("<I", d[:4])[0]
    bo = "<" if magic == 0xA1B2C3D4 else ">"
    linktype = struct.unpack(bo + "I", d[20:24])[0]
    off, recs = 24, []
    while off + 16 <= len(d):
        _s, _u, caplen, origlen = struct.unpack(bo + "IIII", d[off:off + 16])
        recs.append((d[off + 16:off + 16 + caplen], origlen))
        off += 16 + caplen
    return linktype, recs


def type_names(packet):
    return [proto.TYPE for proto in packet.getProtoList()]


# --- conversions of tshark's text -------------------------------------------

def t_int(s):
    return int(s, 0)


def t_bool(s):
    return int(s in ("1", "True", "true"))


def t_mac(s):
    return s.lower()


def t_ip(s):
    return str(ipaddress.IPv4Address(s))


def t_ip6(s):
    return str(ipaddress.IPv6Address(s))


def t_bytes(s):
    return bytes.fromhex(s.replace(":", ""))


def t_hexint(s):
    """A byte string printed in hex (e.g. ah.reserved ``0000``) as an int."""
    return int.from_bytes(t_bytes(s), "big")


def t_ipv4_as_int(s):
    return int(ipaddress.IPv4Address(s))


def t_div4(s):
    """tshark gives header lengths in bytes; the legacy fields count words."""
    return int(s) // 4


# --- the field map: our (TYPE, field) -> tshark field --------------------------

ETH = [("dst", "eth.dst", t_mac), ("src", "eth.src", t_mac), ("etype", "eth.type", t_int)]
VLAN = [("vid", "vlan.id", t_int), ("pcp", "vlan.priority", t_int),
        ("dei", "vlan.dei", t_bool), ("etype", "vlan.etype", t_int)]
ARP = [("hardware_type", "arp.hw.type", t_int), ("protocol_type", "arp.proto.type", t_int),
       ("hardware_size", "arp.hw.size", t_int), ("protocol_size", "arp.proto.size", t_int),
       ("opcode", "arp.opcode", t_int),
       ("sender_hardware_addr", "arp.src.hw_mac", t_mac),
       ("sender_proto_addr", "arp.src.proto_ipv4", t_ip),
       ("target_hardware_addr", "arp.dst.hw_mac", t_mac),
       ("target_proto_addr", "arp.dst.proto_ipv4", t_ip)]
# (ip.version is not compared with tshark: its IPv6 dissector also adds an
# ip.version occurrence, which shifts the count; it is checked from the byte.)
IP = [("headerLength", "ip.hdr_len", t_div4),
      ("tos", "ip.dsfield", t_int), ("length", "ip.len", t_int), ("ident", "ip.id", t_int),
      # tshark's ip.flags is the 3-bit field (RES 4, DF 2, MF 1), like ours.
      ("flags", "ip.flags", t_int),
      # tshark 4.0 prints the raw 13-bit offset (units of 8 bytes), like ours.
      ("fragmentOffset", "ip.frag_offset", t_int),
      ("ttl", "ip.ttl", t_int), ("protocol", "ip.proto", t_int),
      ("checksum", "ip.checksum", t_int), ("src", "ip.src", t_ip), ("dst", "ip.dst", t_ip)]
IPV6 = [("version", "ipv6.version", t_int), ("diffservices", "ipv6.tclass", t_int),
        ("flowlabel", "ipv6.flow", t_int), ("payloadlength", "ipv6.plen", t_int),
        ("nextheader", "ipv6.nxt", t_int), ("hoplimit", "ipv6.hlim", t_int),
        ("src", "ipv6.src", t_ip6), ("dst", "ipv6.dst", t_ip6)]
TCP = [("srcPort", "tcp.srcport", t_int), ("dstPort", "tcp.dstport", t_int),
       ("seq_num", "tcp.seq_raw", t_int), ("ack_num", "tcp.ack_raw", t_int),
       ("dataOffset", "tcp.hdr_len", t_div4),
       # The test packets carry no ECE/CWR/NS bits, so the flags value is
       # the same whether or not ECE/CWR are counted in it.
       ("flags", "tcp.flags", t_int),
       ("window", "tcp.window_size_value", t_int), ("checksum", "tcp.checksum", t_int),
       ("urgent", "tcp.urgent_pointer", t_int)]
UDP = [("srcPort", "udp.srcport", t_int), ("dstPort", "udp.dstport", t_int),
       ("length", "udp.length", t_int), ("checksum", "udp.checksum", t_int)]
DHCP = [("op", "dhcp.type", t_int), ("htype", "dhcp.hw.type", t_int),
        ("hlen", "dhcp.hw.len", t_int), ("hops", "dhcp.hops", t_int),
        ("xid", "dhcp.id", t_int), ("secs", "dhcp.secs", t_int),
        ("flags", "dhcp.flags", t_int), ("ciaddr", "dhcp.ip.client", t_ip),
        ("yiaddr", "dhcp.ip.your", t_ip), ("siaddr", "dhcp.ip.server", t_ip),
        ("giaddr", "dhcp.ip.relay", t_ip), ("chaddr", "dhcp.hw.mac_addr", t_mac),
        ("cookie", "dhcp.cookie", t_ipv4_as_int)]
ICMP = [("itype", "icmp.type", t_int), ("code", "icmp.code", t_int),
        ("checksum", "icmp.checksum", t_int)]
ICMP_IDSEQ = [("identifier", "icmp.ident", t_int), ("seq_num", "icmp.seq", t_int)]
ICMP_TS = [("origin_ts", "icmp.originate_timestamp", t_int),
           ("receive_ts", "icmp.receive_timestamp", t_int),
           ("transmit_ts", "icmp.transmit_timestamp", t_int)]
ICMP6 = [("icmp6type", "icmpv6.type", t_int), ("code", "icmpv6.code", t_int),
         ("checksum", "icmpv6.checksum", t_int)]
ICMP6_ECHO = [("identifier", "icmpv6.echo.identifier", t_int),
              ("seq_num", "icmpv6.echo.sequence_number", t_int)]
AH = [("nextheader", "ah.next_header", t_int), ("length", "ah.length", t_int),
      ("reserved", "ah.reserved", t_hexint), ("spi", "ah.spi", t_int),
      ("sequence", "ah.sequence", t_int), ("icv", "ah.icv", t_bytes)]
ESP = [("spi", "esp.spi", t_int), ("sequence", "esp.sequence", t_int)]
IGMP = [("itype", "igmp.type", t_int), ("maxresp", "igmp.max_resp", t_int),
        ("checksum", "igmp.checksum", t_int), ("group", "igmp.maddr", t_ip)]
LOOPBACK = [("addressFamily", "null.family", t_int)]
ENC = [("addressFamily", "enc.af", t_int), ("spi", "enc.spi", t_int),
       ("flags", "enc.flags", t_int)]
PF = [("length", "pflog.length", t_int), ("safamily", "pflog.af", t_int),
      ("action", "pflog.action", t_int), ("reason", "pflog.reason", t_int),
      ("ifname", "pflog.ifname", str), ("rulenr", "pflog.rulenr", lambda s: int(s) & 0xFFFFFFFF),
      ("subrulenr", "pflog.subrulenr", lambda s: int(s) & 0xFFFFFFFF),
      ("direction", "pflog.dir", t_int)]

# Fields the type stubs add beyond the contract's table (the extension
# headers' own fields, the Linux cooked headers): checked all the same.
IPV6_EXT = {
    "IPv6HopByHopHeader": [("nextheader", "ipv6.hopopts.nxt", t_int),
                           ("length", "ipv6.hopopts.len", t_int)],
    "IPv6DestinationOptions": [("nextheader", "ipv6.dstopts.nxt", t_int),
                               ("length", "ipv6.dstopts.len", t_int)],
    "IPv6RoutingHeader": [("nextheader", "ipv6.routing.nxt", t_int),
                          ("length", "ipv6.routing.len", t_int),
                          ("routingType", "ipv6.routing.type", t_int),
                          ("segmentsLeft", "ipv6.routing.segleft", t_int)],
    "IPv6FragmentHeader": [("nextheader", "ipv6.fraghdr.nxt", t_int),
                           ("fragmentOffset", "ipv6.fraghdr.offset", t_int),
                           ("moreFragments", "ipv6.fraghdr.more", t_bool),
                           ("identification", "ipv6.fraghdr.ident", t_int)],
}
SLL = [("packetType", "sll.pkttype", t_int), ("arphrdType", "sll.hatype", t_int),
       ("addressLength", "sll.halen", t_int), ("address", "sll.src.eth", t_mac),
       ("protocol", "sll.etype", t_int)]
SLL2 = SLL + [("ifindex", "sll.ifindex", t_int)]

ICMP_BY_TYPE = {
    "ICMPEchoReply": ICMP_IDSEQ,
    "ICMPEchoRequest": ICMP_IDSEQ,
    "ICMPDestinationUnreachable": [],
    "ICMPSourceQuench": [],
    "ICMPRedirect": [("gateway_addr", "icmp.redir_gw", t_ip)],
    "ICMPRouterAdvertisement": [("num_addresses", "icmp.num_addrs", t_int),
                                ("address_size", "icmp.addr_entry_size", t_int)],
    # Router solicitation: tshark shows bytes 4-7 only as "reserved"; the
    # test derives num_addresses/address_size/lifetime from the bytes.
    "ICMPRouterSolicitation": [],
    "ICMPTimeExceeded": [],
    "ICMPParameterProblem": [("pointer", "icmp.pointer", t_int)],
    "ICMPTimestampRequest": ICMP_IDSEQ + ICMP_TS,
    "ICMPTimestampReply": ICMP_IDSEQ + ICMP_TS,
    "ICMPInformationRequest": ICMP_IDSEQ,
    "ICMPInformationReply": ICMP_IDSEQ,
    "ICMPAddressMaskRequest": ICMP_IDSEQ,
    "ICMPAddressMaskReply": ICMP_IDSEQ + [("subnet_mask", "icmp.address_mask", t_ip)],
}
ICMP6_BY_TYPE = {
    "ICMP6DestinationUnreachable": [],
    "ICMP6PacketTooBig": [("mtu", "icmpv6.mtu", t_int)],
    "ICMP6TimeExceeded": [],
    "ICMP6ParameterProblem": [("pointer", "icmpv6.pointer", t_int)],
    "ICMP6EchoRequest": ICMP6_ECHO,
    "ICMP6EchoReply": ICMP6_ECHO,
    "ICMP6NeighbourSolicitation": [("target_addr", "icmpv6.nd.ns.target_address", t_ip6)],
    "ICMP6NeighbourAdvertisement": [("target_addr", "icmpv6.nd.na.target_address", t_ip6)],
}

TSHARK_CHECKS = {
    "Ethernet": ETH, "VLAN": VLAN, "ARP": ARP, "IP": IP, "IPv6": IPV6, "TCP": TCP,
    "UDP": UDP, "DHCP": DHCP, "AH": AH, "ESP": ESP, "IGMP": IGMP, "Loopback": LOOPBACK,
    "PF": PF, "SLL": SLL, "SLL2": SLL2, "Enc": ENC, **IPV6_EXT,
    # a type number without a subclass gives the base class
    "ICMP": ICMP, "ICMP6": ICMP6,
}
for _name, _extra in ICMP_BY_TYPE.items():
    TSHARK_CHECKS[_name] = ICMP + _extra
for _name, _extra in ICMP6_BY_TYPE.items():
    TSHARK_CHECKS[_name] = ICMP6 + _extra

# Which tshark protocol a TYPE's occurrences are counted in (the k-th IP of our
# stack is occurrence k of ip.*; an ICMP error's quoted header is ip.* #1).
OCCURRENCE_GROUP = {name: "ICMP" for name in [*ICMP_BY_TYPE, "ICMP"]}
OCCURRENCE_GROUP.update({name: "ICMP6" for name in [*ICMP6_BY_TYPE, "ICMP6"]})

ALL_TSHARK_FIELDS = sorted(
    {f for checks in TSHARK_CHECKS.values() for _, f, _ in checks}
    | {"frame.protocols", "eth.padding", "eth.trailer", "tcp.option_kind",
       "tcp.options.mss_val", "tcp.options.wscale.shift", "tcp.options.timestamp.tsval",
       "tcp.options.timestamp.tsecr", "tcp.options.sack_le", "tcp.options.sack_re",
       "tcp.len", "dhcp.option.type", "dhcp.option.value", "dhcp.server", "dhcp.file",
       "icmpv6.nd.na.flag.r", "icmpv6.nd.na.flag.s", "icmpv6.nd.na.flag.o",
       "icmpv6.opt.linkaddr", "icmpv6.opt.type", "ip.opt.type", "ip.opt.len", "ip.opt.ptr",
       "ip.rec_rt", "ip.empty_rt", "ip.src_rt", "ip.cur_rt", "icmpv6.reserved"})


class Mismatches(list):
    def check(self, label, ours, expected):
        if ours != expected:
            self.append(f"{label}: ours={ours!r} expected={expected!r}")


def get(obj, name):
    """Read a field; an exception becomes a value that never compares equal."""
    try:
        return getattr(obj, name)
    except Exception as e:  # noqa: BLE001 - reported as a mismatch
        return f"<{type(e).__name__}: {e}>"


def tcp_option_dict(options):
    """Our TCP.options list -> the values tshark reports, by option kind."""
    d = {"kinds": [], "mss": [], "wscale": [], "tsval": [], "tsecr": [], "sack": []}
    for kind, data in options:
        if kind == 0:  # end of list: what follows is padding
            break
        d["kinds"].append(kind)
        if kind == 2:
            d["mss"].append(int.from_bytes(data, "big"))
        elif kind == 3:
            d["wscale"].append(data[0])
        elif kind == 8:
            d["tsval"].append(int.from_bytes(data[:4], "big"))
            d["tsecr"].append(int.from_bytes(data[4:8], "big"))
        elif kind == 5:
            for i in range(0, len(data), 8):
                d["sack"].append((int.from_bytes(data[i:i + 4], "big"),
                                  int.from_bytes(data[i + 4:i + 8], "big")))
    return d


def tshark_tcp_option_dict(row):
    kinds = [int(k) for k in row["tcp.option_kind"]]
    if 0 in kinds:
        kinds = kinds[:kinds.index(0)]
    le = [int(x) for x in row["tcp.options.sack_le"]]
    re_ = [int(x) for x in row["tcp.options.sack_re"]]
    return {"kinds": kinds,
            "mss": [int(x) for x in row["tcp.options.mss_val"]],
            "wscale": [int(x) for x in row["tcp.options.wscale.shift"]],
            "tsval": [int(x) for x in row["tcp.options.timestamp.tsval"]],
            "tsecr": [int(x) for x in row["tcp.options.timestamp.tsecr"]],
            "sack": list(zip(le, re_))}


def compare_with_tshark(packet, row, raw, mism=None, skip=(), skip_fields=()):
    """Compare every field of every protocol of ``packet`` that tshark knows.

    Returns the list of mismatches (empty when everything agrees).  Also
    checks the payload bounds of IP-carried protocols (derived by hand from
    the bytes and tshark's length fields) and the TCP/DHCP option lists.
    ``skip``: TYPE names not to compare; ``skip_fields``: "TYPE.field" names
    where tshark's field means something else (checked by hand instead).
    """
    mism = Mismatches() if mism is None else mism
    counts = {}
    ip_end = None  # end of the innermost IP datagram seen so far (clamped)
    for pos, proto in enumerate(packet.getProtoList()):
        name = proto.TYPE
        group = OCCURRENCE_GROUP.get(name, name)
        k = counts.get(group, 0)
        counts[group] = k + 1
        if name in skip:
            continue
        for field, tfield, conv in TSHARK_CHECKS.get(name, []):
            if f"{name}.{field}" in skip_fields:
                continue
            values = row.get(tfield, [])
            if len(values) <= k:
                mism.append(f"{name}.{field}: tshark has no {tfield}#{k}")
                continue
            mism.check(f"{name}#{k}.{field}", get(proto, field), conv(values[k]))
        off = proto.offset
        if name == "IP":
            mism.check(f"IP#{k}.version (high nibble of byte 0)", get(proto, "version"), raw[off] >> 4)
            hl = get(proto, "headerLength")
            length = get(proto, "length")
            if isinstance(hl, int) and isinstance(length, int):
                # bounded by the captured data and by an enclosing datagram
                ip_end = min(off + length, len(raw) if ip_end is None else ip_end)
                mism.check(f"IP#{k}.optionsField", get(proto, "optionsField"), raw[off + 20:off + hl * 4])
                mism.check(f"IP#{k}.payload", get(proto, "payload"), raw[off + hl * 4:ip_end])
        elif name == "IPv6":
            plen = get(proto, "payloadlength")
            if isinstance(plen, int):
                ip_end = min(off + 40 + plen, len(raw) if ip_end is None else ip_end)
                mism.check(f"IPv6#{k}.payload", get(proto, "payload"), raw[off + 40:ip_end])
        elif name == "Ethernet":
            mism.check("Ethernet.payload", get(proto, "payload"), raw[off + 14:])
        elif name == "VLAN":
            mism.check("VLAN.payload", get(proto, "payload"), raw[off + 4:])
        elif name == "Loopback":
            mism.check("Loopback.payload", get(proto, "payload"), raw[off + 4:])
        elif name == "TCP":
            doff = get(proto, "dataOffset")
            if isinstance(doff, int) and ip_end is not None:
                payload = raw[off + doff * 4:ip_end]
                mism.check("TCP.payload", get(proto, "payload"), payload)
            opts = get(proto, "options")
            if isinstance(opts, list):
                mism.check("TCP.options", tcp_option_dict(opts), tshark_tcp_option_dict(row))
                for kind, data in opts:
                    if kind in (0, 1):
                        mism.check("TCP.options one-byte data", data, b"")
            else:
                mism.append(f"TCP.options not a list: {opts!r}")
        elif name == "UDP" and ip_end is not None:
            mism.check("UDP.payload", get(proto, "payload"), raw[off + 8:ip_end])
        elif group == "ICMP" and k == 0 and ip_end is not None and name in (
                "ICMPEchoRequest", "ICMPEchoReply", "ICMPDestinationUnreachable",
                "ICMPTimeExceeded", "ICMPSourceQuench", "ICMPRedirect", "ICMPParameterProblem"):
            # Echo data / the quoted datagram: after the 8-byte ICMP header, up
            # to the end of the IP datagram (never the Ethernet padding).
            mism.check(f"{name}.payload", get(proto, "payload"), raw[off + 8:ip_end])
        elif group == "ICMP6" and ip_end is not None:
            payload = get(proto, "payload")
            ok = isinstance(payload, bytes) and raw[off:ip_end].endswith(payload) and \
                len(payload) <= ip_end - off - 4
            mism.check(f"{name}.payload is the tail of the message up to the IPv6 payload end",
                       ok, True)
            if name == "ICMP6NeighbourAdvertisement":
                flags = (int(row["icmpv6.nd.na.flag.r"][0]) * 4 + int(row["icmpv6.nd.na.flag.s"][0]) * 2
                         + int(row["icmpv6.nd.na.flag.o"][0]))
                mism.check(f"{name}.flags", get(proto, "flags"), flags)
            if name in ("ICMP6NeighbourAdvertisement", "ICMP6NeighbourSolicitation"):
                ll = row["icmpv6.opt.linkaddr"]
                mism.check(f"{name}.linklayer_addr", get(proto, "linklayer_addr"),
                           t_mac(ll[0]) if ll else None)
        elif name == "DHCP":
            codes = [int(c) for c in row["dhcp.option.type"] if int(c) not in (0, 255)]
            values = [t_bytes(v) for v in row["dhcp.option.value"]]
            mism.check("DHCP.options", get(proto, "options"), list(zip(codes, values)))
            mism.check("DHCP.sname", get(proto, "sname"), (row["dhcp.server"] or [""])[0])
            mism.check("DHCP.filename", get(proto, "filename"), (row["dhcp.file"] or [""])[0])
    return mism


def check_iphdr(p, row, m):
    """The quoted IP header of an ICMP error (``iphdr``) against tshark's
    second ip.* occurrence."""
    icmp = p["icmp"]
    hdr = get(icmp, "iphdr")
    m.check("iphdr.TYPE", get(hdr, "TYPE"), "IP")
    m.check("iphdr.offset", get(hdr, "offset"), icmp.offset + 8)
    for field, tfield, conv in IP:
        values = row.get(tfield, [])
        if len(values) < 2:
            m.append(f"iphdr.{field}: tshark has no {tfield}#1")
            continue
        m.check(f"iphdr.{field}", get(hdr, field), conv(values[1]))
    return m


def spec_repr(proto):
    """The repr the contract pins for the protocols that have one, else None."""
    name = proto.TYPE
    if name == "Ethernet":
        return f"Eth: {proto.src}->{proto.dst}"
    if name == "IP":
        return f"IP: {proto.src}->{proto.dst}"
    if name == "TCP":
        return f"TCP: {proto.srcPort}->{proto.dstPort}"
    if name == "UDP":
        return f"UDP: {proto.srcPort}->{proto.dstPort}"
    if name == "Loopback":
        return ""
    return None


def check_reprs(packet, mism):
    parts = []
    for proto in packet.getProtoList():
        r = repr(proto)
        want = spec_repr(proto)
        if want is not None:
            mism.check(f"repr({proto.TYPE})", r, want)
        if r:
            parts.append(f"[{r}]")
    mism.check("repr(packet)", repr(packet), " ".join(parts))
    return mism
