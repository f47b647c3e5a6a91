"""openbsd.dask.read_pcap and the part entry point (openbsd.parts.read_part)
as tables: every partition plan gives the rows of feed.batches() over the
whole file, on a real two-process dask.distributed LocalCluster too, with
local paths, file:// and memory:// URLs."""

import pickle
import subprocess
import sys
from pathlib import Path

import pytest

pa = pytest.importorskip("pyarrow")
pd = pytest.importorskip("pandas")
dd = pytest.importorskip("dask.dataframe")

import dask  # noqa: E402
import openbsd.dask  # noqa: E402
import pcaptools  # noqa: E402
from pcaptools import plain  # noqa: E402
from openbsd import parts, pcap  # noqa: E402
from openbsd.pcap import PcapError  # noqa: E402

REPO = Path(__file__).resolve().parent.parent


@pytest.fixture(scope="module")
def bench_file(tmp_path_factory):
    path = tmp_path_factory.mktemp("dask") / "bench.pcap"
    subprocess.run([sys.executable, str(REPO / "benches" / "gen_capture.py"), str(path), "--count", "8000"],
                   check=True, capture_output=True)
    return path


def whole_table(path, columns=None, filter=None):
    f = pcap.Offline(str(path))
    if filter:
        f.filter(filter)
    return pa.table(f.batches(columns=columns))


def as_frame(table):
    return table.to_pandas(types_mapper=pd.ArrowDtype)


@pytest.mark.parametrize("size", [100_000, 1_000_000, None])
def test_read_part_tables_equal_batches(bench_file, size):
    want = whole_table(bench_file)
    got = pa.concat_tables(pa.table(parts.read_part(*p)) for p in parts.plan(bench_file, size))
    assert got.num_rows == 8000
    assert got.schema == want.schema and plain(got).equals(plain(want))


def test_read_part_columns_filter_and_pickle(bench_file):
    cols = ["ts", "ip_src", "sport", "len"]
    want = whole_table(bench_file, cols, "udp")
    plan = parts.plan(bench_file, 500_000)
    # The entry point and its arguments travel by pickle to other engines.
    call = pickle.loads(pickle.dumps((parts.read_part, plan[1], cols, "udp")))
    assert call[0] is parts.read_part
    got = pa.concat_tables(pa.table(parts.read_part(p.path, p.start, p.end, cols, "udp")) for p in plan)
    assert got.column_names == cols
    assert got.schema == want.schema and plain(got).equals(plain(want))
    b = parts.read_part(*plan[0], columns=cols)
    pa.table(b)
    with pytest.raises(PcapError, match="already consumed"):
        pa.table(b)


def test_read_pcap_is_lazy_and_equals_batches(bench_file):
    df = openbsd.dask.read_pcap(str(bench_file), partition_size="1MiB")
    assert df.npartitions == -(-bench_file.stat().st_size // 2**20) == 5
    assert list(df.columns) == whole_table(bench_file).column_names
    got = df.compute(scheduler="sync").reset_index(drop=True)
    pd.testing.assert_frame_equal(got, as_frame(whole_table(bench_file)))


def test_read_pcap_is_one_task_per_partition(bench_file):
    # The partitions' strings are Arrow-backed already: no string
    # conversion step after the read (a distributed cluster does not fuse
    # steps, so each would be one more task per partition).
    df = openbsd.dask.read_pcap(str(bench_file), columns=["ip_src", "len"], partition_size="1MiB")
    assert dask.config.get("dataframe.convert-string") in (None, True)
    assert len(df.__dask_graph__()) == df.npartitions == 5
    # Addresses are Arrow dictionary-encoded strings (docs/tables.md).
    assert [str(t) for t in df.dtypes] == ["dictionary<values=string, indices=int32, ordered=0>[pyarrow]",
                                           "uint32[pyarrow]"]
    assert len(df.map_partitions(len).sum().__dask_graph__()) == 3 * 5 + 1


def test_read_pcap_projects_columns(bench_file):
    df = openbsd.dask.read_pcap(str(bench_file), partition_size="1MiB", filter="tcp")
    q = df[["ip_src", "len"]]
    reads = [e for e in q.optimize(fuse=False).expr.walk() if type(e).__name__.startswith("FromMap")]
    assert [sorted(e.operand("columns")) for e in reads] == [["ip_src", "len"]]
    got = q.compute(scheduler="sync").reset_index(drop=True)
    pd.testing.assert_frame_equal(got, as_frame(whole_table(bench_file, ["ip_src", "len"], "tcp")))


def test_read_pcap_globs_and_urls(bench_file, tmp_path):
    fsspec = pytest.importorskip("fsspec")
    data = bench_file.read_bytes()
    for i in range(2):
        (tmp_path / f"part{i}.pcap").write_bytes(data)
    df = openbsd.dask.read_pcap(str(tmp_path / "part*.pcap"), columns=["caplen"], partition_size="2MiB")
    assert df.npartitions == 2 * 3  # 4.5 MB each
    assert len(df.compute(scheduler="sync")) == 16000
    fsspec.filesystem("memory").pipe("/dask/b.pcap", data)
    df = openbsd.dask.read_pcap("memory://dask/b.pcap", columns=["ts", "len"], partition_size=700_000)
    got = df.compute(scheduler="threads").reset_index(drop=True)
    pd.testing.assert_frame_equal(got, as_frame(whole_table(bench_file, ["ts", "len"])))


def test_read_pcap_pcapng(bench_file, tmp_path):
    ng = pcaptools.editcap(bench_file, tmp_path / "b.pcapng", "pcapng")
    df = openbsd.dask.read_pcap(str(ng), columns=["ts", "ip_dst", "dport"], partition_size=800_000)
    assert df.npartitions > 3
    got = df.compute(scheduler="sync").reset_index(drop=True)
    pd.testing.assert_frame_equal(got, as_frame(whole_table(ng, ["ts", "ip_dst", "dport"])))


def test_importing_the_package_never_imports_dask():
    code = ("import sys, openbsd, openbsd.pcap, openbsd.packet, openbsd.parts; "
            "assert not any(m == 'dask' or m.startswith(('dask.', 'fsspec', 'pyarrow')) for m in sys.modules), "
            "sorted(m for m in sys.modules if m.startswith(('dask', 'fsspec', 'pyarrow')))")
    subprocess.run([sys.executable, "-c", code], check=True)


@pytest.fixture(scope="module")
def client():
    distributed = pytest.importorskip("dask.distributed")
    with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True,
                                  dashboard_address=None) as cluster, distributed.Client(cluster) as c:
        yield c


