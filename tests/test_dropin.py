"""Issue 14: what legacy PacketPy / PyOpenBSD code calls, item by item.

Each test names the item of the issue it covers. Expected values come from
the hand-written pcap reader (pcaptools.read_pcap), tcpdump, or the bytes of
the captures themselves, not from the library under test.
"""

import copy
import datetime
import pickle
import socket
import struct
import sys

import pytest

import openbsd.packet as packet
import openbsd.pcap as pcap
from pcaptools import read_pcap


def local(sec, usec):
    """The naive local datetime of a timestamp, computed independently."""
    return datetime.datetime.fromtimestamp(sec) + datetime.timedelta(microseconds=usec)


def collect(feed, method, *args, **kw):
    got = []
    getattr(feed, method)(*args[:1], lambda *a: got.append(a), *args[1:], **kw)
    return got


# --- 1. pclass= on loop and dispatch -----------------------------------------


@pytest.mark.parametrize("method", ["loop", "dispatch"])
def test_pclass_overrides_the_link_types_first_protocol(captures, method):
    path = captures / "ethernet"
    recs = read_pcap(path)[1]
    raw = collect(pcap.Offline(path), method, -1, 1, pclass=packet.Raw)
    assert len(raw) == len(recs)
    assert [[type(x).__name__ for x in p.getProtoList()] for p, _, _ in raw] == [["Raw"]] * len(recs)
    assert [p["raw"].payload for p, _, _ in raw] == [r[0] for r in recs]
    # An IPv4 datagram read from its Ethernet frames' offset 14 is the same
    # layers without the link header: pclass names the first protocol only.
    eth = collect(pcap.Offline(path), method, -1, 1, pclass=None)
    assert [[type(x).__name__ for x in p.getProtoList()] for p, _, _ in eth][0] == ["Ethernet", "IP", "TCP"]
    assert collect(pcap.Offline(path), method, -1, 1, packet.Ethernet) != []


def test_pclass_keyword_is_ignored_without_interpret(captures):
    got = collect(pcap.Offline(captures / "ethernet"), "loop", 2, 0, pclass=packet.Raw)
    assert [type(p) for p, _, _ in got] == [bytes, bytes]


def test_pclass_must_be_a_protocol_class(captures):
    f = pcap.Offline(captures / "ethernet")
    with pytest.raises(TypeError, match="^not a protocol class$"):
        f.loop(1, print, 1, pclass=42)
    with pytest.raises(TypeError, match="^cannot decode a packet starting with Protocol$"):
        f.dispatch(1, print, 1, pclass=packet.Protocol)
    assert f.next() is not None  # nothing was read


def test_pclass_on_a_link_type_whose_guess_differs(captures):
    # The loop capture (OpenBSD DLT_LOOP, 12) decoded as IP from its start:
    # the 4-byte address family is not an IP header, so the IP is Raw.
    path = captures / "loop"
    p, _, _ = collect(pcap.Offline(path), "loop", 1, 1, pclass=packet.Loopback)[0]
    assert [type(x).__name__ for x in p.getProtoList()][:2] == ["Loopback", "IP"]


# --- 2. the timestamp of interpreted reads ------------------------------------


def test_interpreted_timestamps_are_tuples_that_answer_datetime(captures):
    path = captures / "tdump"
    recs = read_pcap(path)[1]
    got = collect(pcap.Offline(path), "loop", -1, 1)
    assert len(got) == len(recs)
    for (p, ts, n), (data, (sec, usec), wire) in zip(got, recs):
        assert type(ts) is pcap.Timestamp and isinstance(ts, tuple)
        assert ts == (sec, usec) and tuple(ts) == (sec, usec) and (ts[0], ts[1]) == (sec, usec)
        s, u = ts
        assert (s, u) == (sec, usec) and "%d.%06d" % ts == f"{sec}.{usec:06d}"
        assert (ts.sec, ts.usec) == (sec, usec)
        want = local(sec, usec)
        assert ts.datetime() == want
        assert ts.strftime("%b %d %H:%M:%S") == want.strftime("%b %d %H:%M:%S")
        assert (ts.year, ts.month, ts.day, ts.hour, ts.minute, ts.second, ts.microsecond) == (
            want.year, want.month, want.day, want.hour, want.minute, want.second, want.microsecond)
        assert ts.isoformat() == want.isoformat() and ts.timestamp() == want.timestamp()
        assert hash(ts) == hash((sec, usec))
    # datetime arithmetic and ordering against datetimes
    a, b = got[0][1], got[-1][1]
    assert b - a == local(*recs[-1][1]) - local(*recs[0][1])
    assert a + datetime.timedelta(seconds=1) == local(*recs[0][1]) + datetime.timedelta(seconds=1)
    assert a < local(*recs[-1][1]) + datetime.timedelta(seconds=1) and a >= local(*recs[0][1])
    assert a + (1, 2) == (recs[0][1][0], recs[0][1][1], 1, 2)  # tuple concatenation stays
    with pytest.raises(AttributeError, match="'Timestamp' object has no attribute 'bogus'"):
        a.bogus


