"""``python -m openbsd [FILE]``: print each decoded packet of a capture file,
one line per packet: its timestamp and its protocol stack (``repr``), e.g.
``1059135207.311077 [Eth: ...] [IP: ...] [TCP: 8012->22]`` (default file: the
small sample capture bundled with the package)."""

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
            while True:
                record = feed.next(1)
                if record is None:
                    break
                packet, (sec, usec), _length = record
                print(f"{sec}.{usec:06d} {packet!r}")
    except pcap.PcapError as e:
        print(f"pdump: {e}", file=sys.stderr)
        return 1
    except BrokenPipeError:
        return 0
    return 0


if __name__ == "__main__":
    sys.exit(main())
