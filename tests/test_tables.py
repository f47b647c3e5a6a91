"""Capture tables (`feed.batches()`, `openbsd.table`): every column of every
packet against the Packet API, the 5-tuple against tshark, Parquet read back
by pyarrow, polars and DuckDB, damaged files, and the stream's contract."""

import errno
import os
import pty
import random
import signal
import struct
import subprocess
import sys
import time
from pathlib import Path

import pytest

from openbsd import packet, pcap, table
import pcaptools
from pcaptools import REPO, SAMPLE, need, plain, write_pcap

pa = pytest.importorskip("pyarrow")
pq = pytest.importorskip("pyarrow.parquet")

ALL = [c for c in table.COLUMNS]


def expected_rows(path, filter=None):
    """Every packet of `path` as the Packet API reads it: one dict per
    packet, keyed by column name (None where the layer is absent)."""
    f = pcap.Offline(str(path))
    if filter:
        f.filter(filter)
    dlt = f.datalink()
    rows = []

    def cb(p, ts, n):
        rows.append(row_of(p, ts, n, dlt))

    f.loop(0, cb, 1)
    return rows


def first(layers, *classes):
    return next((x for x in layers if isinstance(x, classes)), None)


def row_of(p, ts, n, dlt):
    layers = p.getProtoList()
    raw = bytes(p)
    r = dict.fromkeys(ALL)
    r.update(ts=ts[0] * 10**9 + ts[1] * 1000, caplen=len(raw), len=n, linktype=dlt, raw=raw)
    e = first(layers, packet.Ethernet)
    if e is not None:
        r.update(eth_src=e.src, eth_dst=e.dst, eth_type=e.etype)
    v = first(layers, packet.VLAN)
    if v is not None:
        r["vlan"] = v.vid
    ip = first(layers, packet.IP, packet.IPv6)
    if isinstance(ip, packet.IP):
        r.update(ip_version=ip.version, ip_src=ip.src, ip_dst=ip.dst, ip_proto=ip.protocol, ip_ttl=ip.ttl,
                 ip_len=ip.length, ip_flags=ip.flags, ip_frag_offset=ip.fragmentOffset)
    elif ip is not None:
        r.update(ip_version=ip.version, ip_src=ip.src, ip_dst=ip.dst, ip_proto=ip.nextheader,
                 ip_ttl=ip.hoplimit, ip_len=ip.payloadlength)
    t = first(layers, packet.TCP, packet.UDP)
    if t is not None:
        r.update(sport=t.srcPort, dport=t.dstPort)
    if isinstance(t, packet.TCP):
        r.update(tcp_flags=t.flags, tcp_seq=t.seq_num, tcp_ack=t.ack_num, tcp_window=t.window)
    i = first(layers, packet.ICMP, packet.ICMP6)
    if isinstance(i, packet.ICMP):
        r.update(icmp_type=i.itype, icmp_code=i.code)
    elif i is not None:
        r.update(icmp_type=i.icmp6type, icmp_code=i.code)
    if layers:
        r["payload_len"] = len(layers[-1].payload)
    pf = first(layers, packet.PF, packet.PFOld)
    if isinstance(pf, packet.PF):
        r.update(pf_action=pf.action, pf_reason=pf.reason, pf_direction=pf.direction, pf_rule=pf.rulenr,
                 pf_ifname=pf.ifname)
    elif pf is not None:
        r.update(pf_action=pf.action, pf_reason=pf.reason, pf_direction=pf.direction, pf_rule=pf.ruleno,
                 pf_ifname=pf.ifname)
    return r


def table_rows(path, columns=ALL, batch_size=65536, filter=None):
    f = pcap.Offline(str(path))
    if filter:
        f.filter(filter)
    t = pa.table(f.batches(columns=columns, batch_size=batch_size))
    if "ts" in t.column_names:
        t = t.set_column(t.column_names.index("ts"), "ts", t["ts"].cast(pa.int64()))
    return t.to_pylist()


@pytest.fixture(scope="module")
def synthetic(tmp_path_factory):
    """benches/gen_capture.py's mixed traffic (VLANs, IPv6, ARP, ICMP)."""
    out = tmp_path_factory.mktemp("gen") / "gen.pcap"
    subprocess.run([sys.executable, str(REPO / "benches" / "gen_capture.py"), str(out), "--count", "3000"],
                   check=True, capture_output=True)
    return out


@pytest.fixture(scope="module")
def pcapng(mixed, tmp_path_factory):
    """The mixed capture converted to pcapng by editcap."""
    out = pcaptools.editcap(mixed[0], tmp_path_factory.mktemp("ng") / "mixed.pcapng", "pcapng")
    assert out is not None
    return out


