"""The decode workload of bench.py alone, on one file, in CPU time (3 runs),
for quick before/after checks of a change:

    python benches/decode_mixed.py FILE.pcap
"""

import os
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from bench import make_pyopenbsd_decode  # noqa: E402  (the same callback as the bench)


def main(path):
    run = make_pyopenbsd_decode()
    rates = []
    for _ in range(3):
        t = time.process_time()
        n, _check = run(path, None)
        rates.append(n / (time.process_time() - t) / 1e6)
    print("decode Mpps", sorted(rates))


if __name__ == "__main__":
    main(sys.argv[1])
