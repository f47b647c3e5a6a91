"""Capture tables: packets as Arrow columns and Parquet files, built in Rust.

    feed.batches(columns=None, batch_size=65536)   a stream of Arrow batches
    to_parquet(source, dest, ...)                  a capture file to Parquet
    pcap2parquet FILE OUT [EXPR]                   the same, from the shell

See docs/tables.md for the columns and their Arrow types. Nothing here needs
pyarrow: the batches go to pyarrow, polars or DuckDB through the Arrow
PyCapsule interface.
"""

import argparse
import os
import sys

from openbsd import _native, pcap
from openbsd.pdump import Progress

__all__ = ["COLUMNS", "BatchStream", "to_parquet", "main"]

#: Every column a table can have, in table order.
COLUMNS = (
    "ts", "caplen", "len", "linktype",
    "eth_src", "eth_dst", "eth_type", "vlan",
    "ip_version", "ip_src", "ip_dst", "ip_proto", "ip_ttl", "ip_len", "ip_flags", "ip_frag_offset",
    "sport", "dport", "tcp_flags", "tcp_seq", "tcp_ack", "tcp_window",
    "icmp_type", "icmp_code", "payload_len",
    "pf_action", "pf_reason", "pf_direction", "pf_rule", "pf_ifname",
    "raw",
)

BatchStream = pcap.BatchStream


def _open(source, filter):
    """The feed to read: `source` itself (a feed), or an `Offline` of the
    path `source`; `filter` (a tcpdump expression) applied to it."""
    if isinstance(source, pcap.Feed):
        feed, own = source, False
    else:
        feed, own = pcap.Offline(os.fspath(source)), True
    try:
        if filter:
            feed.filter(filter)
    except BaseException:
        if own:
            feed.close()
        raise
    return feed, own


def to_parquet(source, dest, columns=None, filter=None, compression="zstd",
               batch_size=65536, progress=None, threads=1):
    """Writes the packets of `source` (a capture file's path, or an open
    feed) to the Parquet file `dest`, one row per packet, and returns the
    number of rows written.

    `columns`: column names (default as ``feed.batches()``); `filter`: a
    tcpdump filter expression; `compression`: ``"zstd"`` or ``"none"``;
    `progress(rows)`: called after each batch; `threads`: batches decoded
    at once on that many threads (0: one per core). Memory stays bounded: the
    file is written as it is read. A capture file that is damaged or cut
    short gives a Parquet file of every whole record before the damage,
    then raises ``PcapError``.
    """
    feed, own = _open(source, filter)
    try:
        return _native._to_parquet(feed, os.fspath(dest), columns, batch_size, compression, progress, threads)
    finally:
        if own:
            feed.close()


def main(argv=None):
    """pcap2parquet: converts a capture file to Parquet (a progress bar on
    a terminal). Returns the exit status."""
    ap = argparse.ArgumentParser(
        prog="pcap2parquet",
        description="Convert a capture file (pcap or pcapng) to a Parquet table, one row per packet.",
    )
    ap.add_argument("file", help="the capture file to read (- for standard input)")
    ap.add_argument("out", help="the Parquet file to write")
    ap.add_argument("filter", nargs="*", help="a tcpdump filter expression")
    ap.add_argument("-c", dest="columns", metavar="COLS",
                    help="comma-separated columns (default: every column but raw); see docs/tables.md")
    ap.add_argument("-z", dest="compression", default="zstd", choices=["zstd", "none"],
                    help="compression (default zstd)")
    ap.add_argument("-j", dest="threads", metavar="N", type=int, default=1,
                    help="decode on N threads (0: one per core; default 1)")
    ap.add_argument("-q", dest="quiet", action="store_true", help="no progress bar, no summary")
    args = ap.parse_args(argv)
    columns = [c.strip() for c in args.columns.split(",")] if args.columns else None
    try:
        feed, _ = _open(args.file, " ".join(args.filter))
        try:
            bar = Progress(feed, args.file, sys.stderr)
            bar.enabled = bar.enabled and not args.quiet
            try:
                rows = _native._to_parquet(feed, args.out, columns, 65536, args.compression, bar, args.threads)
            finally:
                bar.end()
        finally:
            feed.close()
    except (pcap.PcapError, ValueError, TypeError) as e:
        print("pcap2parquet: %s" % e, file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("pcap2parquet: interrupted", file=sys.stderr)
        return 130
    if not args.quiet:
        print("%d packets written to %s" % (rows, args.out), file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
