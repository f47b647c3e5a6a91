"""pdump: a tcpdump-like packet dumper built on openbsd.pcap and openbsd.packet.

    pdump                       read the sample capture bundled with the package
    pdump -r FILE [EXPR]        read a capture file (pcap or pcapng)
    pdump -i IFACE [EXPR]       capture live (default interface: lookupdev())
    pdump ... -w OUT            write the raw packets to OUT instead of printing
    pdump ... -w OUT --pcapng   ... as pcapng
    pdump --nano ...            nanosecond timestamps (printed, and written with -w)
    pdump -i IFACE --immediate-mode -B KIB -Q in|out|inout -j TYPE -I
                                tcpdump's capture options (see docs/pdump.md)
    pdump ... -e 'p["ip"].src'  print Python expressions of each decoded packet

One line per packet: the time, then the packet's repr (or the values of the
-e expressions). Errors print one line and exit non-zero; Ctrl-C stops and
prints the capture statistics, as tcpdump does.
"""

import argparse
import errno
import os
import sys
import time

from openbsd import pcap

SAMPLE = os.path.join(os.path.dirname(os.path.abspath(__file__)), "data", "sample.pcap")

#: How often (in packets) the progress bar is redrawn.
PROGRESS_EVERY = 4096


class UsageError(Exception):
    """A bad command line (exit status 2)."""


def parse_args(argv):
    ap = argparse.ArgumentParser(
        prog="pdump",
        description="Dump packets from a capture file or an interface (tcpdump-like).",
        epilog="With no -r and no -i, reads the sample capture bundled with pyopenbsd.",
    )
    src = ap.add_mutually_exclusive_group()
    src.add_argument("-r", dest="file", metavar="FILE", help="read packets from FILE (pcap or pcapng)")
    src.add_argument("-i", dest="interface", metavar="IFACE", nargs="?", const="",
                     help="capture on IFACE (default: lookupdev())")
    ap.add_argument("-c", dest="count", metavar="COUNT", type=int, default=0,
                    help="stop after COUNT packets")
    ap.add_argument("-w", dest="write", metavar="FILE", help="write raw packets to FILE instead of printing")
    ap.add_argument("-s", dest="snaplen", metavar="SNAPLEN", type=int, default=262144,
                    help="bytes to capture per packet on an interface (default 262144)")
    ap.add_argument("-n", dest="numeric", action="store_true",
                    help="do not resolve addresses (pdump never does; accepted for tcpdump habits)")
    ap.add_argument("-e", dest="exprs", metavar="EXPR", action="append", default=[],
                    help="a Python expression of the decoded packet p to print (repeatable)")
    ap.add_argument("--epoch", action="store_true", help="print times as seconds since the epoch")
    ap.add_argument("--nano", action="store_true",
                    help="nanosecond timestamps: printed with 9 digits, and kept by -w")
    ap.add_argument("--pcapng", action="store_true", help="with -w: write pcapng instead of pcap")
    live = ap.add_argument_group("capture options (with -i)")
    live.add_argument("--immediate-mode", dest="immediate", action="store_true",
                      help="hand packets over as they arrive (libpcap's immediate mode)")
    live.add_argument("-B", dest="buffer_kib", metavar="BUFFER_SIZE", type=int,
                      help="the kernel capture buffer, in KiB (libpcap's default: 2048)")
    live.add_argument("-Q", dest="direction", choices=("in", "out", "inout"),
                      help="capture only the packets received (in) or sent (out)")
    live.add_argument("-j", dest="tstamp_type", metavar="TSTAMP_TYPE",
                      help="the timestamp type (host, adapter, adapter_unsynced, ...)")
    live.add_argument("-I", dest="rfmon", action="store_true", help="monitor mode (802.11)")
    ap.add_argument("filter", nargs="*", help="a tcpdump filter expression")
    args = ap.parse_args(argv)
    if args.count < 0:
        raise UsageError("-c COUNT must be >= 0")
    if not 0 < args.snaplen < 2**31:
        raise UsageError("-s SNAPLEN must be between 1 and 2147483647")
    if args.buffer_kib is not None and not 0 < args.buffer_kib < 2**21:
        raise UsageError("-B BUFFER_SIZE must be between 1 and 2097151 (KiB)")
    live_only = [flag for flag, on in (("--immediate-mode", args.immediate), ("-B", args.buffer_kib is not None),
                                       ("-Q", args.direction), ("-j", args.tstamp_type), ("-I", args.rfmon)) if on]
    if live_only and args.interface is None:
        raise UsageError("%s: only when capturing on an interface (-i)" % ", ".join(live_only))
    if args.pcapng and args.write is None:
        raise UsageError("--pcapng: only with -w FILE")
    return args