def check_equal(path, **kw):
    exp = expected_rows(path, kw.get("filter"))
    got = table_rows(path, **kw)
    assert len(got) == len(exp)
    for i, (g, e) in enumerate(zip(got, exp)):
        assert g == e, (path, i, {k: (g[k], e[k]) for k in g if g[k] != e[k]})
    return got


@pytest.mark.parametrize("path", pcaptools.openbsd_params())
def test_every_column_equals_the_packet_api_shared_captures(path):
    rows = check_equal(path)
    assert rows


def test_every_column_equals_the_packet_api_sample_mixed_synthetic_pcapng(mixed, synthetic, pcapng):
    for path in (SAMPLE, mixed[0], synthetic, pcapng):
        rows = check_equal(path, batch_size=333)
        assert len(rows) > (10 if path == SAMPLE else 1000)
    # The generated traffic has every kind of row the columns describe.
    rows = table_rows(synthetic)
    assert {r["ip_version"] for r in rows} == {4, 6, None}
    assert any(r["vlan"] is not None for r in rows)
    assert any(r["icmp_type"] is not None for r in rows)
    assert any(r["tcp_flags"] is not None for r in rows)


def test_pflog_columns_are_named_values(captures):
    rows = table_rows(captures / "pf", columns=["pf_action", "pf_reason", "pf_direction", "pf_rule", "pf_ifname",
                                                 "ip_src", "sport"])
    assert rows[0]["pf_ifname"]
    assert all(r["pf_action"] is not None for r in rows)
    # The default columns of a pflog capture include pf_*, those of an
    # Ethernet capture do not.
    assert "pf_action" in pcap.Offline(str(captures / "pf")).batches().columns
    assert "pf_action" not in pcap.Offline(str(SAMPLE)).batches().columns
    assert "raw" not in pcap.Offline(str(SAMPLE)).batches().columns


def test_the_filter_applies(mixed):
    check_equal(mixed[0], filter="tcp and port 22")
    assert len(table_rows(mixed[0], filter="udp")) == len(expected_rows(mixed[0], "udp")) > 0


def tshark_5tuples(path):
    need("tshark")
    fields = ["ip.src", "ipv6.src", "ip.dst", "ipv6.dst", "ip.proto", "ipv6.nxt", "tcp.srcport", "udp.srcport",
              "tcp.dstport", "udp.dstport", "icmp.type", "icmpv6.type"]
    cmd = ["tshark", "-r", str(path), "-T", "fields", "-E", "occurrence=f"]
    for f in fields:
        cmd += ["-e", f]
    out = subprocess.run(cmd, check=True, capture_output=True, text=True).stdout
    rows = []
    for line in out.splitlines():
        v = [x or None for x in line.split("\t")]
        num = lambda x: int(x) if x is not None else None  # noqa: E731
        icmp = v[10] is not None or v[11] is not None
        rows.append((v[0] or v[1], v[2] or v[3], num(v[4] or v[5]),
                     # tshark also reads the ports quoted inside ICMP errors;
                     # the table's ports are the packet's own transport layer.
                     None if icmp else num(v[6] or v[7]), None if icmp else num(v[8] or v[9])))
    return rows


def test_five_tuple_equals_tshark(mixed, synthetic, captures):
    for path in (mixed[0], synthetic, SAMPLE, captures / "ethernet", captures / "tdump"):
        got = [(r["ip_src"], r["ip_dst"], r["ip_proto"], r["sport"] if r["icmp_type"] is None else None,
                r["dport"] if r["icmp_type"] is None else None)
               for r in table_rows(path, columns=["ip_src", "ip_dst", "ip_proto", "sport", "dport", "icmp_type"])]
        assert got == tshark_5tuples(path), path


def test_parquet_reads_back_the_same_rows_in_pyarrow_polars_duckdb(mixed, tmp_path):
    pl = pytest.importorskip("polars")
    duckdb = pytest.importorskip("duckdb")
    dest = tmp_path / "mixed.parquet"
    n = table.to_parquet(mixed[0], dest, columns=ALL)
    assert n == len(mixed[1])
    want = pa.table(pcap.Offline(str(mixed[0])).batches(columns=ALL))
    back = pq.read_table(dest)
    assert back.schema == want.schema
    assert back.equals(want)
    assert pq.ParquetFile(dest).metadata.row_group(0).column(0).compression == "ZSTD"
    assert pl.read_parquet(dest).equals(pl.from_arrow(want))
    con = duckdb.connect()
    q = "select ip_src, ip_dst, sport, dport, len, raw from '%s' order by ts, len, raw"
    assert con.sql(q % dest).fetchall() == con.sql(q.replace("'%s'", "want")).fetchall()


