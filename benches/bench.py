#!/usr/bin/env python3
"""pyopenbsd against the other pcap readers, side by side, on one capture.

    benches/.venv/bin/python benches/bench.py [--count N] [--runs R]
        [--only raw|decode] [--json FILE] [--file PCAP] [--scapy-limit N]

Workloads:
  raw     read every packet, add its length to a total
  decode  for every packet get src/dst address, IP protocol, src/dst port
          (IPv4 and IPv6, 802.1Q tags skipped over, non-IP packets skipped);
          also the columnar rows: feed.batches() of the 5-tuple, timestamp
          and lengths (1 and 2 threads), to_parquet of the same columns, and
          tshark -T fields of the same fields to a file

Every reader runs in its own worker process (a crash or a missing package
shows up in its row, not as a failed bench), R times, and its median time
gives packets/s. The C floor is benches/cfloor.c built against libpcap.
Each reader also computes a check value over what it read; one that differs
from the C floor's is flagged in the table.

See benches/README.md.
"""
import argparse
import gc
import itertools
import json
import os
import platform
import random
import shutil
import statistics
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
DATA = os.path.join(HERE, ".data")
BUILD = os.path.join(HERE, ".build")
CFLOOR_SRC = os.path.join(HERE, "cfloor.c")
CFLOOR_BIN = os.path.join(BUILD, "cfloor")

DEFAULT_SCAPY_LIMIT = 20_000


class NotInstalled(Exception):
    pass


def _need(modname):
    """Import a peer's module, or raise NotInstalled."""
    import importlib
    try:
        return importlib.import_module(modname)
    except ImportError as e:
        raise NotInstalled(f"not installed ({e.name or modname})") from None


# ---------------------------------------------------------------------------
# Readers. Each maker imports what it needs (outside the timing) and returns
# run(path, limit) -> (packets, check). Raw readers' check is
# "bytes=<sum of lengths>"; decode readers' is decode_check(...).
# ---------------------------------------------------------------------------

def decode_check(nip, nl4, sproto, sports):
    return f"ip={nip} l4={nl4} proto={sproto} ports={sports}"


def _count(n, what):
    if not isinstance(n, int) or isinstance(n, bool):
        raise TypeError(f"{what} returned {n!r}, not a packet count")
    return n


# -- raw ---------------------------------------------------------------------

def make_pyopenbsd_loop():
    Offline = _need("openbsd.pcap").Offline

    def run(path, limit):
        total = 0

        def cb(pkt, ts, length):
            nonlocal total
            total += length
        f = Offline(path)
        n = _count(f.loop(0, cb), "loop(0, cb)")
        f.close()
        return n, f"bytes={total}"
    return run


def make_pyopenbsd_dispatch():
    Offline = _need("openbsd.pcap").Offline

    def run(path, limit):
        total = 0

        def cb(pkt, ts, length):
            nonlocal total
            total += length
        f = Offline(path)
        n = 0
        while True:  # one call reads the whole file; the second returns 0
            k = _count(f.dispatch(-1, cb), "dispatch(-1, cb)")
            if k <= 0:
                break
            n += k
        f.close()
        return n, f"bytes={total}"
    return run


def make_pyopenbsd_iter():
    Offline = _need("openbsd.pcap").Offline

    def run(path, limit):
        total = n = 0
        f = Offline(path)
        for pkt, ts, length in f:
            total += length
            n += 1
        f.close()
        return n, f"bytes={total}"
    return run


def make_pyopenbsd_next():
    Offline = _need("openbsd.pcap").Offline

    def run(path, limit):
        total = n = 0
        f = Offline(path)
        nxt = f.next
        while True:
            r = nxt()
            if r is None:
                break
            total += r[2]
            n += 1
        f.close()
        return n, f"bytes={total}"
    return run


def make_pypcap_raw():
    pcap = _need("pcap")

    def run(path, limit):
        total = n = 0
        for ts, pkt in pcap.pcap(path):
            total += len(pkt)
            n += 1
        return n, f"bytes={total}"
    return run


def make_pcapy_raw():
    pcapy = _need("pcapy")

    def run(path, limit):
        total = 0

        def cb(hdr, data):
            nonlocal total
            total += hdr.getlen()
        r = pcapy.open_offline(path)
        r.dispatch(-1, cb)  # pcapy-ng returns 0 here, not the packet count
        return None, f"bytes={total}"

    def count(path):  # untimed pass, for the packet count
        n = 0

        def cb(hdr, data):
            nonlocal n
            n += 1
        pcapy.open_offline(path).dispatch(-1, cb)
        return n
    run.count = count
    return run


def make_libpcap_raw():
    rpcap = _need("pylibpcap.pcap").rpcap

    def run(path, limit):
        total = n = 0
        for caplen, sec, buf in rpcap(path):
            total += len(buf)
            n += 1
        return n, f"bytes={total}"
    return run


def make_cypcap_raw():
    cypcap = _need("cypcap")

    def run(path, limit):
        total = n = 0
        with cypcap.open_offline(path) as p:
            for hdr, pkt in p:
                total += len(pkt)
                n += 1
        return n, f"bytes={total}"
    return run


def make_dpkt_raw():
    dpkt = _need("dpkt")

    def run(path, limit):
        total = n = 0
        with open(path, "rb") as fh:
            for ts, buf in dpkt.pcap.Reader(fh):
                total += len(buf)
                n += 1
        return n, f"bytes={total}"
    return run


def make_scapy_raw():
    _need("scapy")
    from scapy.utils import RawPcapReader

    def run(path, limit):
        total = n = 0
        with RawPcapReader(path) as r:
            for pkt, meta in itertools.islice(r, limit):
                total += meta.wirelen
                n += 1
        return n, f"bytes={total}"
    return run


# -- decode --------------------------------------------------------------------

