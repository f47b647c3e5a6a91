"""Live capture on real interfaces (issue 3).

Every test here captures or injects on a veth pair that the module fixture
creates for the run: the host end stays in this network namespace, the peer
end lives in a private namespace ``pyobsd-<random>``. Traffic is only ever
sent between the two ends of that pair (addresses from 10.213.x.0/30, a
range used for nothing else), or over the loopback interface *inside* the
private namespace. IPv6 is disabled on both ends and the neighbours are
static, so the wire is silent apart from what a test sends, and counts can
be exact. Every namespace and link is removed in the fixture's finalizer,
also when a test fails.

Without root, or without iproute2's ``ip``, the whole module is skipped.
"""

import ipaddress
import os
import random
import secrets
import shutil
import signal
import socket
import struct
import subprocess
import sys
import textwrap
import threading
import time
import types

import pytest

import openbsd.pcap as pcap

pytestmark = [
    pytest.mark.skipif(
        not hasattr(os, "geteuid") or os.geteuid() != 0,
        reason="live capture needs root (CAP_NET_RAW/CAP_NET_ADMIN) to build namespaces and capture",
    ),
    pytest.mark.skipif(shutil.which("ip") is None, reason="iproute2's `ip` is not installed"),
]

PY = sys.executable
ETH_P_LOCAL = 0x88B5  # IEEE "local experimental" EtherType: no kernel handler


def sh(*args, check=True):
    """Runs a command (no shell), returns its stdout."""
    r = subprocess.run(args, capture_output=True, text=True, timeout=30)
    if check and r.returncode != 0:
        raise RuntimeError(f"{' '.join(args)} failed ({r.returncode}): {r.stderr.strip()}")
    return r.stdout


def link_mac(name, ns=None):
    pre = ("ip", "netns", "exec", ns) if ns else ()
    out = sh(*pre, "cat", f"/sys/class/net/{name}/address").strip()
    return bytes.fromhex(out.replace(":", ""))


DISABLE_IPV6 = textwrap.dedent("""
    import os, sys
    path = "/proc/sys/net/ipv6/conf/%s/disable_ipv6" % sys.argv[1]
    if os.path.exists(path):  # absent when the kernel has no IPv6
        with open(path, "w") as f:
            f.write("1")
""")


def disable_ipv6(link, ns=None):
    pre = ("ip", "netns", "exec", ns) if ns else ()
    sh(*pre, PY, "-c", DISABLE_IPV6, link)


def free_subnet():
    """A 10.213.x.0/30 that nothing on this host uses yet."""
    used = sh("ip", "-4", "-o", "addr", "show")
    for _ in range(100):
        x = random.randrange(0, 256)
        if f" 10.213.{x}." not in used:
            return x
    raise RuntimeError("no free 10.213.x.0/30 subnet")


@pytest.fixture(scope="module")
def net():
    """Two veth pairs, peers in a fresh namespace.

    - ``host`` <-> ``peer``: 10.213.x.1/30 <-> 10.213.x.2/30, both up;
    - ``bare`` <-> ``bare_peer``: no IPv4 address, both up (for
      ``lookupnet() == (0, 0)`` and for toggling the link state).
    """
    tag = secrets.token_hex(3)
    ns = f"pyobsd-{tag}"
    host, peer = f"pyo-h{tag}", f"pyo-n{tag}"
    bare, bare_peer = f"pyo-b{tag}", f"pyo-c{tag}"
    made_links = []
    made_ns = []
    sinks = []

    def cleanup():
        for s in sinks:
            s.close()
        # Deleting the namespace deletes the peers in it, and with them the
        # host ends; delete the host ends explicitly anyway, in case the
        # namespace step failed halfway.
        for n in made_ns:
            sh("ip", "netns", "del", n, check=False)
        for link in made_links:
            if os.path.exists(f"/sys/class/net/{link}"):
                sh("ip", "link", "del", link, check=False)

    try:
        sh("ip", "netns", "add", ns)
        made_ns.append(ns)
        x = free_subnet()
        host_ip, peer_ip = f"10.213.{x}.1", f"10.213.{x}.2"
        for a, b in ((host, peer), (bare, bare_peer)):
            sh("ip", "link", "add", a, "type", "veth", "peer", "name", b)
            made_links.append(a)
            sh("ip", "link", "set", b, "netns", ns)
            # No IPv6 on either end: no DAD, router solicitations, MLD.
            disable_ipv6(a)
            disable_ipv6(b, ns)
        sh("ip", "addr", "add", f"{host_ip}/30", "dev", host)
        sh("ip", "netns", "exec", ns, "ip", "addr", "add", f"{peer_ip}/30", "dev", peer)
        for a, b in ((host, peer), (bare, bare_peer)):
            sh("ip", "link", "set", a, "up")
            sh("ip", "netns", "exec", ns, "ip", "link", "set", b, "up")
        sh("ip", "netns", "exec", ns, "ip", "link", "set", "lo", "up")
        host_mac, peer_mac = link_mac(host), link_mac(peer, ns)
        # Static neighbours: no ARP on the wire.
        sh("ip", "neigh", "replace", peer_ip, "lladdr", peer_mac.hex(":"), "dev", host, "nud", "permanent")
        sh("ip", "netns", "exec", ns, "ip", "neigh", "replace", host_ip,
           "lladdr", host_mac.hex(":"), "dev", peer, "nud", "permanent")
        # Sockets on the host end, so datagrams sent to these ports are
        # delivered and draw no ICMP "port unreachable" back onto the wire.
        port = random.randrange(20000, 60000, 8)
        for p in range(port, port + 4):
            s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
            s.bind((host_ip, p))
            sinks.append(s)
        yield types.SimpleNamespace(
            ns=ns, host=host, peer=peer, bare=bare, bare_peer=bare_peer,
            host_ip=host_ip, peer_ip=peer_ip, net=f"10.213.{x}.0", mask="255.255.255.252",
            broadcast=f"10.213.{x}.3",
            host_mac=host_mac, peer_mac=peer_mac, port=port,
        )
    finally:
        cleanup()


