"""pdump as a user runs it: `python -m openbsd ...` and the `pdump` console
script, in subprocesses, checked against openbsd.pcap itself (the reprs) and
tcpdump (the times, the files written with -w)."""

import os
import pty
import select
import shutil
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

from openbsd import pcap
from openbsd.pdump import PROGRESS_EVERY, SAMPLE
from pcaptools import need, parse_pcap, pcap_bytes, read_pcap, tcpdump_copy

# A zone with a half-hour offset and no zoneinfo file needed: local times
# that differ from UTC, for pdump and tcpdump alike.
TZ = "UTC-05:30"
ENV = dict(os.environ, TZ=TZ, PYTHONDONTWRITEBYTECODE="1")
PDUMP_SCRIPT = Path(sys.executable).with_name("pdump")
BANNER = "reading from file %s, link-type 1, snapshot length 65535\n"


def pdump(*args, script=False, user=None, **kw):
    """Runs pdump with `args`; returns the CompletedProcess (text)."""
    cmd = [str(PDUMP_SCRIPT)] if script else [sys.executable, "-m", "openbsd"]
    if user is not None:
        cmd = ["setpriv", "--reuid=%d" % user, "--regid=%d" % user, "--clear-groups"] + cmd
    kw.setdefault("timeout", 60)
    return subprocess.run(cmd + [str(a) for a in args], capture_output=True, text=True, env=ENV, **kw)


def reprs(path, expr=None, count=0):
    """repr() of every packet of `path` as openbsd.pcap decodes it."""
    out = []
    with pcap.Offline(str(path)) as feed:
        if expr:
            feed.filter(expr)
        feed.loop(count, lambda p, ts, n: out.append(repr(p)), interpret=1)
    return out


def tcpdump_times(path, *extra):
    """The time column of `tcpdump [extra] -r PATH` (local time in TZ)."""
    need("tcpdump")
    r = subprocess.run(["tcpdump", "-n", *extra, "-r", str(path)], capture_output=True, text=True, env=ENV)
    assert r.returncode == 0, r.stderr
    return [line.split(" ", 1)[0] for line in r.stdout.splitlines()]


def split_lines(stdout):
    """(time, rest) of each output line."""
    return [tuple(line.split(" ", 1)) for line in stdout.splitlines()]


