"""Writes python/openbsd/data/sample.pcap, the small capture bundled with the
package (what `make demo` and `pdump` with no argument read).

Deterministic: the same bytes on every run. A short, plausible session on an
Ethernet LAN: ARP, DNS over UDP, a TCP handshake with options and data, ICMP
echo, ICMPv6 echo, a VLAN-tagged frame. Checksums are computed.
"""

import os
import struct
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
OUT = os.path.join(HERE, "..", "python", "openbsd", "data", "sample.pcap")

MAC_A = bytes.fromhex("00096be0cace")
MAC_B = bytes.fromhex("0002b341aac3")
BCAST = b"\xff" * 6
IP_A = bytes([192, 168, 0, 9])
IP_B = bytes([192, 168, 0, 1])
IP6_A = bytes.fromhex("fe80000000000000020929fffe94495d")
IP6_B = bytes.fromhex("fe8000000000000002b3fffe41aac3ff")


def csum(data: bytes) -> int:
    if len(data) % 2:
        data += b"\0"
    s = sum(struct.unpack("!%dH" % (len(data) // 2), data))
    while s >> 16:
        s = (s & 0xFFFF) + (s >> 16)
    return ~s & 0xFFFF


def eth(dst, src, etype, payload):
    frame = dst + src + struct.pack("!H", etype) + payload
    return frame + b"\0" * max(0, 60 - len(frame))


def ipv4(src, dst, proto, payload, ident, ttl=64):
    hdr = struct.pack("!BBHHHBBH4s4s", 0x45, 0, 20 + len(payload), ident, 0x4000, ttl, proto, 0, src, dst)
    hdr = hdr[:10] + struct.pack("!H", csum(hdr)) + hdr[12:]
    return hdr + payload


def l4sum(src, dst, proto, seg):
    if len(src) == 4:
        pseudo = src + dst + struct.pack("!BBH", 0, proto, len(seg))
    else:
        pseudo = src + dst + struct.pack("!IxxxB", len(seg), proto)
    return csum(pseudo + seg)


def udp(src, dst, sport, dport, data):
    seg = struct.pack("!HHHH", sport, dport, 8 + len(data), 0) + data
    c = l4sum(src, dst, 17, seg) or 0xFFFF
    return seg[:6] + struct.pack("!H", c) + seg[8:]


def tcp(src, dst, sport, dport, seq, ack, flags, data=b"", options=b""):
    off = (20 + len(options)) // 4
    seg = struct.pack("!HHIIBBHHH", sport, dport, seq, ack, off << 4, flags, 65535, 0, 0) + options + data
    c = l4sum(src, dst, 6, seg)
    return seg[:16] + struct.pack("!H", c) + seg[18:]


def icmp_echo(itype, ident, seq, data):
    msg = struct.pack("!BBHHH", itype, 0, 0, ident, seq) + data
    return msg[:2] + struct.pack("!H", csum(msg)) + msg[4:]


def icmp6_echo(src, dst, itype, ident, seq, data):
    msg = struct.pack("!BBHHH", itype, 0, 0, ident, seq) + data
    c = l4sum(src, dst, 58, msg)
    return msg[:2] + struct.pack("!H", c) + msg[4:]


def ipv6(src, dst, nh, payload, hlim=64):
    return struct.pack("!IHBB", 0x60000000, len(payload), nh, hlim) + src + dst + payload


def dns_query(ident, name):
    q = b"".join(bytes([len(p)]) + p.encode() for p in name.split(".")) + b"\0"
    return struct.pack("!HHHHHH", ident, 0x0100, 1, 0, 0, 0) + q + struct.pack("!HH", 1, 1)


def packets():
    arp = struct.pack("!HHBBH6s4s6s4s", 1, 0x0800, 6, 4, 1, MAC_A, IP_A, b"\0" * 6, IP_B)
    yield eth(BCAST, MAC_A, 0x0806, arp)
    arp_reply = struct.pack("!HHBBH6s4s6s4s", 1, 0x0800, 6, 4, 2, MAC_B, IP_B, MAC_A, IP_A)
    yield eth(MAC_A, MAC_B, 0x0806, arp_reply)
    q = dns_query(0x1234, "www.openbsd.org")
    yield eth(MAC_B, MAC_A, 0x0800, ipv4(IP_A, IP_B, 17, udp(IP_A, IP_B, 53001, 53, q), 1))
    yield eth(MAC_A, MAC_B, 0x0800, ipv4(IP_B, IP_A, 17, udp(IP_B, IP_A, 53, 53001, q[:2] + b"\x81\x80" + q[4:]), 2))
    opts = bytes.fromhex("020405b4") + b"\x01\x01\x04\x02"
    yield eth(MAC_B, MAC_A, 0x0800, ipv4(IP_A, IP_B, 6, tcp(IP_A, IP_B, 8012, 22, 1000, 0, 0x02, options=opts), 3))
    yield eth(MAC_A, MAC_B, 0x0800, ipv4(IP_B, IP_A, 6, tcp(IP_B, IP_A, 22, 8012, 5000, 1001, 0x12, options=opts), 4))
    yield eth(MAC_B, MAC_A, 0x0800, ipv4(IP_A, IP_B, 6, tcp(IP_A, IP_B, 8012, 22, 1001, 5001, 0x10), 5))
    banner = b"SSH-2.0-OpenSSH_9.0\r\n"
    yield eth(MAC_A, MAC_B, 0x0800, ipv4(IP_B, IP_A, 6, tcp(IP_B, IP_A, 22, 8012, 5001, 1001, 0x18, banner), 6))
    yield eth(MAC_B, MAC_A, 0x0800, ipv4(IP_A, IP_B, 1, icmp_echo(8, 0x4242, 1, bytes(range(56))), 7))
    yield eth(MAC_A, MAC_B, 0x0800, ipv4(IP_B, IP_A, 1, icmp_echo(0, 0x4242, 1, bytes(range(56))), 8))
    yield eth(MAC_B, MAC_A, 0x86DD, ipv6(IP6_A, IP6_B, 58, icmp6_echo(IP6_A, IP6_B, 128, 7, 1, b"pyopenbsd")))
    yield eth(MAC_A, MAC_B, 0x86DD, ipv6(IP6_B, IP6_A, 58, icmp6_echo(IP6_B, IP6_A, 129, 7, 1, b"pyopenbsd")))
    tagged = struct.pack("!HH", (3 << 13) | 42, 0x0800) + ipv4(IP_A, IP_B, 17, udp(IP_A, IP_B, 40000, 514, b"<13>hello"), 9)
    yield eth(MAC_B, MAC_A, 0x8100, tagged)
    yield eth(MAC_A, MAC_B, 0x0800, ipv4(IP_B, IP_A, 6, tcp(IP_B, IP_A, 22, 8012, 5022, 1001, 0x11), 10))


def main(out=OUT):
    with open(out, "wb") as f:
        f.write(struct.pack("<IHHiIII", 0xA1B2C3D4, 2, 4, 0, 0, 65535, 1))
        sec, usec = 1_100_000_000, 0
        for i, pkt in enumerate(packets()):
            usec += 12_345 + 1_000 * i
            sec, usec = sec + usec // 1_000_000, usec % 1_000_000
            f.write(struct.pack("<IIII", sec, usec, len(pkt), len(pkt)) + pkt)


if __name__ == "__main__":
    main(*sys.argv[1:])
