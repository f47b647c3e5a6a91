"""A pcapng input copied to pcapng keeps its interfaces, their options, the
interface of each packet, its timestamp in that interface's own units and
its options (issue 18) — read from a regular file, an anonymous pipe, a
FIFO written a few bytes at a time, or standard input.

The inputs are laid out here from the format's description
(``pcaptools.PcapngBuilder``); the oracles are tshark (``-T fields``:
interface id and name, the timestamp to the nanosecond, comments),
capinfos, and the bytes themselves: after the section header, a copy of a
file of this machine's byte order is the file, block for block.
"""

import os
import struct
import subprocess
import sys
import threading
import time

import pytest

import openbsd.pcap as pcap
from pcaptools import PcapngBuilder, native_endian, need, tshark_fields

ETHER = bytes.fromhex("ffffffffffff00112233445508004500") + bytes(range(44))
FIELDS = ("frame.interface_id", "frame.interface_name", "frame.time_epoch", "frame.comment", "frame.len", "frame.cap_len")
SEC = 1_700_000_000


def multi(b=None):
    """Three Ethernet interfaces of one snap length (libpcap 1.10 reads no
    other) with nanosecond, millisecond and 2^-20 s resolutions, names,
    descriptions and more options; packets on each, one with a comment and
    flags."""
    b = b or PcapngBuilder(native_endian())
    return b"".join([
        b.shb(),
        b.idb(1, 65535, (2, b"eth0"), (3, b"first port"), (9, bytes([9])), (12, b"OpenBSD 7.4")),
        b.idb(1, 65535, (2, b"eth1"), (9, bytes([3])), (8, 10**9, "Q")),
        b.idb(1, 65535, (2, b"em2"), (9, bytes([0x94])), (14, 0, "Q")),
        b.epb(0, SEC * 10**9 + 123456789, ETHER, 100, (1, b"hello"), (2, 1, "I")),
        b.epb(1, SEC * 1000 + 123, ETHER[:40], 60),
        b.epb(2, (SEC << 20) + 12345, ETHER),
        b.epb(0, (SEC + 1) * 10**9 + 999999999, ETHER),
        b.epb(1, (SEC + 2) * 1000 + 1, ETHER),
    ])

# What tshark reads from `multi()` (its own reader, not libpcap's).
MULTI = [
    ["0", "eth0", f"{SEC}.123456789", "hello", "100", "60"],
    ["1", "eth1", f"{SEC}.123000000", "", "60", "40"],
    ["2", "em2", f"{SEC}.011773109", "", "60", "60"],
    ["0", "eth0", f"{SEC + 1}.999999999", "", "60", "60"],
    ["1", "eth1", f"{SEC + 2}.001000000", "", "60", "60"],
]

# Our section header block: 28 bytes, shb_userappl "pyopenbsd" (4 + 12), end (4).
OUR_SHB = 48


@pytest.fixture
def multi_file(tmp_path):
    path = tmp_path / "multi.pcapng"
    path.write_bytes(multi())
    return path


# How an input is read: the file itself; an anonymous pipe (written whole
# before it is opened); a FIFO a thread writes `TRICKLE` bytes at a time,
# so that libpcap reads it in many pieces and the bytes of the blocks it
# read are gone from the stream's buffer long before the copy's end.
KINDS = ["file", "pipe", "fifo"]
TRICKLE = 24


def writer(path_or_fd, data, piece, pause=0.0005, ready=None):
    """Writes `data` to a FIFO path (opening it waits for the reader) or a
    pipe descriptor, `piece` bytes at a time, on a thread of its own;
    `ready` (an Event), when given, is waited on after the first
    `len(ready.head)` bytes."""
    def run():
        fd = os.open(path_or_fd, os.O_WRONLY) if not isinstance(path_or_fd, int) else path_or_fd
        try:
            at = 0
            while at < len(data):
                if ready is not None and at == ready.head:
                    ready.wait(30)
                end = min(at + piece, len(data))
                if ready is not None and at < ready.head:
                    end = min(end, ready.head)
                os.write(fd, data[at:end])
                at = end
                if pause:
                    time.sleep(pause)
        finally:
            os.close(fd)
    t = threading.Thread(target=run, daemon=True)
    t.start()
    return t