def make_pyopenbsd_decode():
    Offline = _need("openbsd.pcap").Offline

    def run(path, limit):
        nip = nl4 = sproto = sports = 0

        def cb(p, ts, length):
            nonlocal nip, nl4, sproto, sports
            if "ip" in p:
                ip = p["ip"]
                src, dst, proto = ip.src, ip.dst, ip.protocol
            elif "ipv6" in p:
                ip = p["ipv6"]
                src, dst, proto = ip.src, ip.dst, ip.nextheader
            else:
                return
            nip += 1
            sproto += proto
            if "tcp" in p:
                l4 = p["tcp"]
            elif "udp" in p:
                l4 = p["udp"]
            else:
                return
            sport, dport = l4.srcPort, l4.dstPort
            nl4 += 1
            sports += sport + dport
        f = Offline(path)
        n = _count(f.loop(0, cb, interpret=1), "loop(0, cb, interpret=1)")
        f.close()
        return n, decode_check(nip, nl4, sproto, sports)
    return run


def make_pyopenbsd_decode_ceiling():
    """Not a reader: what the decode row could reach if protocol objects cost
    nothing. The same loop, interpret=1 and callback as the decode row, but
    the callback's first statement swaps the packet for a prebuilt dict of
    __slots__ objects with the values ready (a dict lookup and a slot read
    are the cheapest lookup and attribute read Python has). Whatever object
    model the decoder had, the decode row cannot pass this one."""
    Offline = _need("openbsd.pcap").Offline

    class Fields:
        __slots__ = ("src", "dst", "protocol", "srcPort", "dstPort")
    ip, tcp = Fields(), Fields()
    ip.src, ip.dst, ip.protocol = "192.0.2.1", "10.0.0.1", 6
    tcp.srcPort, tcp.dstPort = 49152, 443
    stand_in = {"ip": ip, "tcp": tcp}

    def run(path, limit):
        nip = nl4 = sproto = sports = 0

        def cb(p, ts, length):  # the decode row's callback, plus its first line
            nonlocal nip, nl4, sproto, sports
            p = stand_in
            if "ip" in p:
                ip = p["ip"]
                src, dst, proto = ip.src, ip.dst, ip.protocol
            elif "ipv6" in p:
                ip = p["ipv6"]
                src, dst, proto = ip.src, ip.dst, ip.nextheader
            else:
                return
            nip += 1
            sproto += proto
            if "tcp" in p:
                l4 = p["tcp"]
            elif "udp" in p:
                l4 = p["udp"]
            else:
                return
            sport, dport = l4.srcPort, l4.dstPort
            nl4 += 1
            sports += sport + dport
        f = Offline(path)
        n = _count(f.loop(0, cb, interpret=1), "loop(0, cb, interpret=1)")
        f.close()
        return n, decode_check(nip, nl4, sproto, sports)
    return run


def _dpkt_decoder():
    dpkt = _need("dpkt")
    Ethernet, IP, IP6 = dpkt.ethernet.Ethernet, dpkt.ip.IP, dpkt.ip6.IP6
    L4 = (dpkt.tcp.TCP, dpkt.udp.UDP)

    def decode_all(reader):
        n = nip = nl4 = sproto = sports = 0
        for ts, buf in reader:
            n += 1
            ip = Ethernet(buf).data          # 802.1Q tags are skipped by dpkt
            if isinstance(ip, IP):
                src, dst, proto = ip.src, ip.dst, ip.p
            elif isinstance(ip, IP6):
                src, dst, proto = ip.src, ip.dst, ip.nxt
            else:
                continue
            nip += 1
            sproto += proto
            l4 = ip.data
            if isinstance(l4, L4):
                sport, dport = l4.sport, l4.dport
                nl4 += 1
                sports += sport + dport
        return n, decode_check(nip, nl4, sproto, sports)
    return dpkt, decode_all


def make_dpkt_decode():
    dpkt, decode_all = _dpkt_decoder()

    def run(path, limit):
        with open(path, "rb") as fh:
            return decode_all(dpkt.pcap.Reader(fh))
    return run


def make_pypcap_dpkt_decode():
    pcap = _need("pcap")
    dpkt, decode_all = _dpkt_decoder()

    def run(path, limit):
        return decode_all(pcap.pcap(path))
    return run


def make_libpcap_decode():
    rpcap = _need("pylibpcap.pcap").rpcap
    Packet = _need("pylibpcap.parse").Packet

    def run(path, limit):
        # python-libpcap's own decoder (pylibpcap.parse.Packet). It does not
        # look inside 802.1Q tags, so its check value differs from the others'.
        n = nip = nl4 = sproto = sports = 0
        for caplen, sec, buf in rpcap(path):
            n += 1
            p = Packet(buf, caplen)
            if p.src is None:
                continue
            nip += 1
            sproto += p.protoid
            if p.sport is None:
                continue
            nl4 += 1
            sports += p.sport + p.dport
        return n, decode_check(nip, nl4, sproto, sports)
    return run


def make_pypacker_decode():
    _need("pypacker")
    from pypacker import ppcap
    from pypacker.layer12.ethernet import Ethernet
    from pypacker.layer3.ip import IP
    from pypacker.layer3.ip6 import IP6
    from pypacker.layer4.tcp import TCP
    from pypacker.layer4.udp import UDP

    def run(path, limit):
        n = nip = nl4 = sproto = sports = 0
        r = ppcap.Reader(filename=path)
        try:
            for ts, buf in r:
                n += 1
                eth = Ethernet(buf)
                ip = eth[IP]
                if ip is not None:
                    src, dst, proto = ip.src, ip.dst, ip.p
                else:
                    ip = eth[IP6]
                    if ip is None:
                        continue
                    src, dst, proto = ip.src, ip.dst, ip.nxt
                nip += 1
                sproto += proto
                l4 = eth[TCP]
                if l4 is None:
                    l4 = eth[UDP]
                    if l4 is None:
                        continue
                sport, dport = l4.sport, l4.dport
                nl4 += 1
                sports += sport + dport
        finally:
            r.close()
        return n, decode_check(nip, nl4, sproto, sports)
    return run


