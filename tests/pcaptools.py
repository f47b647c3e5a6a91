"""Independent oracles for the capture tests.

Nothing here uses ``openbsd.pcap``: the expected values come from tcpdump,
tshark/editcap/mergecap (Wireshark's own file readers), and a small pcap
reader/writer written from the file-format description with ``struct``.
"""

import os
import re
import shutil
import struct
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent
SAMPLE = REPO / "python" / "openbsd" / "data" / "sample.pcap"
CAPTURES = REPO.parent / "shared" / "captures"
OPENBSD = CAPTURES / "openbsd"

MAGIC_US = 0xA1B2C3D4
MAGIC_NS = 0xA1B23C4D


def openbsd_files():
    """Every capture file under ../shared/captures/openbsd (and packets/)."""
    if not OPENBSD.is_dir():
        return []
    files = [p for p in OPENBSD.iterdir() if p.is_file()]
    files += [p for p in (OPENBSD / "packets").iterdir() if p.is_file()]
    return sorted(files)


def openbsd_params():
    """pytest parameters for every OpenBSD capture, or one skipped param."""
    files = openbsd_files()
    if not files:
        return [pytest.param(None, marks=pytest.mark.skip(reason=f"{OPENBSD} is absent"))]
    return [pytest.param(p, id=str(p.relative_to(OPENBSD))) for p in files]


def need(tool):
    path = shutil.which(tool)
    if path is None:
        pytest.skip(f"{tool} is not installed")
    return path


# --- the hand-written pcap reader and writer --------------------------------