@pytest.fixture(scope="module")
def big(tmp_path_factory):
    """20,000 records cycling through the sample's 14 packets, one second
    apart per cycle: big enough to fill a pipe and to draw a progress bar."""
    recs = list(pcap.Offline(SAMPLE))
    out = [(p, (t[0] + i // 14, t[1]), n) for i, (p, t, n) in
           ((i, recs[i % 14]) for i in range(20000))]
    path = tmp_path_factory.mktemp("pdump") / "big.pcap"
    path.write_bytes(pcap_bytes(out))
    return path


# --- reading -------------------------------------------------------------------


def test_sample_is_the_bundled_capture():
    assert Path(SAMPLE).is_file()
    assert SAMPLE.endswith(os.path.join("openbsd", "data", "sample.pcap"))


def test_no_argument_prints_every_packet_of_the_sample():
    r = pdump()
    assert r.returncode == 0
    assert r.stderr == BANNER % SAMPLE
    lines = split_lines(r.stdout)
    assert len(lines) == 14
    assert [rest for _, rest in lines] == reprs(SAMPLE)
    assert [t for t, _ in lines] == tcpdump_times(SAMPLE)
    # pinned: the first and the fifth line, whole
    assert r.stdout.splitlines()[0] == (
        "17:03:20.012345 [Eth: 00:09:6b:e0:ca:ce->ff:ff:ff:ff:ff:ff] "
        "[ARP_REQUEST:  00:09:6b:e0:ca:ce->00:00:00:00:00:00]")
    assert r.stdout.splitlines()[4] == (
        "17:03:20.071725 [Eth: 00:09:6b:e0:ca:ce->00:02:b3:41:aa:c3] "
        "[IP: 192.168.0.9->192.168.0.1] [TCP: 8012->22]")


def test_console_script_is_the_same_command():
    if not PDUMP_SCRIPT.exists():
        pytest.skip(f"{PDUMP_SCRIPT} is not installed")
    a, b = pdump(script=True), pdump()
    assert (a.returncode, a.stdout, a.stderr) == (0, b.stdout, b.stderr)
    assert len(a.stdout.splitlines()) == 14


def test_epoch_times_are_tcpdumps_tt():
    r = pdump("--epoch")
    assert r.returncode == 0
    times = [t for t, _ in split_lines(r.stdout)]
    assert times == tcpdump_times(SAMPLE, "-tt")
    assert times[:2] == ["1100000000.012345", "1100000000.025690"]


def test_read_file(mixed):
    path, recs = mixed
    r = pdump("-r", path, "--epoch")
    assert r.returncode == 0
    assert r.stderr == "reading from file %s, link-type 1, snapshot length 256\n" % path
    lines = split_lines(r.stdout)
    assert len(lines) == len(recs) == 5000
    assert [rest for _, rest in lines] == reprs(path)
    assert [t for t, _ in lines] == tcpdump_times(path, "-tt")


def test_read_file_local_times(mixed):
    path, _ = mixed
    r = pdump("-r", path)
    assert [t for t, _ in split_lines(r.stdout)] == tcpdump_times(path)


def test_read_standard_input():
    with open(SAMPLE, "rb") as f:
        r = pdump("-r", "-", stdin=f)
    assert r.returncode == 0
    assert r.stdout == pdump().stdout
    assert r.stderr == BANNER % "-"


@pytest.mark.parametrize("count", [1, 3, 14])
def test_count(count):
    r = pdump("-c", count)
    assert r.returncode == 0
    assert r.stdout.splitlines() == pdump().stdout.splitlines()[:count]


def test_count_larger_than_the_file():
    assert pdump("-c", 100).stdout == pdump().stdout


def test_trailing_filter():
    r = pdump("--epoch", "tcp", "port", "22")          # several words, as tcpdump takes them
    assert r.returncode == 0
    lines = split_lines(r.stdout)
    assert [rest for _, rest in lines] == reprs(SAMPLE, "tcp port 22")
    assert [t for t, _ in lines] == tcpdump_times(SAMPLE, "-tt", "tcp port 22")
    assert len(lines) == 5
    assert pdump("--epoch", "tcp port 22").stdout == r.stdout     # or as one argument


def test_filter_and_count():
    r = pdump("-c", 2, "icmp or icmp6")
    assert [rest for _, rest in split_lines(r.stdout)] == [
        "[Eth: 00:09:6b:e0:ca:ce->00:02:b3:41:aa:c3] [IP: 192.168.0.9->192.168.0.1] [ICMP Echo Request]",
        "[Eth: 00:02:b3:41:aa:c3->00:09:6b:e0:ca:ce] [IP: 192.168.0.1->192.168.0.9] [ICMP Echo Reply]",
    ]


def test_numeric_flag_is_accepted():
    assert pdump("-n").stdout == pdump().stdout


# --- -e expressions ------------------------------------------------------------


def test_expressions():
    r = pdump("--epoch", "-e", 'p["ip"].src', "-e", 'p["tcp"].dstPort')
    assert r.returncode == 0
    lines = r.stdout.splitlines()
    assert len(lines) == 14
    assert lines[0] == "1100000000.012345 - -"                    # ARP: no IP, no TCP
    assert lines[2] == "1100000000.040035 '192.168.0.9' -"         # DNS query over UDP
    assert lines[4] == "1100000000.071725 '192.168.0.9' 22"        # ssh
    assert lines[5] == "1100000000.089070 '192.168.0.1' 8012"
    expected = []
    with pcap.Offline(SAMPLE) as feed:
        for p, (sec, usec), _ in iter(lambda: feed.next(interpret=1), None):
            vals = []
            for name, field in (("ip", "src"), ("tcp", "dstPort")):
                try:
                    vals.append(repr(getattr(p[name], field)))
                except KeyError:
                    vals.append("-")
            expected.append("%d.%06d %s" % (sec, usec, " ".join(vals)))
    assert lines == expected


def test_expression_errors_are_shown_per_packet():
    r = pdump("-c", 2, "--epoch", "-e", "1/0", "-e", "len(p)")
    assert r.returncode == 0
    assert r.stdout.splitlines() == [
        "1100000000.012345 <ZeroDivisionError: division by zero> 60",
        "1100000000.025690 <ZeroDivisionError: division by zero> 60",
    ]


# --- -w ------------------------------------------------------------------------


@pytest.mark.parametrize("args,n", [
    ([], 14),
    (["tcp"], 5),
    (["-c", "4"], 4),
    (["-c", "2", "udp"], 2),
], ids=["all", "filter", "count", "count+filter"])
def test_write_is_tcpdumps_file(tmp_path, args, n):
    need("tcpdump")
    ours, theirs = tmp_path / "ours.pcap", tmp_path / "theirs.pcap"
    r = pdump("-r", SAMPLE, "-w", ours, *args)
    assert (r.returncode, r.stdout, r.stderr) == (0, "", BANNER % SAMPLE)
    t = subprocess.run(["tcpdump", "-r", SAMPLE, "-w", theirs] + args, capture_output=True)
    assert t.returncode == 0, t.stderr
    assert parse_pcap(ours.read_bytes())[1] == parse_pcap(theirs.read_bytes())[1]
    assert ours.read_bytes() == theirs.read_bytes()
    assert len(read_pcap(ours)[1]) == n


def test_write_truncated_packets(mixed, tmp_path):
    """snap length 256 with longer packets: caplen and wire length survive."""
    path, recs = mixed
    ours = tmp_path / "ours.pcap"
    assert pdump("-r", path, "-w", ours).returncode == 0
    assert ours.read_bytes() == tcpdump_copy(path, tmp_path / "theirs.pcap")
    assert read_pcap(ours)[1] == recs


# --- errors --------------------------------------------------------------------


def error_cases(tmp):
    text = tmp / "notes.txt"
    text.write_text("not a capture\n")
    missing = tmp / "missing.pcap"
    try:
        compile("p[", "<-e>", "eval")
    except SyntaxError as e:
        syntax = e.msg
    return [
        (["-r", missing], 1, "pdump: %s: No such file or directory" % missing),
        (["-r", text], 1, "pdump: %s: not a capture file (unknown file format)" % text),
        (["-r", tmp], 1, "pdump: %s: is a directory, not a capture file" % tmp),
        (["tcp port"], 1, 'pdump: %s: bad filter "tcp port": can\'t parse filter expression: syntax error' % SAMPLE),
        (["-e", "p["], 2, "pdump: bad -e expression 'p[': %s" % syntax),
        (["-w", tmp / "no" / "dir" / "out.pcap"], 1, "pdump: %s: No such file or directory" % (tmp / "no" / "dir" / "out.pcap")),
        (["-c", "-1"], 2, "pdump: -c COUNT must be >= 0"),
    ]


@pytest.mark.parametrize("case", range(7), ids=[
    "missing-file", "not-a-capture", "directory", "bad-filter", "bad-e", "w-missing-dir", "negative-count"])
def test_error_is_one_line(tmp_path, case):
    args, rc, message = error_cases(tmp_path)[case]
    r = pdump(*args)
    assert (r.returncode, r.stdout, r.stderr) == (rc, "", message + "\n")


def test_file_cut_short(tmp_path):
    """The whole packets are printed, then the error: one line, status 1."""
    data = Path(SAMPLE).read_bytes()
    whole = 24 + sum(16 + len(p) for p, _, _ in parse_pcap(data)[1][:3])
    cut = tmp_path / "cut.pcap"
    cut.write_bytes(data[:whole + 10])
    r = pdump("-r", cut)
    assert r.returncode == 1
    assert r.stdout.splitlines() == pdump().stdout.splitlines()[:3]
    # 10 bytes of the 4th record's 16-byte header: libpcap's (and tcpdump's) words
    assert r.stderr == (BANNER % cut + "pdump: %s: truncated dump file; tried to read 16 header "
                        "bytes, only got 10\n" % cut)


def test_missing_interface():
    r = pdump("-i", "nosuch0")
    assert (r.returncode, r.stdout, r.stderr) == (1, "", "pdump: nosuch0: No such device exists\n")


def test_interface_without_permission():
    if os.geteuid() != 0:
        pytest.skip("needs root to switch to an unprivileged user")
    need("setpriv")
    r = pdump("-i", "lo", user=65534)
    assert (r.returncode, r.stdout) == (1, "")
    assert r.stderr == ("pdump: lo: You don't have permission to perform this capture on that "
                        "device (socket: Operation not permitted)\n")


def test_unprivileged_user_reads_files():
    """The permission failure above is about capturing, not about pdump."""
    if os.geteuid() != 0:
        pytest.skip("needs root to switch to an unprivileged user")
    need("setpriv")
    r = pdump(user=65534)
    assert (r.returncode, r.stdout) == (0, pdump().stdout)


# --- live: Ctrl-C ----------------------------------------------------------------


def live(*args):
    """pdump -i lo ARGS, with SIGINT at its default disposition (a shell runs
    background jobs with it ignored); returns the Popen once pdump listens."""
    if os.geteuid() != 0:
        pytest.skip("live capture needs root")
    p = subprocess.Popen([sys.executable, "-m", "openbsd", "-i", "lo", *map(str, args)],
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=ENV,
                         preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL))
    banner = p.stderr.readline()
    assert banner == "listening on lo, link-type 1, snapshot length 262144\n"
    return p


def test_ctrl_c_prints_statistics():
    # an ethertype nobody sends: nothing is captured, nothing reaches the filter
    p = live("ether proto 0x88b5")
    time.sleep(1)
    p.send_signal(signal.SIGINT)
    out, err = p.communicate(timeout=10)
    assert (p.returncode, out) == (0, "")
    assert err == "\n0 packets captured\n0 packets received by filter\n0 packets dropped by kernel\n"


def test_ctrl_c_while_writing_counts_the_packets(tmp_path):
    rx = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    rx.bind(("127.0.0.1", 0))
    port = rx.getsockname()[1]
    out_file = tmp_path / "live.pcap"
    p = live("-w", out_file, "udp port %d" % port)
    tx = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    for i in range(3):
        tx.sendto(b"pdump %d" % i, ("127.0.0.1", port))
    time.sleep(1)
    p.send_signal(signal.SIGINT)
    out, err = p.communicate(timeout=10)
    tx.close(), rx.close()
    assert (p.returncode, out) == (0, "")
    # On lo the kernel counts each packet twice (once leaving, once arriving);
    # libpcap drops the outgoing copy, as tcpdump's figures show too.
    assert err == "\n3 packets captured\n6 packets received by filter\n0 packets dropped by kernel\n"
    recs = read_pcap(out_file)[1]
    assert [pkt[42:] for pkt, _, _ in recs] == [b"pdump 0", b"pdump 1", b"pdump 2"]


def test_count_on_live_prints_statistics():
    rx = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    rx.bind(("127.0.0.1", 0))
    port = rx.getsockname()[1]
    p = live("-c", 2, "-e", "p['udp'].payload", "udp port %d" % port)
    tx = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    for i in range(2):
        tx.sendto(b"hello %d" % i, ("127.0.0.1", port))
    out, err = p.communicate(timeout=10)
    tx.close(), rx.close()
    assert p.returncode == 0
    assert [line.split(" ", 1)[1] for line in out.splitlines()] == ["b'hello 0'", "b'hello 1'"]
    assert err == "2 packets captured\n4 packets received by filter\n0 packets dropped by kernel\n"


# --- pipes ---------------------------------------------------------------------


def test_head_exits_quietly(big):
    """`pdump | head -1` on output far larger than a pipe's buffer: pdump
    meets a closed pipe and stops without a word (and with status 0)."""
    r = subprocess.run(["bash", "-c", 'set -o pipefail; "$0" -m openbsd -r "$1" | head -1',
                        sys.executable, str(big)], capture_output=True, text=True, env=ENV)
    assert r.returncode == 0
    assert r.stdout == pdump("-c", 1, "-r", big).stdout
    assert r.stderr == BANNER % big


def test_head_on_the_sample():
    r = subprocess.run(["bash", "-c", 'set -o pipefail; "$0" -m openbsd | head -1', sys.executable],
                       capture_output=True, text=True, env=ENV)
    assert (r.returncode, r.stdout, r.stderr) == (0, pdump().stdout.splitlines(True)[0], BANNER % SAMPLE)


# --- the progress bar ----------------------------------------------------------


def run_on_pty(args):
    """Runs pdump with stderr on a pseudo-terminal; returns (rc, stdout, the
    terminal's text)."""
    master, slave = pty.openpty()
    p = subprocess.Popen([sys.executable, "-m", "openbsd", *map(str, args)], stdout=subprocess.PIPE,
                         stderr=slave, env=ENV)
    os.close(slave)
    chunks = []
    while True:
        ready, _, _ = select.select([master], [], [], 30)
        assert ready, "pdump hung"
        try:
            data = os.read(master, 65536)
        except OSError:                 # EIO: every writer of the terminal is gone
            break
        if not data:
            break
        chunks.append(data)
    os.close(master)
    out = p.stdout.read()
    p.stdout.close()
    return p.wait(timeout=30), out, b"".join(chunks).decode()


def expected_bar(path, count=0):
    """The bar pdump draws reading `path` into -w: redrawn every
    PROGRESS_EVERY packets (and at the end) with the file offset reached."""
    size = os.path.getsize(path)
    recs = read_pcap(path)[1]
    if count:
        recs = recs[:count]
    text, offset = "", 24
    for i, (pkt, _, _) in enumerate(recs, 1):
        offset += 16 + len(pkt)
        if i % PROGRESS_EVERY == 0 or i == len(recs):
            done = min(1.0, offset / size)
            text += "\r[%-30s] %3d%% %d packets" % ("#" * int(done * 30), done * 100, i)
    return text + "\r\n"


def test_progress_bar_on_a_terminal(big, tmp_path):
    out = tmp_path / "out.pcap"
    rc, stdout, tty = run_on_pty(["-r", big, "-w", out])
    assert (rc, stdout) == (0, b"")
    # the terminal turns "\n" into "\r\n"
    assert tty == (BANNER % big).replace("\n", "\r\n") + expected_bar(big)
    assert tty.endswith("\r[##############################] 100% 20000 packets\r\n")
    assert out.read_bytes() == big.read_bytes()


def test_progress_bar_with_count(big, tmp_path):
    out = tmp_path / "out.pcap"
    rc, _, tty = run_on_pty(["-r", big, "-w", out, "-c", 5000])
    assert rc == 0
    assert tty == (BANNER % big).replace("\n", "\r\n") + expected_bar(big, 5000)
    assert len(read_pcap(out)[1]) == 5000
    assert out.read_bytes() == tcpdump_copy(big, tmp_path / "theirs.pcap", count=5000)


def test_progress_bar_under_script(big, tmp_path):
    """The same through script(1), as a person at a terminal sees it."""
    script = shutil.which("script")
    if script is None:
        pytest.skip("script(1) is not installed")
    out = tmp_path / "out.pcap"
    cmd = "%s -m openbsd -r %s -w %s" % (sys.executable, big, out)
    r = subprocess.run([script, "-qc", cmd, "/dev/null"], capture_output=True, env=ENV,
                       stdin=subprocess.DEVNULL, timeout=60)
    assert r.returncode == 0
    assert r.stdout.decode() == (BANNER % big).replace("\n", "\r\n") + expected_bar(big)
    assert r.stdout.endswith(b"\r[##############################] 100% 20000 packets\r\n")
    assert r.stdout.count(b"\r[") == -(-20000 // PROGRESS_EVERY)


def test_no_progress_bar_off_a_terminal(big, tmp_path):
    out = tmp_path / "out.pcap"
    r = pdump("-r", big, "-w", out)
    assert (r.returncode, r.stdout, r.stderr) == (0, "", BANNER % big)
    assert out.read_bytes() == big.read_bytes()


def test_no_progress_bar_when_printing(big):
    """Without -w there is no bar, even on a terminal."""
    rc, stdout, tty = run_on_pty(["-r", big, "-c", 5])
    assert rc == 0
    assert tty == (BANNER % big).replace("\n", "\r\n")
    assert len(stdout.splitlines()) == 5



# --- more options ------------------------------------------------------------------


def tcpdump_copy_filtered(path, out, expr):
    need("tcpdump")
    t = subprocess.run(["tcpdump", "-r", str(path), "-w", str(out), expr], capture_output=True)
    assert t.returncode == 0, t.stderr
    return Path(out).read_bytes()


def test_write_to_standard_output(tmp_path):
    theirs = tmp_path / "theirs.pcap"
    r = subprocess.run([sys.executable, "-m", "openbsd", "-r", SAMPLE, "-w", "-", "tcp"],
                       capture_output=True, env=ENV, timeout=60)
    assert (r.returncode, r.stderr.decode()) == (0, BANNER % SAMPLE)
    assert r.stdout == tcpdump_copy_filtered(SAMPLE, theirs, "tcp")


def test_snaplen_on_an_interface(tmp_path):
    rx = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    rx.bind(("127.0.0.1", 0))
    port = rx.getsockname()[1]
    out_file = tmp_path / "short.pcap"
    if os.geteuid() != 0:
        pytest.skip("live capture needs root")
    p = subprocess.Popen([sys.executable, "-m", "openbsd", "-i", "lo", "-s", "100", "-c", "1",
                          "-w", str(out_file), "udp port %d" % port],
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=ENV)
    assert p.stderr.readline() == "listening on lo, link-type 1, snapshot length 100\n"
    tx = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    tx.sendto(bytes(200), ("127.0.0.1", port))
    out, err = p.communicate(timeout=10)
    tx.close(), rx.close()
    assert (p.returncode, out) == (0, "")
    assert err.startswith("1 packets captured\n")
    hdr, recs = read_pcap(out_file)
    assert hdr["snaplen"] == 100
    assert [(len(pkt), n) for pkt, _, n in recs] == [(100, 14 + 20 + 8 + 200)]


def test_interface_defaults_to_lookupdev():
    if os.geteuid() != 0:
        pytest.skip("live capture needs root")
    dev = pcap.lookupdev()
    with pcap.Live(dev) as live:
        dlt = live.datalink()
    # `-i` with no name: the word after it would be taken as the name, so the
    # filter comes first
    p = subprocess.Popen([sys.executable, "-m", "openbsd", "ether proto 0x88b5", "-i"],
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=ENV,
                         preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL))
    banner = p.stderr.readline()
    p.send_signal(signal.SIGINT)
    out, err = p.communicate(timeout=10)
    assert banner == "listening on %s, link-type %d, snapshot length 262144\n" % (dev, dlt)
    assert (p.returncode, out) == (0, "")
    assert err.splitlines()[1:] == ["0 packets captured", "0 packets received by filter",
                                    "0 packets dropped by kernel"]


# --- audit fixes: exit status and messages ---------------------------------------


def test_ctrl_c_while_copying_a_file_counts_the_packets(big, tmp_path):
    """Ctrl-C during `-r FILE -w OUT` reports the packets written: the
    count is kept as they are written (it was 0 before)."""
    out_file = tmp_path / "out.pcap"
    feeder = subprocess.Popen(["bash", "-c", 'cat "$0"; sleep 30', str(big)], stdout=subprocess.PIPE)
    p = subprocess.Popen([sys.executable, "-m", "openbsd", "-r", "-", "-w", str(out_file)],
                         stdin=feeder.stdout, stderr=subprocess.PIPE, text=True, env=ENV,
                         preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL))
    feeder.stdout.close()
    try:
        assert p.stderr.readline().startswith("reading from file -")
        time.sleep(1.5)           # everything is read; pdump waits for more
        p.send_signal(signal.SIGINT)
        err = p.communicate(timeout=10)[1]
    finally:
        feeder.kill()
        feeder.wait()
    n = len(read_pcap(out_file)[1])
    assert n == len(read_pcap(big)[1])
    assert (p.returncode, err) == (0, "\n%d packets\n" % n)


