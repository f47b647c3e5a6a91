#!/usr/bin/env python3
"""Capture files in parts (docs/distributed.md), side by side in one run:

  * rows/s reading the file in parts on a dask.distributed LocalCluster of
    two worker processes vs one (same parts, same run);
  * the cost of finding every part's split points vs reading the file;
  * a top-talkers query (bytes by source address) on the two-process
    cluster vs the same query in pandas over feed.batches() in one process.

    python benches/bench_dask.py FILE [--partition-size 32MiB] [--runs 3]

The split-point cost is measured on the default plan (256MiB parts, the
size read_pcap uses) and on the cluster's plan.

Needs dask[distributed], pyarrow and pandas (the Makefile's venv has them).
"""

import argparse
import statistics
import sys
import time


def best_of(runs, fn):
    times = []
    for _ in range(runs):
        t = time.perf_counter()
        out = fn()
        times.append(time.perf_counter() - t)
    return statistics.median(times), out


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("file")
    ap.add_argument("--partition-size", default="32MiB")
    ap.add_argument("--runs", type=int, default=3)
    args = ap.parse_args(argv)

    import pandas as pd
    import pyarrow as pa
    from dask.distributed import Client, LocalCluster

    import openbsd.dask
    from openbsd import parts, pcap

    path = args.file
    plan = parts.plan(path, args.partition_size)
    cols = ["ts", "ip_src", "ip_dst", "sport", "dport", "len"]
    print(f"{path}: {len(plan)} parts of {args.partition_size}, columns {cols}")

    # Split points alone (both ends of every part, with the reads of the
    # bytes they look at) vs reading every part.
    t_read, rows = best_of(args.runs, lambda: sum(parts.read_part(*p, columns=cols).rows for p in plan))
    print(f"reading all parts, 1 process {t_read * 1e3:9.1f} ms   {rows / t_read / 1e6:6.2f} M rows/s")
    for size, pl in (("256MiB", parts.plan(path, "256MiB")), (args.partition_size, plan)):
        t_split, _ = best_of(args.runs, lambda: [parts.split_points(*p) for p in pl])
        print(f"split points, {len(pl):3} parts of {size:>7} {t_split * 1e3:9.1f} ms   "
              f"({100 * t_split / t_read:.2f} % of reading the file)")

    def count(client):
        df = openbsd.dask.read_pcap(path, columns=cols, partition_size=args.partition_size)
        return client.compute(df.map_partitions(len).sum()).result()

    rates = {}
    for n in (1, 2):
        with LocalCluster(n_workers=n, threads_per_worker=1, processes=True, dashboard_address=None) as c, \
                Client(c) as client:
            count(client)  # warm the workers (imports, page cache)
            t, got = best_of(args.runs, lambda: count(client))
            assert got == rows, (got, rows)
            rates[n] = rows / t
            print(f"LocalCluster, {n} worker process{'es' if n > 1 else ''}  {t * 1e3:9.1f} ms   "
                  f"{rates[n] / 1e6:6.2f} M rows/s")
            if n == 2:
                def top_dask():
                    df = openbsd.dask.read_pcap(path, columns=["ip_src", "len"], partition_size=args.partition_size)
                    return client.compute(df.groupby("ip_src")["len"].sum(split_out=1).nlargest(10)).result()
                t_top, top = best_of(args.runs, top_dask)
    print(f"2 workers / 1 worker         {rates[2] / rates[1]:9.2f} x")

    def top_pandas():
        df = pa.table(pcap.Offline(path).batches(columns=["ip_src", "len"])).to_pandas(types_mapper=pd.ArrowDtype)
        return df.groupby("ip_src")["len"].sum().nlargest(10)
    t_pd, want = best_of(args.runs, top_pandas)
    assert list(want.index) == list(top.index)
    print(f"top talkers, LocalCluster(2) {t_top * 1e3:9.1f} ms")
    print(f"top talkers, pandas over batches(), 1 process {t_pd * 1e3:9.1f} ms")
    return 0


if __name__ == "__main__":
    sys.exit(main())