@pytest.fixture(autouse=True)
def watchdog():
    """Turns a hung capture into a failed test instead of a hung run (the
    capture checks signals while it waits, so the alarm gets through)."""

    class Hung(Exception):
        pass

    def fire(signum, frame):
        raise Hung("test took longer than 20 s")

    old = signal.signal(signal.SIGALRM, fire)
    signal.setitimer(signal.ITIMER_REAL, 20)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, old)


SENDER = textwrap.dedent("""
    import socket, sys, time
    dst, delay, gap = sys.argv[1], float(sys.argv[2]), float(sys.argv[3])
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_BROADCAST, 1)
    time.sleep(delay)
    for i, item in enumerate(sys.argv[4:]):
        port, payload = item.split(":")
        if i and gap:
            time.sleep(gap)
        s.sendto(bytes.fromhex(payload), (dst, int(port)))
""")


def send_udp(net, items, delay=0.0, gap=0.0, dst=None):
    """Starts sending `items` ((port, payload) pairs) as UDP datagrams from
    the namespace end to the host end (or `dst`, the pair's broadcast
    address); returns the sender process."""
    assert dst in (None, net.broadcast)
    args = [f"{port}:{payload.hex()}" for port, payload in items]
    return subprocess.Popen(
        ["ip", "netns", "exec", net.ns, PY, "-c", SENDER, dst or net.host_ip, str(delay), str(gap), *args]
    )


def sent(net, items, **kw):
    """Sends `items` and waits until they are all on the wire."""
    p = send_udp(net, items, **kw)
    assert p.wait(timeout=15) == 0


def udp_of(frame):
    """(src, dst, dport, payload) of an Ethernet/IPv4/UDP frame."""
    assert frame[12:14] == b"\x08\x00", frame[:16].hex()
    ihl = (frame[14] & 0x0F) * 4
    ip = frame[14:14 + ihl]
    assert ip[9] == 17
    udp = frame[14 + ihl:]
    _, dport, ulen = struct.unpack("!HHH", udp[:6])
    return (str(ipaddress.IPv4Address(ip[12:16])), str(ipaddress.IPv4Address(ip[16:20])),
            dport, udp[8:ulen])


def payloads(n, size=None):
    return [os.urandom(size or random.randrange(1, 200)) for _ in range(n)]


def open_host(net, snaplen=2000, promisc=1, timeout=1000, flt=None):
    f = pcap.Live(net.host, snaplen, promisc, timeout)
    f.filter(flt if flt is not None else f"udp and dst port {net.port}")
    return f


def collect(out):
    return lambda pkt, ts, n: out.append((pkt, ts, n))


# --- capturing real traffic ------------------------------------------------


def test_capture_udp_payloads_byte_for_byte(net):
    data = payloads(5)
    with open_host(net) as f:
        assert f.datalink() == pcap.DLT_EN10MB
        p = send_udp(net, [(net.port, d) for d in data])
        got = []
        t0 = time.time()
        assert f.loop(5, collect(got)) == 5
        assert p.wait(timeout=10) == 0
    assert len(got) == 5
    for (pkt, ts, n), d in zip(got, data):
        assert isinstance(pkt, bytes)
        assert udp_of(pkt) == (net.peer_ip, net.host_ip, net.port, d)
        assert pkt[:6] == net.host_mac and pkt[6:12] == net.peer_mac
        assert n == len(pkt) == 14 + 20 + 8 + len(d)
        sec, usec = ts
        assert type(sec) is int and type(usec) is int and 0 <= usec < 1_000_000
        assert abs(sec + usec / 1e6 - t0) < 10


