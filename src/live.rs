//! `Live` capture from an interface, `lookupdev` and `findalldevs`.
//!
//! A live handle is opened with a short ring retire timeout (packets are
//! readable within a few milliseconds of arriving; see `open_live`) and
//! switched to non-blocking mode. Waiting for packets is done by `poll()` on libpcap's selectable
//! descriptor with the GIL released, in short slices between which pending
//! signals are checked (so Ctrl-C works even with `timeout=0`); the read
//! timeout is a deadline counted from the call. The packets themselves are
//! then handed out with the GIL held, everything libpcap has buffered per
//! libpcap call.

use crate::deliver::{ArgBuilder, Delivery};
use crate::error::{crate_error_text, pcap_error, pcap_error_about};
use crate::feed::{run_pcap, Feed, Next, ReadMode};
use crate::ffi;
use crate::handle::Handle;
use crate::packet::LinkInfo;
use pyo3::prelude::*;
use pyo3::PyClassInitializer;
use std::ffi::CString;
use std::ptr::NonNull;
use std::time::{Duration, Instant};

/// The longest a packet waits in the kernel's ring before it is readable
/// (the ring's block retire timeout; see `open_live`).
const RETIRE_MS: libc::c_int = 10;

/// The longest the GIL stays released, and signals unchecked, while waiting.
const WAIT_SLICE: Duration = Duration::from_millis(50);

/// What a wait for packets ended with.
enum Wait {
    Ready,
    TimedOut,
    /// `breakloop()` was called.
    Broken,
}

/// Waits until the handle has packets to read (or an error to report), or
/// `deadline` passes (`None`: forever). Releases the GIL while waiting;
/// raises `KeyboardInterrupt` (or whatever a signal handler raises) between
/// slices, and notices `breakloop()` there too.
fn wait_readable(py: Python<'_>, feed: &Feed, p: *mut ffi::pcap_t, deadline: Option<Instant>) -> PyResult<Wait> {
    // SAFETY: live handle.
    let fd = unsafe { ffi::pcap_get_selectable_fd(p) };
    if fd < 0 {
        // No descriptor to wait on (rare on Linux): look again in a short
        // while, without spinning and with the GIL released.
        let mut nap = Duration::from_millis(5);
        if let Some(d) = deadline {
            let left = d.saturating_duration_since(Instant::now());
            if left.is_zero() {
                return Ok(Wait::TimedOut);
            }
            nap = nap.min(left);
        }
        py.detach(|| std::thread::sleep(nap));
        py.check_signals()?;
        if feed.take_break() {
            return Ok(Wait::Broken);
        }
        return Ok(Wait::Ready);
    }
    loop {
        let slice = match deadline {
            Some(d) => {
                let left = d.saturating_duration_since(Instant::now());
                if left.is_zero() {
                    return Ok(Wait::TimedOut);
                }
                left.min(WAIT_SLICE)
            }
            None => WAIT_SLICE,
        };
        // Round up, so that a wait never ends a little before its deadline.
        let ms = slice.as_micros().div_ceil(1000).max(1) as libc::c_int;
        let rc = py.detach(|| {
            let mut pfd = libc::pollfd { fd, events: libc::POLLIN, revents: 0 };
            // SAFETY: one valid pollfd.
            unsafe { libc::poll(&mut pfd, 1, ms) }
        });
        // POLLERR/POLLHUP count too: the read that follows lets libpcap
        // look at the error ("The interface disappeared" is raised; an
        // interface that went down just delivers nothing until it is up).
        if rc > 0 {
            return Ok(Wait::Ready);
        }
        if rc < 0 {
            let e = std::io::Error::last_os_error();
            if e.kind() != std::io::ErrorKind::Interrupted {
                return Err(pcap_error(format!("poll failed: {e}")));
            }
        }
        py.check_signals()?;
        if feed.take_break() {
            return Ok(Wait::Broken);
        }
    }
}

/// When the read timeout of a read starting now ends (`None`: timeout 0,
/// no timeout).
fn read_deadline(feed: &Feed) -> Option<Instant> {
    match feed.timeout_ms {
        t if t > 0 => Some(Instant::now() + Duration::from_millis(t as u64)),
        _ => None,
    }
}

