#!/usr/bin/env python3
"""Usage: bench_halves.py [CAPTURE] [--rounds N]

What two cores give a columnar read of CAPTURE at best, against what
`batches(threads=2)` gets: side by side, in rounds whose order alternates,

- one process reads the whole file with one thread (`one`);
- two processes each read one half of it (the file cut in two at a record
  boundary, each half a capture of its own) with one thread, at once
  (`halves`: from the first start to the last end);
- one process reads the whole file with two threads (`threads=2`).

Each read is timed as bench.py times its columnar rows (every batch through
pyarrow, its sums computed). The halves are two independent readers with
nothing shared, no span hand-over and a consumer each: no design of two
threads in one process can beat them, so `one / halves` is the ceiling of
the two-thread goal on this machine, and `one / threads=2` how close the
threads come. Prints each round's ratios and their medians, and a JSON line.
"""
import json
import multiprocessing as mp
import os
import statistics
import struct
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import bench  # noqa: E402


def cut_in_halves(path):
    """Two captures next to `path` (`*.half-a.pcap`, `*.half-b.pcap`), its
    records up to the first record boundary past the middle and the rest,
    each with its file header; made again when older than `path`."""
    stem = path[:-5] if path.endswith(".pcap") else path
    a, b = stem + ".half-a.pcap", stem + ".half-b.pcap"
    mtime = os.stat(path).st_mtime
    if all(os.path.exists(x) and os.stat(x).st_mtime >= mtime for x in (a, b)):
        return a, b
    with open(path, "rb") as f:
        data = f.read()
    magic = data[:4]
    order = {b"\xd4\xc3\xb2\xa1": "<", b"\x4d\x3c\xb2\xa1": "<",
             b"\xa1\xb2\xc3\xd4": ">", b"\xa1\xb2\x3c\x4d": ">"}.get(magic)
    if order is None:
        raise SystemExit(f"{path}: not a classic pcap file")
    off, mid = 24, len(data) // 2
    while off < mid:
        off += 16 + struct.unpack_from(order + "I", data, off + 8)[0]
    for name, body in ((a, data[:off]), (b, data[:24] + data[off:])):
        with open(name + ".tmp", "wb") as f:
            f.write(body)
        os.replace(name + ".tmp", name)
    return a, b


def serve(conn, paths):
    """A reader process: reads what it is sent, answers with its times."""
    import gc
    readers = {t: bench.make_batches(t)() for t in (1, 2)}
    for p in paths:  # untimed: imports, pyarrow's set-up, first-touch memory
        for t in (1, 2):
            readers[t](p, None)
    conn.send("ready")
    while (msg := conn.recv()) is not None:
        path, threads = msg
        gc.collect()
        t0 = time.perf_counter()
        n, check = readers[threads](path, None)
        conn.send((t0, time.perf_counter(), n, check))


def main(argv=None):
    args = bench.capture_args(__doc__, 9, argv)
    whole = args.capture
    a, b = cut_in_halves(whole)
    for p in (whole, a, b):
        bench.warm_cache(p)
    ctx = mp.get_context("spawn")
    conns, procs = [], []
    for _ in range(2):
        mine, theirs = ctx.Pipe()
        p = ctx.Process(target=serve, args=(theirs, (whole, a, b)))
        p.start()
        conns.append(mine)
        procs.append(p)
    for c in conns:
        if c.recv() != "ready":
            raise SystemExit("a reader process did not start")
    times = {"one": [], "halves": [], "threads=2": []}
    total = None
    order = list(times)
    for r in range(args.rounds):
        for k in (order if r % 2 == 0 else order[::-1]):
            if k == "halves":
                conns[0].send((a, 1))
                conns[1].send((b, 1))
                x, y = conns[0].recv(), conns[1].recv()
                times[k].append(max(x[1], y[1]) - min(x[0], y[0]))
                n = x[2] + y[2]
            else:
                conns[0].send((whole, 1 if k == "one" else 2))
                t0, t1, n, _ = conns[0].recv()
                times[k].append(t1 - t0)
            if total is None:
                total = n
            elif n != total:
                raise SystemExit(f"{k} read {n} rows, {total} before")
    for c in conns:
        c.send(None)
    for p in procs:
        p.join()
    ceiling = [o / h for o, h in zip(times["one"], times["halves"])]
    threads = [o / t for o, t in zip(times["one"], times["threads=2"])]
    print(f"capture: {whole} ({total:,} packets); {args.rounds} rounds, order alternating; "
          f"{os.cpu_count()} CPUs")
    for k, v in times.items():
        print(f"{k:>10}: median {statistics.median(v) * 1e3:7.1f} ms  "
              f"(rounds: {', '.join(f'{x * 1e3:.1f}' for x in v)})")
    print(f"two processes on the halves / one: median {statistics.median(ceiling):.2f}x "
          f"(rounds: {', '.join(f'{x:.2f}' for x in ceiling)})")
    print(f"threads=2 / one:                   median {statistics.median(threads):.2f}x "
          f"(rounds: {', '.join(f'{x:.2f}' for x in threads)})")
    print(json.dumps({"packets": total, "times": times, "ceiling": statistics.median(ceiling),
                      "threads": statistics.median(threads)}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