def test_packets_are_delivered_on_arrival_not_at_the_timeout(net):
    # With a long read timeout, a packet that arrives while dispatch waits is
    # delivered at once (no TPACKET_V3 block-retire delay).
    with open_host(net, timeout=8000) as f:
        p = send_udp(net, [(net.port, b"prompt")], delay=0.3)
        got = []
        t = time.monotonic()
        assert f.dispatch(-1, collect(got)) == 1
        took = time.monotonic() - t
        p.wait(timeout=10)
    assert udp_of(got[0][0])[3] == b"prompt"
    assert took < 4, took


def test_filter_only_matching_packets_arrive(net):
    a, b = net.port, net.port + 1
    items = [(a if i % 2 else b, f"pkt{i}".encode()) for i in range(8)]
    with open_host(net, timeout=300, flt=f"udp dst port {a}") as f:
        sent(net, items)
        got = []
        while f.dispatch(-1, collect(got)):
            pass
        assert [udp_of(p)[2:] for p, _, _ in got] == [(a, d) for port, d in items if port == a]
        # An empty filter accepts everything again.
        f.filter("")
        sent(net, items[:2])
        got = []
        f.loop(2, collect(got))
        assert {udp_of(p)[3] for p, _, _ in got} == {b"pkt0", b"pkt1"}


def test_dispatch_counts_on_a_buffered_live_feed(net):
    data = [f"d{i}".encode() for i in range(7)]
    with open_host(net, timeout=1000) as f:
        sent(net, [(net.port, d) for d in data])
        got = []
        # cnt > 0: at most cnt packets, returned at once.
        t = time.monotonic()
        assert f.dispatch(2, collect(got)) == 2
        # cnt == -1: everything buffered, returned at once.
        assert f.dispatch(-1, collect(got)) == 5
        assert time.monotonic() - t < 0.7  # not at the read timeout
        assert [udp_of(p)[3] for p, _, _ in got] == data
        # Nothing left: dispatch returns 0 after the read timeout.
        t = time.monotonic()
        assert f.dispatch(-1, collect(got)) == 0
        assert 0.95 <= time.monotonic() - t < 4


def test_dispatch_zero_runs_until_the_read_timeout(net):
    with open_host(net, timeout=1500) as f:
        sent(net, [(net.port, b"z0"), (net.port, b"z1")])
        p = send_udp(net, [(net.port, b"z2")], delay=0.1)
        got = []
        t = time.monotonic()
        n = f.dispatch(0, collect(got))
        took = time.monotonic() - t
        p.wait(timeout=10)
    # All three, including the one that came while it ran; it returns at
    # the read timeout, not after the first batch.
    assert n == 3, [udp_of(x[0])[3] for x in got]
    assert [udp_of(x[0])[3] for x in got] == [b"z0", b"z1", b"z2"]
    assert 1.45 <= took < 5, took


def test_loop_waits_through_read_timeouts(net):
    with open_host(net, timeout=100) as f:
        p = send_udp(net, [(net.port, b"a"), (net.port, b"b"), (net.port, b"c")], gap=0.3)
        got = []
        t = time.monotonic()
        assert f.loop(3, collect(got)) == 3
        assert time.monotonic() - t >= 0.55
        p.wait(timeout=10)
        assert [udp_of(x[0])[3] for x in got] == [b"a", b"b", b"c"]
        # loop(cnt) stops at cnt even when more are buffered.
        sent(net, [(net.port, b"d"), (net.port, b"e"), (net.port, b"f")])
        got = []
        assert f.loop(2, collect(got)) == 2
        assert f.dispatch(-1, collect(got)) == 1
        assert [udp_of(x[0])[3] for x in got] == [b"d", b"e", b"f"]


def test_next_and_iteration(net):
    with open_host(net, timeout=300) as f:
        sent(net, [(net.port, b"n%d" % i) for i in range(4)])
        pkt, ts, n = f.next()
        assert udp_of(pkt)[3] == b"n0" and n == len(pkt)
        seen = []
        for pkt, ts, n in f:
            seen.append(udp_of(pkt)[3])
            if len(seen) == 3:
                break
        assert seen == [b"n1", b"n2", b"n3"]
        # Quiet now: next() gives None after about the read timeout.
        t = time.monotonic()
        assert f.next() is None
        assert 0.25 <= time.monotonic() - t < 3


def test_iteration_waits_through_timeouts(net):
    with open_host(net, timeout=100) as f:
        p = send_udp(net, [(net.port, b"i0"), (net.port, b"i1")], gap=0.4)
        seen = []
        for pkt, ts, n in f:
            seen.append(udp_of(pkt)[3])
            if len(seen) == 2:
                break
        p.wait(timeout=10)
    assert seen == [b"i0", b"i1"]