def test_timestamps_agree_with_tcpdump(captures):
    """tcpdump -tt's epoch seconds, turned into local time independently."""
    from pcaptools import tcpdump_records
    path = captures / "ethernet"
    want = [ts for _, ts in tcpdump_records(path)]
    got = [ts for _, ts, _ in collect(pcap.Offline(path), "dispatch", -1, 1)]
    assert got == want
    assert [t.strftime("%H:%M:%S.%f") for t in got] == [local(*t).strftime("%H:%M:%S.%f") for t in want]


def test_raw_reads_keep_plain_tuples(captures):
    path = captures / "ethernet"
    for method in ("loop", "dispatch"):
        assert {type(ts) for _, ts, _ in collect(pcap.Offline(path), method, -1)} == {tuple}
    f = pcap.Offline(path)
    assert type(f.next()[1]) is tuple
    assert type(f.next(interpret=1)[1]) is pcap.Timestamp
    assert type(f.next()[1]) is tuple
    assert {type(r[1]) for r in f} == {tuple}


def test_timestamp_copies_and_pickles():
    ts = pcap.Timestamp(1059137255, 282309)
    for other in (copy.copy(ts), copy.deepcopy(ts), pickle.loads(pickle.dumps(ts)),
                  pickle.loads(pickle.dumps(ts, 0))):
        assert type(other) is pcap.Timestamp and other == (1059137255, 282309)
    assert repr(ts) == "(1059137255, 282309)"


def test_a_dumper_takes_interpreted_timestamps(captures, tmp_path):
    path = captures / "ethernet"
    f = pcap.Offline(path)
    out = tmp_path / "copy.pcap"
    d = pcap.Dumper(f, str(out))
    f.loop(-1, lambda p, ts, n: d(p, ts, n), 1)
    d.close()
    assert read_pcap(out)[1] == read_pcap(path)[1]


# --- 3. Interpreter, DLTLookup, fseek, _setfilter, Dead(class) ----------------


def test_interpreter_decodes_for_a_raw_callback(captures):
    path = captures / "pf"
    recs = read_pcap(path)[1]
    got = []
    f = pcap.Offline(path)
    f.loop(-1, pcap.Interpreter(f.datalink(), lambda *a: got.append(a)))
    assert [type(p.getProtoList()[0]) for p, _, _ in got] == [packet.PF] * len(recs)
    assert [(bytes(p), ts, n) for p, ts, n in got] == recs
    assert {type(ts) for _, ts, _ in got} == {pcap.Timestamp}
    i = pcap.Interpreter(1, print, packet.IP)
    assert i.pclass is packet.IP and i.callback is print
    with pytest.raises(pcap.PcapError, match="^Unknown link layer type: nonexistent$"):
        pcap.Interpreter("nonexistent", None)
    with pytest.raises(pcap.PcapError, match="^Unknown link layer type: 9999$"):
        pcap.Interpreter(9999, print)


def test_dltlookup_maps_both_ways():
    L = pcap.DLTLookup
    assert L[1] is packet.Ethernet and L[117] is packet.PF and L[17] is packet.PFOld
    assert L[13] is packet.Enc and L[12] is packet.Loopback and L[0] is packet.Loopback
    assert L[pcap.DLT_EN10MB] is packet.Ethernet and L[pcap.DLT_LOOP] is packet.Loopback
    assert L[packet.Ethernet] == pcap.DLT_EN10MB and L[packet.PF] == pcap.DLT_PFLOG
    assert L[packet.PFOld] == 17 and L[packet.Enc] == pcap.DLT_ENC and L[packet.Loopback] == pcap.DLT_LOOP
    assert 1 in L and packet.TCP not in L and L.has_key(117) and not L.has_key(9999)
    for bad in (9999, packet.TCP, "Ethernet"):
        with pytest.raises(KeyError):
            L[bad]