/// `dispatch`/`loop` on a live handle.
///
/// Packets are readable a few milliseconds after they arrive (see
/// `open_live`). Each round waits (GIL released) until packets can be read,
/// then hands every packet libpcap has buffered (at most what `cnt` still
/// allows) to the callback with the GIL held.
///
/// - `dispatch(cnt > 0)` and `dispatch(-1)` return after the first round
///   that delivered packets, or with 0 when the read timeout passes first
///   (with timeout 0: they wait until packets come);
/// - `dispatch(0)` delivers packets until the read timeout, counted from
///   the call (with timeout 0: until an error, like `loop(0)`);
/// - `loop(cnt)` waits through read timeouts until `cnt` packets were
///   delivered (`cnt <= 0`: for ever).
///
/// A callback exception, or a signal handler's, ends the read at once.
pub fn read(
    feed: &Feed,
    py: Python<'_>,
    h: &mut Handle,
    mode: ReadMode,
    cnt: i64,
    callback: &Bound<'_, PyAny>,
    interpret: Option<LinkInfo>,
) -> PyResult<usize> {
    let p = h.ptr();
    let deadline = match mode {
        ReadMode::Dispatch => read_deadline(feed),
        ReadMode::Loop => None,
    };
    let mut total = 0usize;
    let mut first = true;
    loop {
        // Packets already buffered are read without waiting (no poll, no
        // GIL round trip); only an empty buffer makes us wait.
        if !first {
            match wait_readable(py, feed, p, deadline)? {
                Wait::Ready => {}
                Wait::TimedOut | Wait::Broken => return Ok(total),
            }
        }
        first = false;
        let want = if cnt > 0 { cnt - total as i64 } else { -1 };
        let mut d = Delivery::new(py, callback, p, interpret, &feed.brk);
        // SAFETY: `d` outlives the call, made on this thread with the GIL.
        let rc = unsafe { run_pcap(p, ReadMode::Dispatch, want, &mut d) };
        let broken = d.broken;
        total += feed.finish(p, rc, d)?;
        if broken {
            return Ok(total);
        }
        let done = match mode {
            ReadMode::Dispatch if cnt == 0 => false,
            ReadMode::Dispatch => total > 0,
            ReadMode::Loop => cnt > 0 && total as i64 >= cnt,
        };
        if done {
            return Ok(total);
        }
        py.check_signals()?;
        if deadline.is_some_and(|d| Instant::now() >= d) {
            return Ok(total);
        }
    }
}

/// `next()` (and iteration, with `forever`) on a live handle.
pub fn next(
    feed: &Feed,
    py: Python<'_>,
    h: &mut Handle,
    interpret: Option<LinkInfo>,
    forever: bool,
) -> PyResult<Option<Py<PyAny>>> {
    let p = h.ptr();
    let deadline = if forever { None } else { read_deadline(feed) };
    let mut args = ArgBuilder::new(interpret);
    loop {
        // A buffered packet is returned without waiting.
        match feed.next_record(py, h, &mut args)? {
            (Next::Packet, rec) => return Ok(rec),
            (Next::End, _) => return Ok(None),
            (Next::Timeout, _) => py.check_signals()?,
        }
        match wait_readable(py, feed, p, deadline)? {
            Wait::Ready => {}
            Wait::TimedOut | Wait::Broken => return Ok(None),
        }
    }
}

/// `inject()` on a live handle.
pub fn inject(feed: &Feed, h: &mut Handle, data: &[u8]) -> PyResult<usize> {
    if data.is_empty() {
        // libpcap refuses it too, with a stray ": Success" after its reason.
        return Err(crate::error::pcap_error_about(&feed.name, "cannot inject an empty packet"));
    }
    let p = h.ptr();
    // The send can wait for room in the socket's buffer: let other threads
    // run meanwhile. The feed's lock keeps the handle ours during the call.
    let addr = p as usize;
    let n = Python::attach(|py| {
        py.detach(|| {
            // SAFETY: live handle, valid buffer.
            unsafe { ffi::pcap_inject(addr as *mut ffi::pcap_t, data.as_ptr().cast(), data.len()) }
        })
    });
    if n < 0 {
        return Err(feed.last_error(p));
    }
    Ok(n as usize)
}

/// The interface's IPv4 `(net, mask)` in host order, or `None`.
fn lookupnet_raw(interface: &str) -> Option<(u32, u32)> {
    let name = CString::new(interface).ok()?;
    let (mut net, mut mask) = (0u32, 0u32);
    let mut errbuf = [0 as libc::c_char; ffi::PCAP_ERRBUF_SIZE];
    // SAFETY: valid C string and out-parameters.
    let rc = unsafe { ffi::pcap_lookupnet(name.as_ptr(), &mut net, &mut mask, errbuf.as_mut_ptr()) };
    (rc == 0).then(|| (u32::from_be(net), u32::from_be(mask)))
}