def test_stats_count_what_arrived(net):
    with open_host(net, timeout=300) as f:
        st = f.stats()
        assert set(st) == {"ps_recv", "ps_drop", "ps_ifdrop"}
        assert all(type(v) is int for v in st.values())
        assert st["ps_recv"] == 0
        sent(net, [(net.port, b"s%d" % i) for i in range(6)])
        assert f.loop(6, lambda *a: None) == 6
        st = f.stats()
        assert st["ps_recv"] == 6, st
        assert st["ps_drop"] == 0, st
        assert all(type(v) is int for v in st.values())


@pytest.mark.parametrize("snaplen", [59, 60, 61, 64, 75, 76, 96, 1500])
def test_snaplen_truncates_to_exactly_the_snap_length(net, snaplen):
    # 59/60/75/76/1500 are 11 or 12 modulo 16: libpcap 1.10's immediate-mode
    # ring captures 1 or 2 bytes less than asked for (live.rs does not use it).
    d = bytes(range(256)) * 5 + bytes(range(192))  # 1472: a full 1514-byte frame
    with open_host(net, snaplen=snaplen) as f:
        assert f.snapshot() == snaplen
        sent(net, [(net.port, d), (net.port, d[:10])])
        got = []
        assert f.dispatch(1, collect(got)) == 1
        got.append(f.next())
    (pkt, _, n), (short, _, m) = got
    assert n == 14 + 20 + 8 + len(d)
    assert len(pkt) == snaplen < n
    assert pkt[42:] == d[:snaplen - 42]
    # A packet shorter than the snap length is captured whole.
    assert len(short) == m == 52 and short[42:] == d[:10]


def test_dumper_of_a_live_feed_records_its_snap_length(net, tmp_path):
    out = tmp_path / "live.pcap"
    d = bytes(range(200))
    with open_host(net, snaplen=100) as f, pcap.Dumper(f, out) as w:
        sent(net, [(net.port, d)])
        assert f.dispatch(1, w) == 1
    raw = out.read_bytes()
    assert struct.unpack("<IHHiIII", raw[:24])[5:] == (100, 1)
    assert struct.unpack("<IIII", raw[24:40])[2:] == (100, 14 + 20 + 8 + 200)


def test_snaplen_above_libpcaps_maximum(net):
    with pcap.Live(net.host, 1 << 20) as f:
        assert f.snaplen == 1 << 20
        assert f.snapshot() == 262144


def test_attributes_and_repr(net):
    f = pcap.Live(net.host, 200, 0, 250)
    try:
        assert (f.interface, f.snaplen, f.promisc, f.timeout) == (net.host, 200, 0, 250)
        assert f.snapshot() == 200
        assert isinstance(f, pcap.Feed)
        assert net.host in repr(f)
    finally:
        f.close()
    with pytest.raises(pcap.PcapError, match="feed is closed"):
        f.dispatch(1, print)
    with pytest.raises(pcap.PcapError, match="feed is closed"):
        f.close()
    d = pcap.Live(net.host)
    assert (d.snaplen, d.promisc, d.timeout) == (96, 1, 1000)
    assert d.snapshot() == 96
    d.close()


def test_lookupnet(net):
    with pcap.Live(net.host) as f:
        netaddr, mask = f.lookupnet_host()
        raw = f.lookupnet()
    assert type(netaddr) is int and type(mask) is int
    assert str(ipaddress.IPv4Address(netaddr)) == net.net
    assert str(ipaddress.IPv4Address(mask)) == net.mask
    # lookupnet(): libpcap's bpf_u_int32s, network byte order read natively,
    # as the legacy library returned them.
    native = lambda dotted: int.from_bytes(socket.inet_aton(dotted), sys.byteorder)  # noqa: E731
    assert raw == (native(net.net), native(net.mask))
    assert all(type(x) is int for x in raw)
    with pcap.Live(net.bare) as f:
        assert f.lookupnet() == (0, 0) and f.lookupnet_host() == (0, 0)


def test_filters_use_the_interface_netmask(net):
    # "ip broadcast" needs the netmask: the live feed compiles it with the
    # interface's own, and matches the pair's broadcast address.
    with open_host(net, timeout=300, flt="ip broadcast and udp") as f:
        sent(net, [(net.port, b"to host")])
        sent(net, [(net.port, b"to all")], dst=net.broadcast)
        pkt, ts, n = f.next()
        assert udp_of(pkt)[1:] == (net.broadcast, net.port, b"to all")
        assert pkt[:6] == b"\xff" * 6
        assert f.next() is None
    with pcap.Live(net.bare) as f:
        with pytest.raises(pcap.PcapError, match="netmask not known"):
            f.filter("ip broadcast")


# --- inject ----------------------------------------------------------------

