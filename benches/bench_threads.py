#!/usr/bin/env python3
"""Usage: bench_threads.py CAPTURE ROUNDS [1,2] [--threads-cpu]

Side by side in one process: pa.table(feed.batches(TABLE_COLUMNS, threads=N)),
N = 1 and 2 alternating, `rounds` times. Per read: wall M rows/s; CPU ns/row
(user+sys) of the process (all threads), of the consumer's thread, and, sampled
from /proc every 5 ms (10 ms ticks) with --threads-cpu (the sampler costs the
process 40-60 ns a row), of the thread that hands the spans over in file order
("pyopenbsd-spans") and of the N threads that decode them ("pyopenbsd-span");
the rest is the sampler's. "Cores busy": the process's CPU time over N times
the wall time of the read (1.0: no core ever idle)."""
import os, sys, time, statistics, threading, glob
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")
import pyarrow as pa
from openbsd import pcap
COLS = ["ts", "caplen", "len", "ip_src", "ip_dst", "ip_proto", "sport", "dport"]
TICK = os.sysconf("SC_CLK_TCK")
SAMPLE = "--threads-cpu" in sys.argv
args = [a for a in sys.argv if a != "--threads-cpu"]
path, rounds = args[1], int(args[2])
ths = [int(x) for x in (args[3] if len(args) > 3 else "1,2").split(",")]

def driver_cpu(box, stop):
    while not stop.is_set():
        for t in glob.glob("/proc/self/task/*"):
            try:
                name = open(t + "/comm").read().strip()
                if name in ("pyopenbsd-spans", "pyopenbsd-span"):
                    f = open(t + "/stat").read().rsplit(")", 1)[1].split()
                    box[t] = (name, (int(f[11]) + int(f[12])) / TICK)
            except OSError:
                pass
        time.sleep(0.005)

res = {t: [] for t in ths}
for r in range(rounds):
    for th in ths:
        f = pcap.Offline(path)
        box, stop = {}, threading.Event()
        s = threading.Thread(target=driver_cpu, args=(box, stop))
        if SAMPLE:
            s.start()
        w0, c0, t0 = time.perf_counter(), time.process_time(), time.thread_time()
        t = pa.table(f.batches(columns=COLS, threads=th))
        w, c, tt = time.perf_counter() - w0, time.process_time() - c0, time.thread_time() - t0
        stop.set()
        if SAMPLE:
            s.join()
        n = t.num_rows
        f.close(); del t
        d = sum(v for k, v in box.values() if k == "pyopenbsd-spans")
        e = sum(v for k, v in box.values() if k == "pyopenbsd-span")
        res[th].append((n / w / 1e6, c / n * 1e9, tt / n * 1e9, d / n * 1e9, e / n * 1e9))
print("load", os.getloadavg())
for th in ths:
    v = res[th]
    print(f"threads={th}: wall M rows/s " + " ".join(f"{x[0]:.2f}" for x in v)
          + f" | best {max(x[0] for x in v):.2f} median {statistics.median(x[0] for x in v):.2f}")
    print(f"   CPU ns/row, process      " + " ".join(f"{x[1]:4.0f}" for x in v) + f" | min {min(x[1] for x in v):.0f}")
    print(f"   CPU ns/row, consumer     " + " ".join(f"{x[2]:4.0f}" for x in v) + f" | min {min(x[2] for x in v):.0f}")
    print(f"   cores busy               " + " ".join(f"{x[1] * x[0] / 1e3 / th:4.2f}" for x in v))
    if th > 1 and SAMPLE:
        print(f"   CPU ns/row, spans driver " + " ".join(f"{x[3]:4.0f}" for x in v) + f" | min {min(x[3] for x in v):.0f}")
        print(f"   CPU ns/row, span threads " + " ".join(f"{x[4]:4.0f}" for x in v))
        print(f"   CPU ns/row, the rest     " + " ".join(f"{x[1]-x[2]-x[3]-x[4]:4.0f}" for x in v))
one = min(x[1] for x in res[ths[0]])
for th in ths[1:]:
    v = res[th]
    tot = min(x[1] for x in v)
    crit = min(x[4] / th for x in v) if SAMPLE else (tot - min(x[2] for x in v)) / th
    what = "decoding threads, each" if SAMPLE else "decoding threads, if even,"
    print(f"threads={th}: {what} {crit:.0f} ns/row; process {tot:.0f} ns/row over {th} cores = {tot/th:.0f};"
          f" bound on idle cores: {one / max(crit, tot / th):.2f}x one thread ({one:.0f} ns/row)")
