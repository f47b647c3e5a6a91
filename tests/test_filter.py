"""Filters: the packets a filter keeps are the ones tcpdump keeps."""

import re

import pytest

import pcaptools
from openbsd import pcap

EXPRESSIONS = [
    "tcp",
    "udp",
    "icmp",
    "ip6",
    "icmp6",
    "arp",
    "not ip",
    "port 22",
    "udp port 53",
    "host 10.0.0.3",
    "src net 192.168.7.0/24 and dst host 10.0.0.1",
    "vlan",
    "vlan 11 and udp",
    "len > 100",
    "greater 300",
    "less 80",
    "tcp[tcpflags] & tcp-syn != 0",
    "tcp[tcpflags] & (tcp-syn|tcp-ack) == (tcp-syn|tcp-ack)",
    "ether broadcast",
    "ip6 and tcp dst port 22",
    "icmp[icmptype] == icmp-echo",
]


def filtered(path, expr, how):
    f = pcap.Offline(path)
    if how == "str":
        f.filter(expr)
    else:
        prog = pcap.BPFProgram(f, expr)
        assert prog.filterstr == expr
        f.filter(prog)
    if how == "next":
        out = []
        while (r := f.next()) is not None:
            out.append(r)
        return out
    out = []
    assert f.loop(-1, lambda *a: out.append(a)) == len(out)
    return out


@pytest.mark.parametrize("expr", EXPRESSIONS)
def test_filter_keeps_what_tcpdump_keeps(mixed, tmp_path, expr):
    path, recs = mixed
    expected = pcaptools.tcpdump_filter(path, expr, tmp_path / "tcpdump.pcap")
    assert 0 < len(expected) < len(recs) or expr in ("less 80",), (expr, len(expected))
    assert filtered(path, expr, "str") == expected
    assert filtered(path, expr, "program") == expected


@pytest.mark.parametrize("expr", ["tcp", "port 22", "tcp[tcpflags] & tcp-push != 0", "ip and len > 100"])
def test_filter_on_openbsd_captures(captures, tmp_path, expr):
    for name in ("ethernet", "tdump"):
        path = captures / name
        expected = pcaptools.tcpdump_filter(path, expr, tmp_path / "t.pcap")
        assert filtered(path, expr, "next") == expected


def test_filter_on_pflog(captures, tmp_path):
    path = captures / "pf"
    for expr in ("icmp", "tcp", "action pass", "on lo0"):
        assert filtered(path, expr, "str") == pcaptools.tcpdump_filter(path, expr, tmp_path / "t.pcap")


@pytest.mark.parametrize("expr", ["tcp", "udp port 53", "arp or icmp", "vlan 10", "len > 100"])
def test_program_instructions_equal_tcpdump(mixed, sample, expr):
    for path in (sample, mixed[0]):
        with pcap.Offline(path) as f:
            prog = pcap.BPFProgram(f, expr)
            assert prog.instructions() == pcaptools.tcpdump_bpf(path, expr)
            assert len(prog) == len(prog.instructions())
            assert expr in repr(prog)


def test_unoptimised_program(sample):
    with pcap.Offline(sample) as f:
        opt = pcap.BPFProgram(f, "tcp or udp")
        raw = pcap.BPFProgram(f, "tcp or udp", 0)
        assert len(raw) > len(opt)
        pkts = list(f)
    assert [opt.matches(p, n) for p, _, n in pkts] == [raw.matches(p, n) for p, _, n in pkts]


def test_matches_agrees_with_feed_filter(mixed, tmp_path):
    path, recs = mixed
    prog = pcap.BPFProgram(pcap.Dead(pcap.DLT_EN10MB, 256), "len > 100 and tcp")
    expected = pcaptools.tcpdump_filter(path, "len > 100 and tcp", tmp_path / "t.pcap")
    assert [r for r in recs if prog.matches(r[0], r[2])] == expected
    # without the wire length, len(packet) is the length
    assert prog.matches(recs[0][0]) == prog.matches(recs[0][0], len(recs[0][0]))
    assert prog.matches(bytearray(b"\x00" * 20)) is False


def test_empty_filter_accepts_everything(mixed):
    path, recs = mixed
    f = pcap.Offline(path)
    f.filter("udp")
    f.filter("")
    assert list(f) == recs
    assert pcap.BPFProgram(pcap.Offline(path), "").matches(b"anything") is True


def test_filter_can_change_mid_read(mixed, tmp_path):
    path, recs = mixed
    f = pcap.Offline(path)
    head = [f.next() for _ in range(100)]
    f.filter("arp")
    rest = list(f)
    assert head == recs[:100]
    assert rest == [r for r in pcaptools.tcpdump_filter(path, "arp", tmp_path / "a.pcap") if r not in recs[:100]]