NS_CAPTURE = textwrap.dedent("""
    import sys, openbsd.pcap as pcap
    iface, count, expr = sys.argv[1], int(sys.argv[2]), sys.argv[3]
    f = pcap.Live(iface, 4000, 0, 100)
    f.filter(expr)
    print("ready", flush=True)
    got = []
    f.loop(count, lambda p, ts, n: got.append((p, n)))
    for p, n in got:
        print(p.hex(), n, flush=True)
""")

NS_INJECT = textwrap.dedent("""
    import sys, openbsd.pcap as pcap
    f = pcap.Live(sys.argv[1])
    print(f.inject(bytes.fromhex(sys.argv[2])))
""")


def frame(dst, src, body):
    return dst + src + struct.pack("!H", ETH_P_LOCAL) + body


@pytest.mark.parametrize("kind", [bytes, bytearray, memoryview])
def test_inject_arrives_identical_on_the_peer(net, kind):
    frames = [frame(net.peer_mac, net.host_mac, os.urandom(100)),
              frame(b"\xff" * 6, net.host_mac, bytes(range(256)) * 4)]
    cap = subprocess.Popen(
        ["ip", "netns", "exec", net.ns, PY, "-c", NS_CAPTURE, net.peer, "2", f"ether proto {ETH_P_LOCAL:#x}"],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )
    try:
        assert cap.stdout.readline().strip() == "ready", cap.stderr.read()
        with pcap.Live(net.host) as f:
            for fr in frames:
                assert f.inject(kind(fr)) == len(fr)
        out, err = cap.communicate(timeout=10)
    finally:
        cap.kill()
        cap.wait()
    lines = [line.split() for line in out.splitlines()]
    assert [(bytes.fromhex(h), int(n)) for h, n in lines] == [(fr, len(fr)) for fr in frames], err


def test_inject_from_the_namespace_captured_on_the_host(net):
    fr = frame(net.host_mac, net.peer_mac, b"from the namespace" + bytes(40))
    with open_host(net, flt=f"ether proto {ETH_P_LOCAL:#x}") as f:
        out = sh("ip", "netns", "exec", net.ns, PY, "-c", NS_INJECT, net.peer, fr.hex())
        assert int(out) == len(fr)
        pkt, ts, n = f.next()
    assert pkt == fr and n == len(fr)


def test_inject_errors_name_the_interface(net):
    with pcap.Live(net.host) as f:
        with pytest.raises(pcap.PcapError) as e:
            f.inject(frame(net.peer_mac, net.host_mac, bytes(9000)))
        assert str(e.value) == f"{net.host}: send: Message too long"
        with pytest.raises(pcap.PcapError) as e:
            f.inject(b"")
        assert str(e.value) == f"{net.host}: cannot inject an empty packet"
        with pytest.raises(TypeError):
            f.inject("not bytes")


# --- timeouts, threads and signals ---------------------------------------


def test_quiet_dispatch_returns_zero_after_the_timeout(net):
    with open_host(net, timeout=300) as f:
        t = time.monotonic()
        assert f.dispatch(10, print) == 0
        assert 0.28 <= time.monotonic() - t < 3
        t = time.monotonic()
        assert f.dispatch(0, print) == 0
        assert 0.28 <= time.monotonic() - t < 3
        t = time.monotonic()
        assert f.next() is None
        assert 0.28 <= time.monotonic() - t < 3


def spin_rate(seconds, fn=None):
    """Iterations per second of a Python counting thread while `fn` runs in
    this thread (or while this thread sleeps)."""
    stop = threading.Event()
    count = [0]

    def spin():
        while not stop.is_set():
            count[0] += 1

    th = threading.Thread(target=spin)
    th.start()
    t = time.monotonic()
    try:
        result = fn() if fn else time.sleep(seconds)
    finally:
        stop.set()
        th.join()
    return count[0] / (time.monotonic() - t), result


def test_gil_is_released_while_waiting(net):
    with open_host(net, timeout=600) as f:
        base, _ = spin_rate(0.3)
        rate, n = spin_rate(None, lambda: f.dispatch(-1, print))
        assert n == 0
        rate_next, pkt = spin_rate(None, f.next)
        assert pkt is None
    # A thread that held the GIL through the wait would leave the counter
    # near zero; allow for a busy shared machine.
    assert rate > base * 0.3, (rate, base)
    assert rate_next > base * 0.3, (rate_next, base)


def test_zero_timeout_blocks_until_packets_come(net):
    with open_host(net, timeout=0) as f:
        p = send_udp(net, [(net.port, b"late")], delay=1.0)
        got = []
        t = time.monotonic()
        rate, n = spin_rate(None, lambda: f.dispatch(-1, collect(got)))
        took = time.monotonic() - t
        p.wait(timeout=10)
        assert n == 1 and udp_of(got[0][0])[3] == b"late"
        assert 0.9 <= took < 6, took
        assert rate > 1000
        p = send_udp(net, [(net.port, b"late2")], delay=0.5)
        pkt, ts, n = f.next()
        assert udp_of(pkt)[3] == b"late2"
        p.wait(timeout=10)


