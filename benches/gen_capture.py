#!/usr/bin/env python3
"""Deterministic generator of a classic pcap file of mixed Ethernet traffic.

    python benches/gen_capture.py OUT [--count N] [--seed S]

Writes a little-endian pcap v2.4 savefile (linktype 1 = Ethernet, snaplen
65535, every packet captured whole) of N packets (default 1,000,000):

  * IPv4 / TCP   (about 44 %)   IPv6 / TCP   (about 15 %)
  * IPv4 / UDP   (about 20 %)   IPv6 / UDP   (about  8 %)
  * IPv4 / ICMP echo (about 4 %) IPv6 / ICMPv6 echo (about 3 %)
  * ARP request/reply (about 6 %)
  * about 10 % of all frames carry an 802.1Q VLAN tag

Frames are 60..1514 bytes (no FCS; short frames are padded with zeros after
the IP datagram, as on the wire). Every header is well formed: IPv4 total
length and header checksum, IPv6 payload length and UDP length are right;
TCP/UDP/ICMP(v6) checksums are right too. Timestamps increase strictly. The same
seed and count always give the same bytes. Only the standard library is used.
"""
import argparse
import itertools
import os
import random
import struct
import sys
import time

LINKTYPE_ETHERNET = 1
SNAPLEN = 65535
MIN_FRAME = 60
MAX_FRAME = 1514

ETH_IP4, ETH_IP6, ETH_ARP, ETH_VLAN = 0x0800, 0x86DD, 0x0806, 0x8100
PROTO_ICMP, PROTO_TCP, PROTO_UDP, PROTO_ICMP6 = 1, 6, 17, 58

# Server ports whose payload tcpdump does not try to dissect in its default
# output (random payload bytes would otherwise print as garbage/"[|proto]").
TCP_SERVER_PORTS = (443, 22, 8443, 3306, 5432, 993, 9200, 5201)
UDP_SERVER_PORTS = (27015, 9999, 10000, 40000, 6060, 25565, 7777)

FLOWS_PER_KIND = 1024
SYN_OPTS = b"\x02\x04\x05\xb4\x01\x03\x03\x07"   # MSS 1460, NOP, window scale 7
OPT_SUM = sum(struct.unpack("!4H", SYN_OPTS))

_pack_hdr = struct.Struct("<IIII").pack
_ip4 = struct.Struct("!BBHHHBBH4s4s")
_ip4_pack = _ip4.pack
_unpack10 = struct.Struct("!10H").unpack
_ip6_pack = struct.Struct("!IHBB16s16s").pack
_tcp_pack = struct.Struct("!HHIIBBHHH").pack
_udp_pack = struct.Struct("!HHHH").pack
_icmp_pack = struct.Struct("!BBHHH").pack
_vlan_pack = struct.Struct("!HH").pack
_eth_type = struct.Struct("!H").pack


def _mac(rng, local=True):
    b = bytearray(rng.randbytes(6))
    b[0] = (b[0] & 0xFC) | (0x02 if local else 0x00)  # unicast, locally administered
    return bytes(b)


def _ip4_csum(hdr):
    s = sum(_unpack10(hdr))
    s = (s & 0xFFFF) + (s >> 16)
    s = (s & 0xFFFF) + (s >> 16)
    return (~s) & 0xFFFF


