"""Every way a capture file can be bad gives a PcapError naming the path and
saying what is wrong."""

import os
import pathlib

import pytest

import pcaptools
from openbsd import pcap
from pcaptools import SAMPLE


def open_error(path):
    with pytest.raises(pcap.PcapError) as e:
        pcap.Offline(path)
    assert isinstance(e.value, OSError)
    assert not pcap.isPCapFile(path)
    return str(e.value)


def test_missing_file(tmp_path):
    path = tmp_path / "missing.pcap"
    assert open_error(path) == f"{path}: No such file or directory"
    assert open_error(str(path)) == f"{path}: No such file or directory"
    assert open_error(os.fsencode(path)) == f"{path}: No such file or directory"


def test_directory(tmp_path):
    assert open_error(tmp_path) == f"{tmp_path}: is a directory, not a capture file"


def test_errno_of_os_errors(tmp_path):
    """errno is set where the OS reported the failure, as on any OSError,
    and the message stays "PATH: reason"."""
    import errno
    cases = [(tmp_path / "missing.pcap", errno.ENOENT), (tmp_path, errno.EISDIR),
             (tmp_path / "missing" / "x.pcap", errno.ENOENT)]
    notacap = tmp_path / "text.pcap"
    notacap.write_text("hello, this is not a capture file at all\n")
    cases.append((notacap, None))
    for path, code in cases:
        with pytest.raises(pcap.PcapError) as e:
            pcap.Offline(path)
        assert e.value.errno == code, (path, e.value.errno)
        assert str(e.value).startswith(f"{path}: ") and e.value.args == (str(e.value),)


def test_empty_file(tmp_path):
    path = tmp_path / "empty.pcap"
    path.write_bytes(b"")
    msg = open_error(path)
    assert msg.startswith(f"{path}: empty file, not a capture file")


def test_not_a_capture(tmp_path):
    path = tmp_path / "text.pcap"
    path.write_text("this is not a capture file\n" * 10)
    assert open_error(path) == f"{path}: not a capture file (unknown file format)"


@pytest.mark.parametrize("cut", [3, 10, 23])
def test_truncated_file_header(tmp_path, cut):
    path = tmp_path / "short.pcap"
    path.write_bytes(SAMPLE.read_bytes()[:cut])
    msg = open_error(path)
    assert msg.startswith(f"{path}: ")
    assert "truncated dump file" in msg
    # libpcap reads the 4-byte magic number, then the rest of the header
    # (and counts the rest only in the second read's message)
    want, got = (4, cut) if cut < 4 else (24, cut - 4)
    assert msg == f"{path}: truncated dump file; tried to read {want} file header bytes, only got {got}"


def test_header_only_file_has_no_packets(tmp_path):
    path = tmp_path / "header.pcap"
    path.write_bytes(SAMPLE.read_bytes()[:24])
    with pcap.Offline(path) as f:
        assert f.next() is None
        assert f.dispatch(-1, print) == 0
        assert f.loop(0, print) == 0
        assert list(f) == []