def test_capture_in_a_thread_while_main_thread_runs(net):
    with open_host(net, timeout=0) as f:
        got = []
        th = threading.Thread(target=lambda: f.loop(2, collect(got)))
        th.start()
        time.sleep(0.3)
        assert th.is_alive() and got == []
        # The feed is busy in the other thread: a clean error, no deadlock.
        with pytest.raises(pcap.PcapError, match="busy"):
            f.stats()
        sent(net, [(net.port, b"t0"), (net.port, b"t1")])
        th.join(timeout=10)
        assert not th.is_alive()
    assert [udp_of(x[0])[3] for x in got] == [b"t0", b"t1"]


@pytest.mark.parametrize("how", ["loop", "dispatch0", "next", "iterate"])
def test_breakloop_from_another_thread_stops_a_quiet_capture(net, how):
    """breakloop() does not wait for the busy feed: a capture blocked on a
    quiet interface in another thread returns within a wait slice."""
    with open_host(net, timeout=0) as f:
        result = []

        def capture():
            if how == "loop":
                result.append(f.loop(0, lambda *a: None))
            elif how == "dispatch0":
                result.append(f.dispatch(0, lambda *a: None))
            elif how == "next":
                result.append(f.next())
            else:
                result.append(list(f))
        th = threading.Thread(target=capture)
        th.start()
        time.sleep(0.3)
        assert th.is_alive()
        t0 = time.monotonic()
        f.breakloop()
        th.join(timeout=5)
        assert not th.is_alive()
        assert time.monotonic() - t0 < 0.5
        assert result == [{"loop": 0, "dispatch0": 0, "next": None, "iterate": []}[how]]
        # the request was used up: the feed reads on
        sent(net, [(net.port, b"after")])
        r = f.next()
        assert r is not None and udp_of(r[0])[3] == b"after"


def test_breakloop_from_the_callback_stops_after_that_packet(net):
    with open_host(net, timeout=0) as f:
        got = []

        def cb(pkt, ts, n):
            got.append(udp_of(pkt)[3])
            if len(got) == 2:
                f.breakloop()
        sent(net, [(net.port, b"b%d" % i) for i in range(5)])
        time.sleep(0.1)
        assert f.loop(0, cb) == 2
        assert got == [b"b0", b"b1"]
        assert f.loop(3, cb) == 3                # the rest, still buffered
        assert got == [b"b0", b"b1", b"b2", b"b3", b"b4"]


SIGINT_CHILD = textwrap.dedent("""
    import signal, sys, openbsd.pcap as pcap
    # Python's own handler, even if this process was started with SIGINT
    # ignored (as background jobs of a non-interactive shell are).
    signal.signal(signal.SIGINT, signal.default_int_handler)
    iface, port, timeout, how = sys.argv[1], sys.argv[2], int(sys.argv[3]), sys.argv[4]
    f = pcap.Live(iface, 100, 0, timeout)
    f.filter("udp and dst port " + port)
    print("ready", flush=True)
    if how == "loop":
        f.loop(0, print)
    elif how == "dispatch0":
        f.dispatch(0, print)
    elif how == "iterate":
        for _ in f:
            pass
    print("returned", flush=True)
""")


@pytest.mark.parametrize(
    "how,timeout", [("loop", 1000), ("loop", 0), ("dispatch0", 0), ("iterate", 1000)]
)
def test_sigint_interrupts_a_blocked_capture(net, how, timeout):
    # A port nobody sends to: the capture waits for ever.
    child = subprocess.Popen(
        [PY, "-c", SIGINT_CHILD, net.host, str(net.port + 3), str(timeout), how],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )
    try:
        assert child.stdout.readline().strip() == "ready"
        time.sleep(0.4)  # well inside the wait
        assert child.poll() is None
        t = time.monotonic()
        child.send_signal(signal.SIGINT)
        out, err = child.communicate(timeout=5)
        took = time.monotonic() - t
    finally:
        child.kill()
        child.wait()
    assert took < 2, took
    assert "returned" not in out
    assert "KeyboardInterrupt" in err, err
    assert child.returncode != 0