class Generator:
    def __init__(self, seed):
        self.rng = rng = random.Random(seed)
        # payload bytes are slices of one random pool
        self.pool = pool = rng.randbytes(1 << 20)
        # prefix sums of the pool's big-endian 16-bit words: the one's
        # complement sum of any even-aligned payload slice costs O(1), so
        # TCP/UDP/ICMP checksums can be right without summing every byte
        self.prefix = [0] + list(itertools.accumulate(
            struct.unpack("!%dH" % (len(pool) // 2), pool)))
        self.addr_sum = {}
        self.hosts_mac = [_mac(rng) for _ in range(256)]
        self.gw_mac = _mac(rng)
        # IPv4: local hosts 10.x.y.z, remote hosts in the documentation ranges
        local4 = [bytes((10, rng.randrange(0, 4), rng.randrange(256), rng.randrange(1, 255)))
                  for _ in range(256)]
        nets = (b"\xc0\x00\x02", b"\xc6\x33\x64", b"\xcb\x00\x71")  # 192.0.2, 198.51.100, 203.0.113
        remote4 = [rng.choice(nets) + bytes((rng.randrange(1, 255),)) for _ in range(512)]
        # IPv6: local fd00::/8 ULA, remote 2001:db8::/32 documentation range
        local6 = [b"\xfd\x00" + rng.randbytes(6) + rng.randbytes(8) for _ in range(128)]
        remote6 = [b"\x20\x01\x0d\xb8" + rng.randbytes(12) for _ in range(256)]
        self.local4 = local4

        def flows(v6, server_ports):
            out = []
            for _ in range(FLOWS_PER_KIND):
                h = rng.randrange(256)
                cmac = self.hosts_mac[h]
                caddr = (local6 if v6 else local4)[h % (128 if v6 else 256)]
                saddr = rng.choice(remote6 if v6 else remote4)
                cport = rng.randrange(32768, 61000)
                sport = rng.choice(server_ports)
                # [client mac, client addr, client port, server addr, server port,
                #  seq client->server, seq server->client, vlan id or 0]
                vid = rng.choice((10, 20, 100, 4000)) if rng.random() < 0.10 else 0
                out.append([cmac, caddr, cport, saddr, sport,
                            rng.getrandbits(32), rng.getrandbits(32), vid])
            return out

        self.tcp4 = flows(False, TCP_SERVER_PORTS)
        self.udp4 = flows(False, UDP_SERVER_PORTS)
        self.tcp6 = flows(True, TCP_SERVER_PORTS)
        self.udp6 = flows(True, UDP_SERVER_PORTS)
        self.icmp4 = flows(False, (0,))
        self.icmp6 = flows(True, (0,))
        self.ident = 0
        self.icmp_seq = 0

    # -- helpers -----------------------------------------------------------
    def _payload(self, n):
        """(payload bytes, their 16-bit one's complement partial sum)."""
        if n <= 0:
            return b"", 0
        off = self.rng.randrange(0, (len(self.pool) - n) // 2) * 2
        w = off >> 1
        s = self.prefix[w + (n >> 1)] - self.prefix[w]
        if n & 1:
            s += self.pool[off + n - 1] << 8
        return self.pool[off:off + n], s

    def _asum(self, addr):
        s = self.addr_sum.get(addr)
        if s is None:
            s = self.addr_sum[addr] = sum(struct.unpack("!%dH" % (len(addr) // 2), addr))
        return s

    def _eth(self, dst, src, etype, vid):
        if vid:
            return dst + src + _vlan_pack(ETH_VLAN, vid) + _eth_type(etype)
        return dst + src + _eth_type(etype)

    def _ip4(self, src, dst, proto, payload_len):
        self.ident = (self.ident + 1) & 0xFFFF
        hdr = _ip4_pack(0x45, 0, 20 + payload_len, self.ident, 0x4000, 64, proto, 0, src, dst)
        c = _ip4_csum(hdr)
        return hdr[:10] + bytes((c >> 8, c & 0xFF)) + hdr[12:]

    @staticmethod
    def _ip6(src, dst, nxt, payload_len):
        return _ip6_pack(0x60000000, payload_len, nxt, 64, src, dst)

    def _payload_len(self, hdrs, kind):
        """Pick a payload length so the frame is hdrs..1514 bytes long."""
        rng = self.rng
        room = MAX_FRAME - hdrs
        r = rng.random()
        if kind == "tcp":
            if r < 0.45:
                return 0                       # bare ACKs (frame padded to 60)
            if r < 0.75:
                return room                    # full-size segments
            return rng.randint(1, room)
        if kind == "udp":
            if r < 0.55:
                return rng.randint(1, 200)     # small datagrams
            if r < 0.80:
                return rng.randint(1, room)
            return rng.randint(room - 300, room)
        # icmp: mostly ping-sized (56 data bytes)
        if r < 0.8:
            return 56
        return rng.randint(0, room)

    # -- packet kinds --------------------------------------------------------
    def _l4(self, flows, v6, proto):
        rng = self.rng
        f = flows[rng.randrange(FLOWS_PER_KIND)]
        cmac, caddr, cport, saddr, sport, seq_c, seq_s, vid = f
        to_server = rng.random() < 0.5
        if to_server:
            dmac, smac, src, dst, sp, dp = self.gw_mac, cmac, caddr, saddr, cport, sport
        else:
            dmac, smac, src, dst, sp, dp = cmac, self.gw_mac, saddr, caddr, sport, cport
        l2 = 18 if vid else 14
        l3 = 40 if v6 else 20
        if proto == PROTO_TCP:
            r = rng.random()
            if r < 0.03:
                flags, opts = 0x02 if to_server else 0x12, SYN_OPTS
            elif r < 0.05:
                flags, opts = 0x11, b""
            else:
                flags, opts = 0x10 if r < 0.6 else 0x18, b""
            l4 = 20 + len(opts)
            plen = 0 if flags & 0x03 else self._payload_len(l2 + l3 + l4, "tcp")
            if flags == 0x18 and not plen:
                flags = 0x10
            if to_server:
                seq, ack = seq_c, seq_s
                f[5] = (seq_c + plen + (1 if flags & 0x03 else 0)) & 0xFFFFFFFF
            else:
                seq, ack = seq_s, seq_c
                f[6] = (seq_s + plen + (1 if flags & 0x03 else 0)) & 0xFFFFFFFF
            win = 65535 if v6 else 64240
            hsum = (sp + dp + (seq >> 16) + (seq & 0xFFFF) + (ack >> 16) + (ack & 0xFFFF)
                    + ((l4 // 4) << 12 | flags) + win + (OPT_SUM if opts else 0))
            hdr4 = (_tcp_pack, sp, dp, seq, ack, (l4 // 4) << 4, flags, win), opts
        elif proto == PROTO_UDP:
            l4 = 8
            plen = self._payload_len(l2 + l3 + l4, "udp")
            hsum = sp + dp + 8 + plen
            hdr4 = (_udp_pack, sp, dp, 8 + plen), b""
        else:  # ICMP / ICMPv6 echo
            l4 = 8
            plen = self._payload_len(l2 + l3 + l4, "icmp")
            if v6:
                itype = 128 if to_server else 129
            else:
                itype = 8 if to_server else 0
            self.icmp_seq = seq = (self.icmp_seq + 1) & 0xFFFF
            ident = cport & 0xFFFF
            hsum = (itype << 8) + ident + seq
            hdr4 = (_icmp_pack, itype, 0), (ident, seq)
        data_len = l4 + plen
        payload, psum = self._payload(plen)
        s = hsum + psum
        if proto != PROTO_ICMP:  # pseudo-header (ICMPv4 has none)
            s += self._asum(src) + self._asum(dst) + proto + data_len
        while s >> 16:
            s = (s & 0xFFFF) + (s >> 16)
        csum = (~s) & 0xFFFF
        if proto == PROTO_UDP and csum == 0:
            csum = 0xFFFF
        fields, tail = hdr4
        if proto == PROTO_TCP:
            l4hdr = fields[0](*fields[1:], csum, 0) + tail
        elif proto == PROTO_UDP:
            l4hdr = fields[0](*fields[1:], csum)
        else:
            l4hdr = fields[0](*fields[1:], csum, *tail)
        if v6:
            l3hdr = self._ip6(src, dst, proto, data_len)
            eth = self._eth(dmac, smac, ETH_IP6, vid)
        else:
            l3hdr = self._ip4(src, dst, proto, data_len)
            eth = self._eth(dmac, smac, ETH_IP4, vid)
        frame = eth + l3hdr + l4hdr + payload
        if len(frame) < MIN_FRAME:
            frame += bytes(MIN_FRAME - len(frame))
        return frame

    def _arp(self):
        rng = self.rng
        i, j = rng.randrange(256), rng.randrange(256)
        smac, tmac = self.hosts_mac[i], self.hosts_mac[j]
        spa, tpa = self.local4[i], self.local4[j]
        vid = rng.choice((10, 20)) if rng.random() < 0.10 else 0
        if rng.random() < 0.6:
            body = struct.pack("!HHBBH6s4s6s4s", 1, 0x0800, 6, 4, 1, smac, spa, b"\0" * 6, tpa)
            eth = self._eth(b"\xff" * 6, smac, ETH_ARP, vid)
        else:
            body = struct.pack("!HHBBH6s4s6s4s", 1, 0x0800, 6, 4, 2, smac, spa, tmac, tpa)
            eth = self._eth(tmac, smac, ETH_ARP, vid)
        frame = eth + body
        return frame + bytes(MIN_FRAME - len(frame))

    def packets(self, count):
        rng = self.rng
        # cumulative mix
        mix = (
            (0.44, self.tcp4, False, PROTO_TCP),
            (0.64, self.udp4, False, PROTO_UDP),
            (0.68, self.icmp4, False, PROTO_ICMP),
            (0.83, self.tcp6, True, PROTO_TCP),
            (0.91, self.udp6, True, PROTO_UDP),
            (0.94, self.icmp6, True, PROTO_ICMP6),
        )
        l4 = self._l4
        arp = self._arp
        for _ in range(count):
            r = rng.random()
            for bound, flows, v6, proto in mix:
                if r < bound:
                    yield l4(flows, v6, proto)
                    break
            else:
                yield arp()


def write_capture(path, count, seed=1):
    gen = Generator(seed)
    rng = random.Random(seed ^ 0x5EED)
    sec, usec = 1_700_000_000, 0
    tmp = path + ".tmp"
    total = 0
    with open(tmp, "wb", buffering=1 << 20) as out:
        out.write(struct.pack("<IHHiIII", 0xA1B2C3D4, 2, 4, 0, 0, SNAPLEN, LINKTYPE_ETHERNET))
        chunk = []
        append = chunk.append
        randrange = rng.randrange
        for frame in gen.packets(count):
            usec += 1 + randrange(0, 120)
            if usec >= 1_000_000:
                sec += 1
                usec -= 1_000_000
            n = len(frame)
            total += n
            append(_pack_hdr(sec, usec, n, n))
            append(frame)
            if len(chunk) >= 20000:
                out.write(b"".join(chunk))
                chunk.clear()
        out.write(b"".join(chunk))
    os.replace(tmp, path)
    return total


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("out", help="pcap file to write")
    ap.add_argument("--count", type=int, default=1_000_000, help="number of packets (default 1000000)")
    ap.add_argument("--seed", type=int, default=1, help="random seed (default 1)")
    args = ap.parse_args(argv)
    if args.count < 0:
        ap.error("--count must be >= 0")
    d = os.path.dirname(os.path.abspath(args.out))
    os.makedirs(d, exist_ok=True)
    t0 = time.perf_counter()
    total = write_capture(args.out, args.count, args.seed)
    dt = time.perf_counter() - t0
    print(f"wrote {args.out}: {args.count} packets, {total} bytes of frames, "
          f"{os.path.getsize(args.out)} bytes on disk, {dt:.1f} s", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