/// The netmask to compile filters with on `interface` (for `ip broadcast`).
///
/// `pcap_compile` compares it with addresses loaded as host-order words, so
/// it takes the mask in *host* byte order, while `pcap_lookupnet` returns
/// network byte order; passing the latter straight through (as tcpdump
/// does) makes `ip broadcast` test the wrong octets on little-endian
/// machines (see libpcap pull request #1454).
pub fn netmask_of(interface: &str) -> u32 {
    match lookupnet_raw(interface) {
        Some((_, mask)) => mask,
        None => ffi::PCAP_NETMASK_UNKNOWN,
    }
}

/// Live(interface=None, snaplen=96, promisc=1, timeout=1000)
///
/// Captures from a network interface (`None`: `lookupdev()`). `timeout` is
/// the read timeout in milliseconds; 0 waits until packets come. Raises
/// `PcapError` naming the interface when it cannot be opened (no such
/// device, interface down, no permission). While waiting for packets the GIL
/// is released, and Ctrl-C is delivered within a fraction of a second.
#[pyclass(frozen, extends = Feed, module = "openbsd.pcap")]
pub struct Live {
    /// The interface name.
    #[pyo3(get)]
    interface: String,
    /// The snap length asked for.
    #[pyo3(get)]
    snaplen: i32,
    /// The promiscuous-mode flag as given.
    #[pyo3(get)]
    promisc: i32,
    /// The read timeout in milliseconds, as given.
    #[pyo3(get)]
    timeout: i32,
}

/// The message for a failed `pcap_activate`, as tcpdump words it: libpcap's
/// description of the status, with the detail libpcap left in the handle
/// (e.g. "You don't have permission to perform this capture on that device
/// (socket: Operation not permitted)").
///
/// # Safety
/// `p` must be the handle whose activation returned `status`.
unsafe fn activate_error(p: *mut ffi::pcap_t, status: libc::c_int) -> String {
    let detail = ffi::last_error(p);
    let detail = detail.trim();
    let what = ffi::cstr_lossy(ffi::pcap_statustostr(status));
    if status == ffi::PCAP_ERROR || detail == what {
        detail.to_owned()
    } else if detail.is_empty() {
        what
    } else {
        format!("{what} ({detail})")
    }
}

/// Opens `interface` for capture: snap length and promiscuous mode as
/// given, non-blocking.
///
/// On Linux libpcap captures into a TPACKET_V3 ring whose packets become
/// readable when the kernel retires a block: when it is full, or after the
/// handle's timeout. That timeout is set to at most `RETIRE_MS`, not to the
/// feed's read timeout, so packets are readable within a few milliseconds
/// of arriving, and a trickle of packets is seen even with `timeout=0`; the
/// feed's own read timeout is a deadline enforced while waiting on the
/// selectable descriptor (see `wait_readable`). Immediate mode would give
/// the same promptness, but libpcap then falls back to the TPACKET_V2 ring
/// of one frame per packet sized by the snap length: with tcpdump's 256 KiB
/// snap length that is a ring of 8 frames, and a flood loses most of its
/// packets (see benches/live_drop.py), where the V3 ring packs small
/// packets tightly, as tcpdump does.
fn open_live(interface: &str, snaplen: i32, promisc: bool, timeout: i32) -> PyResult<pcap::Capture<pcap::Active>> {
    let label = if interface.is_empty() { "\"\"" } else { interface };
    let name = CString::new(interface)
        .map_err(|_| pcap_error_about(label, "interface name contains a NUL byte"))?;
    let mut errbuf = [0 as libc::c_char; ffi::PCAP_ERRBUF_SIZE];
    // SAFETY: valid C string and errbuf of libpcap's size.
    let p = unsafe { ffi::pcap_create(name.as_ptr(), errbuf.as_mut_ptr()) };
    let Some(p) = NonNull::new(p) else {
        return Err(pcap_error_about(label, &unsafe { ffi::cstr_lossy(errbuf.as_ptr()) }));
    };
    // From here on the handle is owned by `cap`, which closes it on drop.
    let cap: pcap::Capture<pcap::Active> = pcap::Capture::from(p.cast());
    let raw = p.as_ptr();
    // SAFETY: a freshly created handle; the setters only fail on an
    // activated one.
    let status = unsafe {
        ffi::pcap_set_snaplen(raw, snaplen);
        ffi::pcap_set_promisc(raw, promisc as libc::c_int);
        ffi::pcap_set_timeout(raw, if timeout == 0 { RETIRE_MS } else { timeout.min(RETIRE_MS) });
        ffi::pcap_activate(raw)
    };
    // A positive status is a warning (e.g. promiscuous mode not supported):
    // the capture works.
    if status < 0 {
        return Err(pcap_error_about(label, &unsafe { activate_error(raw, status) }));
    }
    // SAFETY: activated handle, errbuf of libpcap's size.
    if unsafe { ffi::pcap_setnonblock(raw, 1, errbuf.as_mut_ptr()) } != 0 {
        return Err(pcap_error_about(label, &unsafe { ffi::cstr_lossy(errbuf.as_ptr()) }));
    }
    Ok(cap)
}

