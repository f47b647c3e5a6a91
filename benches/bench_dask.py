#!/usr/bin/env python3
"""Capture files in parts (docs/distributed.md), side by side in one run:

  * rows/s reading the file in parts on a dask.distributed LocalCluster of
    two worker processes vs one (same parts, same run; a fresh cluster of
    one worker and one of two alternating for --rounds rounds, the ratio
    the median of the rounds' ratios, as the machine drifts more than
    Dask's overhead): the query as
    written (`client.compute(q)`, which Dask does not fuse: one task per
    step and partition), the same query optimized first
    (`client.compute(q.optimize())`: one task per partition), and that on
    a cluster without Dask's own diagnostics (the worker profiler's 100
    samples a second, the 20 ms event-loop tick, the system monitor), with
    the CPU time each query costs the client and scheduler process and
    the worker processes (which the machine's load does not change much,
    unlike the wall-clock time);
  * the ceiling: the same parts read by two plain processes (no Dask)
    vs one;
  * the cost of finding every part's split points vs reading the file;
  * a top-talkers query (bytes by source address) on the two-process
    cluster vs the same query in pandas over feed.batches() in one process.

    python benches/bench_dask.py FILE [--partition-size 32MiB] [--runs 3] [--rounds 3]

The split-point cost is measured on the default plan (256MiB parts, the
size read_pcap uses) and on the cluster's plan.

Needs dask[distributed], pyarrow and pandas (the Makefile's venv has them).
"""

import argparse
import multiprocessing
import os
import resource
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


def _read_share(share, cols, start, q):
    """One plain process of the ceiling: waits for the start, reads its
    parts, reports their rows."""
    from openbsd import parts

    start.wait()
    q.put(sum(parts.read_part(*p, columns=cols).rows for p in share))


def _cpu(pids=None):
    """CPU seconds (user + system) so far of this process (the client, the
    schedulers and the nannies of the LocalClusters) and of the worker
    processes `pids` (all its children when None)."""
    import psutil

    me = resource.getrusage(resource.RUSAGE_SELF)
    procs = psutil.Process().children(recursive=True) if pids is None else [psutil.Process(p) for p in pids]
    workers = 0.0
    for p in procs:
        try:
            c = p.cpu_times()
        except psutil.Error:
            continue
        workers += c.user + c.system
    return me.ru_utime + me.ru_stime, workers


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("file")
    ap.add_argument("--partition-size", default="32MiB")
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--rounds", type=int, default=3, help="fresh clusters of 1 and 2 workers, alternating")
    args = ap.parse_args(argv)

    import pandas as pd
    import pyarrow as pa
    from dask.distributed import Client, LocalCluster

    import dask

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

    print(f"load average at the start: {os.getloadavg()[0]:.2f}")

    # The ceiling: plain processes, each reading its share of the parts.
    def procs(k):
        ctx = multiprocessing.get_context("fork")
        start, q = ctx.Barrier(k + 1), ctx.Queue()
        ps = [ctx.Process(target=_read_share, args=(plan[i::k], cols, start, q)) for i in range(k)]
        for p in ps:
            p.start()
        start.wait()
        t = time.perf_counter()
        got = sum(q.get() for _ in ps)
        t = time.perf_counter() - t
        for p in ps:
            p.join()
        assert got == rows, (got, rows)
        return t
    # One and two processes alternate, round by round, so that both see
    # the same minutes of the machine; the ratio is the median of the
    # rounds' ratios.
    bare = {1: [], 2: []}
    for _ in range(args.runs):
        for k in (1, 2):
            bare[k].append(procs(k))
    for k in (1, 2):
        t = statistics.median(bare[k])
        print(f"reading all parts, {k} plain process{'es' if k > 1 else ''} (no Dask) {t * 1e3:9.1f} ms   "
              f"{rows / t / 1e6:6.2f} M rows/s")
    print(f"2 plain processes / 1          {statistics.median(a / b for a, b in zip(bare[1], bare[2])):9.2f} x")

    def count(client, fused):
        q = openbsd.dask.read_pcap(path, columns=cols, partition_size=args.partition_size).map_partitions(len).sum()
        return client.compute(q.optimize() if fused else q).result()

    quiet = {"distributed.worker.profile.enabled": False, "distributed.admin.tick.interval": "1s",
             "distributed.admin.system-monitor.interval": "5s"}
    ways = {"as written": ({}, False), "optimized first": ({}, True),
            "optimized, quiet cluster": (quiet, True)}
    def on_cluster(n, config, fused, then=None):
        """Median seconds of `runs` queries on a fresh cluster of `n`
        worker processes (after one that warms them: imports, page cache),
        and the CPU per query of this process (client, scheduler, nannies)
        and of the workers; `then(client)` runs on the cluster afterwards."""
        with dask.config.set(config), \
                LocalCluster(n_workers=n, threads_per_worker=1, processes=True, dashboard_address=None) as c, \
                Client(c) as client:
            pids = list(client.run(os.getpid).values())
            count(client, fused)
            cpu0 = _cpu(pids)
            t, got = best_of(args.runs, lambda: count(client, fused))
            cpu1 = _cpu(pids)
            assert got == rows, (got, rows)
            if then is not None:
                then(client)
            return t, (cpu1[0] - cpu0[0]) / args.runs, (cpu1[1] - cpu0[1]) / args.runs

    top = {}

    def top_dask(client):
        def query():
            df = openbsd.dask.read_pcap(path, columns=["ip_src", "len"], partition_size=args.partition_size)
            return client.compute(df.groupby("ip_src")["len"].sum(split_out=1).nlargest(10)).result()
        top["t"], top["rows"] = best_of(args.runs, query)

    for way, (config, fused) in ways.items():
        # One cluster at a time (an idle one would take CPU from the
        # other), one worker and two alternating in `rounds` rounds: the
        # machine's minutes drift more than Dask's overhead does, so the
        # ratio is the median of the rounds' ratios.
        got = {1: [], 2: []}
        for r in range(args.rounds):
            for n in (1, 2):
                then = top_dask if (way, n, r) == ("as written", 2, 0) else None
                got[n].append(on_cluster(n, config, fused, then))
        for n in (1, 2):
            t = statistics.median(g[0] for g in got[n])
            print(f"LocalCluster, {n} worker process{'es' if n > 1 else ''}, {way:24} {t * 1e3:9.1f} ms   "
                  f"{rows / t / 1e6:6.2f} M rows/s   CPU per query: client+scheduler "
                  f"{statistics.median(g[1] for g in got[n]) * 1e3:5.0f} ms, workers "
                  f"{statistics.median(g[2] for g in got[n]) * 1e3:5.0f} ms")
        ratios = [a[0] / b[0] for a, b in zip(got[1], got[2])]
        print(f"2 workers / 1 worker, {way:24} {statistics.median(ratios):6.2f} x   "
              f"(rounds: {', '.join(f'{x:.2f}' for x in ratios)})")
    t_top, top = top["t"], top["rows"]

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