def test_local_cluster_two_processes(client, bench_file):
    assert len(client.scheduler_info()["workers"]) == 2
    url = f"file://{bench_file}"
    df = openbsd.dask.read_pcap(url, partition_size=400_000)
    got = client.compute(df).result().reset_index(drop=True)
    pd.testing.assert_frame_equal(got, as_frame(whole_table(bench_file)))
    # Both worker processes read partitions.
    seen = client.run(lambda: 1)
    assert len(seen) == 2


def test_local_cluster_top_talkers(client, bench_file):
    df = openbsd.dask.read_pcap(str(bench_file), columns=["ip_src", "len"], partition_size=400_000)
    top = client.compute(df.groupby("ip_src")["len"].sum().nlargest(5)).result()
    want = as_frame(whole_table(bench_file, ["ip_src", "len"])).groupby("ip_src")["len"].sum().nlargest(5)
    assert list(top.index) == list(want.index)
    assert list(top.astype("int64")) == list(want.astype("int64"))


def test_errors_reach_the_caller(client, tmp_path):
    recs = [(bytes(300), (1, 0), 300)] * 100
    data = pcaptools.pcap_bytes(recs)
    path = tmp_path / "cut.pcap"
    path.write_bytes(data[:-10])
    df = openbsd.dask.read_pcap(str(path), columns=["len"], partition_size=10_000)
    with pytest.raises(PcapError, match=r"cut\.pcap: truncated dump file; tried to read 300 captured bytes, only got 290"):
        client.compute(df).result()


def test_read_pcap_nano_precision(tmp_path):
    # Nanosecond fractions that are not whole microseconds, kept by
    # precision="nano" as Offline(path, precision="nano") keeps them.
    import random
    import struct

    rnd = random.Random(4)
    path = tmp_path / "ns.pcap"
    with open(path, "wb") as f:
        f.write(pcaptools.pcap_bytes([], nano=True))
        for i in range(3000):
            data = rnd.randbytes(rnd.randrange(60, 400))
            f.write(struct.pack("<IIII", 1_700_000_000 + i, rnd.randrange(10**9), len(data), len(data)) + data)
    want = pa.table(pcap.Offline(str(path), precision="nano").batches(columns=["ts", "len"]))
    df = openbsd.dask.read_pcap(str(path), columns=["ts", "len"], partition_size=100_000, precision="nano")
    got = df.compute(scheduler="threads")
    assert df.npartitions > 5
    assert list(got["ts"]) == list(as_frame(want)["ts"])
    micro = openbsd.dask.read_pcap(str(path), columns=["ts"], partition_size=100_000).compute(scheduler="threads")
    assert list(micro["ts"]) != list(got["ts"])
    assert list(micro["ts"]) == list(as_frame(pa.table(pcap.Offline(str(path)).batches(columns=["ts"])))["ts"])