@pytest.mark.parametrize("reader", ["true", "head -c 100"])
def test_write_to_a_closed_pipe_is_a_success(big, reader):
    """`pdump -w - | READER`: the reader is done; status 0, no message."""
    r = subprocess.run(["bash", "-c", 'set -o pipefail; "$0" -m openbsd -r "$1" -w - | %s >/dev/null' % reader,
                        sys.executable, str(big)], capture_output=True, text=True, env=ENV)
    assert (r.returncode, r.stderr) == (0, BANNER % big)


def test_a_full_disk_on_stdout_is_one_line():
    r = subprocess.run(["bash", "-c", '"$0" -m openbsd > /dev/full', sys.executable],
                       capture_output=True, text=True, env=ENV)
    assert (r.returncode, r.stderr) == (1, BANNER % SAMPLE + "pdump: standard output: No space left on device\n")


def test_closed_stdout_and_stderr():
    r = subprocess.run(["bash", "-c", '"$0" -m openbsd >&-', sys.executable], capture_output=True, text=True, env=ENV)
    assert (r.returncode, r.stderr) == (1, "pdump: standard output is closed\n")
    r = subprocess.run(["bash", "-c", '"$0" -m openbsd -c 2 2>&-', sys.executable], capture_output=True, text=True, env=ENV)
    assert (r.returncode, r.stdout) == (0, pdump("-c", 2).stdout)


@pytest.mark.parametrize("args, message", [
    (["-s", "3000000000"], "pdump: -s SNAPLEN must be between 1 and 2147483647"),
    (["-s", "0"], "pdump: -s SNAPLEN must be between 1 and 2147483647"),
    (["-r", ""], "pdump: -r FILE: the file name is empty"),
])
def test_more_usage_errors(args, message):
    r = pdump(*args)
    assert (r.returncode, r.stdout, r.stderr) == (2, "", message + "\n")


def test_main_returns_the_status_of_argument_errors(capsys):
    from openbsd.pdump import main
    assert main(["--bogus"]) == 2
    assert main(["-c", "x"]) == 2
    assert main(["-h"]) == 0
    assert "usage: pdump" in capsys.readouterr().out


def test_expressions_raising_anything_stay_on_their_line():
    r = pdump("-c", 1, "-e", '__import__("sys").exit(3)', "-e", "(_ for _ in ()).throw(GeneratorExit)",
              "-e", 'exec("raise ValueError(\\"a\\\\nb\\")")')
    assert r.returncode == 0
    assert r.stdout.split(" ", 1)[1] == "<SystemExit: 3> <GeneratorExit: > <ValueError: a\\nb>\n"