#[pymethods]
impl Live {
    #[new]
    #[pyo3(signature = (interface = None, snaplen = 96, promisc = 1, timeout = 1000))]
    fn new(
        py: Python<'_>,
        interface: Option<String>,
        #[pyo3(from_py_with = crate::args::snaplen)] snaplen: i32,
        #[pyo3(from_py_with = promisc_arg)] promisc: i32,
        #[pyo3(from_py_with = timeout_arg)] timeout: i32,
    ) -> PyResult<PyClassInitializer<Self>> {
        let interface = match interface {
            Some(i) => i,
            None => lookupdev()?,
        };
        let iface = interface.clone();
        let cap = py.detach(move || open_live(&iface, snaplen, promisc != 0, timeout))?;
        let mut feed = Feed::new(Handle::Live(cap), interface.clone());
        feed.timeout_ms = timeout;
        Ok(PyClassInitializer::from(feed).add_subclass(Live { interface, snaplen, promisc, timeout }))
    }

    /// lookupnet() -> (net, mask): the interface's IPv4 network and mask as
    /// ints in host order (`ipaddress.IPv4Address(net)` prints them); `(0, 0)`
    /// when it has no IPv4 address.
    fn lookupnet(slf: PyRef<'_, Self>) -> PyResult<(u32, u32)> {
        slf.as_super().with_handle(|_| Ok(lookupnet_raw(&slf.interface).unwrap_or((0, 0))))
    }

    /// snapshot() -> int: the snap length in force (packets are at most this
    /// long): the one asked for, or libpcap's maximum when that is smaller.
    fn snapshot(slf: PyRef<'_, Self>) -> PyResult<i32> {
        let asked = slf.snaplen;
        // SAFETY: open handle.
        slf.as_super().with_handle(|h| Ok(asked.min(unsafe { ffi::pcap_snapshot(h.ptr()) })))
    }

    fn __repr__(slf: PyRef<'_, Self>) -> String {
        let state = if slf.as_super().is_closed().unwrap_or(false) { "closed " } else { "" };
        format!("<{}openbsd.pcap.Live {:?}>", state, slf.interface)
    }
}

/// `promisc` of `Live`: a C int (non-zero: promiscuous).
fn promisc_arg(obj: &Bound<'_, PyAny>) -> PyResult<i32> {
    crate::args::c_int(obj, "promisc")
}

/// `timeout` of `Live`: milliseconds, a C int, not negative.
fn timeout_arg(obj: &Bound<'_, PyAny>) -> PyResult<i32> {
    crate::args::int_arg(obj, "timeout", 0, i32::MAX)
}

/// lookupdev() -> str: the name of a default capture interface.
#[pyfunction]
pub fn lookupdev() -> PyResult<String> {
    match pcap::Device::lookup() {
        Ok(Some(d)) => Ok(d.name),
        Ok(None) => Err(pcap_error("lookupdev: no capture device found")),
        Err(e) => Err(pcap_error(format!("lookupdev: {}", crate_error_text(&e)))),
    }
}

/// findalldevs() -> list[str]: the names of the interfaces that can be opened.
#[pyfunction]
pub fn findalldevs() -> PyResult<Vec<String>> {
    pcap::Device::list()
        .map(|l| l.into_iter().map(|d| d.name).collect())
        .map_err(|e| pcap_error(format!("findalldevs: {}", crate_error_text(&e))))
}
