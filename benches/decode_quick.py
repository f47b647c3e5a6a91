"""Quick decode benchmark: interpret=1 and read the IP addresses, protocol
and ports of every packet of a generated Ethernet/IPv4/TCP capture.

    python benches/decode_quick.py [N]      (default 100000 packets)
"""

import os
import struct
import sys
import tempfile
import time

from openbsd import pcap

# First packet of captures/openbsd/ethernet: Eth/IPv4/TCP SYN with options.
PKT = bytes.fromhex(
    "0002b341aac300096be0cace08004510004058e440004006"
    "6069c0a80009c0a800011f4c001655b704130000000"
    "0b0024000ca920000020405b4010104020103030001010"
    "80a75f3baf300000000"
)


def write_capture(path: str, n: int) -> None:
    with open(path, "wb") as f:
        f.write(struct.pack("<IHHiIII", 0xA1B2C3D4, 2, 4, 0, 0, 65535, 1))
        rec = struct.pack("<IIII", 1059137255, 282309, len(PKT), len(PKT)) + PKT
        f.write(rec * n)


def run(path: str, interpret: int, touch: bool) -> float:
    out = []
    if touch:
        def cb(p, ts, length):
            ip = p["ip"]
            tcp = p["tcp"]
            out.append((ip.src, ip.dst, ip.protocol, tcp.srcPort, tcp.dstPort))
    else:
        def cb(p, ts, length):
            pass
    f = pcap.Offline(path)
    t = time.perf_counter()
    n = f.loop(-1, cb, interpret)
    dt = time.perf_counter() - t
    f.close()
    return n / dt


def run_repeated_lookups(path: str) -> float:
    def cb(p, ts, length):
        p["ip"].src, p["ip"].dst, p["ip"].protocol, p["tcp"].srcPort, p["tcp"].dstPort
    f = pcap.Offline(path)
    t = time.perf_counter()
    n = f.loop(-1, cb, 1)
    dt = time.perf_counter() - t
    f.close()
    return n / dt


def main() -> None:
    n = int(sys.argv[1]) if len(sys.argv) > 1 else 100_000
    assert len(PKT) == 78, len(PKT)
    with tempfile.TemporaryDirectory() as d:
        path = os.path.join(d, "bench.pcap")
        write_capture(path, n)
        for label, fn in [
            ("bytes, empty callback", lambda: run(path, 0, False)),
            ("interpret=1, empty callback", lambda: run(path, 1, False)),
            ("interpret=1, 5 fields kept in a list", lambda: run(path, 1, True)),
            ("interpret=1, p['ip'].src .. p['tcp'].dstPort", lambda: run_repeated_lookups(path)),
        ]:
            best = max(fn() for _ in range(5))
            print(f"{label:40s} {best / 1e6:6.2f} M packets/s  ({1e9 / best:5.0f} ns/packet)")


if __name__ == "__main__":
    main()