def make_scapy_decode():
    _need("scapy")
    from scapy.utils import PcapReader
    from scapy.layers.inet import IP, TCP, UDP
    from scapy.layers.inet6 import IPv6

    def run(path, limit):
        n = nip = nl4 = sproto = sports = 0
        with PcapReader(path) as r:
            for p in itertools.islice(r, limit):
                n += 1
                if IP in p:
                    ip = p[IP]
                    src, dst, proto = ip.src, ip.dst, ip.proto
                elif IPv6 in p:
                    ip = p[IPv6]
                    src, dst, proto = ip.src, ip.dst, ip.nh
                else:
                    continue
                nip += 1
                sproto += proto
                if TCP in p:
                    l4 = p[TCP]
                elif UDP in p:
                    l4 = p[UDP]
                else:
                    continue
                sport, dport = l4.sport, l4.dport
                nl4 += 1
                sports += sport + dport
        return n, decode_check(nip, nl4, sproto, sports)
    return run


# -- columnar (issue 16) -----------------------------------------------------

#: The columns of the columnar rows: the 5-tuple, the timestamp, the lengths.
TABLE_COLUMNS = ["ts", "caplen", "len", "ip_src", "ip_dst", "ip_proto", "sport", "dport"]


def _table_sums(t):
    """(packets with IP, with TCP/UDP, sum of IP protocols, sum of ports)
    of an Arrow table or record batch of TABLE_COLUMNS. The sums of these
    unsigned columns are exact as they are: pyarrow adds unsigned integers
    in 64 bits (a cast to int64 first made a copy of each column and
    doubled the time of this check)."""
    import pyarrow.compute as pc
    return (t.num_rows - t["ip_src"].null_count, t.num_rows - t["sport"].null_count,
            pc.sum(t["ip_proto"]).as_py() or 0,
            (pc.sum(t["sport"]).as_py() or 0) + (pc.sum(t["dport"]).as_py() or 0))


def _table_check(tables):
    """decode_check(...) of Arrow tables of TABLE_COLUMNS: the same numbers
    the C floor's hand parse and the per-packet decoders compute."""
    return decode_check(*(sum(x) for x in zip(*map(_table_sums, tables))))


def make_batches(threads):
    """The columnar rows, timed as a user that reads a capture batch by
    batch sees them: each record batch goes through pyarrow and is used
    (the check value's sums, computed from its columns, as the C floor
    folds what it parsed into its sums), then dropped. The first columnar
    read of a process pays pyarrow's one-time set-up (about 0.3 s, more
    than the read of a million packets): a read of one batch, untimed,
    pays it before the timed runs, as the imports are."""
    def make():
        Offline = _need("openbsd.pcap").Offline
        pa = _need("pyarrow")
        _need("pyarrow.compute")

        def read(path, batches=None):
            f = Offline(path)
            n, sums = 0, [0, 0, 0, 0]
            for b in itertools.islice(pa.RecordBatchReader.from_stream(
                    f.batches(columns=TABLE_COLUMNS, threads=threads)), batches):
                n += b.num_rows
                sums = [x + y for x, y in zip(sums, _table_sums(b))]
            f.close()
            return n, decode_check(*sums)

        def run(path, limit):
            return read(path)
        run.warm = lambda path: read(path, 1)
        return run
    return make


def threads_scaling(path, rounds):
    """batches() with threads=2 against one thread, side by side in one
    process: `rounds` rounds of one read with each (the order alternating
    from round to round), each read as make_batches times it. The ratio of
    each round is taken in the same seconds of the machine, whose speed
    drifts by more than 10 % from minute to minute here (two readers run
    minutes apart, as the rows of the table are, compare those minutes as
    much as the readers); the goal takes the median of the rounds' ratios,
    as bench_dask.py does for its workers. Two untimed reads with each come
    first."""
    one, two = make_batches(1)(), make_batches(2)()
    # Two untimed reads with each first: a process's first reads with two
    # threads fault in memory its span threads' heaps use for the first
    # time (2 MiB pages zeroed by the kernel: 8-9 in the first read, 3-4
    # in the second, none later; measured with /proc/vmstat's
    # thp_fault_alloc), as the rows' medians of three runs mostly leave
    # out too.
    for _ in range(2):
        one(path, None)
        two(path, None)
    times = {1: [], 2: []}
    checks = set()
    for r in range(rounds):
        for th in ((1, 2) if r % 2 == 0 else (2, 1)):
            gc.collect()
            t0 = time.perf_counter()
            n, check = (one if th == 1 else two)(path, None)
            times[th].append(time.perf_counter() - t0)
            checks.add((n, check))
    if len(checks) != 1:
        raise RuntimeError(f"threads=1 and threads=2 read different rows: {sorted(checks)}")
    ratios = [a / b for a, b in zip(times[1], times[2])]
    return {"rounds": rounds, "packets": n, "one": times[1], "two": times[2], "ratios": ratios,
            "ratio": statistics.median(ratios)}


def make_parquet():
    table = _need("openbsd.table")
    pq = _need("pyarrow.parquet")
    dest = os.path.join(BUILD, "bench.parquet")

    def run(path, limit):
        return table.to_parquet(path, dest, columns=TABLE_COLUMNS), None

    def finish(n, check):  # untimed: the check value, read back from the file
        return n, _table_check([pq.read_table(dest)])
    run.finish = finish
    return run