def test_dead_takes_a_protocol_class():
    assert pcap.Dead(packet.Ethernet).datalink() == pcap.DLTLookup[packet.Ethernet] == 1
    d = pcap.Dead(packet.PF, 200)
    assert (d.datalink(), d.snapshot()) == (117, 200)
    with pytest.raises(ValueError, match="^linktype: no link type starts with TCP"):
        pcap.Dead(packet.TCP)
    with pytest.raises(TypeError, match="^not a protocol class"):
        pcap.Dead(int)


def test_fseek_returns_to_a_record(captures):
    path = captures / "ethernet"
    recs = read_pcap(path)[1]
    f = pcap.Offline(path)
    offsets = []
    for _ in recs:
        offsets.append(f.ftell())
        f.next()
    assert f.next() is None
    for i in (5, 0, len(recs) - 1, 3):
        assert f.fseek(offsets[i]) == 0
        assert f.next() == recs[i]
    f.fseek(offsets[2])
    assert collect(f, "dispatch", -1) == recs[2:]
    with pytest.raises(ValueError, match="^offset must be between 0 and"):
        f.fseek(-1)


def test_fseek_on_a_pipe_is_an_error(captures, tmp_path):
    import os
    import threading
    data = (captures / "ethernet").read_bytes()
    fifo = tmp_path / "fifo"
    os.mkfifo(fifo)

    def writer():
        with open(fifo, "wb") as w:
            w.write(data)

    t = threading.Thread(target=writer)
    t.start()
    try:
        f = pcap.Offline(str(fifo))
        with pytest.raises(pcap.PcapError) as e:
            f.fseek(24)
        assert e.value.errno == 29  # ESPIPE
        assert str(e.value) == f"{fifo}: cannot seek: Illegal seek"
        assert len(list(f)) == len(read_pcap(captures / "ethernet")[1])  # still reads on
        f.close()
    finally:
        t.join(10)
    assert not t.is_alive()


def test_setfilter_takes_a_bpf_program(captures):
    path = captures / "ethernet"
    f = pcap.Offline(path)
    f._setfilter(pcap.BPFProgram(f, "tcp[13] & 2 != 0"))  # SYN
    syn = [r for r in read_pcap(path)[1] if r[0][14 + 20 + 13] & 2]
    assert collect(f, "loop", -1) == syn
    with pytest.raises(TypeError):
        f._setfilter("tcp")
    f.close()
    with pytest.raises(pcap.PcapError, match=r"^feed is closed \(not connected\)$"):
        f._setfilter(pcap.BPFProgram(pcap.Dead(1), "tcp"))


# --- 4. option tables through the field's class attribute ---------------------


@pytest.mark.parametrize("expr, value", [
    ("TCP.flags['syn']", 2), ("TCP.flags['SYN']", 2), ("TCP.flags['Ack']", 16),
    ("ICMPEchoReply.itype['icmpechoreply']", 0), ("ICMPEchoRequest.itype['ICMPECHOREQUEST']", 8),
    ("ICMPEchoReply.code['echo_reply']", 0), ("ICMPDestinationUnreachable.code['port_unreachable']", 3),
    ("ICMPTimeExceeded.code['reassembly']", 1), ("ICMPAddressMaskReply.code['addressmask_reply']", 0),
    ("ARP.opcode['arp_reply']", 2), ("DHCP.flags['broadcast']", 0x8000), ("DHCP.op['bootreply']", 2),
    ("DHCP.flags['unicast']", 0),
    ("ICMP6EchoRequest.icmp6type['echo_request']", 128),
    ("ICMP6NeighbourAdvertisement.icmp6type['neighbour_advertisement']", 136),
    ("IP.protocol['udp']", 17), ("IP.flags['df']", 2), ("IPv6.nextheader['icmp6']", 58),
    ("AH.nextheader['tcp']", 6), ("Ethernet.etype['ip6']", 0x86DD), ("VLAN.etype['arp']", 0x806),
    ("Loopback.addressFamily['inet']", 2), ("Enc.flags['auth']", 0x800), ("Enc.addressFamily['inet']", 2),
    ("ICMP6NeighbourAdvertisement.flags['solicited']", 2), ("PF.action['DROP']", 1),
    ("PFOld.reason['short']", 3), ("PF.direction['OUT']", 2), ("PF.safamily['inet']", 2),
    ("IGMP.itype['leave_group']", 0x17), ("IPOption.optionType['recordroute']", 7),
    ("IPOptionInternetTimestamp.flag['ip_precedes']", 1), ("SLL.protocol['ip']", 0x800),
    ("ProtocolOptions['icmp']", 1), ("PF.ActionOptions['DROP']", 1), ("Loopback.AFOptions['inet']", 2),
    ("TCP._FlagsOptions['fin']", 1), ("ICMP._TypeOptions['icmpredirect']", 5),
])
def test_option_tables_through_the_class(expr, value):
    assert eval(expr, vars(packet)) == value