def offline(kind, path, **kw):
    """An Offline reading `path` as `kind` (see `KINDS`)."""
    if kind == "file":
        return pcap.Offline(path, **kw)
    data = path.read_bytes()
    if kind == "pipe":
        r, w = os.pipe()
        writer(w, data, len(data), pause=0)
        try:
            return pcap.Offline(f"/dev/fd/{r}", **kw)
        finally:
            os.close(r)
    fifo = path.with_name(path.name + f".{len(os.listdir(path.parent))}.fifo")
    os.mkfifo(fifo)
    writer(fifo, data, TRICKLE)
    return pcap.Offline(fifo, **kw)


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("precision", ["micro", "nano"])
def test_a_copy_keeps_interfaces_ids_timestamps_and_options(multi_file, tmp_path, precision, kind):
    assert tshark_fields(multi_file, *FIELDS) == MULTI
    out = tmp_path / "copy.pcapng"
    f = offline(kind, multi_file, precision=precision)
    with pcap.Dumper(f, out, format="pcapng") as d:
        assert f.loop(0, d) == 5
    assert tshark_fields(out, *FIELDS) == MULTI
    # Block for block what was read: every option of every interface and
    # packet, the timestamps in their own units.
    assert out.read_bytes()[OUR_SHB:] == multi_file.read_bytes()[28:]


@pytest.mark.parametrize("kind", KINDS)
def test_capinfos_sees_the_same_interfaces(multi_file, tmp_path, kind):
    need("capinfos")
    out = tmp_path / "copy.pcapng"
    f = offline(kind, multi_file)
    with pcap.Dumper(f, out, format="pcapng") as d:
        f.loop(0, d)

    def interfaces(path):
        text = subprocess.run(["capinfos", "-I", str(path)], capture_output=True, text=True, check=True).stdout
        return text[text.index("Number of interfaces"):]
    assert interfaces(out) == interfaces(multi_file)
    assert "Time ticks per second = 1048576" in interfaces(out)


@pytest.mark.parametrize("kind", KINDS)
def test_a_big_endian_input_is_copied_in_this_machines_order(tmp_path, kind):
    src = tmp_path / "be.pcapng"
    src.write_bytes(multi(PcapngBuilder(">")))
    assert tshark_fields(src, *FIELDS) == MULTI
    out = tmp_path / "copy.pcapng"
    f = offline(kind, src)
    with pcap.Dumper(f, out, format="pcapng") as d:
        f.loop(0, d)
    assert tshark_fields(out, *FIELDS) == MULTI
    assert tshark_fields(out, "frame.interface_description", "frame.packet_flags") == \
        tshark_fields(src, "frame.interface_description", "frame.packet_flags")
    same = tmp_path / "native.pcapng"
    same.write_bytes(multi())
    assert out.read_bytes()[OUR_SHB:] == same.read_bytes()[28:]


@pytest.mark.parametrize("kind", KINDS)
def test_iteration_and_next_copy_as_loop_does(multi_file, tmp_path, kind):
    """The Dumper learns the interface of the packet the feed handed out
    last, however it was read; a filter skips packets, not interfaces."""
    out = tmp_path / "copy.pcapng"
    f = offline(kind, multi_file, precision="nano")
    with pcap.Dumper(f, out, format="pcapng") as d:
        d(*f.next())
        for pkt, ts, length in f:
            if len(pkt) == 60:
                d(pkt, ts, length)
    assert tshark_fields(out, *FIELDS) == [MULTI[0]] + MULTI[2:]
    out2 = tmp_path / "filtered.pcapng"
    f = offline(kind, multi_file)
    f.filter("len > 60")
    with pcap.Dumper(f, out2, format="pcapng") as d:
        assert f.loop(0, d) == 1
    assert tshark_fields(out2, *FIELDS) == [MULTI[0]]
    assert len(tshark_fields(out2, "frame.interface_id")) == 1
    assert subprocess.run(["capinfos", "-I", str(out2)], capture_output=True, text=True).stdout.count("Interface #") == 3