def compile_exprs(exprs):
    compiled = []
    for e in exprs:
        try:
            compiled.append((e, compile(e, "<-e %s>" % e, "eval")))
        except SyntaxError as err:
            raise UsageError("bad -e expression %r: %s" % (e, err.msg)) from None
    return compiled


def format_time(sec, frac, epoch, nano=False):
    """The time of a packet; `frac` is microseconds, or nanoseconds with `nano`."""
    digits = "%09d" if nano else "%06d"
    if epoch:
        return ("%d." + digits) % (sec, frac)
    return ("%s." + digits) % (time.strftime("%H:%M:%S", time.localtime(sec)), frac)


def evaluate(compiled, packet):
    values = []
    for _, code in compiled:
        try:
            values.append(repr(eval(code, {"p": packet})))
        except KeyError:
            values.append("-")          # the packet has no such protocol
        except (Exception, SystemExit, GeneratorExit) as err:
            # any other mistake: shown on the packet's line, the dump goes on
            text = str(err).replace("\\", "\\\\").replace("\n", "\\n")
            values.append("<%s: %s>" % (type(err).__name__, text))
    return " ".join(values)


class Progress:
    """A progress bar on stderr for reading a file into -w (terminals only).

    The feed is read in chunks of PROGRESS_EVERY packets and the bar is drawn
    between chunks: a feed's methods cannot be called from inside its own
    callback (``ftell()`` there raises "feed is busy")."""

    def __init__(self, feed, path, stream):
        self.feed, self.stream = feed, stream
        try:
            self.size = os.path.getsize(path) if os.path.isfile(path) else 0
        except (OSError, ValueError):
            self.size = 0
        self.enabled = bool(self.size) and stream.isatty()

    def draw(self, count):
        done = min(1.0, self.feed.ftell() / self.size) if self.size else 1.0
        bar = "#" * int(done * 30)
        self.stream.write("\r[%-30s] %3d%% %d packets" % (bar, done * 100, count))
        self.stream.flush()

    def __call__(self, count):
        """Draws the bar when it is on (a callback between batches)."""
        if self.enabled:
            self.draw(count)

    def end(self):
        """Ends the bar's line when it is on."""
        if self.enabled:
            self.stream.write("\n")
            self.stream.flush()

    def copy(self, limit, write, counted):
        """feed.loop(limit, write), drawing the bar as it goes; ``write``
        counts the packets it writes in ``counted`` (a one-element list)."""
        while True:
            chunk = PROGRESS_EVERY if limit <= 0 else min(PROGRESS_EVERY, limit - counted[0])
            got = self.feed.loop(chunk, write)
            self.draw(counted[0])
            if got < chunk or (limit > 0 and counted[0] >= limit):
                break
        self.stream.write("\n")
        self.stream.flush()
        return counted[0]


def open_feed(args):
    precision = "nano" if args.nano else "micro"
    if args.interface is not None:
        iface = args.interface or pcap.lookupdev()
        live = pcap.Live(iface, snaplen=args.snaplen, promisc=1, timeout=100,
                         immediate=args.immediate, precision=precision,
                         buffer_size=None if args.buffer_kib is None else args.buffer_kib * 1024,
                         tstamp_type=args.tstamp_type, rfmon=args.rfmon)
        if args.direction:
            try:
                live.setdirection(args.direction)
            except BaseException:
                live.close()
                raise
        return live, "listening on %s" % iface
    if args.file == "":
        raise UsageError("-r FILE: the file name is empty")
    path = args.file if args.file is not None else SAMPLE
    feed = pcap.Offline(path, precision=precision)
    return feed, "reading from file %s" % path