def test_signal_handler_exception_ends_a_blocked_read(net):
    class Interrupted(Exception):
        pass

    def handler(signum, frame):
        raise Interrupted(signum)

    old = signal.signal(signal.SIGUSR1, handler)
    try:
        with open_host(net, timeout=0, flt=f"udp dst port {net.port + 3}") as f:
            for read in (lambda: f.loop(0, print), f.next, lambda: f.dispatch(-1, print)):
                timer = threading.Timer(0.3, signal.pthread_kill, (threading.main_thread().ident, signal.SIGUSR1))
                timer.start()
                t = time.monotonic()
                with pytest.raises(Interrupted):
                    read()
                assert time.monotonic() - t < 1.5
                timer.join()
    finally:
        signal.signal(signal.SIGUSR1, old)


def test_callback_exception_stops_the_capture_at_once(net):
    class Stop(Exception):
        pass

    boom = Stop("from the callback")
    calls = []

    def cb(pkt, ts, n):
        calls.append(udp_of(pkt)[3])
        raise boom

    with open_host(net, timeout=300) as f:
        sent(net, [(net.port, b"e%d" % i) for i in range(5)])
        for read in (lambda: f.loop(0, cb), lambda: f.dispatch(-1, cb), lambda: f.dispatch(0, cb)):
            with pytest.raises(Stop) as e:
                read()
            assert e.value is boom
        assert calls == [b"e0", b"e1", b"e2"]
        # The rest is still there, in order.
        got = []
        assert f.dispatch(-1, collect(got)) == 2
        assert [udp_of(x[0])[3] for x in got] == [b"e3", b"e4"]


def test_callback_may_not_reenter_or_close_its_live_feed(net):
    with open_host(net, timeout=300) as f:
        sent(net, [(net.port, b"r%d" % i) for i in range(5)])
        seen = []
        for misuse in (lambda: f.dispatch(1, print), f.close, f.next, f.stats):
            def cb(pkt, ts, n):
                seen.append(udp_of(pkt)[3])
                misuse()
            with pytest.raises(pcap.PcapError, match="busy"):
                f.loop(0, cb)
        assert seen == [b"r0", b"r1", b"r2", b"r3"]
        # Still open and usable.
        pkt, ts, n = f.next()
        assert udp_of(pkt)[3] == b"r4"
    assert f.closed


def open_fds():
    return len(os.listdir("/proc/self/fd"))


def test_dropped_feeds_release_their_descriptors(net):
    before = open_fds()
    for _ in range(30):
        f = pcap.Live(net.host, 96, 0, 100)
        f.filter("udp")
        del f
    import gc
    gc.collect()
    assert open_fds() <= before
    # And an explicitly closed one too.
    f = pcap.Live(net.host)
    f.close()
    assert open_fds() <= before


# --- errors ----------------------------------------------------------------


def test_missing_interface():
    with pytest.raises(pcap.PcapError) as e:
        pcap.Live("pyo-nosuch0")
    assert str(e.value) == "pyo-nosuch0: No such device exists"
    assert isinstance(e.value, OSError)


def test_interface_down(net):
    sh("ip", "link", "set", net.bare, "down")
    try:
        with pytest.raises(pcap.PcapError) as e:
            pcap.Live(net.bare)
        assert str(e.value) == f"{net.bare}: That device is not up"
    finally:
        sh("ip", "link", "set", net.bare, "up")


def test_interface_up_with_peer_down_opens_and_stays_quiet(net):
    # Administratively up but without carrier (the peer is down): libpcap
    # opens it; nothing arrives.
    sh("ip", "netns", "exec", net.ns, "ip", "link", "set", net.bare_peer, "down")
    try:
        with pcap.Live(net.bare, timeout=200) as f:
            assert f.dispatch(-1, print) == 0
    finally:
        sh("ip", "netns", "exec", net.ns, "ip", "link", "set", net.bare_peer, "up")


def test_interface_down_then_up_during_capture(net):
    fr = frame(b"\xff" * 6, link_mac(net.bare_peer, net.ns), b"after the outage" + bytes(30))
    with pcap.Live(net.bare, 200, 0, 200) as f:
        f.filter(f"ether proto {ETH_P_LOCAL:#x}")
        sh("ip", "link", "set", net.bare, "down")
        try:
            # Not an error: reads just find nothing while it is down.
            assert f.dispatch(-1, print) == 0
            assert f.next() is None
        finally:
            sh("ip", "link", "set", net.bare, "up")
        out = sh("ip", "netns", "exec", net.ns, PY, "-c", NS_INJECT, net.bare_peer, fr.hex())
        assert int(out) == len(fr)
        pkt, ts, n = f.next()
        assert pkt == fr


def test_interface_deleted_during_capture():
    tag = secrets.token_hex(3)
    a, b = f"pyo-x{tag}", f"pyo-y{tag}"
    sh("ip", "link", "add", a, "type", "veth", "peer", "name", b)
    try:
        disable_ipv6(a)
        sh("ip", "link", "set", a, "up")
        f = pcap.Live(a, timeout=200)
        sh("ip", "link", "del", a)
        with pytest.raises(pcap.PcapError, match=f"^{a}: The interface disappeared$"):
            f.dispatch(-1, print)
        f.close()
    finally:
        if os.path.exists(f"/sys/class/net/{a}"):
            sh("ip", "link", "del", a, check=False)