def truncated_copy(src, tmp_path, cut_into_record, inside_header):
    """The file cut inside record number `cut_into_record` (its header when
    `inside_header`, else its data). Returns (path, whole records before)."""
    data = src.read_bytes()
    hdr, recs = pcaptools.parse_pcap(data)
    off = 24 + sum(16 + len(p) for p, _, _ in recs[:cut_into_record])
    cut = off + (7 if inside_header else 16 + len(recs[cut_into_record][0]) // 2)
    path = tmp_path / "cut.pcap"
    path.write_bytes(data[:cut])
    return path, recs[:cut_into_record]


@pytest.mark.parametrize("inside_header", [False, True], ids=["in-data", "in-record-header"])
@pytest.mark.parametrize("how", ["loop", "dispatch", "next", "iter"])
def test_truncated_record(mixed, tmp_path, how, inside_header):
    """libpcap reports a record cut short as an error: every whole packet is
    delivered first, then PcapError naming the file (never garbage)."""
    path, whole = truncated_copy(mixed[0], tmp_path, 3000, inside_header)
    got = []
    f = pcap.Offline(path)
    with pytest.raises(pcap.PcapError) as e:
        if how == "loop":
            f.loop(0, lambda *a: got.append(a))
        elif how == "dispatch":
            while f.dispatch(100, lambda *a: got.append(a)):
                pass
        elif how == "next":
            while (r := f.next()) is not None:
                got.append(r)
        else:
            for r in f:
                got.append(r)
    assert got == whole
    msg = str(e.value)
    assert msg.startswith(f"{path}: truncated dump file; tried to read ")
    if inside_header:
        assert "16 header bytes, only got 7" in msg
    else:
        assert "captured bytes, only got" in msg
    # tcpdump prints the same whole packets, then the same error
    assert [(p, ts) for p, ts, _ in whole] == pcaptools.tcpdump_records(path, error="truncated dump file")


def test_truncated_record_in_small_file(sample, tmp_path):
    path, whole = truncated_copy(sample, tmp_path, 5, False)
    got = []
    with pytest.raises(pcap.PcapError, match="truncated dump file"):
        pcap.Offline(path).loop(-1, lambda *a: got.append(a))
    assert got == whole and len(got) == 5


def test_record_longer_than_maximum(tmp_path):
    """A capture length beyond anything libpcap accepts is an error, not a
    huge allocation or garbage."""
    import struct
    recs = [(b"a" * 10, (1, 2), 10)]
    data = pcaptools.pcap_bytes(recs, snaplen=65535)
    data += struct.pack("<IIII", 3, 4, 0x7FFFFFF0, 0x7FFFFFF0) + b"x" * 100
    path = tmp_path / "huge.pcap"
    path.write_bytes(data)
    got = []
    with pytest.raises(pcap.PcapError) as e:
        pcap.Offline(path).loop(0, lambda *a: got.append(a))
    assert got == recs
    assert str(e.value).startswith(f"{path}: invalid packet capture length 2147483632")


def test_unreadable_file(tmp_path):
    if os.geteuid() == 0:
        pytest.skip("running as root: file permissions do not stop root from reading")
    path = tmp_path / "secret.pcap"
    path.write_bytes(SAMPLE.read_bytes())
    path.chmod(0)
    try:
        assert open_error(path) == f"{path}: Permission denied"
    finally:
        path.chmod(0o600)


def test_path_under_a_file_is_not_a_directory(tmp_path):
    # Unreadable even for root: a path whose parent is a regular file.
    path = tmp_path / "file" / "x.pcap"
    (tmp_path / "file").write_bytes(b"")
    assert open_error(path) == f"{path}: Not a directory"


def test_nul_in_path():
    for bad in ("a\0b.pcap", b"a\0b.pcap", pathlib.PurePosixPath("a\0b")):
        with pytest.raises(ValueError, match="path contains a NUL byte"):
            pcap.Offline(bad)
        assert pcap.isPCapFile(bad) is False


def test_not_a_path():
    for bad in (42, None, ["x"]):
        with pytest.raises(TypeError, match="expected a path"):
            pcap.Offline(bad)


def test_non_utf8_bytes_path(tmp_path):
    name = os.fsencode(tmp_path) + b"/caf\xe9.pcap"
    with open(name, "wb") as fh:
        fh.write(SAMPLE.read_bytes())
    with pcap.Offline(name) as f:
        assert f.filename == name
        assert len(list(f)) == 14
    missing = os.fsencode(tmp_path) + b"/nul\xff.pcap"
    with pytest.raises(pcap.PcapError, match="No such file or directory"):
        pcap.Offline(missing)


def test_pcap_error_is_oserror_and_ioerror(tmp_path):
    try:
        pcap.Offline(tmp_path / "nope")
    except IOError as e:  # the legacy spelling
        assert type(e) is pcap.PcapError
    else:
        pytest.fail("no error")


def test_closed_feed_errors(sample):
    f = pcap.Offline(sample)
    f.close()
    calls = {
        "close": f.close, "datalink": f.datalink, "snapshot": f.snapshot, "next": f.next,
        "lookupnet": f.lookupnet, "ftell": f.ftell, "fileno": f.fileno, "int": lambda: int(f),
        "version": f.version, "is_swapped": f.is_swapped, "stats": f.stats,
        "dispatch": lambda: f.dispatch(1, print), "loop": lambda: f.loop(1, print),
        "filter": lambda: f.filter("tcp"), "inject": lambda: f.inject(b"x"),
        "iter": lambda: next(iter(f)), "BPFProgram": lambda: pcap.BPFProgram(f, "tcp"),
        "breakloop": f.breakloop,
    }
    for name, call in calls.items():
        with pytest.raises(pcap.PcapError) as e:
            call()
        assert str(e.value) == "feed is closed (not connected)", name
    assert f.closed is True
    assert "closed" in repr(f)


def test_read_resumes_after_a_growing_file_completes_its_record(sample, tmp_path):
    data = sample.read_bytes()
    recs = pcaptools.parse_pcap(data)[1]
    path = tmp_path / "growing.pcap"
    path.write_bytes(data[:300])  # three whole packets and part of the fourth
    f = pcap.Offline(path)
    got = []
    with pytest.raises(pcap.PcapError, match="truncated dump file"):
        for r in f:
            got.append(r)
    with open(path, "ab") as fh:  # the writer catches up
        fh.write(data[300:])
    got += list(f)
    assert got == recs


def test_read_resumes_when_a_growing_file_grows_at_a_record_boundary(sample, tmp_path):
    data = sample.read_bytes()
    recs = pcaptools.parse_pcap(data)[1]
    cut = 24 + sum(16 + len(p) for p, _, _ in recs[:3])
    path = tmp_path / "growing.pcap"
    path.write_bytes(data[:cut])
    f = pcap.Offline(path)
    got = list(f)
    assert f.next() is None
    with open(path, "ab") as fh:
        fh.write(data[cut:])
    got += list(f)
    assert got == recs


# -- integer arguments ------------------------------------------------------------

INT_MAX = "2147483647"
INT_RANGE = "between -2147483648 and 2147483647"


@pytest.mark.parametrize("call,message", [
    (lambda: pcap.Dead(1, 2**31), f"snaplen must be between 1 and {INT_MAX}, got 2147483648"),
    (lambda: pcap.Dead(1, -2**100), f"snaplen must be between 1 and {INT_MAX}, got {-2**100}"),
    (lambda: pcap.Dead(2**31), f"linktype must be {INT_RANGE}, got 2147483648"),
    (lambda: pcap.Dead(-2**31 - 1), f"linktype must be {INT_RANGE}, got -2147483649"),
    # arguments are checked before the interface is opened: no privileges needed
    (lambda: pcap.Live("no-such-if", 2**31), f"snaplen must be between 1 and {INT_MAX}, got 2147483648"),
    (lambda: pcap.Live("no-such-if", 0), f"snaplen must be between 1 and {INT_MAX}, got 0"),
    (lambda: pcap.Live("no-such-if", 96, 2**40), f"promisc must be {INT_RANGE}, got 1099511627776"),
    (lambda: pcap.Live("no-such-if", 96, 1, 2**31), f"timeout must be between 0 and {INT_MAX}, got 2147483648"),
    (lambda: pcap.Live("no-such-if", 96, 1, -1), f"timeout must be between 0 and {INT_MAX}, got -1"),
    (lambda: pcap.BPFProgram(pcap.Dead(1), "tcp", 2**31), f"optimise must be {INT_RANGE}, got 2147483648"),
    (lambda: pcap.BPFProgram(pcap.Dead(1), "tcp").matches(b"x" * 60, -1),
     "length must be between 0 and 4294967295, got -1"),
    (lambda: pcap.BPFProgram(pcap.Dead(1), "tcp").matches(b"x" * 60, 2**32),
     "length must be between 0 and 4294967295, got 4294967296"),
], ids=["Dead-snaplen", "Dead-snaplen-huge", "Dead-linktype", "Dead-linktype-low", "Live-snaplen",
        "Live-snaplen-0", "Live-promisc", "Live-timeout", "Live-timeout-negative", "BPFProgram-optimise",
        "matches-negative", "matches-2**32"])
def test_integer_out_of_range_is_a_value_error_naming_the_argument(call, message):
    """Never OverflowError, however far out of range: ValueError, naming the
    argument and the range it must be in."""
    with pytest.raises(ValueError) as e:
        call()
    assert type(e.value) is ValueError
    assert str(e.value) == message


@pytest.mark.parametrize("call,message", [
    (lambda: pcap.Dead("1"), "linktype must be an int, not str"),
    (lambda: pcap.Dead(1, 1.5), "snaplen must be an int, not float"),
    (lambda: pcap.Live("no-such-if", 96, 1, 0.5), "timeout must be an int, not float"),
    (lambda: pcap.BPFProgram(pcap.Dead(1), "tcp").matches(b"x", "60"), "length must be an int, not str"),
    (lambda: pcap.Offline(SAMPLE).loop("1", print), "cnt must be an int, not str"),
    (lambda: pcap.Offline(SAMPLE).dispatch(None, print), "cnt must be an int, not NoneType"),
])
def test_integer_argument_of_another_type_is_a_type_error(call, message):
    with pytest.raises(TypeError) as e:
        call()
    assert str(e.value) == message


def test_integer_arguments_at_the_ends_of_their_ranges():
    """The last value in range is taken, the first one out is a ValueError;
    anything with __index__ counts as an int."""
    import operator
    assert pcap.Dead(1, 2**31 - 1).snapshot() == 2**31 - 1
    with pytest.raises(ValueError):
        pcap.Dead(1, 2**31)
    prog = pcap.BPFProgram(pcap.Dead(1), "less 100", optimise=0)
    frame = b"x" * 60
    assert prog.matches(frame, 2**32 - 1) is False and prog.matches(frame, 0) is True
    assert prog.matches(frame, None) is True
    with pytest.raises(ValueError):
        prog.matches(frame, 2**32)

    class Index:
        def __index__(self):
            return 128
    assert pcap.Dead(1, Index()).snapshot() == operator.index(Index()) == 128


# -- a descriptor closed under the feed -------------------------------------------

READERS = {
    "mapped": {},
    "buffer": {"PYOPENBSD_NO_MMAP": "1"},
    "libpcap": {"PYOPENBSD_NO_FAST_READER": "1"},
    "pcapng": {},
}


@pytest.mark.parametrize("reader", READERS)
def test_read_after_the_descriptor_was_closed(reader, tmp_path, monkeypatch):
    """os.close(f.fileno()) under a feed: the read that finds it gone raises
    "PATH: error reading dump file: Bad file descriptor" with errno EBADF
    (libpcap's wording), whichever reader reads the file. Our readers find
    out at once; libpcap first hands out what its stdio buffer holds (the
    whole sample, read with the header)."""
    import errno
    for var in ("PYOPENBSD_NO_MMAP", "PYOPENBSD_NO_FAST_READER"):
        monkeypatch.delenv(var, raising=False)
    for var, value in READERS[reader].items():
        monkeypatch.setenv(var, value)
    path = SAMPLE
    if reader == "pcapng":
        path = pcaptools.editcap(SAMPLE, tmp_path / "sample.pcapng", "pcapng")
    f = pcap.Offline(path)
    assert f._reader() == ("libpcap" if reader == "pcapng" else reader)
    got = []
    os.close(f.fileno())
    with pytest.raises(pcap.PcapError) as e:
        for record in f:
            got.append(record)
    f.close()                     # closes nothing more: the descriptor is gone
    assert str(e.value) == f"{path}: error reading dump file: Bad file descriptor"
    assert e.value.errno == errno.EBADF
    assert len(got) == {"mapped": 0, "buffer": 0, "libpcap": 14, "pcapng": 14}[reader]
    assert got == pcaptools.read_pcap(SAMPLE)[1][:len(got)]