def print_stats(feed, count, out):
    if isinstance(feed, pcap.Live):
        try:
            st = feed.stats()
        except pcap.PcapError:
            st = None
        out.write("%d packets captured\n" % count)
        if st is not None:
            out.write("%d packets received by filter\n" % st["ps_recv"])
            out.write("%d packets dropped by kernel\n" % st["ps_drop"])
    else:
        out.write("%d packets\n" % count)
    out.flush()


def run(args, out, err):
    compiled = compile_exprs(args.exprs)
    feed, banner = open_feed(args)
    counted = [0]       # packets handled so far (kept up to date for Ctrl-C)
    live = isinstance(feed, pcap.Live)
    with feed:
        if args.filter:
            feed.filter(" ".join(args.filter))
        fmt = "pcapng" if args.pcapng else "pcap"
        dumper = pcap.Dumper(feed, args.write, format=fmt) if args.write else None
        try:
            # Inside the try: a Ctrl-C right after the banner gets the statistics too.
            err.write("%s, link-type %d, snapshot length %d\n" % (banner, feed.datalink(), feed.snapshot()))
            err.flush()
            if dumper is not None:
                with dumper:
                    # Counted as written, so that Ctrl-C reports the right number.
                    def write(packet, tstamp, length):
                        dumper(packet, tstamp, length)
                        counted[0] += 1

                    progress = Progress(feed, args.file, err) if args.file else None
                    if progress is not None and progress.enabled:
                        progress.copy(args.count, write, counted)
                    else:
                        feed.loop(args.count, write)
            else:
                def show(packet, tstamp, length):
                    counted[0] += 1
                    body = evaluate(compiled, packet) if compiled else repr(packet)
                    out.write("%s %s\n" % (format_time(tstamp[0], tstamp[1], args.epoch, args.nano), body))

                feed.loop(args.count, show, interpret=1)
        except KeyboardInterrupt:
            err.write("\n")
            print_stats(feed, counted[0], err)
            return 0
        if live:
            print_stats(feed, counted[0], err)
    out.flush()
    return 0


def _quiet_stdout():
    """After a failed write to stdout: nothing more goes there (not even
    the interpreter's final flush, which would fail again)."""
    try:
        sys.stdout = open(os.devnull, "w")
    except OSError:
        pass


def main(argv=None):
    argv = sys.argv[1:] if argv is None else argv
    # A closed stderr (2>&-) is not a reason to fail; a closed stdout is
    # when packets are to be printed there.
    err = sys.stderr if sys.stderr is not None else open(os.devnull, "w")
    try:
        try:
            args = parse_args(argv)
        except SystemExit as e:          # argparse: -h, or a bad option (it printed why)
            return e.code if isinstance(e.code, int) else 2
        out = sys.stdout
        if out is None:
            if args.write is None or args.write == "-":
                err.write("pdump: standard output is closed\n")
                return 1
            out = open(os.devnull, "w")
        return run(args, out, err)
    except UsageError as e:
        err.write("pdump: %s\n" % e)
        return 2
    except pcap.PcapError as e:
        if e.errno == errno.EPIPE:
            # `pdump -w - | head -c 100`: the reader is done; like tcpdump.
            return 0
        err.write("pdump: %s\n" % e)
        return 1
    except BrokenPipeError:
        # `pdump | head`: stop quietly, like tcpdump.
        _quiet_stdout()
        return 0
    except OSError as e:
        # A failed write of the printed packets (a full disk, /dev/full).
        _quiet_stdout()
        err.write("pdump: standard output: %s\n" % (e.strerror or e))
        return 1
    except KeyboardInterrupt:
        return 130


if __name__ == "__main__":
    sys.exit(main())