def make_tshark_fields():
    exe = shutil.which("tshark")
    if exe is None:
        raise NotInstalled("tshark is not installed")

    def run(path, limit):
        dest = os.path.join(BUILD, "tshark-fields.tsv")
        cmd = [exe, "-n", "-r", path, "-T", "fields", "-E", "occurrence=f"]
        for f in ("frame.time_epoch", "frame.cap_len", "frame.len", "ip.src", "ipv6.src", "ip.dst", "ipv6.dst",
                  "ip.proto", "ipv6.nxt", "tcp.srcport", "udp.srcport", "tcp.dstport", "udp.dstport"):
            cmd += ["-e", f]
        with open(dest, "w") as out:
            subprocess.run(cmd, stdout=out, stderr=subprocess.DEVNULL, check=True)
        return None, None

    def finish(n, check):  # untimed: count and check the lines tshark wrote
        n = nip = nl4 = sproto = sports = 0
        with open(os.path.join(BUILD, "tshark-fields.tsv")) as fh:
            for line in fh:
                v = line.rstrip("\n").split("\t")
                n += 1
                if v[3] or v[4]:
                    nip += 1
                    sproto += int(v[7] or v[8] or 0)
                if v[9] or v[10]:
                    nl4 += 1
                    sports += int(v[9] or v[10]) + int(v[11] or v[12])
        return n, decode_check(nip, nl4, sproto, sports)
    run.finish = finish
    return run


def _table_rss(path, columns, threads=1):
    """Peak RSS (kB) of a fresh interpreter converting `path` to Parquet."""
    code = ("import resource, sys; from openbsd import table; "
            "table.to_parquet(sys.argv[1], sys.argv[2], columns=None if sys.argv[3] == '-' else sys.argv[3].split(','),"
            " threads=int(sys.argv[4])); print(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss)")
    dest = os.path.join(BUILD, "rss.parquet")
    p = subprocess.run([sys.executable, "-c", code, path, dest, ",".join(columns) if columns else "-", str(threads)],
                       capture_output=True, text=True, check=True, cwd=BUILD)
    return int(p.stdout.split()[-1])


def table_memory(path):
    """Peak RSS of to_parquet (every default column) on the capture and on
    the capture four times over (made next to it once)."""
    four = path[:-len(".pcap")] + "-x4.pcap"
    if not os.path.exists(four) or os.path.getsize(four) != 4 * os.path.getsize(path) - 3 * 24:
        # Copied in chunks: Linux carries a process's peak RSS over to the
        # children it starts, so this process must stay small.
        with open(four + ".tmp", "wb") as out:
            for i in range(4):
                with open(path, "rb") as src:
                    if i:
                        src.seek(24)
                    shutil.copyfileobj(src, out, 1 << 24)
        os.replace(four + ".tmp", four)
    return {"x1_kb": _table_rss(path, None), "x4_kb": _table_rss(four, None),
            "x1_bytes": os.path.getsize(path), "x4_bytes": os.path.getsize(four)}


# -- memory ------------------------------------------------------------------