NO_PERM_CHILD = textwrap.dedent("""
    import os, sys
    import openbsd.pcap as pcap
    os.setgroups([])
    os.setgid(65534)
    os.setuid(65534)  # drops every capability
    try:
        pcap.Live(sys.argv[1])
    except pcap.PcapError as e:
        print(str(e))
    else:
        print("opened")
""")


def test_no_permission(net):
    out = sh(PY, "-c", NO_PERM_CHILD, net.host).strip()
    assert out == (f"{net.host}: You don't have permission to perform this capture "
                   "on that device (socket: Operation not permitted)")


def test_bad_arguments(net):
    with pytest.raises(ValueError):
        pcap.Live(net.host, 0)
    with pytest.raises(ValueError):
        pcap.Live(net.host, 96, 1, -1)
    with pytest.raises(pcap.PcapError, match="syntax error"):
        with pcap.Live(net.host) as f:
            f.filter("udp and and")


# --- devices ---------------------------------------------------------------


def test_findalldevs_and_lookupdev(net):
    devs = pcap.findalldevs()
    assert isinstance(devs, list) and all(type(d) is str for d in devs)
    assert net.host in devs and net.bare in devs and "lo" in devs
    dev = pcap.lookupdev()
    assert type(dev) is str and dev in devs


DEFAULT_CHILD = textwrap.dedent("""
    import openbsd.pcap as pcap
    f = pcap.Live()
    print(f.interface, pcap.lookupdev(), f.snaplen, f.promisc, f.timeout, f.snapshot())
""")


def test_default_interface_is_lookupdev(net):
    # Inside the namespace, where every interface is ours.
    out = sh("ip", "netns", "exec", net.ns, PY, "-c", DEFAULT_CHILD).split()
    assert out[0] == out[1] and out[0] in (net.peer, net.bare_peer)
    assert out[2:] == ["96", "1", "1000", "96"]


def test_loopback_on_the_host():
    # Only opened and inspected: no traffic is sent on the host's loopback.
    with pcap.Live("lo", 128, 0, 100) as f:
        assert f.datalink() == pcap.DLT_EN10MB
        assert f.snapshot() == 128
        net, mask = f.lookupnet_host()
        assert ipaddress.IPv4Address(net) in ipaddress.IPv4Network("127.0.0.0/8")
        assert str(ipaddress.IPv4Address(mask)) == "255.0.0.0"
        assert set(f.stats()) == {"ps_recv", "ps_drop", "ps_ifdrop"}


LO_CHILD = textwrap.dedent("""
    import socket, sys, openbsd.pcap as pcap
    port = int(sys.argv[1])
    f = pcap.Live("lo", 1000, 0, 500)
    f.filter("udp dst port %d" % port)
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.bind(("127.0.0.1", port))
    for i in range(3):
        s.sendto(b"loopback %d" % i, ("127.0.0.1", port))
    got = []
    f.loop(3, lambda p, ts, n: got.append(p))
    print(" ".join(p.hex() for p in got))
    print(f.next())
""")


def test_loopback_in_the_namespace(net):
    out = sh("ip", "netns", "exec", net.ns, PY, "-c", LO_CHILD, str(net.port)).splitlines()
    frames = [bytes.fromhex(h) for h in out[0].split()]
    assert [udp_of(fr)[1:] for fr in frames] == [
        ("127.0.0.1", net.port, b"loopback %d" % i) for i in range(3)
    ]
    assert out[1] == "None"


def test_batches_a_batch_when_full_or_at_the_read_timeout_then_the_end(net):
    pa = pytest.importorskip("pyarrow")
    items = [(net.port, b"row%d" % i) for i in range(5)]
    with pcap.Live(net.host, snaplen=2000, promisc=0, timeout=1500) as f:
        f.filter(f"udp and dst port {net.port}")
        p = send_udp(net, items)
        try:
            stream = f.batches(columns=["ip_src", "ip_dst", "dport", "payload_len", "len"], batch_size=3)
            t0 = time.monotonic()
            batches = list(pa.RecordBatchReader.from_stream(stream))
            took = time.monotonic() - t0
        finally:
            p.wait()
    # Full at 3 rows; the other 2 when the read timeout passed; then a read
    # timeout with nothing ends the stream.
    assert [b.num_rows for b in batches] == [3, 2]
    rows = [r for b in batches for r in b.to_pylist()]
    assert rows == [{"ip_src": net.peer_ip, "ip_dst": net.host_ip, "dport": net.port, "payload_len": 4,
                     "len": 14 + 20 + 8 + 4}] * 5
    assert 3.0 <= took < 10
