"""``python -m openbsd [FILE]``: print one line per packet of a capture file
(default: the small sample capture bundled with the package)."""

import os
import sys

from openbsd import pcap

SAMPLE = os.path.join(os.path.dirname(os.path.abspath(__file__)), "data", "sample.pcap")


def main(argv=None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    path = argv[0] if argv else SAMPLE
    try:
        with pcap.Offline(path) as feed:
            print(f"reading from file {path}, link-type {feed.datalink()}, snapshot length {feed.snapshot()}")
            for packet, (sec, usec), length in feed:
                print(f"{sec}.{usec:06d} caplen {len(packet)} len {length}")
    except pcap.PcapError as e:
        print(f"pdump: {e}", file=sys.stderr)
        return 1
    except BrokenPipeError:
        return 0
    return 0


if __name__ == "__main__":
    sys.exit(main())