def _rss_kb():
    with open("/proc/self/statm") as fh:
        return int(fh.read().split()[1]) * (os.sysconf("SC_PAGE_SIZE") // 1024)


def memory_check(path):
    """Peak RSS of reading `path` with loop() (issue 7, goal 4), against an
    empty interpreter's, and the RSS growth between 10 % and 100 % of the
    packets (should be nil: nothing is kept per packet)."""
    import resource
    empty = subprocess.run([sys.executable, "-c",
                            "import resource; print(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss)"],
                           capture_output=True, text=True, check=True)
    empty_kb = int(empty.stdout)
    Offline = _need("openbsd.pcap").Offline
    f = Offline(path)
    marks = {}
    n = [0]

    def cb(p, ts, length):
        n[0] += 1
        if n[0] % 100_000 == 0:
            marks[n[0]] = _rss_kb()
    f.loop(0, cb)
    f.close()
    peak_kb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    keys = sorted(marks)
    growth = (marks[keys[-1]] - marks[keys[0]]) if len(keys) >= 2 else 0
    return {"empty_kb": empty_kb, "peak_kb": peak_kb, "growth_kb": growth, "packets": n[0]}


# (key, workload, row label, maker, uses the scapy subset)
READERS = [
    ("pyopenbsd_loop", "raw", "pyopenbsd Offline.loop(0, cb)", make_pyopenbsd_loop, False),
    ("pyopenbsd_dispatch", "raw", "pyopenbsd Offline.dispatch(-1, cb)", make_pyopenbsd_dispatch, False),
    ("pyopenbsd_iter", "raw", "pyopenbsd for pkt, ts, n in Offline(f)", make_pyopenbsd_iter, False),
    ("pyopenbsd_next", "raw", "pyopenbsd Offline.next() loop", make_pyopenbsd_next, False),
    ("pypcap", "raw", "pypcap for ts, pkt in pcap.pcap(f)", make_pypcap_raw, False),
    ("libpcap_raw", "raw", "python-libpcap rpcap(f)", make_libpcap_raw, False),
    ("cypcap", "raw", "cypcap for hdr, pkt in open_offline(f)", make_cypcap_raw, False),
    ("pcapy", "raw", "pcapy-ng open_offline(f).dispatch(-1, cb)", make_pcapy_raw, False),
    ("dpkt", "raw", "dpkt pcap.Reader", make_dpkt_raw, False),
    ("scapy_raw", "raw", "scapy RawPcapReader", make_scapy_raw, False),
    ("pyopenbsd_decode", "decode", "pyopenbsd loop(0, cb, interpret=1)", make_pyopenbsd_decode, False),
    ("pyopenbsd_ceiling", "decode", "  ceiling: same, protocol objects cost nothing", make_pyopenbsd_decode_ceiling,
     False),
    ("dpkt_decode", "decode", "dpkt pcap.Reader + Ethernet()", make_dpkt_decode, False),
    ("pypcap_dpkt", "decode", "pypcap + dpkt Ethernet()", make_pypcap_dpkt_decode, False),
    ("libpcap_decode", "decode", "python-libpcap rpcap + parse.Packet", make_libpcap_decode, False),
    ("pypacker", "decode", "pypacker ppcap.Reader + Ethernet()", make_pypacker_decode, False),
    ("scapy_decode", "decode", "scapy PcapReader", make_scapy_decode, True),
    ("pyopenbsd_batches", "decode", "pyopenbsd batches() 5-tuple+ts+lengths, 1 thread", make_batches(1), False),
    ("pyopenbsd_batches2", "decode", "pyopenbsd batches() same, threads=2", make_batches(2), False),
    ("pyopenbsd_parquet", "decode", "pyopenbsd to_parquet() same columns, zstd", make_parquet, False),
    ("tshark_fields", "decode", "tshark -T fields -e (same fields) > file", make_tshark_fields, False),
]
#: Readers run once whatever --runs says (slow, or writing large files).
ONCE = {"tshark_fields"}
# Rows whose check value differs from the C floor's by design.
KNOWN_SHORT = {"libpcap_decode": "no 802.1Q: tagged frames not decoded",
               "pyopenbsd_ceiling": "not a reader: reads a prebuilt dict (see docs/performance.md)"}
BASELINE = {"raw": "pypcap", "decode": "pypcap_dpkt"}
C_LABEL = {"raw": "C floor: libpcap pcap_loop", "decode": "C floor: pcap_loop + hand parse"}


# ---------------------------------------------------------------------------
# worker side
# ---------------------------------------------------------------------------

def worker(key, path, runs, limit):
    spec = {r[0]: r for r in READERS}[key]
    out = {"key": key}
    try:
        run = spec[3]()
    except NotInstalled as e:
        out.update(status="missing", note=str(e))
        print(json.dumps(out), flush=True)
        return 0
    times = []
    if key in ONCE:
        runs = 1
    try:
        if hasattr(run, "warm"):
            run.warm(path)
        for _ in range(runs):
            gc.collect()
            t0 = time.perf_counter()
            n, check = run(path, limit)
            times.append(time.perf_counter() - t0)
        if hasattr(run, "finish"):
            n, check = run.finish(n, check)
    except Exception as e:  # the row shows it (e.g. "decoding not available")
        msg = " ".join(str(e).split())
        out.update(status="error", note=f"{type(e).__name__}: {msg}"[:160])
        print(json.dumps(out), flush=True)
        return 0
    if n is None:
        n = run.count(path)
    med = statistics.median(times)
    out.update(status="ok", packets=n, seconds=med, times=times,
               pps=(n / med if med > 0 else 0.0), check=check)
    print(json.dumps(out), flush=True)
    return 0


# ---------------------------------------------------------------------------
# driver side
# ---------------------------------------------------------------------------

def log(msg):
    print(msg, file=sys.stderr, flush=True)


def ensure_capture(count):
    path = os.path.join(DATA, f"mixed-{count}.pcap")
    if not os.path.exists(path):
        sys.path.insert(0, HERE)
        import gen_capture
        if os.path.islink(DATA) and not os.path.isdir(DATA):
            sys.exit(f"bench.py: {DATA} is a broken or looping symlink; remove it")
        os.makedirs(DATA, exist_ok=True)
        log(f"generating {path} ({count} packets) ...")
        t0 = time.perf_counter()
        gen_capture.write_capture(path, count)
        log(f"  done in {time.perf_counter() - t0:.1f} s")
    return path


def capture_args(doc, rounds, argv=None):
    """The arguments of the side scripts (bench_halves.py, bench_access.py):
    a capture (the bench file by default, generated when missing) and
    `--rounds` (at least 1)."""
    ap = argparse.ArgumentParser(description=doc.split("\n\n")[1])
    ap.add_argument("capture", nargs="?", default=os.path.join(DATA, "mixed-1000000.pcap"))
    ap.add_argument("--rounds", type=int, default=rounds)
    args = ap.parse_args(argv)
    if args.rounds < 1:
        ap.error("--rounds must be >= 1")
    if not os.path.exists(args.capture) and args.capture == os.path.join(DATA, "mixed-1000000.pcap"):
        ensure_capture(1_000_000)
    return args


def warm_cache(path):
    """Puts the file's pages in the page cache as reading the file from disk
    leaves them, whatever wrote it: its cached pages are dropped, then it is
    read once, sequentially. How the pages were cached matters to readers
    that map the file: the same 574 MB cost 49 ms to map and unmap when
    its pages had come to be cached 4 KiB at a time (after hours of use of
    the machine), 8 ms just after gen_capture wrote it, and 2 ms in the
    large folios the kernel's read-ahead makes (Linux 6.18, ext4;
    docs/performance.md, "The page cache"). Every reader then reads the
    same cached pages.
    Returns what was done, for the log."""
    dropped = False
    try:
        fd = os.open(path, os.O_RDONLY)
        try:
            os.fdatasync(fd)
            os.posix_fadvise(fd, 0, 0, os.POSIX_FADV_DONTNEED)
            dropped = True
        finally:
            os.close(fd)
    except (OSError, AttributeError):
        pass
    with open(path, "rb") as fh:
        while fh.read(1 << 24):
            pass
    return "dropped from the page cache and read once" if dropped else "read once (could not drop it from the page cache)"


def scatter_cache(path):
    """Puts the file's pages in the page cache 4 KiB at a time, in random
    order, as hours of use of a machine leave a file's pages (DAMON and
    other readers evicting and bringing back pieces of it): its cached
    pages are dropped, then one byte of each page is read, in random order,
    with read-ahead off. Mapping such pages costs the most (49 ms for the
    bench file against 2 ms after `warm_cache`; docs/performance.md, "The
    page cache"). About 7 s for the bench file (tests/test_page_cache.py
    puts its file in this state with it too). Returns what was done."""
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fdatasync(fd)
        os.posix_fadvise(fd, 0, 0, os.POSIX_FADV_DONTNEED)
        os.posix_fadvise(fd, 0, 0, os.POSIX_FADV_RANDOM)
        pages = list(range(0, os.fstat(fd).st_size, 4096))
        random.Random(1).shuffle(pages)
        for off in pages:
            os.pread(fd, 1, off)
    finally:
        os.close(fd)
    return "dropped from the page cache and read back 4 KiB at a time in random order"


def build_cfloor(cc):
    """Build cfloor if missing or stale. Returns (binary or None, note)."""
    os.makedirs(BUILD, exist_ok=True)
    if (os.path.exists(CFLOOR_BIN)
            and os.path.getmtime(CFLOOR_BIN) >= os.path.getmtime(CFLOOR_SRC)):
        return CFLOOR_BIN, ""
    if not shutil.which(cc):
        return None, f"no C compiler ({cc})"
    cmd = [cc, "-O2", CFLOOR_SRC, "-lpcap", "-o", CFLOOR_BIN]
    log("building C floor: " + " ".join(cmd))
    p = subprocess.run(cmd, capture_output=True, text=True)
    if p.returncode != 0:
        last = (p.stderr.strip().splitlines() or ["?"])[-1]
        return None, f"build failed: {last}"[:160]
    return CFLOOR_BIN, ""


def run_cfloor(binary, path, runs, only, timeout):
    cmd = [binary, path, "--runs", str(runs)] + (["--only", only] if only else [])
    res = {}
    try:
        p = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout)
    except subprocess.TimeoutExpired:
        return {}, "timed out"
    for line in p.stdout.splitlines():
        if line.startswith("{"):
            d = json.loads(line)
            res[d["workload"]] = d
    note = ""
    if p.returncode != 0:
        note = (p.stderr.strip().splitlines() or [f"exit {p.returncode}"])[-1][:160]
    return res, note