def test_to_parquet_filter_columns_and_uncompressed(mixed, tmp_path):
    dest = tmp_path / "tcp.parquet"
    n = table.to_parquet(str(mixed[0]), str(dest), columns=["ts", "sport"], filter="tcp", compression="none")
    back = pq.read_table(dest)
    assert back.column_names == ["ts", "sport"]
    assert back.num_rows == n == len(expected_rows(mixed[0], "tcp"))
    assert pq.ParquetFile(dest).metadata.row_group(0).column(0).compression == "UNCOMPRESSED"
    with pytest.raises(ValueError, match='unknown compression "lz77"'):
        table.to_parquet(mixed[0], tmp_path / "x.parquet", compression="lz77")
    with pytest.raises(pcap.PcapError, match="no-such-dir"):
        table.to_parquet(mixed[0], tmp_path / "no-such-dir" / "x.parquet")
    with pytest.raises(pcap.PcapError, match="nonexistent.pcap"):
        table.to_parquet(tmp_path / "nonexistent.pcap", tmp_path / "x.parquet")


def test_to_parquet_row_groups_hold_1048576_rows(big_file, tmp_path):
    # Batches of 100,000 rows straddle the row groups' ends: they are cut there.
    dest = tmp_path / "big.parquet"
    cols = ["ts", "len", "raw"]
    assert table.to_parquet(big_file, dest, columns=cols, batch_size=100_000) == 2_000_000
    md = pq.ParquetFile(dest).metadata
    assert [md.row_group(i).num_rows for i in range(md.num_row_groups)] == [1_048_576, 951_424]
    assert [md.row_group(0).column(i).path_in_schema for i in range(3)] == cols
    assert pq.read_table(dest).equals(pa.table(pcap.Offline(str(big_file)).batches(columns=cols)))


def test_polars_and_duckdb_take_the_stream_directly(mixed):
    pl = pytest.importorskip("polars")
    duckdb = pytest.importorskip("duckdb")
    exp = expected_rows(mixed[0])
    df = pl.DataFrame(pcap.Offline(str(mixed[0])).batches(columns=["ip_src", "dport"], batch_size=1000))
    assert df.height == len(exp)
    assert df["ip_src"].to_list() == [r["ip_src"] for r in exp]
    stream = pcap.Offline(str(mixed[0])).batches(columns=["ip_proto"])
    got = duckdb.sql("select ip_proto, count(*) as n from stream group by ip_proto order by ip_proto").fetchall()
    want = {}
    for r in exp:
        want[r["ip_proto"]] = want.get(r["ip_proto"], 0) + 1
    assert got == sorted(want.items(), key=lambda kv: (kv[0] is None, kv[0] or 0))


def test_address_columns_are_one_text_per_distinct_address_per_batch(synthetic):
    cols = ["eth_src", "eth_dst", "ip_src", "ip_dst"]
    exp = expected_rows(synthetic)
    reader = pa.RecordBatchReader.from_stream(pcap.Offline(str(synthetic)).batches(columns=cols, batch_size=1000))
    start = 0
    for b in reader:
        for name in cols:
            col = b[name]
            want = [r[name] for r in exp[start:start + b.num_rows]]
            assert col.to_pylist() == want, name
            # The dictionary holds each address of the batch once, and no
            # other (or one empty text when every row is null).
            texts = col.dictionary.to_pylist()
            assert sorted(texts) == sorted({w for w in want if w is not None}) or (texts == [""] and not any(want))
        start += b.num_rows
    assert start == len(exp)


def test_address_columns_read_the_same_in_pandas_polars_duckdb(mixed):
    pl = pytest.importorskip("polars")
    duckdb = pytest.importorskip("duckdb")
    pytest.importorskip("pandas")
    cols = ["eth_src", "ip_src", "ip_dst", "dport"]
    want = [tuple(r[c] for c in cols) for r in expected_rows(mixed[0])]

    def stream():
        return pcap.Offline(str(mixed[0])).batches(columns=cols, batch_size=100)

    df = pa.table(stream()).to_pandas()
    assert [tuple(None if v != v else v for v in row) for row in df.astype(object).itertuples(index=False)] == want
    assert [tuple(r.values()) for r in pl.DataFrame(stream()).to_dicts()] == want
    assert [tuple(r.values()) for r in pl.from_arrow(stream()).struct.unnest().to_dicts()] == want
    s = stream()
    assert duckdb.sql("select eth_src, ip_src, ip_dst, dport from s").fetchall() == want
    s = stream()
    assert duckdb.sql("select typeof(ip_src) from s limit 1").fetchall() == [("VARCHAR",)]