def test_option_tables_are_case_insensitive_read_only_mappings():
    import collections.abc
    t = packet.TCP.flags
    assert t is packet.TCP.FlagsOptions or t == packet.TCP.FlagsOptions
    assert isinstance(t, packet.Options) and isinstance(t, collections.abc.Mapping)
    assert "syn" in t and t.has_key("Fin") and "bogus" not in t and 2 not in t
    assert t.get("psh") == 8 and t.get("nope", -1) == -1
    assert t.keys() == ["URG", "ACK", "PSH", "RST", "SYN", "FIN", "ECE", "CWR"]
    assert dict(t) == dict(zip(t.keys(), t.values())) == dict(t.items())
    assert t.toStr(16) == "ACK" and t.toStr(3) == "3"
    assert len(t) == 8 and list(t) == t.keys()
    with pytest.raises(KeyError):
        t["bogus"]
    with pytest.raises(TypeError):
        t["SYN"] = 3
    assert repr(packet.IP.flags) == "Options(MF=1, DF=2, RES=4)"
    mine = packet.Options(one=1, Two=2)
    assert mine["ONE"] == 1 and mine["two"] == 2 and mine == {"one": 1, "Two": 2}


def test_fields_with_tables_still_read_and_write_values(captures):
    p = pcap.Offline(captures / "ethernet").next(1)[0]
    raw = bytes(p)
    tcp = p["tcp"]
    assert tcp.flags == raw[14 + 20 + 13] and p["ip"].protocol == 6 and p["ethernet"].etype == 0x800
    tcp.flags = ["syn", "ACK"]
    assert tcp.flags == 18 and bytes(p)[14 + 20 + 13] == 18
    tcp.flags = packet.TCP.flags["fin"]
    assert bytes(p)[14 + 20 + 13] == 1
    del_err = None
    try:
        del tcp.flags
    except (AttributeError, TypeError) as e:
        del_err = e
    assert del_err is not None
    with pytest.raises(TypeError):
        vars(packet.TCP)["flags"].__get__(42)  # not a TCP object
    # The field's descriptor answers the table from the class, the value from an instance.
    assert type(vars(packet.TCP)["flags"]).__name__ == "_OptionField"


# --- 5. Packet.protostack and Packet.payload ---------------------------------


def test_protostack_and_payload(captures):
    p = pcap.Offline(captures / "ethernet").next(1)[0]
    raw = bytes(p)
    assert p.protostack == p.getProtoList()[0] and p.protostack.TYPE == "Ethernet"
    assert len(p.protostack) == 3
    assert p.payload == raw[14:]
    q = packet.createPacket(packet.Loopback)
    q.payload = b"supercalifragilistic"
    assert q.payload == b"supercalifragilistic" and bytes(q)[4:] == b"supercalifragilistic"


# --- 6. IP.options by option name ---------------------------------------------


def test_ip_options_by_name(captures):
    path = captures / "packets" / "ip_recordroute"
    data = read_pcap(path)[1][0][0]
    ip_at = 4  # OpenBSD loopback header
    ihl = (data[ip_at] & 15) * 4
    opts = data[ip_at + 20:ip_at + ihl]
    assert opts[0] == 7  # Record Route
    rr_len = opts[1]
    want = [socket.inet_ntoa(opts[i:i + 4]) for i in range(3, rr_len - 3, 4)]
    p = pcap.Offline(path).next(1)[0]
    o = p["ip"].options
    assert isinstance(o, list) and isinstance(o, packet.IPOptionList) and len(o) == 2
    rr = o["ipoptionrecordroute"]
    assert rr is not None and rr.TYPE == "IPOptionRecordRoute" and rr.length == rr_len
    assert rr.addrlist == rr.addresses == want
    assert o[0].raw == rr.raw and o[-1].TYPE == "IPOptionEndOfList"
    assert "IPOptionEndOfList" in o and o.has_key("ipoptionrecordroute") and "ipoptionnop" not in o
    assert o[0] in o
    # The legacy chain's head: the first option's attributes, and _next.
    assert o.addrlist == want and o.length == rr_len and o._next.TYPE == "IPOptionEndOfList"
    assert packet.IPOptionList(o[1:])._next is None
    with pytest.raises(AttributeError, match="'IPOptionList' object has no attribute 'nothing'"):
        packet.IPOptionList([]).nothing
    with pytest.raises(KeyError, match="No such option: ipoptionsecurity"):
        o["ipoptionsecurity"]
    p["ip"].options = o  # assigning it back changes nothing
    assert bytes(p) == data