def run_worker(key, path, runs, limit, timeout):
    cmd = [sys.executable, os.path.abspath(__file__), "--worker", key,
           "--file", path, "--runs", str(runs)]
    if limit is not None:
        cmd += ["--limit", str(limit)]
    try:
        # cwd is the build folder so that the repo's python/ source tree is
        # never imported by accident: the installed build is measured
        p = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout, cwd=BUILD)
    except subprocess.TimeoutExpired:
        return {"status": "error", "note": f"timed out after {timeout} s"}
    for line in reversed(p.stdout.splitlines()):
        if line.startswith("{"):
            try:
                return json.loads(line)
            except ValueError:
                break
    if p.returncode < 0:
        return {"status": "error", "note": f"crashed (signal {-p.returncode})"}
    last = (p.stderr.strip().splitlines() or [f"exit {p.returncode}"])[-1]
    return {"status": "error", "note": f"failed: {last}"[:160]}


def fmt_pps(x):
    return f"{x:,.0f}" if x else "-"


def fmt_ratio(a, b):
    if not a or not b:
        return "-"
    return f"{a / b:.2f}x"


def report_goals(rows, path, timeout, scaling=None):
    """Prints the goals of issues 7 and 16 that this run's rows measure,
    and the memory goals (each measured in a worker of its own)."""
    by = {r["key"]: r for r in rows if r.get("status") == "ok"}
    goals = []

    def goal(text, value, ok):
        goals.append({"goal": text, "value": value, "met": ok})

    def pps(key):
        return by[key]["pps"] if key in by else None
    loop, disp = pps("pyopenbsd_loop"), pps("pyopenbsd_dispatch")
    pyp, craw = pps("pypcap"), pps("c_raw")
    for name, v in (("loop", loop), ("dispatch(-1)", disp)):
        if v and pyp:
            goal(f"raw {name} >= 2x pypcap", f"{v / pyp:.2f}x", v >= 2 * pyp)
        if v and craw:
            goal(f"raw {name} >= 70% of the C floor", f"{100 * v / craw:.0f}%", v >= 0.7 * craw)
    dec = pps("pyopenbsd_decode")
    peers = [(by[k]["label"], by[k]["pps"]) for k in ("pypcap_dpkt", "dpkt_decode", "pypacker", "libpcap_decode")
             if k in by]
    if dec and peers:
        best = max(peers, key=lambda x: x[1])
        goal(f"decode >= 15x the fastest decoding peer ({best[0]})", f"{dec / best[1]:.1f}x", dec >= 15 * best[1])
        ceil = pps("pyopenbsd_ceiling")
        if ceil:
            print(f"decode ceiling (same callback on a prebuilt dict, objects free): {ceil / best[1]:.1f}x "
                  f"the fastest decoding peer; decode reaches {100 * dec / ceil:.0f}% of it")
    tab, tab2, pqt, tsh = (pps(k) for k in ("pyopenbsd_batches", "pyopenbsd_batches2", "pyopenbsd_parquet",
                                            "tshark_fields"))
    cdec = pps("c_decode")
    if tab and cdec:
        goal("batches() 1 thread >= 1.2x the C floor with parsing", f"{tab / cdec:.2f}x", tab >= 1.2 * cdec)
    if tab and peers:
        best = max(peers, key=lambda x: x[1])
        goal(f"batches() 1 thread >= 30x the fastest per-packet decoder ({best[0]})", f"{tab / best[1]:.1f}x",
             tab >= 30 * best[1])
    if tab and dec:
        print(f"batches() 1 thread is {tab / dec:.1f}x pyopenbsd's own per-packet decode")
    if scaling and "ratio" in scaling:
        goal("batches() threads=2 >= 1.8x one thread (side by side, median of the rounds)",
             f"{scaling['ratio']:.2f}x", scaling["ratio"] >= 1.8)
    elif tab and tab2:
        goal("batches() threads=2 >= 1.8x one thread (rows read minutes apart)", f"{tab2 / tab:.2f}x",
             tab2 >= 1.8 * tab)
    if tab and tsh:
        goal("batches() >= 20x tshark -T fields", f"{tab / tsh:.1f}x", tab >= 20 * tsh)
    if tab and pqt:
        goal("to_parquet (zstd) >= 0.5x batches()", f"{pqt / tab:.2f}x", pqt >= 0.5 * tab)
    if "pyopenbsd_batches" in by:
        proc = subprocess.run([sys.executable, os.path.abspath(__file__), "--worker", "table-memory", "--file", path],
                              capture_output=True, text=True, timeout=3 * timeout)
        if proc.returncode == 0 and proc.stdout.strip():
            m = json.loads(proc.stdout.strip().splitlines()[-1])
            goal(f"peak RSS of to_parquet on the {m['x1_bytes'] / 1e6:.0f} MB file < 300 MB",
                 f"{m['x1_kb'] / 1024:.0f} MB", m["x1_kb"] < 300 * 1024)
            goal(f"flat as the file grows (x4, {m['x4_bytes'] / 1e6:.0f} MB: within 10%)",
                 f"{m['x4_kb'] / 1024:.0f} MB", m["x4_kb"] < 1.1 * m["x1_kb"])
        else:
            goal("to_parquet memory", "not measured: " + (proc.stderr.strip().splitlines() or ["?"])[-1][:100],
                 False)
    for key, name in (("pyopenbsd_iter", "iteration"), ("pyopenbsd_next", "next()")):
        v = pps(key)
        if v and loop:
            goal(f"{name} within 1.2x of loop per packet", f"{loop / v:.2f}x", loop / v <= 1.2)
    proc = subprocess.run([sys.executable, os.path.abspath(__file__), "--worker", "memory", "--file", path],
                          capture_output=True, text=True, timeout=timeout)
    if proc.returncode == 0 and proc.stdout.strip():
        m = json.loads(proc.stdout.strip().splitlines()[-1])
        limit = 1.5 * m["empty_kb"] + 50 * 1024
        goal("peak RSS of loop() < 1.5x empty interpreter + 50 MB",
             f"{m['peak_kb'] / 1024:.1f} MB (limit {limit / 1024:.1f} MB)", m["peak_kb"] < limit)
        goal("no RSS growth per packet (10% -> 100% of the file)", f"{m['growth_kb']} kB", m["growth_kb"] < 1024)
    else:
        goal("memory", "not measured: " + (proc.stderr.strip().splitlines() or ["?"])[-1][:100], False)
    print()
    print("issue 7 and issue 16 goals (this run):")
    for g in goals:
        print(f"  [{'x' if g['met'] else ' '}] {g['goal']}: {g['value']}")
    return goals