def test_batches_are_batch_size_rows():
    reader = pa.RecordBatchReader.from_stream(pcap.Offline(str(SAMPLE)).batches(columns=["len"], batch_size=4))
    sizes = [b.num_rows for b in reader]
    n = len(expected_rows(SAMPLE))
    assert sizes == [4] * (n // 4) + ([n % 4] if n % 4 else [])


def test_schema_types():
    s = pa.schema(pcap.Offline(str(SAMPLE)).batches(columns=ALL))
    assert s.field("ts").type == pa.timestamp("ns", tz="UTC")
    assert not s.field("ts").nullable
    addr = pa.dictionary(pa.int32(), pa.string())
    for name in ("eth_src", "eth_dst", "ip_src", "ip_dst"):
        assert s.field(name).type == addr and s.field(name).nullable, name
    assert s.field("pf_ifname").type == pa.string()
    assert s.field("sport").type == pa.uint16()
    assert s.field("tcp_seq").type == pa.uint32()
    assert s.field("raw").type == pa.large_binary()
    assert s.field("linktype").type == pa.int32()


def test_a_stream_is_consumed_once_and_says_so():
    s = pcap.Offline(str(SAMPLE)).batches()
    assert not s.consumed
    pa.table(s)
    assert s.consumed
    with pytest.raises(pcap.PcapError, match="already consumed: call batches\\(\\) again"):
        pa.table(s)
    assert "consumed" in repr(s)


def test_bad_arguments():
    f = pcap.Offline(str(SAMPLE))
    with pytest.raises(ValueError, match='unknown column "nope"; the columns are: ts, caplen'):
        f.batches(columns=["ts", "nope"])
    with pytest.raises(ValueError, match='column "ts" named twice'):
        f.batches(columns=["ts", "ts"])
    with pytest.raises(TypeError, match="not a string"):
        f.batches(columns="ts")
    with pytest.raises(ValueError, match="names no column"):
        f.batches(columns=[])
    for n in (0, -1, 2**24 + 1):
        with pytest.raises(ValueError, match="batch_size must be between 1 and 16777216, got %d" % n):
            f.batches(batch_size=n)
    with pytest.raises(pcap.PcapError, match="a Dead feed has no packets to read"):
        pcap.Dead(pcap.DLT_EN10MB, 65535).batches()
    f.close()
    with pytest.raises(pcap.PcapError, match="feed is closed"):
        f.batches()


def test_a_feed_closed_before_the_stream_is_read(mixed):
    f = pcap.Offline(str(mixed[0]))
    s = f.batches()
    f.close()
    with pytest.raises(OSError, match="feed is closed"):
        pa.table(s)


def test_a_stream_goes_on_where_the_feed_is(mixed):
    f = pcap.Offline(str(mixed[0]))
    f.loop(10, lambda *a: None)
    assert pa.table(f.batches(columns=["len"])).num_rows == len(mixed[1]) - 10


@pytest.mark.parametrize("seed", range(6))
def test_damaged_files_give_every_whole_record_then_a_clean_error(mixed, tmp_path, seed):
    data = Path(mixed[0]).read_bytes()
    rng = random.Random(seed)
    cut = rng.randrange(24 + 16, len(data) - 1)
    bad = tmp_path / "cut.pcap"
    bad.write_bytes(data[:cut])
    # What the feed itself reads: the whole records, then its error (or the end).
    whole, err = [], None
    f = pcap.Offline(str(bad))
    try:
        f.loop(0, lambda p, ts, n: whole.append(p))
    except pcap.PcapError as e:
        err = str(e)
    reader = pa.RecordBatchReader.from_stream(pcap.Offline(str(bad)).batches(columns=["raw"], batch_size=97))
    got, got_err = [], None
    try:
        for b in reader:
            got += b.column("raw").to_pylist()
    except OSError as e:
        got_err = str(e)
    assert got == whole
    if err is None:
        assert got_err is None
    else:
        assert got_err is not None and err in got_err
    # to_parquet writes the whole records, closes the file, then raises.
    dest = tmp_path / "cut.parquet"
    if err is None:
        assert table.to_parquet(bad, dest, columns=["raw"]) == len(whole)
    else:
        with pytest.raises(pcap.PcapError) as e:
            table.to_parquet(bad, dest, columns=["raw"])
        assert str(e.value) == err
    assert pq.read_table(dest).column("raw").to_pylist() == whole


def test_garbage_record_header(tmp_path, mixed):
    # A record claiming 2 GB after two good ones: both, then the error.
    data = bytearray(Path(mixed[0]).read_bytes())
    recs = mixed[1]
    off = 24 + sum(16 + len(r[0]) for r in recs[:2])
    data[off + 8:off + 12] = (0x7FFFFFF0).to_bytes(4, "little")
    bad = tmp_path / "garbage.pcap"
    bad.write_bytes(bytes(data))
    with pytest.raises(pcap.PcapError, match="garbage.pcap"):
        table.to_parquet(bad, tmp_path / "g.parquet", columns=["len"])
    assert pq.read_table(tmp_path / "g.parquet").num_rows == 2


def test_pcap2parquet_command(mixed, tmp_path):
    out = tmp_path / "out.parquet"
    r = subprocess.run([sys.executable, "-m", "openbsd.table", str(mixed[0]), str(out), "tcp", "-c", "ts,ip_src,dport"],
                       capture_output=True, text=True)
    assert r.returncode == 0, r.stderr
    n = len(expected_rows(mixed[0], "tcp"))
    assert r.stderr == "%d packets written to %s\n" % (n, out)
    assert pq.read_table(out).column_names == ["ts", "ip_src", "dport"]
    assert pq.read_table(out).num_rows == n
    r = subprocess.run([sys.executable, "-m", "openbsd.table", "-q", "-", str(out)],
                       input=Path(mixed[0]).read_bytes(), capture_output=True)
    assert (r.returncode, r.stderr) == (0, b"")
    assert pq.read_table(out).num_rows == len(mixed[1])
    r = subprocess.run([sys.executable, "-m", "openbsd.table", str(tmp_path / "missing.pcap"), str(out)],
                       capture_output=True, text=True)
    assert r.returncode == 1
    assert r.stderr.startswith("pcap2parquet: ") and "missing.pcap" in r.stderr
    r = subprocess.run([sys.executable, "-m", "openbsd.table", str(mixed[0]), str(out), "-c", "bogus"],
                       capture_output=True, text=True)
    assert r.returncode == 1 and 'unknown column "bogus"' in r.stderr


def test_pcap2parquet_draws_a_progress_bar_on_a_terminal(mixed, tmp_path):
    out = tmp_path / "out.parquet"
    master, slave = pty.openpty()
    try:
        p = subprocess.Popen([sys.executable, "-m", "openbsd.table", str(mixed[0]), str(out)], stderr=slave)
        os.close(slave)
        chunks = []
        while True:
            try:
                b = os.read(master, 4096)
            except OSError:
                break
            if not b:
                break
            chunks.append(b)
        assert p.wait() == 0
    finally:
        os.close(master)
    text = b"".join(chunks).decode()
    assert "[##############################] 100%% %d packets" % len(mixed[1]) in text
    assert text.endswith("%d packets written to %s\r\n" % (len(mixed[1]), out))


@pytest.mark.parametrize("threads", [2, 3, 0])
def test_threads_give_the_same_rows(mixed, synthetic, threads):
    for path in (mixed[0], synthetic):
        one = list(pa.RecordBatchReader.from_stream(pcap.Offline(str(path)).batches(columns=ALL, batch_size=500)))
        many = list(pa.RecordBatchReader.from_stream(
            pcap.Offline(str(path)).batches(columns=ALL, batch_size=500, threads=threads)))
        assert max(b.num_rows for b in many) == 500
        assert plain(pa.Table.from_batches(many)).equals(plain(pa.Table.from_batches(one)))


@pytest.mark.parametrize("threads", [2, 3])
def test_threads_decode_spans_of_a_mapped_file(mixed, synthetic, pcapng, threads):
    # Large batches: each thread walks and decodes a span of the file of
    # its own (rounds of one span per thread, the rows cut into batches in
    # file order); pcapng: records copied, whole batches decoded per thread.
    for path in (mixed[0], synthetic, pcapng):
        one = pa.table(pcap.Offline(str(path)).batches(columns=ALL))
        for size in (65536, 2500):
            many = list(pa.RecordBatchReader.from_stream(
                pcap.Offline(str(path)).batches(columns=ALL, batch_size=size, threads=threads)))
            assert max(b.num_rows for b in many) <= size
            got = pa.Table.from_batches(many)
            assert got.schema == one.schema and plain(got).equals(plain(one))


def _batches(path, threads, size, flt=None, columns=ALL):
    f = pcap.Offline(str(path))
    if flt:
        f.filter(flt)
    return list(pa.RecordBatchReader.from_stream(f.batches(columns=columns, batch_size=size, threads=threads)))


def _table(batches, columns=ALL):
    return pa.Table.from_batches(batches, schema=pa.schema(pcap.Offline(str(SAMPLE)).batches(columns=columns)))


@pytest.fixture(scope="module")
def big_mixed(mixed, tmp_path_factory):
    """The mixed capture's records eight times over (about 4 MB, snap length
    256): rounds of several spans of at least 64 KiB per thread."""
    recs = mixed[1] * 8
    return write_pcap(tmp_path_factory.mktemp("big") / "big.pcap", recs, snaplen=256)


@pytest.mark.parametrize("threads", [2, 3, 4])
def test_spans_give_the_rows_of_one_thread_in_order(big_mixed, synthetic, threads):
    for path in (big_mixed, synthetic):
        for size in (97, 1000, 7000, 65536):
            for flt in (None, "tcp or icmp6", "udp port 53"):
                one, many = _batches(path, 1, size, flt), _batches(path, threads, size, flt)
                # Batches of at most `size` rows: a span's last may be shorter.
                assert all(0 < b.num_rows <= size for b in many), (path, size, flt)
                assert plain(_table(many)).equals(plain(_table(one))), (path, size, flt)
                assert one or flt


@pytest.mark.parametrize("threads", [2, 3])
def test_spans_of_records_longer_than_spans(tmp_path, threads):
    # Records of 40-100 KB and of the largest snap length (longer than a
    # span thread's first buffer, and than the first spans planned): the
    # rows are the file's records, in order, from any batch size.
    rng = random.Random(threads)
    recs = []
    for i in range(240):
        n = 262144 if i % 5 == 0 else rng.randrange(40_000, 100_000)
        recs.append((rng.randbytes(n), (1_700_000_000 + i, i), n + i % 3))
    path = write_pcap(tmp_path / "long.pcap", recs, snaplen=262144)
    for size in (3, 8, 100):
        got = pa.table(pcap.Offline(str(path)).batches(columns=["raw", "len"], batch_size=size, threads=threads))
        assert got["raw"].to_pylist() == [r[0] for r in recs], size
        assert got["len"].to_pylist() == [r[2] for r in recs], size


def test_spans_leave_the_feed_after_the_last_row_handed_out(big_mixed):
    everything = pa.table(pcap.Offline(str(big_mixed)).batches(columns=["raw"]))["raw"].to_pylist()
    for size, k in ((1000, 3), (7000, 1), (333, 40)):
        f = pcap.Offline(str(big_mixed))
        f.filter("tcp")
        reader = pa.RecordBatchReader.from_stream(f.batches(columns=["raw"], batch_size=size, threads=2))
        got = [reader.read_next_batch() for _ in range(k)]
        del reader
        rest = []
        f.loop(0, lambda p, ts, n: rest.append(p))
        tcp = [r for b in _batches(big_mixed, 1, size, "tcp", ["raw"]) for r in b["raw"].to_pylist()]
        handed = [r for b in got for r in b["raw"].to_pylist()]
        assert len(handed) >= k and handed + rest == tcp
    # A stream read to its end leaves the feed at the end of the file.
    f = pcap.Offline(str(big_mixed))
    assert pa.table(f.batches(columns=["raw"], threads=2))["raw"].to_pylist() == everything
    assert f.ftell() == big_mixed.stat().st_size


@pytest.mark.parametrize("threads", [1, 2, 3])
def test_batches_follow_the_feed_moved_or_refiltered_between_them(big_mixed, threads):
    # Rows read ahead are dropped when the feed moved (a loop() between two
    # batches) or its filter changed: the next batch starts where the feed
    # is, with its filter, as with one thread.
    everything = []
    pcap.Offline(str(big_mixed)).loop(0, lambda p, ts, n: everything.append(p))
    f = pcap.Offline(str(big_mixed))
    r = pa.RecordBatchReader.from_stream(f.batches(columns=["raw"], batch_size=700, threads=threads))
    first = r.read_next_batch()["raw"].to_pylist()
    looped = []
    f.loop(5, lambda p, ts, n: looped.append(p))
    second = r.read_next_batch()["raw"].to_pylist()
    f.filter("udp")
    rest = [x for b in r for x in b["raw"].to_pylist()]
    m = len(first) + 5 + len(second)
    assert first + looped + second == everything[:m]
    g = pcap.Offline(str(big_mixed))
    g.loop(m, lambda *a: None)
    g.filter("udp")
    udp = []
    g.loop(0, lambda p, ts, n: udp.append(p))
    assert rest == udp and 0 < len(udp) < len(everything) - m


def _damaged(data, rng, kind):
    """`data` (a classic pcap file) cut short, or with a record header
    made bad: a capture length above the snap length (libpcap reads the
    record cut to the snap length), or above any snap length (an error)."""
    if kind == "cut":
        return data[:rng.randrange(24 + 16, len(data) - 1)]
    # Walk to a record in the middle of the file.
    off, target = 24, rng.randrange(len(data) // 4, len(data) * 3 // 4)
    while off < target:
        off += 16 + struct.unpack_from("<I", data, off + 8)[0]
    caplen = struct.unpack_from("<I", data, off + 8)[0]
    bad = bytearray(data)
    if kind == "long":
        # Above the snap length (256) but within the link type's largest.
        struct.pack_into("<II", bad, off + 8, caplen + 300, caplen + 300)
    else:
        struct.pack_into("<I", bad, off + 8, 0x7fff0000)
    return bytes(bad)


@pytest.mark.parametrize("kind", ["cut", "long", "huge"])
@pytest.mark.parametrize("seed", range(4))
def test_spans_of_a_damaged_file_give_what_one_thread_gives(big_mixed, tmp_path, kind, seed):
    bad = tmp_path / "bad.pcap"
    bad.write_bytes(_damaged(big_mixed.read_bytes(), random.Random(seed), kind))
    results = []
    for threads in (1, 2, 3):
        rows, err = [], None
        stream = pcap.Offline(str(bad)).batches(columns=["raw", "ts", "ip_src"], batch_size=500, threads=threads)
        try:
            for b in pa.RecordBatchReader.from_stream(stream):
                rows.append(b)
        except OSError as e:
            err = str(e)
        results.append(([b.num_rows for b in rows], _table(rows, ["raw", "ts", "ip_src"]), err))
    whole, err = [], None
    try:
        pcap.Offline(str(bad)).loop(0, lambda p, ts, n: whole.append(p))
    except pcap.PcapError as e:
        err = str(e)
    if kind == "huge":
        assert err is not None
    for sizes, t, e in results:
        assert e == results[0][2] and max(sizes, default=0) <= 500
        assert t["raw"].to_pylist() == whole
        assert plain(t).equals(plain(results[0][1]))
        assert (e is None) == (err is None) and (err is None or err in e)


def cut_parquet_by_a_signal(capture, alarm, dest, batch_size, threads):
    """to_parquet of `capture` ended by a signal once its first batch is
    written: the file must be closed with every row written so far, and
    the feed go on from the first row not written, promptly."""
    feed = pcap.Offline(str(capture))
    started = []

    def progress(rows):
        if not started:
            started.append(time.monotonic())
            alarm(0.02)
    with pytest.raises(Alarm, match="the alarm went off"):
        table.to_parquet(feed, dest, columns=["ts"], batch_size=batch_size, progress=progress, threads=threads)
    assert time.monotonic() - started[0] < 2
    alarm(0)
    written = pq.read_table(dest).column("ts").cast(pa.int64()).to_pylist()
    rest = pa.table(feed.batches(columns=["ts"], threads=threads)).column("ts").cast(pa.int64()).to_pylist()
    assert 0 < len(written) < 300_000
    assert [t // 10**9 for t in written + rest] == list(range(300_000))


def test_a_signal_ends_a_read_in_spans_and_loses_nothing(long_capture, alarm, tmp_path):
    cut_parquet_by_a_signal(long_capture, alarm, tmp_path / "cut.parquet", batch_size=40, threads=2)


def test_a_stream_the_garbage_collector_releases_inside_a_call_of_ours():
    # pyarrow drops a reader with the GIL released; the collector may run
    # that inside a loop() callback, where PyO3 takes the GIL for held.
    # Releasing the feed then crashed the interpreter.
    import gc
    reader = pa.RecordBatchReader.from_stream(pcap.Offline(str(SAMPLE)).batches(batch_size=1))
    reader.read_next_batch()
    cycle = [reader]
    cycle.append(cycle)
    del reader, cycle
    seen = []
    pcap.Offline(str(SAMPLE)).loop(1, lambda *a: seen.append(gc.collect()))
    assert len(seen) == 1 and seen[0] >= 1


@pytest.fixture(scope="module")
def long_capture(tmp_path_factory):
    """300,000 small UDP frames: a read of many batches."""
    path = tmp_path_factory.mktemp("long") / "long.pcap"
    frame = bytes(12) + b"\x08\x00" + bytes([0x45, 0, 0, 28, 0, 0, 0, 0, 64, 17, 0, 0, 10, 0, 0, 1, 10, 0, 0, 2]) + bytes(8)
    with open(path, "wb") as f:
        f.write(struct.pack("<IHHiIII", 0xA1B2C3D4, 2, 4, 0, 0, 65535, 1))
        f.write(b"".join(struct.pack("<IIII", i, 0, len(frame), len(frame)) + frame for i in range(300_000)))
    return path


class Alarm(Exception):
    pass


@pytest.fixture
def alarm():
    """Raises `Alarm` from a SIGALRM handler `seconds` after `alarm(seconds)`."""
    def raise_alarm(*_):
        raise Alarm("the alarm went off")
    old = signal.signal(signal.SIGALRM, raise_alarm)
    try:
        yield lambda seconds: signal.setitimer(signal.ITIMER_REAL, seconds)
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, old)


def test_a_signal_ends_a_long_read_promptly_and_loses_nothing(long_capture, alarm, tmp_path):
    pl = pytest.importorskip("polars")
    cut_parquet_by_a_signal(long_capture, alarm, tmp_path / "cut.parquet", batch_size=4, threads=1)
    # Inside a consumer, the handler's exception becomes the consumer's
    # error with its text (or is raised as it is, when the signal came
    # while the consumer's own Python code ran).
    alarm(0.02)
    with pytest.raises((Alarm, OSError)) as e:
        pa.table(pcap.Offline(str(long_capture)).batches(columns=["ts"], batch_size=4))
    alarm(0)
    assert (type(e.value), str(e.value)) in {(Alarm, "the alarm went off"), (OSError, "Io error: the alarm went off")}
    alarm(0.02)
    with pytest.raises((Alarm, pl.exceptions.ComputeError)) as e:
        pl.DataFrame(pcap.Offline(str(long_capture)).batches(columns=["ts"], batch_size=4))
    alarm(0)
    assert (type(e.value), str(e.value)) in {
        (Alarm, "the alarm went off"),
        (pl.exceptions.ComputeError, "got external error: Io error: the alarm went off")}


def test_an_error_inside_a_consumer_names_the_file(mixed, tmp_path):
    pl = pytest.importorskip("polars")
    duckdb = pytest.importorskip("duckdb")
    data = Path(mixed[0]).read_bytes()
    bad = tmp_path / "cut.pcap"
    bad.write_bytes(data[:len(data) // 2 + 7])
    with pytest.raises(pcap.PcapError) as err:
        pcap.Offline(str(bad)).loop(0, lambda *a: None)
    text = str(err.value)
    assert text.startswith(str(bad) + ": truncated dump file; tried to read ")
    with pytest.raises(OSError) as e:
        pa.table(pcap.Offline(str(bad)).batches())
    assert type(e.value) is OSError and str(e.value) == "Io error: " + text
    with pytest.raises(pl.exceptions.ComputeError) as e:
        pl.DataFrame(pcap.Offline(str(bad)).batches())
    assert str(e.value) == "got external error: Io error: " + text
    with pytest.raises(duckdb.InvalidInputException) as e:
        stream = pcap.Offline(str(bad)).batches()
        duckdb.sql("select count(*) from stream").fetchall()
    assert str(e.value) == "Invalid Input Error: reading the stream of the Python object 'stream' failed: Io error: " + text


def test_threads_on_a_damaged_file_and_bad_values(mixed, tmp_path):
    data = Path(mixed[0]).read_bytes()
    bad = tmp_path / "cut.pcap"
    bad.write_bytes(data[:len(data) * 2 // 3])
    whole = []
    with pytest.raises(pcap.PcapError) as err:
        pcap.Offline(str(bad)).loop(0, lambda p, ts, n: whole.append(p))
    reader = pa.RecordBatchReader.from_stream(pcap.Offline(str(bad)).batches(columns=["raw"], batch_size=100,
                                                                            threads=2))
    got = []
    with pytest.raises(OSError) as e:
        for b in reader:
            got += b.column("raw").to_pylist()
    assert got == whole and str(err.value) in str(e.value)
    dest = tmp_path / "t.parquet"
    with pytest.raises(pcap.PcapError):
        table.to_parquet(bad, dest, columns=["raw"], threads=2)
    assert pq.read_table(dest).column("raw").to_pylist() == whole
    for n in (-1, 65):
        with pytest.raises(ValueError, match="threads must be between 0 \\(one per core\\) and 64, got %d" % n):
            pcap.Offline(str(SAMPLE)).batches(threads=n)


def test_timestamps_keep_the_feed_precision(tmp_path):
    import struct
    recs = [(b"\x00" * 60, (1_700_000_000 + i, 123_456_789 + i), 60) for i in range(3)]
    data = struct.pack("<IHHiIII", pcaptools.MAGIC_NS, 2, 4, 0, 0, 65535, 1)
    for pkt, (sec, nsec), n in recs:
        data += struct.pack("<IIII", sec, nsec, len(pkt), n) + pkt
    path = tmp_path / "nano.pcap"
    path.write_bytes(data)
    nano = pa.table(pcap.Offline(str(path), precision="nano").batches(columns=["ts"]))["ts"]
    micro = pa.table(pcap.Offline(str(path)).batches(columns=["ts"]))["ts"]
    assert nano.cast(pa.int64()).to_pylist() == [s * 10**9 + f for _, (s, f), _ in recs]
    assert micro.cast(pa.int64()).to_pylist() == [s * 10**9 + f // 1000 * 1000 for _, (s, f), _ in recs]


def test_to_parquet_on_a_full_disk_names_the_file_and_stops(big_file, small_disk):
    """The file is written on a thread of its own: its write error still
    ends the conversion (no hang, no reading on to the end of the input)
    and says which file and why."""
    dest = small_disk / "full.parquet"
    with pytest.raises(pcap.PcapError) as e:
        table.to_parquet(big_file, dest, columns=["ts", "len"], compression="none")
    assert str(e.value) == f"{dest}: No space left on device"
    assert e.value.errno == errno.ENOSPC