# --- 7. ICMPv6 neighbour .options -------------------------------------------


@pytest.mark.parametrize("name, opt_type", [("icmp6_neighbor_sol", 1), ("icmp6_neighbor_advertisement", 2)])
def test_icmp6_neighbour_options(captures, name, opt_type):
    data = read_pcap(captures / "packets" / name)[1][0][0]
    at = 14 + 40 + 24  # the first option after the target address
    assert data[at:at + 2] == bytes([opt_type, 1])
    mac = ":".join(f"{b:02x}" for b in data[at + 2:at + 8])
    p = pcap.Offline(captures / "packets" / name).next(1)[0]
    n = p["icmp6"]
    assert n.options == n.linklayer_addr == mac
    n.options = "02:00:00:00:00:01"
    assert bytes(p)[at + 2:at + 8] == bytes([2, 0, 0, 0, 0, 1]) and n.linklayer_addr == "02:00:00:00:00:01"


# --- 8. lookups by the legacy base class names ---------------------------------


def test_lookup_by_legacy_base_names(captures):
    req = pcap.Offline(captures / "packets" / "icmp_echo_request").next(1)[0]
    rep = pcap.Offline(captures / "packets" / "icmp_echo_reply").next(1)[0]
    unr = pcap.Offline(captures / "packets" / "icmp_unreachable").next(1)[0]
    assert req["icmpecho"].TYPE == "ICMPEchoRequest" and rep["ICMPEcho"].TYPE == "ICMPEchoReply"
    assert req.has_key("icmpecho") and "icmpecho" in rep and "icmpecho" not in unr
    assert req["icmp"].isType("icmpecho") and not unr["icmp"].isType("icmpecho")
    assert req["ip"]["icmpecho"] == req["icmp"]
    mask = packet.createPacket(packet.IP, packet.ICMPAddressMaskRequest)
    assert mask["icmpaddressmarkrequest"] == mask["icmpaddressmaskrequest"]


# --- 9. a field set to a value that no longer parses keeps its layer -----------


def test_tcp_data_offset_past_the_data(captures):
    p = pcap.Offline(captures / "ethernet").next(1)[0]
    before = bytes(p)
    p["tcp"].dataOffset = 12
    assert p["tcp"].dataOffset == 12 and p.has_key("tcp")
    assert bytes(p) == before[:46] + bytes([0xC0 | (before[46] & 15)]) + before[47:]
    assert [x.TYPE for x in p.getProtoList()] == ["Ethernet", "IP", "TCP"]


def test_ip_version_6_on_an_ipv4_header(captures):
    p = pcap.Offline(captures / "ethernet").next(1)[0]
    ip = p["ip"]
    ip.version = 6
    assert ip.version == 6 and p["ip"].version == 6 and bytes(p)[14] >> 4 == 6
    assert [x.TYPE for x in p.getProtoList()] == ["Ethernet", "IP", "TCP"]
    ip.version = 4
    assert p["ip"].version == 4 and bytes(p) == bytes(pcap.Offline(captures / "ethernet").next()[0])


def test_pf_length_too_short(captures):
    p = pcap.Offline(captures / "pf").next(1)[0]
    p["pf"].length = 5
    assert p["pf"].length == 5 and p.has_key("pf") and bytes(p)[0] == 5


# --- 10. a Dumper opened in its feed's own callback ----------------------------


def test_dumper_opened_in_the_feeds_callback(captures, tmp_path):
    path = captures / "pf.old"  # link type 17, which Linux libpcap cannot write itself
    recs = read_pcap(path)[1]
    f = pcap.Offline(path)
    dumpers = []

    def cb(pkt, ts, n):
        if not dumpers:
            dumpers.append(pcap.Dumper(f, str(tmp_path / "out")))
        dumpers[0](pkt, ts, n)

    assert f.dispatch(-1, cb) == len(recs)
    dumpers[0].close()
    head, got = read_pcap(tmp_path / "out")
    assert got == recs and head["linktype"] == 17 and head["snaplen"] == read_pcap(path)[0]["snaplen"]