@pytest.mark.parametrize("kind", KINDS)
def test_a_dumper_opened_mid_file_or_in_the_callback(multi_file, tmp_path, kind):
    """A Dumper opened late gets every interface libpcap read before; one
    opened in the feed's callback also gets the packet being handed out on
    its own interface, with its timestamp in that interface's units and
    its options (the trace walks to where libpcap stands when it starts)."""
    f = offline(kind, multi_file, precision="nano")
    f.next()
    f.next()
    late = tmp_path / "late.pcapng"
    with pcap.Dumper(f, late, format="pcapng") as d:
        f.loop(0, d)
    assert tshark_fields(late, *FIELDS) == MULTI[2:]
    assert subprocess.run(["capinfos", "-I", str(late)], capture_output=True, text=True).stdout.count("Interface #") == 3

    for precision in ("micro", "nano"):
        inner = tmp_path / f"inner-{precision}.pcapng"
        f = offline(kind, multi_file, precision=precision)
        dumpers = []

        def cb(pkt, ts, length):
            if not dumpers:
                dumpers.append(pcap.Dumper(f, inner, format="pcapng"))   # the feed is busy: its twin
            dumpers[0](pkt, ts, length)
        f.loop(0, cb)
        dumpers[0].close()
        assert tshark_fields(inner, *FIELDS) == MULTI
        assert inner.read_bytes()[OUR_SHB:] == multi_file.read_bytes()[28:]

    # Opened in the callback of the second packet (eth1, millisecond
    # ticks): that packet keeps its interface and ticks too.
    inner = tmp_path / "second.pcapng"
    f = offline(kind, multi_file)
    dumpers, seen = [], []

    def cb2(pkt, ts, length):
        seen.append(1)
        if len(seen) == 2:
            dumpers.append(pcap.Dumper(f, inner, format="pcapng"))
        if dumpers:
            dumpers[0](pkt, ts, length)
    f.loop(0, cb2)
    dumpers[0].close()
    assert tshark_fields(inner, *FIELDS) == MULTI[1:]


@pytest.mark.parametrize("kind", KINDS)
def test_a_packet_the_feed_did_not_hand_out_goes_to_the_first_interface(multi_file, tmp_path, kind):
    """A packet that is not the one read last (other lengths, another
    timestamp) has no interface of its own: it goes to interface 0, its
    timestamp in that interface's units."""
    out = tmp_path / "copy.pcapng"
    f = offline(kind, multi_file, precision="nano")
    with pcap.Dumper(f, out, format="pcapng") as d:
        pkt, ts, length = f.next()
        f.next()                                   # on eth1
        d(pkt, ts, length, comment="again")        # not the last one read: eth0 all the same
        d(b"\x01" * 20, (SEC + 5, 7), 20)
    assert tshark_fields(out, *FIELDS) == [
        ["0", "eth0", f"{SEC}.123456789", "again", "100", "60"],
        ["0", "eth0", f"{SEC + 5}.000000007", "", "20", "20"],
    ]


@pytest.mark.parametrize("kind", KINDS)
def test_a_packet_keeps_its_options_and_gets_the_comment_given(multi_file, tmp_path, kind):
    out = tmp_path / "copy.pcapng"
    f = offline(kind, multi_file)
    with pcap.Dumper(f, out, format="pcapng") as d:
        pkt, ts, length = f.next()
        d(pkt, ts, length, comment="mine")
    assert tshark_fields(out, "frame.comment", "frame.packet_flags") == [["hello,mine", "0x00000001"]]


@pytest.mark.parametrize("kind", KINDS)
def test_two_link_types_are_refused_as_libpcap_refuses_them(tmp_path, kind):
    """libpcap 1.10 reads no pcapng file whose interfaces differ in link
    type or snap length: neither reading nor copying such a file goes past
    the second interface; the error names the file."""
    b = PcapngBuilder(native_endian())
    src = tmp_path / "two.pcapng"
    src.write_bytes(b.shb() + b.idb(1, 65535) + b.epb(0, 5, ETHER) + b.idb(101, 65535) + b.epb(1, 6, ETHER[14:]))
    assert tshark_fields(src, "frame.interface_id", "frame.encap_type") == [["0", "1"], ["1", "7"]]
    f = offline(kind, src)
    out = tmp_path / "copy.pcapng"
    d = pcap.Dumper(f, out, format="pcapng")
    with pytest.raises(pcap.PcapError) as e:
        f.loop(0, d)
    assert str(e.value) == f"{f.filename}: an interface has a type 101 different from the type of the first interface"
    d.close()
    assert tshark_fields(out, "frame.interface_id", "frame.encap_type") == [["0", "1"]]