def test_filter_applies_to_dispatch_counts(mixed, tmp_path):
    path, recs = mixed
    expected = pcaptools.tcpdump_filter(path, "icmp", tmp_path / "t.pcap")
    f = pcap.Offline(path)
    f.filter("icmp")
    got = []
    assert f.dispatch(7, lambda *a: got.append(a)) == 7
    assert f.dispatch(-1, lambda *a: got.append(a)) == len(expected) - 7
    assert got == expected


@pytest.mark.parametrize("expr,reason", [
    ("tcp and", "syntax error"),
    ("port 99999", "illegal port number 99999 > 65535"),
    ("host no.such.host.invalid", "unknown host 'no.such.host.invalid'"),
    ("frobnicate", "syntax error"),
    ("ether proto \\foo", "unknown ether proto 'foo'"),
    ("ip[999999999999]", None),
])
def test_bad_filter_names_expression_and_reason(sample, expr, reason):
    f = pcap.Offline(sample)
    for compile_ in (f.filter, lambda e: pcap.BPFProgram(f, e)):
        with pytest.raises(pcap.PcapError) as e:
            compile_(expr)
        msg = str(e.value)
        assert msg.startswith(f"{sample}: bad filter {expr!r}: ".replace("'", '"')) or expr in msg
        if reason:
            assert reason in msg
    # the feed still works, unfiltered
    assert len(list(f)) == 14


def test_bad_filter_keeps_previous_filter(sample):
    f = pcap.Offline(sample)
    f.filter("arp")
    with pytest.raises(pcap.PcapError):
        f.filter("arp and")
    assert [len(p) for p, _, _ in f] == [60, 60]


def test_filter_argument_types(sample):
    f = pcap.Offline(sample)
    with pytest.raises(TypeError, match="filter expects a str"):
        f.filter(42)
    with pytest.raises(pcap.PcapError, match="NUL"):
        f.filter("tcp\0")
    with pytest.raises(TypeError):
        pcap.BPFProgram("not a feed", "tcp")


def test_filter_on_dead_feed_and_program_from_dead(sample):
    d = pcap.Dead(pcap.DLT_EN10MB, 65535)
    with pytest.raises(pcap.PcapError, match=re.escape("Dead(linktype=1): A filter cannot be set on a pcap_open_dead pcap_t")):
        d.filter("tcp")
    # ...but it compiles programs for other feeds of that link type
    prog = pcap.BPFProgram(d, "udp")
    with pcap.Offline(sample) as f:
        f.filter(prog)
        assert [(p, ts) for p, ts, _ in f] == pcaptools.tcpdump_records(sample, "udp")
    with pcap.Offline(sample) as f:
        assert prog.instructions() == pcap.BPFProgram(f, "udp").instructions()


def test_program_for_a_live_feed_knows_the_netmask():
    """`ip broadcast` needs the interface's netmask: BPFProgram compiles it
    for a live feed as feed.filter() does (loopback: 127.0.0.0/8)."""
    try:
        live = pcap.Live("lo", timeout=10)
    except pcap.PcapError as e:
        pytest.skip(f"cannot capture on lo here: {e}")
    with live:
        if live.lookupnet_host() != (0x7F000000, 0xFF000000) or live.datalink() != pcap.DLT_EN10MB:
            pytest.skip("lo is not the usual Linux loopback")
        prog = pcap.BPFProgram(live, "ip broadcast")
        live.filter("ip broadcast")

    def frame(dst):
        ip = bytes.fromhex("450000140000000040110000") + bytes([127, 0, 0, 1]) + bytes(dst)
        return bytes(12) + b"\x08\x00" + ip

    assert prog.matches(frame([127, 255, 255, 255])) is True
    assert prog.matches(frame([127, 0, 0, 1])) is False
    with pytest.raises(pcap.PcapError, match="netmask not known, so 'ip broadcast' not supported"):
        pcap.BPFProgram(pcap.Dead(pcap.DLT_EN10MB), "ip broadcast")


def test_program_of_another_link_type_is_refused(sample, mixed):
    """A program's offsets are those of the link header it was compiled
    for: on a feed of another link type it would test the wrong bytes."""
    ether = pcap.BPFProgram(pcap.Offline(str(sample)), "udp port 53")
    assert ether.linktype == pcap.DLT_EN10MB
    for dlt in (pcap.DLT_RAW, pcap.DLT_NULL, pcap.DLT_LINUX_SLL):
        feed = pcap.Dead(dlt)
        with pytest.raises(pcap.PcapError) as info:
            feed.filter(ether)
        assert str(info.value) == (
            f'Dead(linktype={dlt}): BPF program "udp port 53" '
            f"was compiled for link type 1, this feed's is {dlt}")
        assert pcap.BPFProgram(feed, "udp port 53").linktype == dlt
    # from another feed of the same link type it filters as the expression
    f = pcap.Offline(str(mixed[0]))
    f.filter(ether)
    g = pcap.Offline(str(mixed[0]))
    g.filter("udp port 53")
    got, want = list(f), list(g)
    assert got == want and len(want) > 0
