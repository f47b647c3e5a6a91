//! The source of a `Live` feed: a libpcap capture handle on an interface.
//!
//! The handle is opened with a short ring retire timeout (packets are
//! readable within a few milliseconds of arriving; see `open`) and switched
//! to non-blocking mode. Waiting for packets is done by `poll()` on
//! libpcap's selectable descriptor with the GIL released, in short slices
//! between which pending signals are checked (so Ctrl-C works even with
//! `timeout=0`) and `breakloop()` is noticed (`wait`). Records are read by
//! libpcap's own loop (`super::pcap_loop`), everything it has buffered per
//! call.

use super::options::LiveOptions;
use super::pcap_loop;
use crate::ffi;
use crate::io::record::{BreakFlag, Consumer};
use crate::py::error::{pcap_error, pcap_error_about};
use pyo3::prelude::*;
use std::ffi::CString;
use std::ptr::NonNull;
use std::time::{Duration, Instant};

/// The longest a packet waits in the kernel's ring before it is readable
/// (the ring's block retire timeout; see `open`).
const RETIRE_MS: libc::c_int = 10;

/// The longest the GIL stays released, and signals unchecked, while waiting.
const WAIT_SLICE: Duration = Duration::from_millis(50);

/// What a wait for packets ended with.
pub enum Wait {
    Ready,
    TimedOut,
    /// `breakloop()` was called.
    Broken,
}

/// Waits until the handle has packets to read (or an error to report), or
/// `deadline` passes (`None`: forever). Releases the GIL while waiting;
/// raises `KeyboardInterrupt` (or whatever a signal handler raises) between
/// slices, and notices `breakloop()` there too.
fn wait_readable(py: Python<'_>, brk: &BreakFlag, p: *mut ffi::pcap_t, deadline: Option<Instant>) -> PyResult<Wait> {
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
        if brk.take() {
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
        if brk.take() {
            return Ok(Wait::Broken);
        }
    }
}

/// The interface's IPv4 `(net, mask)` in host order, or `None`.
pub fn lookupnet_raw(interface: &str) -> Option<(u32, u32)> {
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

/// A capture on an interface, open and activated.
pub struct LiveSource {
    cap: pcap::Capture<pcap::Active>,
    /// The interface, for error messages.
    name: String,
}

impl LiveSource {
    /// Opens `interface` (see `open`); errors name it.
    pub fn open(interface: &str, snaplen: i32, promisc: bool, timeout: i32, opts: &LiveOptions) -> PyResult<Self> {
        Ok(LiveSource { cap: open(interface, snaplen, promisc, timeout, opts)?, name: interface.to_owned() })
    }

    pub fn ptr(&self) -> *mut ffi::pcap_t {
        self.cap.as_ptr().cast()
    }

    /// Waits until packets can be read, `deadline` passes (`None`: no
    /// deadline) or `brk` is set (see `wait_readable`).
    pub fn wait(&mut self, py: Python<'_>, brk: &BreakFlag, deadline: Option<Instant>) -> PyResult<Wait> {
        wait_readable(py, brk, self.ptr(), deadline)
    }

    /// Hands what libpcap has buffered (at most what `sink` still takes) to
    /// `sink`, without waiting; returns how many records it handed.
    pub fn pump<S: Consumer>(&mut self, py: Python<'_>, sink: &mut S) -> PyResult<usize> {
        // SAFETY: our open handle, used by this call alone (the feed's lock).
        unsafe { pcap_loop::dispatch(py, self.ptr(), &self.name, sink) }
    }

    /// Sends `data` out of the interface; returns the bytes written.
    pub fn inject(&mut self, data: &[u8]) -> PyResult<usize> {
        inject(self.ptr(), &self.name, data)
    }
}

/// `inject()` on the live handle `p` (of the interface `name`).
fn inject(p: *mut ffi::pcap_t, name: &str, data: &[u8]) -> PyResult<usize> {
    if data.is_empty() {
        // libpcap refuses it too, with a stray ": Success" after its reason.
        return Err(pcap_error_about(name, "cannot inject an empty packet"));
    }
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
        // SAFETY: the handle the send failed on.
        return Err(pcap_error_about(name, &unsafe { ffi::last_error(p) }));
    }
    Ok(n as usize)
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
fn open(
    interface: &str,
    snaplen: i32,
    promisc: bool,
    timeout: i32,
    opts: &LiveOptions,
) -> PyResult<pcap::Capture<pcap::Active>> {
    let label = if interface.is_empty() { "\"\"" } else { interface };
    let name = CString::new(interface).map_err(|_| pcap_error_about(label, "interface name contains a NUL byte"))?;
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
    // activated one (the options' own refusals are raised by `apply`).
    let status = unsafe {
        ffi::pcap_set_snaplen(raw, snaplen);
        ffi::pcap_set_promisc(raw, promisc as libc::c_int);
        ffi::pcap_set_timeout(raw, if timeout == 0 { RETIRE_MS } else { timeout.min(RETIRE_MS) });
        opts.apply(raw, label)?;
        ffi::pcap_activate(raw)
    };
    // A positive status is a warning (e.g. promiscuous mode not supported):
    // the capture works.
    if status < 0 {
        let why = unsafe { activate_error(raw, status) };
        return Err(match opts.refused_by(status) {
            Some(opt) => pcap_error_about(label, &format!("{opt} refused: {why}")),
            None => pcap_error_about(label, &why),
        });
    }
    // SAFETY: activated handle, errbuf of libpcap's size.
    if unsafe { ffi::pcap_setnonblock(raw, 1, errbuf.as_mut_ptr()) } != 0 {
        return Err(pcap_error_about(label, &unsafe { ffi::cstr_lossy(errbuf.as_ptr()) }));
    }
    Ok(cap)
}