def test_a_classic_input_still_gets_one_interface_of_the_feed(tmp_path):
    from pcaptools import SAMPLE
    out = tmp_path / "copy.pcapng"
    f = pcap.Offline(SAMPLE)
    with pcap.Dumper(f, out, format="pcapng") as d:
        n = f.loop(0, d)
    assert len(tshark_fields(out, "frame.interface_id")) == n
    assert {r[0] for r in tshark_fields(out, "frame.interface_id")} == {"0"}


def test_fseek_back_and_copy_again(multi_file, tmp_path):
    """ftell()/fseek() are libpcap's, as before; after a seek back the
    packets copied again keep their interfaces."""
    f = pcap.Offline(multi_file, precision="nano")
    offsets = [f.ftell()]
    for _ in f:
        offsets.append(f.ftell())
    data = multi_file.read_bytes()
    # the offset after each block: the section header, three interfaces,
    # then packets (libpcap reads the first interface when it opens the
    # file, the others with the first packet)
    ends, at = [], 0
    while at < len(data):
        at += struct.unpack("=I", data[at + 4:at + 8])[0]
        ends.append(at)
    assert offsets == [ends[1]] + ends[4:]
    out = tmp_path / "copy.pcapng"
    with pcap.Dumper(f, out, format="pcapng") as d:
        f.fseek(offsets[1])
        assert f.loop(2, d) == 2
        f.fseek(offsets[0])
        assert f.loop(0, d) == 5
    assert tshark_fields(out, *FIELDS) == MULTI[1:3] + MULTI


COPY_STDIN = """\
import sys
from openbsd import pcap
f = pcap.Offline("-", precision=sys.argv[2])
if sys.argv[3] == "loop":
    with pcap.Dumper(f, sys.argv[1], format="pcapng") as d:
        print(f.loop(0, d))
else:
    # opened in the feed's callback, on the first packet
    dumpers = []
    def cb(pkt, ts, length):
        if not dumpers:
            dumpers.append(pcap.Dumper(f, sys.argv[1], format="pcapng"))
        dumpers[0](pkt, ts, length)
    print(f.loop(0, cb))
    dumpers[0].close()
"""