# --- 11. closed feeds ---------------------------------------------------------


def test_closed_messages_say_not_connected(captures, tmp_path):
    f = pcap.Offline(captures / "ethernet")
    d = pcap.Dumper(f, str(tmp_path / "x"))
    f.close()
    d.close()
    for call in (f.next, f.close, f.datalink, lambda: f.loop(1, print)):
        with pytest.raises(pcap.PcapError, match=r"^feed is closed \(not connected\)$"):
            call()
    with pytest.raises(pcap.PcapError, match=r"^dumper is closed \(not connected\)$"):
        d.close()


# --- 13. private helpers --------------------------------------------------------


def test_fix_checksums_leaves_lengths(captures):
    p = pcap.Offline(captures / "ethernet").next(1)[0]
    good = bytes(p)
    tcp = p["tcp"]
    tcp.checksum = 2323
    tcp._fixChecksums()
    assert bytes(p) == good
    p["ip"].length = 1000  # a length finalise() would recompute
    p["ip"].checksum = 0
    p["tcp"].checksum = 0
    p._fixChecksums()
    b = bytes(p)
    assert struct.unpack("!H", b[16:18])[0] == 1000
    # The IP length now says the datagram was cut short: its TCP checksum
    # cannot be computed and is left alone (as finalise() does).
    assert b[50:52] == b"\0\0"
    words = struct.unpack("!10H", b[14:34])
    assert sum(words) % 0xFFFF == 0  # the IP header checksum is valid again


def test_next_and_prev(captures):
    p = pcap.Offline(captures / "ethernet").next(1)[0]
    eth = p.protostack
    assert p["tcp"]._getProtoList() == p.getProtoList() == [eth, p["ip"], p["tcp"]]
    assert eth._next == p["ip"] and eth._next._next == p["tcp"] and p["tcp"]._next is None
    assert p["tcp"]._prev == p["ip"] and eth._prev is None


def test_legacy_attributes_and_names(captures):
    f = pcap.Offline(captures / "ethernet")
    prog = pcap.BPFProgram(f, "tcp", 0)
    assert prog.feed is f and prog.optimise == 0 and prog.filterstr == "tcp"
    assert pcap.BPFProgram(f, "tcp").optimise == 1
    data = read_pcap(captures / "ethernet")[1][0][0]
    p = packet.Packet(packet.Ethernet, data, 0)  # legacy _initialise: ignored
    assert p.getProtoList()[-1].TYPE == "TCP"
    assert issubclass(packet.PacketPyError, Exception) and issubclass(packet.DataBoundsError, Exception)
    import openbsd.utils as utils
    assert utils.multiord(b"\x01\x00\x02") == 65538 and utils.multiord(b"") == 0
    assert utils.multichar(65538, 4) == b"\x00\x01\x00\x02"
    with pytest.raises(ValueError, match="^Number too wide for width.$"):
        utils.multichar(65536, 2)


def test_nanosecond_feeds_keep_plain_tuples(captures):
    """A Timestamp counts microseconds: a feed opened with precision="nano"
    hands out its (sec, nsec) as the plain tuple, decoded or not."""
    recs = read_pcap(captures / "ethernet")[1]
    f = pcap.Offline(captures / "ethernet", precision="nano")
    got = collect(f, "loop", 2, 1)
    assert [(type(ts), ts) for _, ts, _ in got] == [(tuple, (s, u * 1000)) for _, (s, u), _ in recs[:2]]
    r = f.next(interpret=1)
    assert type(r[1]) is tuple and r[1] == (recs[2][1][0], recs[2][1][1] * 1000)


def test_dumper_from_the_callback_of_a_nanosecond_feed(captures, tmp_path):
    path = captures / "ethernet"
    recs = read_pcap(path)[1]
    f = pcap.Offline(path, precision="nano")
    out = []

    def cb(pkt, ts, n):
        if not out:
            out.append(pcap.Dumper(f, str(tmp_path / "nano.pcap")))
        out[0](pkt, ts, n)

    f.loop(-1, cb)
    out[0].close()
    head, got = read_pcap(tmp_path / "nano.pcap")
    assert head["nano"] and got == recs