def parse_pcap(data):
    """Parses a classic pcap file: returns (header dict, records) where each
    record is (bytes, (sec, usec), wire_len), like the feeds hand out."""
    (magic,) = struct.unpack("<I", data[:4])
    if magic in (MAGIC_US, MAGIC_NS):
        e = "<"
    else:
        e = ">"
        (magic,) = struct.unpack(">I", data[:4])
        assert magic in (MAGIC_US, MAGIC_NS), f"not a classic pcap: {data[:4].hex()}"
    _, major, minor, _, _, snaplen, linktype = struct.unpack(e + "IHHiIII", data[:24])
    nano = magic == MAGIC_NS
    recs = []
    off = 24
    while off + 16 <= len(data):
        sec, frac, caplen, wire = struct.unpack(e + "IIII", data[off:off + 16])
        pkt = data[off + 16:off + 16 + caplen]
        assert len(pkt) == caplen, "truncated record"
        recs.append((pkt, (sec, frac // 1000 if nano else frac), wire))
        off += 16 + caplen
    header = dict(endian=e, nano=nano, version=(major, minor), snaplen=snaplen,
                  linktype=linktype)
    return header, recs


def read_pcap(path):
    return parse_pcap(Path(path).read_bytes())


def pcap_bytes(records, linktype=1, snaplen=65535, endian="<", nano=False):
    """A classic pcap file with the given records (bytes, (sec, usec), len)."""
    magic = MAGIC_NS if nano else MAGIC_US
    out = [struct.pack(endian + "IHHiIII", magic, 2, 4, 0, 0, snaplen, linktype)]
    for pkt, (sec, usec), wire in records:
        frac = usec * 1000 if nano else usec
        out.append(struct.pack(endian + "IIII", sec, frac, len(pkt), wire))
        out.append(bytes(pkt))
    return b"".join(out)


def write_pcap(path, records, **kw):
    Path(path).write_bytes(pcap_bytes(records, **kw))
    return Path(path)


def native_endian():
    return "<" if sys.byteorder == "little" else ">"


# --- tcpdump -----------------------------------------------------------------

_TS = re.compile(rb"^(\d+)\.(\d{6}) ")
_HEX = re.compile(rb"^\t0x[0-9a-f]{4}:\s+(.*)$")


def tcpdump_records(path, expr=None, error=None):
    """(bytes, (sec, usec)) of every packet as `tcpdump -tt -nr PATH -xx`
    prints them (-xx dumps every captured byte, link header included).
    None when tcpdump fails (unknown link type), unless its error message
    contains `error`: then the packets it printed before failing."""
    need("tcpdump")
    cmd = ["tcpdump", "-tt", "-nr", str(path), "-xx"] + ([expr] if expr else [])
    r = subprocess.run(cmd, capture_output=True)
    if r.returncode != 0 and (error is None or error.encode() not in r.stderr):
        return None
    recs = []
    for line in r.stdout.splitlines():
        m = _TS.match(line)
        if m:
            recs.append([bytearray(), (int(m.group(1)), int(m.group(2)))])
            continue
        m = _HEX.match(line)
        if m and recs:
            recs[-1][0] += bytes.fromhex(m.group(1).decode())
    return [(bytes(d), ts) for d, ts in recs]


def tcpdump_header(path):
    """(link-type text, snapshot length) from tcpdump's 'reading from file' line."""
    need("tcpdump")
    r = subprocess.run(["tcpdump", "-c", "1", "-nr", str(path)], capture_output=True, text=True)
    m = re.search(r"link-type (\S+).*snapshot length (\d+)", r.stderr)
    assert m, r.stderr
    return m.group(1), int(m.group(2))


def tcpdump_filter(path, expr, out):
    """The records tcpdump keeps for `tcpdump -r PATH -w OUT EXPR`."""
    need("tcpdump")
    r = subprocess.run(["tcpdump", "-r", str(path), "-w", str(out), expr], capture_output=True)
    assert r.returncode == 0, r.stderr
    return read_pcap(out)[1]


def tcpdump_copy(path, out, count=None):
    """`tcpdump -r PATH -w OUT [-c COUNT]`: the file tcpdump writes."""
    need("tcpdump")
    cmd = ["tcpdump", "-r", str(path), "-w", str(out)] + (["-c", str(count)] if count else [])
    r = subprocess.run(cmd, capture_output=True)
    assert r.returncode == 0, r.stderr
    return Path(out).read_bytes()


def tcpdump_bpf(path, expr):
    """The optimised BPF program tcpdump compiles for PATH's link type, as
    (code, jt, jf, k) tuples (`tcpdump -r PATH -ddd EXPR`)."""
    need("tcpdump")
    r = subprocess.run(["tcpdump", "-r", str(path), "-ddd", expr], capture_output=True, text=True)
    assert r.returncode == 0, r.stderr
    lines = r.stdout.split("\n")
    n = int(lines[0])
    return [tuple(int(x) for x in ln.split()) for ln in lines[1:1 + n]]


# --- Wireshark tools ---------------------------------------------------------


def tshark_frames(paths):
    """For each file, the ((sec, usec), wire_len, caplen) of every frame as
    tshark reports them. The files are concatenated with `mergecap -a` so
    that tshark (slow to start) runs once; files Wireshark cannot read map to
    None. Returns {path: [...]}."""
    need("tshark")
    need("mergecap")
    import tempfile

    counts = {}
    readable = []
    for p in paths:
        r = subprocess.run(["capinfos", "-c", "-M", "-r", "-T", str(p)], capture_output=True, text=True) \
            if shutil.which("capinfos") else None
        if r is not None and r.returncode == 0:
            counts[p] = int(r.stdout.split()[-1])
            readable.append(p)
        else:
            counts[p] = None
    with tempfile.TemporaryDirectory() as tmp:
        merged = os.path.join(tmp, "all.pcapng")
        if readable:
            subprocess.run(["mergecap", "-a", "-F", "pcapng", "-w", merged] + [str(p) for p in readable],
                           check=True, capture_output=True)
            out = subprocess.run(
                ["tshark", "-r", merged, "-T", "fields", "-e", "frame.time_epoch", "-e", "frame.len",
                 "-e", "frame.cap_len"], check=True, capture_output=True, text=True).stdout
        else:
            out = ""
    frames = []
    for line in out.splitlines():
        epoch, wire, cap = line.split("\t")
        sec, _, frac = epoch.partition(".")
        frames.append(((int(sec), int((frac + "000000")[:6])), int(wire), int(cap)))
    result = {}
    i = 0
    for p in paths:
        if counts[p] is None:
            result[p] = None
        else:
            result[p] = frames[i:i + counts[p]]
            i += counts[p]
    assert i == len(frames), "tshark saw a different number of frames than capinfos"
    return result


def editcap(src, dst, fmt):
    need("editcap")
    r = subprocess.run(["editcap", "-F", fmt, str(src), str(dst)], capture_output=True, text=True)
    if r.returncode != 0:
        return None
    return Path(dst)


# --- a generated capture -------------------------------------------------------


def generate_mixed(count=5000, snaplen=256, seed=20031117):
    """`count` deterministic Ethernet packets of many kinds (TCP with various
    flags and ports, UDP/DNS, ICMP, ARP, IPv6, VLAN-tagged, big payloads that
    the snap length truncates). Returns (records, snaplen)."""
    import random

    from scapy.all import ARP, DNS, DNSQR, ICMP, IP, TCP, UDP, Dot1Q, Ether, ICMPv6EchoRequest, IPv6, Raw

    rnd = random.Random(seed)
    hosts = ["10.0.0.%d" % i for i in range(1, 9)] + ["192.168.7.%d" % i for i in range(1, 5)]
    mac = "00:11:22:33:44:%02x"

    def one(i):
        src, dst = rnd.sample(hosts, 2)
        kind = rnd.randrange(10)
        eth = Ether(src=mac % rnd.randrange(256), dst=mac % rnd.randrange(256))
        payload = Raw(bytes(rnd.randrange(256) for _ in range(rnd.choice([0, 10, 60, 300, 1200]))))
        if kind <= 2:
            flags = rnd.choice(["S", "SA", "A", "PA", "FA", "R"])
            port = rnd.choice([22, 80, 443, 6000 + i % 50])
            return eth / IP(src=src, dst=dst) / TCP(sport=40000 + i % 1000, dport=port, flags=flags) / payload
        if kind == 3:
            return eth / IP(src=src, dst=dst) / UDP(sport=5353 + i % 7, dport=53) / DNS(qd=DNSQR(qname="h%d.example" % i))
        if kind == 4:
            return eth / IP(src=src, dst=dst) / ICMP(type=rnd.choice([0, 8, 3, 11])) / payload
        if kind == 5:
            return Ether(src=mac % 1, dst="ff:ff:ff:ff:ff:ff") / ARP(psrc=src, pdst=dst)
        if kind == 6:
            return eth / IPv6(src="fe80::%x" % (i % 97 + 1), dst="2001:db8::1") / TCP(dport=22, flags="S") / payload
        if kind == 7:
            return eth / IPv6(src="2001:db8::%x" % (i % 13 + 1), dst="2001:db8::2") / ICMPv6EchoRequest(data=b"x" * 20)
        if kind == 8:
            return eth / Dot1Q(vlan=10 + i % 3) / IP(src=src, dst=dst) / UDP(sport=1234, dport=5000) / payload
        return eth / IP(src=src, dst=dst) / UDP(sport=2000 + i % 100, dport=rnd.choice([53, 123, 514])) / payload

    recs = []
    sec, usec = 1_200_000_000, 0
    for i in range(count):
        wire = bytes(one(i))
        usec += rnd.randrange(1, 400_000)
        sec, usec = sec + usec // 1_000_000, usec % 1_000_000
        recs.append((wire[:snaplen], (sec, usec), len(wire)))
    return recs, snaplen


# --- a pcapng writer, from the format's description -----------------------------


class PcapngBuilder:
    """Lays out pcapng blocks in one byte order (``"<"`` or ``">"``):
    ``shb()``, ``idb(linktype, snaplen, (code, value), ...)``,
    ``epb(iface, ticks, data, wire, (code, value), ...)``, each returning
    bytes. An option's value is bytes, or an int packed as ``"I"``/``"Q"``
    when given as ``(code, int, "Q")``."""

    def __init__(self, endian="<"):
        self.e = endian

    def opts(self, options):
        out = b""
        for o in options:
            code, value = o[0], o[1]
            if isinstance(value, int):
                value = struct.pack(self.e + o[2], value)
            out += struct.pack(self.e + "HH", code, len(value)) + value + b"\0" * (-len(value) % 4)
        return out + struct.pack(self.e + "HH", 0, 0) if out else b""

    def block(self, kind, body):
        body += b"\0" * (-len(body) % 4)
        n = 12 + len(body)
        return struct.pack(self.e + "II", kind, n) + body + struct.pack(self.e + "I", n)

    def shb(self, *options):
        return self.block(0x0A0D0D0A, struct.pack(self.e + "IHHq", 0x1A2B3C4D, 1, 0, -1) + self.opts(options))

    def idb(self, linktype, snaplen, *options):
        return self.block(1, struct.pack(self.e + "HHI", linktype, 0, snaplen) + self.opts(options))

    def epb(self, iface, ticks, data, wire=None, *options):
        head = struct.pack(self.e + "IIIII", iface, ticks >> 32, ticks & 0xFFFFFFFF, len(data),
                           len(data) if wire is None else wire)
        return self.block(6, head + data + b"\0" * (-len(data) % 4) + self.opts(options))


def tshark_fields(path, *fields):
    """tshark's ``-T fields`` of every frame of ``path``: one list per frame."""
    need("tshark")
    args = ["tshark", "-r", str(path), "-T", "fields"]
    for f in fields:
        args += ["-e", f]
    out = subprocess.run(args, capture_output=True, text=True, check=True).stdout
    return [line.split("\t") for line in out.splitlines()]


def plain(table):
    """`table` (pyarrow) with its dictionary-encoded columns (the addresses)
    decoded to their values, so that tables of the same values compare
    equal whatever the dictionaries of their chunks (`Table.equals`
    compares a dictionary column's dictionaries and indices)."""
    import pyarrow as pa
    return table.cast(pa.schema([f.with_type(f.type.value_type) if pa.types.is_dictionary(f.type) else f
                                 for f in table.schema]))