def copy_stdin(data, out, precision="nano", how="loop", piece=None):
    """Copies `data`, given as standard input of a fresh interpreter
    (written whole, or `piece` bytes at a time), to pcapng `out`; returns
    what the script printed (the count)."""
    p = subprocess.Popen([sys.executable, "-c", COPY_STDIN, str(out), precision, how],
                         stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    piece = piece or len(data)
    for at in range(0, len(data), piece):
        p.stdin.write(data[at:at + piece])
        p.stdin.flush()
        if piece < len(data):
            time.sleep(0.0005)
    p.stdin.close()
    stdout, stderr = p.stdout.read(), p.stderr.read()
    assert (p.wait(60), stderr) == (0, b"")
    return stdout


@pytest.mark.parametrize("piece", [None, TRICKLE])
@pytest.mark.parametrize("how", ["loop", "callback"])
def test_a_pcapng_copy_from_standard_input_is_the_files_copy(multi_file, tmp_path, how, piece):
    """From standard input (another process writing it whole, or a few
    bytes at a time) the copy keeps what a copy of the file keeps: every
    interface and its options, each packet's interface, ticks and options,
    block for block; a Dumper opened in the callback too."""
    out = tmp_path / "copy.pcapng"
    assert copy_stdin(multi_file.read_bytes(), out, how=how, piece=piece) == b"5\n"
    assert tshark_fields(out, *FIELDS) == MULTI
    assert out.read_bytes()[OUR_SHB:] == multi_file.read_bytes()[28:]


def long_input(b, packets=30_000):
    """An input longer than a stream's buffer (1 MiB) with interfaces
    described along the way: after the first packets, far into it, and in
    a second section; comments on some packets."""
    blocks = [b.shb(), b.idb(1, 65535, (2, b"a0"), (9, bytes([9])))]
    for i in range(packets):
        if i == 7:
            blocks.append(b.idb(1, 65535, (2, b"a1"), (9, bytes([3]))))
        if i == packets // 2:
            blocks.append(b.idb(1, 65535, (2, b"a2"), (9, bytes([0x94]))))
        if i == packets * 3 // 4:
            blocks += [b.shb(), b.idb(1, 65535, (2, b"b0"))]
        iface = i % (1 if i < 7 else 2 if i < packets // 2 else 3 if i < packets * 3 // 4 else 1)
        opts = [(1, f"p{i}".encode())] if i % 997 == 0 else []
        blocks.append(b.epb(iface, 1_700_000_000_000 + i * 7, ETHER[:40 + i % 20], 60, *opts))
    return b"".join(blocks)


@pytest.mark.parametrize("kind", ["pipe", "fifo", "stdin"])
def test_a_long_stream_is_copied_as_its_file_is(tmp_path, kind):
    """Past the stream's buffer, the interfaces libpcap read long ago are
    still known: the copy of the stream is byte for byte the copy of the
    file (which tshark reads as it reads the input)."""
    src = tmp_path / "long.pcapng"
    src.write_bytes(long_input(PcapngBuilder(native_endian())))
    assert src.stat().st_size > 2 << 20
    want = tmp_path / "file-copy.pcapng"
    f = pcap.Offline(src, precision="nano")
    with pcap.Dumper(f, want, format="pcapng") as d:
        assert f.loop(0, d) == 30_000
    fields = ("frame.interface_id", "frame.interface_name", "frame.time_epoch", "frame.comment")
    # (tshark misnumbers the interfaces of the input's second section: the
    # first three quarters only.)
    assert tshark_fields(want, *fields)[:22_500] == tshark_fields(src, *fields)[:22_500]
    assert {r[1] for r in tshark_fields(want, *fields)[22_500:]} == {"b0"}
    out = tmp_path / "copy.pcapng"
    if kind == "stdin":
        assert copy_stdin(src.read_bytes(), out, piece=4000) == b"30000\n"
    else:
        f = offline(kind, src, precision="nano") if kind == "pipe" else None
        if kind == "fifo":
            fifo = tmp_path / "long.fifo"
            os.mkfifo(fifo)
            writer(fifo, src.read_bytes(), 4000, pause=0)
            f = pcap.Offline(fifo, precision="nano")
        with pcap.Dumper(f, out, format="pcapng") as d:
            assert f.loop(0, d) == 30_000
    assert out.read_bytes() == want.read_bytes()


def test_a_dumper_opened_while_another_thread_waits_on_the_stream(multi_file, tmp_path):
    """A Dumper opened from another thread while the feed waits for the
    stream (its read runs without the GIL) does not touch the stream's
    state meanwhile: it starts from the interface libpcap read when it
    opened the stream, and learns the others with the next packet."""
    data = multi_file.read_bytes()
    head = 28 + struct.unpack("=I", data[28 + 4:28 + 8])[0]      # the section header, the first interface
    fifo = tmp_path / "wait.fifo"
    os.mkfifo(fifo)
    go = threading.Event()
    go.head = head
    writer(fifo, data, TRICKLE, ready=go)
    f = pcap.Offline(fifo, precision="nano")
    dumpers, done = [], []

    def cb(pkt, ts, length):
        dumpers[0](pkt, ts, length)
    reader = threading.Thread(target=lambda: done.append(f.loop(0, cb)))
    out = tmp_path / "copy.pcapng"
    reader.start()
    time.sleep(0.3)                      # the read waits for the writer
    with pytest.raises(pcap.PcapError, match="busy"):
        f.next()
    dumpers.append(pcap.Dumper(f, out, format="pcapng"))
    go.set()
    reader.join(30)
    assert done == [5]
    dumpers[0].close()
    assert tshark_fields(out, *FIELDS) == MULTI
    assert out.read_bytes()[OUR_SHB:] == data[28:]


@pytest.mark.parametrize("kind", KINDS)
def test_a_file_of_two_sections_is_copied_as_one(tmp_path, kind):
    """The second section's interfaces follow the first's, numbered on;
    a seek back into the first section finds its interfaces again."""
    b = PcapngBuilder(native_endian())
    src = tmp_path / "two.pcapng"
    src.write_bytes(b.shb() + b.idb(1, 65535, (2, b"a0")) + b.epb(0, 1_000_000, ETHER)
                    + b.shb() + b.idb(1, 65535, (2, b"b0")) + b.idb(1, 65535, (2, b"b1"))
                    + b.epb(1, 2_000_000, ETHER) + b.epb(0, 3_000_000, ETHER))
    # (tshark 3.x/4.0 numbers the interfaces of a later section as if they
    # were the first section's: not an oracle for the input here, only for
    # the one-section copy.)
    out = tmp_path / "copy.pcapng"
    f = offline(kind, src)
    start = f.ftell()
    with pcap.Dumper(f, out, format="pcapng") as d:
        assert f.loop(0, d) == 3
        if kind == "file":
            f.fseek(start)
            assert f.loop(1, d) == 1
    rows = [["0", "a0", "1.000000000"], ["2", "b1", "2.000000000"], ["1", "b0", "3.000000000"]]
    if kind == "file":
        rows.append(["0", "a0", "1.000000000"])
    assert tshark_fields(out, "frame.interface_id", "frame.interface_name", "frame.time_epoch") == rows


def read_all(path, dumper_to=None, copied=None, kind="file"):
    """Every packet of `path` (nano precision, read as `kind`) and the
    error that ended the read, if any (without the file's name); with
    `dumper_to`, copied into a pcapng Dumper meanwhile (those it takes are
    added to `copied`: a timestamp of a damaged block may not fit its
    32-bit seconds)."""
    f = offline(kind, path, precision="nano")
    got, error = [], None
    d = pcap.Dumper(f, dumper_to, format="pcapng") if dumper_to else None

    def cb(pkt, ts, length):
        got.append((pkt, ts, length))
        if d:
            try:
                d(pkt, ts, length)
                copied.append(pkt)
            except ValueError as e:
                assert "tstamp seconds must be between" in str(e)
    try:
        f.loop(0, cb)
    except pcap.PcapError as e:
        assert str(e).startswith(f"{f.filename}: "), str(e)
        error = str(e)[len(f"{f.filename}: "):]
    if d:
        d.close()
    return got, error


def damaged_variants(data):
    """The file cut at and around each block boundary, and with each block's
    length, interface id, timestamp or option length made wrong."""
    ends, at = [], 0
    while at < len(data):
        ends.append(at)
        at += struct.unpack("=I", data[at + 4:at + 8])[0]
    for at in ends[1:]:
        for cut in (at - 1, at + 3, at + 9, at + 30):
            yield f"cut-{cut}", data[:cut]
        for off, value in ((4, 0), (4, 13), (4, 0xFFFFFFF0), (8, 7), (12, 0x100), (20, 0x30), (20, 0x1000),
                           (24, 0x10), (24, 0x0FFFFFFF), (28, 0x00FF0001)):
            if at + off + 4 <= len(data):
                yield f"block{at}+{off}={value:#x}", data[:at + off] + struct.pack("=I", value) + data[at + off + 4:]


@pytest.mark.parametrize("kind", ["file", "pipe"])
@pytest.mark.parametrize("name", ["multi", "editcap"])
def test_damaged_files_read_the_same_with_a_pcapng_dumper(tmp_path, name, kind):
    """Reading a damaged pcapng file (or stream) with a pcapng Dumper
    attached gives the same packets and the same error (naming the file) as
    without: the trace follows libpcap and never changes what it reads; the
    copy holds every packet read, and reads back without an error."""
    if name == "multi":
        data = multi()
    else:
        from pcaptools import SAMPLE, editcap
        data = editcap(SAMPLE, tmp_path / "s.pcapng", "pcapng").read_bytes()
    checked = 0
    for label, bad in damaged_variants(data):
        src = tmp_path / f"{label}.pcapng"
        src.write_bytes(bad)
        try:
            offline(kind, src)
        except pcap.PcapError as e:
            assert "No such" not in str(e)
            continue
        plain = read_all(src, kind=kind)
        out = tmp_path / f"{label}.copy.pcapng"
        copied = []
        assert read_all(src, out, copied, kind=kind) == plain, label
        back, error = read_all(out)
        assert (error, [p for p, _, _ in back]) == (None, copied), label
        checked += 1
    assert checked > 20


def test_a_dumper_outlives_its_pcapng_feed(multi_file, tmp_path):
    """Closing the feed leaves the Dumper writing (the interfaces it learnt
    stay); a Dumper opened on a closed feed raises as before."""
    out = tmp_path / "copy.pcapng"
    f = pcap.Offline(multi_file, precision="nano")
    d = pcap.Dumper(f, out, format="pcapng")
    d(*f.next())
    d(*f.next())
    f.close()
    d(b"\x02" * 30, (SEC + 9, 5), 30)
    d.close()
    assert tshark_fields(out, *FIELDS) == MULTI[:2] + [["0", "eth0", f"{SEC + 9}.000000005", "", "30", "30"]]
    with pytest.raises(pcap.PcapError, match="feed is closed"):
        pcap.Dumper(f, tmp_path / "x.pcapng", format="pcapng")


def many_interfaces(b, sections=1100, between=False):
    """A stream of more than 64 MiB of section headers and interface
    descriptions (each interface with a 65,000-byte comment): sections of
    one interface and one packet each; or, `between`, one packet, then all
    the sections without packets, then one packet."""
    big = lambda i: b.idb(1, 65535, (2, f"s{i}".encode()), (1, bytes(65000)))
    if between:
        blocks = [b.shb(), b.idb(1, 65535, (2, b"first")), b.epb(0, 1_000_000, ETHER)]
        blocks += [blk for i in range(sections) for blk in (b.shb(), big(i))]
        return b"".join(blocks + [b.epb(0, 2_000_000, ETHER)])
    return b"".join(blk for i in range(sections) for blk in (b.shb(), big(i), b.epb(0, (i + 1) * 1_000_000, ETHER)))


def test_a_dumper_follows_a_stream_of_more_interfaces_than_it_keeps(tmp_path):
    """A Dumper opened before the read copies a stream whose interface
    descriptions outgrow what the stream keeps for a Dumper opened later
    (64 MiB) as it copies the file: those it walked past are not kept."""
    src = tmp_path / "many.pcapng"
    src.write_bytes(many_interfaces(PcapngBuilder(native_endian())))
    assert src.stat().st_size > 68 << 20
    want, out = tmp_path / "file-copy.pcapng", tmp_path / "copy.pcapng"
    for path, f in ((want, pcap.Offline(src, precision="nano")), (out, offline("pipe", src, precision="nano"))):
        with pcap.Dumper(f, path, format="pcapng") as d:
            assert f.loop(0, d) == 1100
    assert out.read_bytes() == want.read_bytes()
    assert tshark_fields(out, "frame.interface_id", "frame.interface_name")[-1] == ["1099", "s1099"]


def test_a_dumper_opened_after_more_interfaces_than_kept_refuses_to_copy(tmp_path):
    """Opened after the stream described more interfaces than it keeps,
    a pcapng Dumper refuses with a PcapError naming the stream (no copy
    that lacks interfaces, no output file); a pcap one still copies."""
    src = tmp_path / "many.pcapng"
    src.write_bytes(many_interfaces(PcapngBuilder(native_endian())))
    f = offline("pipe", src, precision="nano")
    for _ in range(1099):
        f.next()
    out = tmp_path / "late.pcapng"
    with pytest.raises(pcap.PcapError) as e:
        pcap.Dumper(f, out, format="pcapng")
    assert str(e.value) == (f"{f.filename}: more than 64 MiB of pcapng section headers and interface "
                            "descriptions came before this point of the stream and were not kept: a pcapng "
                            "copy would lose interfaces (open the Dumper before reading)")
    assert isinstance(e.value, OSError) and not out.exists()
    with pcap.Dumper(f, tmp_path / "late.pcap") as d:
        assert f.loop(0, d) == 1
    assert len(pcap.Offline(str(tmp_path / "late.pcap")).next()[0]) == len(ETHER)


@pytest.mark.parametrize("kind", ["file", "pipe"])
def test_more_interfaces_than_kept_between_two_packets(tmp_path, kind):
    """More than 64 MiB of interface descriptions between two packets: a
    file is copied whole; from a stream the first packet is copied and the
    second refused with a PcapError naming the stream."""
    src = tmp_path / "between.pcapng"
    src.write_bytes(many_interfaces(PcapngBuilder(native_endian()), between=True))
    f = offline(kind, src, precision="nano")
    out = tmp_path / "copy.pcapng"
    got = []
    with pcap.Dumper(f, out, format="pcapng") as d:
        def cb(pkt, ts, length):
            d(pkt, ts, length)
            got.append(ts)
        if kind == "file":
            assert f.loop(0, cb) == 2
        else:
            with pytest.raises(pcap.PcapError, match=f"^{f.filename}: more than 64 MiB of pcapng section headers"):
                f.loop(0, cb)
    assert got == ([(1, 0), (2, 0)] if kind == "file" else [(1, 0)])
    rows = tshark_fields(out, "frame.interface_name", "frame.time_epoch")
    assert rows == ([["first", "1.000000000"], ["s1099", "2.000000000"]] if kind == "file" else [["first", "1.000000000"]])
