"""A legacy-style capture script with type annotations. tests/test_typing.py
runs `mypy --strict` on it (against python/openbsd/*.pyi) and runs it."""

import os
import sys
import tempfile
from typing import Dict, List, Optional, Tuple

from openbsd import pcap
from openbsd.packet import IP, TCP, Ethernet, Packet, createPacket

SAMPLE = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..",
                      "python", "openbsd", "data", "sample.pcap")

TStamp = Tuple[int, int]


class Talkers:
    """Counts IPv4 packets per source address, legacy callback style."""

    def __init__(self) -> None:
        self.counts: Dict[str, int] = {}
        self.ports: List[int] = []

    def __call__(self, packet: Packet, tstamp: TStamp, length: int) -> None:
        sec, usec = tstamp
        assert sec > 0 and 0 <= usec < 1000000 and length >= len(packet)
        if packet.has_key("ip"):
            src: str = packet["ip"].src
            self.counts[src] = self.counts.get(src, 0) + 1
        if "tcp" in packet:
            tcp: TCP = packet["tcp"]
            self.ports.append(tcp.dstPort)


def first_ttl(path: str) -> Optional[int]:
    feed = pcap.Offline(path)
    try:
        for data, _, _ in feed:
            p = Packet(Ethernet, data)
            if "ip" in p:
                ip: IP = p["ip"]
                return ip.ttl
        return None
    finally:
        feed.close()


def copy_ssh(path: str, out: str) -> int:
    with pcap.Offline(path) as feed:
        prog = pcap.BPFProgram(feed, "tcp port 22")
        feed.filter(prog)
        with pcap.Dumper(feed, out) as dumper:
            return feed.loop(0, dumper)


def first_time(path: str) -> str:
    """PyOpenBSD pdump style: a decoded packet's timestamp answers strftime."""
    with pcap.Offline(path) as feed:
        x = feed.next(interpret=1)
        assert x is not None
        when: pcap.Timestamp = x[1]
        stamp: str = when.strftime("%b %d %H:%M:%S")
        return stamp


def build_syn(dst: str, port: int) -> bytes:
    p = createPacket(Ethernet, IP, TCP)
    p["ip"].dst = dst
    p["ip"].ttl = 64
    p["tcp"].dstPort = port
    p["tcp"].flags = ["syn"]
    p.finalise()
    return p.getRaw()


def main() -> int:
    feed = pcap.Offline(SAMPLE)
    assert feed.datalink() == pcap.DLT_EN10MB
    feed.filter("ip")
    talkers = Talkers()
    n: int = feed.loop(0, talkers, interpret=1)
    feed.close()
    with pcap.Offline(SAMPLE) as again:
        again.loop(1, talkers, 1, pclass=Ethernet)

    dead = pcap.Dead(Ethernet, 65535)
    udp = pcap.BPFProgram(dead, "udp")
    instructions: List[Tuple[int, int, int, int]] = udp.instructions()
    with tempfile.TemporaryDirectory() as tmp:
        copied = copy_ssh(SAMPLE, os.path.join(tmp, "ssh.pcap"))
        with pcap.Dumper(dead, os.path.join(tmp, "built.pcap")) as d:
            d(bytes(60), (1100000000, 0), 60)
            written = d.ftell()
    try:
        pcap.Offline("/no/such/file")
    except IOError as e:            # PcapError is an OSError: legacy code catches it so
        assert isinstance(e, pcap.PcapError)
    syn = Packet(Ethernet, build_syn("192.168.0.1", 22))
    print(n, sorted(talkers.counts.items()), talkers.ports, first_ttl(SAMPLE),
          len(instructions), copied, written, repr(syn), syn["tcp"].flags, first_time(SAMPLE))
    return 0


if __name__ == "__main__":
    sys.exit(main())
