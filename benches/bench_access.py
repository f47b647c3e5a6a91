#!/usr/bin/env python3
"""Usage: bench_access.py [CAPTURE] [--rounds N]

What the bytes of CAPTURE cost to get at, in the two page-cache states
bench.py measures (`warm_cache`: dropped and read once, large folios;
`scatter_cache`: cached 4 KiB at a time), beside the one-thread columnar
read (timed as bench.py times it) and the C floor in the same state:

- map: the CPU time of mapping the file window by window (16 MiB,
  `MAP_POPULATE`, as the fast reader maps) and unmapping each, nothing
  read;
- pread: the CPU time of reading the whole file with `pread` into a
  256 KiB buffer (the fast reader's buffer), nothing done with the bytes;
- read: `batches()` with one thread, wall time (median of N); and the
  same with `pread` throughout (`PYOPENBSD_NO_MMAP=1`);
- C floor: `benches/.build/cfloor --only decode` (bench.py builds it).

The one-thread read cannot take less than the work it does on bytes that
cost next to nothing to get at plus the cheapest way to get at them in
the 4 KiB state. Each way is taken with the read that gets its bytes that
way (a mapped read walks the file's pages; a read with `pread` walks a
buffer that stays in the cache, so its work on the bytes is not the
mapped read's):

    floor = min(read(once) - map(once) + map(4k),
                read with pread(once) - pread(once) + pread(4k))

bounds the one-thread read in the 4 KiB state, and `C floor / floor` the
best ratio to the C floor there.
"""
import json
import mmap
import os
import statistics
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import bench  # noqa: E402

WINDOW = 16 << 20


def cpu(fn):
    t = time.thread_time()
    fn()
    return time.thread_time() - t


def map_all(path):
    fd = os.open(path, os.O_RDONLY)
    try:
        size = os.fstat(fd).st_size
        for off in range(0, size, WINDOW):
            n = min(WINDOW, size - off)
            mmap.mmap(fd, n, flags=mmap.MAP_PRIVATE | mmap.MAP_POPULATE, prot=mmap.PROT_READ, offset=off).close()
    finally:
        os.close(fd)


def pread_all(path):
    fd = os.open(path, os.O_RDONLY)
    buf = memoryview(bytearray(1 << 18))
    try:
        off = 0
        while n := os.preadv(fd, [buf], off):
            off += n
    finally:
        os.close(fd)


def state(path, which, rounds, read, cfloor):
    print(f"{which}: " + (bench.scatter_cache if which == "4k" else bench.warm_cache)(path), flush=True)
    out = {"map": [], "pread": [], "read": [], "read with pread": [], "cfloor": []}
    for _ in range(rounds):
        out["map"].append(cpu(lambda: map_all(path)))
        out["pread"].append(cpu(lambda: pread_all(path)))
        for key in ("read", "read with pread"):
            if key == "read":
                os.environ.pop("PYOPENBSD_NO_MMAP", None)
            else:
                os.environ["PYOPENBSD_NO_MMAP"] = "1"  # read when the feed opens
            t0 = time.perf_counter()
            read(path, None)
            out[key].append(time.perf_counter() - t0)
        os.environ.pop("PYOPENBSD_NO_MMAP", None)
        if cfloor:
            res, _ = bench.run_cfloor(cfloor, path, 1, "decode", 600)
            if "decode" in res:
                out["cfloor"].append(res["decode"]["seconds"])
    return {k: statistics.median(v) for k, v in out.items() if v}


def main(argv=None):
    args = bench.capture_args(__doc__, 5, argv)
    cfloor, note = bench.build_cfloor(os.environ.get("CC", "cc"))
    if not cfloor:
        print(f"C floor: {note}")
    read = bench.make_batches(1)()
    read(args.capture, None)  # untimed: imports, pyarrow's set-up
    res = {w: state(args.capture, w, args.rounds, read, cfloor) for w in ("once", "4k")}
    for w, r in res.items():
        print(f"{w:>4}: " + "  ".join(f"{k} {v * 1e3:.1f} ms" for k, v in r.items()))
    once, k4 = res["once"], res["4k"]
    floor = min(once["read"] - once["map"] + k4["map"], once["read with pread"] - once["pread"] + k4["pread"])
    line = f"one thread in the 4 KiB state: at least {floor * 1e3:.1f} ms, read {res['4k']['read'] * 1e3:.1f} ms"
    if res["4k"].get("cfloor"):
        c = res["4k"]["cfloor"]
        line += f"; C floor {c * 1e3:.1f} ms: at best {c / floor:.2f}x the C floor, read {c / res['4k']['read']:.2f}x"
    print(line)
    print(json.dumps({"states": res, "floor": floor}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
