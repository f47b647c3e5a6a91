"""Live capture under a flood: does pyopenbsd's Live.loop drop more packets
than tcpdump on the same flood? (issue 7, goal 5)

Needs root. Builds a private network namespace with a veth pair
(10.213.99.1/30 on the host end, .2 inside), floods UDP from inside the
namespace to the host end with benches/flood.c (sendmmsg), and captures on
the host end, once with tcpdump -w /dev/null and once with
``Live(...).loop(0, cb)`` (a callback that only counts), same snap length,
same filter, same flood. Reports, per capturer: packets sent, captured,
ps_recv, ps_drop. Everything it creates is removed on exit. No traffic goes
anywhere but the veth pair.

    sudo python benches/live_drop.py [--count 2000000] [--runs 3] [--buffer-size BYTES ...]

Each ``--buffer-size`` adds a pyopenbsd run with ``Live(..., buffer_size=BYTES)``
(libpcap's default is 2 MiB), to see what the kernel buffer changes.
"""

import argparse
import json
import os
import signal
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
BUILD = os.path.join(HERE, ".build")
NS = "pyobsd-drop"
HOST_IF, NS_IF = "pyd-h", "pyd-n"
HOST_IP, NS_IP = "10.213.99.1", "10.213.99.2"
PORT = 9
SNAPLEN = int(os.environ.get("SNAPLEN", "262144"))
FILTER = "udp port %d" % PORT

CAPTURE_PY = r"""
import json, sys
from openbsd import pcap
size = int(sys.argv[4])
live = pcap.Live(sys.argv[1], snaplen=int(sys.argv[2]), promisc=1, timeout=1000,
                 **({"buffer_size": size} if size else {}))
live.filter(sys.argv[3])
n = [0]
def cb(p, ts, length):
    n[0] += 1
print("ready", flush=True)
try:
    live.loop(0, cb)
except KeyboardInterrupt:
    pass
st = live.stats()
print(json.dumps({"captured": n[0], "ps_recv": st["ps_recv"], "ps_drop": st["ps_drop"]}), flush=True)
"""


def sh(*cmd, check=True, **kw):
    return subprocess.run(cmd, check=check, capture_output=True, text=True, **kw)


def setup():
    teardown()
    sh("ip", "netns", "add", NS)
    sh("ip", "link", "add", HOST_IF, "type", "veth", "peer", "name", NS_IF)
    sh("ip", "link", "set", NS_IF, "netns", NS)
    sh("ip", "addr", "add", HOST_IP + "/30", "dev", HOST_IF)
    sh("ip", "link", "set", HOST_IF, "up")
    sh("ip", "netns", "exec", NS, "ip", "addr", "add", NS_IP + "/30", "dev", NS_IF)
    sh("ip", "netns", "exec", NS, "ip", "link", "set", NS_IF, "up")
    sh("ip", "netns", "exec", NS, "ip", "link", "set", "lo", "up")
    time.sleep(0.5)


def teardown():
    sh("ip", "link", "del", HOST_IF, check=False)
    sh("ip", "netns", "del", NS, check=False)


def build_flood():
    os.makedirs(BUILD, exist_ok=True)
    exe = os.path.join(BUILD, "flood")
    src = os.path.join(HERE, "flood.c")
    if not os.path.exists(exe) or os.path.getmtime(exe) < os.path.getmtime(src):
        sh("cc", "-O2", "-o", exe, src)
    return exe


def flood(exe, count):
    out = sh("ip", "netns", "exec", NS, exe, HOST_IP, str(PORT), str(count), "64").stdout
    return json.loads(out)


def run_tcpdump(exe, count):
    p = subprocess.Popen(
        ["tcpdump", "-i", HOST_IF, "-s", str(SNAPLEN), "-w", "/dev/null", FILTER],
        stderr=subprocess.PIPE, text=True,
    )
    time.sleep(1.0)  # tcpdump prints "listening" before it is ready; give it time
    sent = flood(exe, count)
    time.sleep(1.5)
    p.send_signal(signal.SIGINT)
    err = p.communicate(timeout=30)[1]
    res = {"sent": sent["sent"], "flood_pps": sent["pps"]}
    for line in err.splitlines():
        parts = line.split()
        if line.endswith("packets captured"):
            res["captured"] = int(parts[0])
        elif line.endswith("received by filter"):
            res["ps_recv"] = int(parts[0])
        elif line.endswith("dropped by kernel"):
            res["ps_drop"] = int(parts[0])
    return res


def run_pyopenbsd(exe, count, buffer_size=0):
    with tempfile.NamedTemporaryFile("w", suffix=".py", delete=False) as f:
        f.write(CAPTURE_PY)
    try:
        p = subprocess.Popen(
            [sys.executable, f.name, HOST_IF, str(SNAPLEN), FILTER, str(buffer_size)],
            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        )
        assert p.stdout.readline().strip() == "ready"
        time.sleep(0.5)
        sent = flood(exe, count)
        time.sleep(1.5)
        p.send_signal(signal.SIGINT)
        out, err = p.communicate(timeout=30)
        if p.returncode != 0:
            raise RuntimeError("capture failed: " + err)
        res = json.loads(out.strip().splitlines()[-1])
        res.update(sent=sent["sent"], flood_pps=sent["pps"])
        return res
    finally:
        os.unlink(f.name)


def median(xs):
    xs = sorted(xs)
    return xs[len(xs) // 2]


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--count", type=int, default=2_000_000)
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--json", help="also write the results to this file")
    ap.add_argument("--buffer-size", type=int, action="append", default=[],
                    help="also run pyopenbsd with Live(buffer_size=BYTES); repeatable")
    args = ap.parse_args()
    if os.geteuid() != 0:
        sys.exit("live_drop.py needs root (network namespaces and raw capture)")
    exe = build_flood()
    setup()
    # A UDP socket on the host end that never reads: datagrams are dropped
    # by its full buffer, silently (no ICMP port-unreachable back-scatter).
    import socket
    sink = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    sink.bind((HOST_IP, PORT))
    results = {"tcpdump": [], "pyopenbsd": []}
    for size in args.buffer_size:
        results["buf=%d" % size] = []
    try:
        for _ in range(args.runs):
            results["tcpdump"].append(run_tcpdump(exe, args.count))
            results["pyopenbsd"].append(run_pyopenbsd(exe, args.count))
            for size in args.buffer_size:
                results["buf=%d" % size].append(run_pyopenbsd(exe, args.count, size))
    finally:
        sink.close()
        teardown()
    print("flood of %d UDP datagrams (64-byte payload) per run, %d runs, medians:" % (args.count, args.runs))
    print("%-14s %10s %10s %10s %10s %8s %12s" % ("capturer", "sent", "captured", "ps_recv", "ps_drop", "drop %", "flood pps"))
    for name, runs in results.items():
        row = {k: median([r.get(k, 0) for r in runs]) for k in ("sent", "captured", "ps_recv", "ps_drop", "flood_pps")}
        drop = 100.0 * (row["sent"] - row["captured"]) / row["sent"] if row["sent"] else 0
        print("%-14s %10d %10d %10d %10d %7.2f%% %12.0f" % (
            name, row["sent"], row["captured"], row["ps_recv"], row["ps_drop"], drop, row["flood_pps"]))
    if args.json:
        with open(args.json, "w") as f:
            json.dump(results, f, indent=1)


if __name__ == "__main__":
    main()