def main(argv=None):
    ap = argparse.ArgumentParser(description="pyopenbsd vs other pcap readers",
                                 formatter_class=argparse.RawDescriptionHelpFormatter,
                                 epilog=__doc__.split("\n\n", 1)[1])
    ap.add_argument("--count", type=int, default=1_000_000,
                    help="packets in the generated capture (default 1000000)")
    ap.add_argument("--runs", type=int, default=3, help="runs per reader, median taken (default 3)")
    ap.add_argument("--only", choices=("raw", "decode"), help="one workload only")
    ap.add_argument("--json", metavar="FILE", help="also write the results as JSON")
    ap.add_argument("--file", metavar="PCAP",
                    help="bench this capture instead of benches/.data/mixed-COUNT.pcap")
    ap.add_argument("--scapy-limit", type=int, default=DEFAULT_SCAPY_LIMIT,
                    help=f"scapy PcapReader decodes only the first N packets (default {DEFAULT_SCAPY_LIMIT})")
    ap.add_argument("--timeout", type=int, default=900, help="seconds allowed per reader (default 900)")
    ap.add_argument("--cc", default=os.environ.get("CC", "cc"), help="C compiler for the C floor")
    ap.add_argument("--page-cache", choices=("read-once", "4k"), default="read-once",
                    help="how the file's pages are cached before each reader: dropped and read once "
                         "(default, as read from disk), or read back 4 KiB at a time in random order "
                         "(as hours of use leave them)")
    ap.add_argument("--scaling-rounds", type=int, default=7,
                    help="rounds of batches() with threads=1 and threads=2 side by side in one process, "
                         "for the two-thread goal (default 7)")
    ap.add_argument("--worker", help=argparse.SUPPRESS)
    ap.add_argument("--limit", type=int, help=argparse.SUPPRESS)
    args = ap.parse_args(argv)

    if args.worker == "memory":
        print(json.dumps(memory_check(args.file)), flush=True)
        return 0
    if args.worker == "table-memory":
        print(json.dumps(table_memory(args.file)), flush=True)
        return 0
    if args.worker == "threads-scaling":
        print(json.dumps(threads_scaling(args.file, args.runs)), flush=True)
        return 0
    if args.worker:
        return worker(args.worker, args.file, args.runs, args.limit)

    if args.runs < 1:
        ap.error("--runs must be >= 1")
    if args.scaling_rounds < 1:
        ap.error("--scaling-rounds must be >= 1")
    if args.file:
        path = os.path.abspath(args.file)
        if not os.path.exists(path):
            ap.error(f"{path}: no such file")
    else:
        if args.count < 1:
            ap.error("--count must be >= 1")
        path = ensure_capture(args.count)
    os.makedirs(BUILD, exist_ok=True)
    load = os.getloadavg()[0]
    warmed = []

    def warm():
        # Each reader (and the C floor) starts from the same page cache:
        # the machine's state drifts over minutes (see warm_cache).
        what = scatter_cache(path) if args.page_cache == "4k" else warm_cache(path)
        if not warmed:
            log(f"{path}: {what}")
            warmed.append(what)

    workloads = [args.only] if args.only else ["raw", "decode"]
    rows = []

    # C floor first: its check values are the reference
    cbin, cnote = build_cfloor(args.cc)
    cres = {}
    if cbin:
        log("running C floor ...")
        warm()
        cres, cnote = run_cfloor(cbin, path, args.runs, args.only, args.timeout)

    for wl in workloads:
        for key, rwl, label, maker, subset in READERS:
            if rwl != wl:
                continue
            limit = args.scapy_limit if subset else None
            log(f"running {wl:6} {label} ...")
            warm()
            r = run_worker(key, path, args.runs, limit, args.timeout)
            r.update(key=key, workload=wl, label=label)
            if subset and r.get("status") == "ok":
                r["subset"] = True
            rows.append(r)
        c = cres.get(wl)
        if c:
            rows.append({"key": c["name"], "workload": wl, "label": C_LABEL[wl], "status": "ok",
                         "packets": c["packets"], "seconds": c["seconds"], "pps": c["pps"],
                         "check": c["check"]})
        else:
            rows.append({"key": f"c_{wl}", "workload": wl, "label": C_LABEL[wl],
                         "status": "error", "note": cnote or "no result"})

    scaling = None
    if "decode" in workloads:
        # threads=2 against one thread, side by side (threads_scaling)
        log(f"running decode batches() threads=1 and threads=2 side by side, {args.scaling_rounds} rounds ...")
        warm()
        scaling = run_worker("threads-scaling", path, args.scaling_rounds, None, args.timeout)

    # ratios, notes, check comparison
    mismatches = []
    for wl in workloads:
        wrows = [r for r in rows if r["workload"] == wl]
        base = next((r for r in wrows if r["key"] == BASELINE[wl] and r["status"] == "ok"), None)
        cref = next((r for r in wrows if r["key"].startswith("c_") and r["status"] == "ok"), None)
        for r in wrows:
            if r["status"] != "ok":
                continue
            r["vs_pypcap"] = r["pps"] / base["pps"] if base else None
            r["vs_c"] = r["pps"] / cref["pps"] if cref else None
            notes = []
            if r.get("subset") and not (cref and r["packets"] == cref["packets"]):
                notes.append(f"first {r['packets']:,} packets")
            if cref and r is not cref and r["packets"] == cref["packets"]:
                if r["check"] != cref["check"] and r["key"] in KNOWN_SHORT:
                    notes.append(KNOWN_SHORT[r["key"]])
                elif r["check"] != cref["check"]:
                    notes.append("CHECK MISMATCH")
                    mismatches.append((wl, r["label"], r["check"], cref["check"]))
            elif cref and r is not cref and not r.get("subset"):
                notes.append(f"read {r['packets']:,} of {cref['packets']:,} packets")
                mismatches.append((wl, r["label"], f"{r['packets']} packets", f"{cref['packets']} packets"))
            r["note"] = "; ".join(notes)

    by_key = {r["key"]: r["pps"] for r in rows if r["status"] == "ok"}

    # table
    size = os.path.getsize(path)
    npk = next((r["packets"] for r in rows if r["key"].startswith("c_") and r["status"] == "ok"), None)
    print()
    print(f"capture: {os.path.relpath(path)} ({size / 1e6:.0f} MB"
          + (f", {npk:,} packets" if npk else "") + f"); median of {args.runs} runs; "
          f"Python {platform.python_version()}; {os.cpu_count()} CPUs; load {load:.1f} at start")
    if load > 0.5 * (os.cpu_count() or 1):
        print("note: the machine was busy when the bench started; figures are noisy")
    hdr = ("workload", "reader", "packets/s", "vs pypcap", "vs C floor", "note")
    table = []
    for r in rows:
        if r["status"] == "ok":
            table.append((r["workload"], r["label"], fmt_pps(r["pps"]),
                          fmt_ratio(r["vs_pypcap"], 1), fmt_ratio(r["vs_c"], 1),
                          r.get("note", "")))
        else:
            table.append((r["workload"], r["label"], "-", "-", "-", r.get("note") or "error"))
    widths = [max(len(x[i]) for x in table + [hdr]) for i in range(5)]

    def line(cols):
        return "  ".join([cols[0].ljust(widths[0]), cols[1].ljust(widths[1]),
                          cols[2].rjust(widths[2]), cols[3].rjust(widths[3]),
                          cols[4].rjust(widths[4]), cols[5]]).rstrip()
    print(line(hdr))
    print(line(tuple("-" * len(h) for h in hdr)))
    prev = None
    for cols in table:
        if prev is not None and cols[0] != prev:
            print()
        prev = cols[0]
        print(line(cols))
    print()
    print("vs pypcap: packets/s over pypcap's (raw) or pypcap + dpkt's (decode); "
          "vs C floor: over libpcap's own pcap_loop in C.")
    for wl, label, got, want in mismatches:
        print(f"MISMATCH {wl} {label}: got {got}, C floor has {want}")

    if scaling and "ratio" in scaling:
        print(f"batches() threads=2 over one thread, side by side in one process ({scaling['rounds']} rounds, "
              f"order alternating): median {scaling['ratio']:.2f}x (rounds: "
              f"{', '.join(f'{x:.2f}' for x in scaling['ratios'])}); the rows above, read minutes apart: "
              + (f"{by_key['pyopenbsd_batches2'] / by_key['pyopenbsd_batches']:.2f}x"
                 if by_key.get("pyopenbsd_batches") and by_key.get("pyopenbsd_batches2") else "-"))
    elif scaling:
        print(f"batches() threads=2 over one thread, side by side: {scaling.get('note', 'error')}")

    # Every run prints the goals its rows measure (an --only decode run
    # printed none, so the to_parquet memory goal went unmeasured for a day).
    goals = report_goals(rows, path, args.timeout, scaling)

    if args.json:
        doc = {"file": path, "file_bytes": size, "packets": npk, "runs": args.runs,
               "python": platform.python_version(), "platform": platform.platform(),
               "cpus": os.cpu_count(), "loadavg_at_start": load, "date": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
               "results": rows, "goals": goals, "threads_scaling": scaling}
        with open(args.json, "w") as fh:
            json.dump(doc, fh, indent=2)
        log(f"wrote {args.json}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
