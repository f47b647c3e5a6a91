//! `Feed`, the object behind `Live`, `Offline` and `Dead`: its source, the
//! lock that gives the source to one call at a time, and what every read
//! needs to know (name, link type, read timeout, `breakloop()` request).
//!
//! Its Python methods are in `feed_methods`, and the reads they run in
//! `read`.

use super::source::Source;
use crate::ffi;
use crate::io::record::BreakFlag;
use crate::packet::LinkInfo;
use crate::py::deliver::ArgBuilder;
use crate::py::error::{pcap_error, BUSY, CLOSED};
use pyo3::prelude::*;

/// An open feed's state, used by one call at a time.
pub struct Open {
    pub source: Source,
    /// Builds `next()` and iteration results; kept between calls so that
    /// their objects are reused.
    pub next_args: ArgBuilder,
}

/// Common base class of `Live`, `Offline` and `Dead`.
#[pyclass(frozen, subclass, module = "openbsd.pcap")]
pub struct Feed {
    state: OpenCell,
    /// The file or interface, for error messages.
    pub(crate) name: String,
    pub(crate) link: LinkInfo,
    /// The snap length libpcap reported when the feed was opened (for a
    /// `Dumper` opened while the feed is in use).
    pub(crate) snaplen: i32,
    /// The timestamp precision and whether the feed is live, as opened
    /// (for the same `Dumper`).
    pub(crate) precision: super::source::options::Precision,
    pub(crate) live: bool,
    /// The live read timeout in milliseconds (0: none).
    pub(crate) timeout_ms: i32,
    /// Set by `breakloop()` (from any thread, without the lock); cleared by
    /// the read it stops.
    pub(crate) brk: BreakFlag,
    /// A live feed's `setnonblock(True)`: its reads never wait.
    pub(crate) nonblock: std::sync::atomic::AtomicBool,
    /// The pcapng file an `Offline` feed reads, followed for a pcapng
    /// `Dumper` (reachable while the feed is in use).
    pub(crate) ng_trace: Option<std::sync::Arc<crate::io::pcapng_read::Trace>>,
}

impl Feed {
    pub fn new(source: Source, name: String) -> Self {
        let p = source.ptr();
        // SAFETY: `p` is the open handle we were just given.
        let (dlt, swapped, snaplen, precision) = unsafe {
            let swapped = matches!(source, Source::File(_)) && ffi::pcap_is_swapped(p) == 1;
            (ffi::pcap_datalink(p), swapped, ffi::pcap_snapshot(p), super::source::options::Precision::of(p))
        };
        let live = source.is_live();
        let ng_trace = source.ng_trace();
        let open = Open { source, next_args: ArgBuilder::new(None) };
        let nano = precision == super::source::options::Precision::Nano;
        let link = LinkInfo { dlt, swapped, first: None, nano };
        Feed {
            state: OpenCell::new(open),
            name,
            link,
            snaplen,
            precision,
            live,
            timeout_ms: 0,
            brk: BreakFlag::default(),
            nonblock: false.into(),
            ng_trace,
        }
    }

    /// The open state, for one call (all callers are methods run with the
    /// GIL held: see `OpenCell`); `PcapError` while another call has it.
    fn lock(&self) -> PyResult<OpenGuard<'_>> {
        self.state.take().ok_or_else(|| pcap_error(BUSY))
    }

    /// Runs `f` on the open state; `PcapError` when the feed is closed or in
    /// use.
    pub fn with_open<R>(&self, f: impl FnOnce(&mut Open) -> PyResult<R>) -> PyResult<R> {
        let mut guard = self.lock()?;
        match guard.as_mut() {
            Some(o) => f(o),
            None => Err(pcap_error(CLOSED)),
        }
    }

    /// Runs `f` on the open source; `PcapError` when the feed is closed or
    /// in use.
    pub fn with_source<R>(&self, f: impl FnOnce(&mut Source) -> PyResult<R>) -> PyResult<R> {
        self.with_open(|o| f(&mut o.source))
    }

    /// Runs `f` on the open source's libpcap handle, or, while a call has
    /// the feed (`f` runs in the feed's own callback, or another thread
    /// reads it), on a dead handle of the same link type and snap length:
    /// for calls that only need those (opening a `Dumper`). `PcapError`
    /// when the feed is closed.
    /// `f` also learns whether the feed is a live one.
    pub fn with_handle_or_twin<R>(&self, f: impl FnOnce(*mut ffi::pcap_t, bool) -> PyResult<R>) -> PyResult<R> {
        match self.state.take() {
            Some(mut guard) => match guard.as_mut() {
                Some(o) => f(o.source.ptr(), o.source.is_live()),
                None => Err(pcap_error(CLOSED)),
            },
            None => {
                let twin = super::source::raw::RawHandle::open_dead_with(self.link.dlt, self.snaplen, self.precision)
                    .ok_or_else(|| {
                    crate::py::error::pcap_error_about(&self.name, "cannot allocate a pcap handle")
                })?;
                f(twin.ptr(), self.live)
            }
        }
    }

    /// Closes the source. `PcapError` if already closed or in use.
    pub fn close_source(&self) -> PyResult<()> {
        let mut guard = self.lock()?;
        match guard.take() {
            Some(o) => {
                drop(o);
                Ok(())
            }
            None => Err(pcap_error(CLOSED)),
        }
    }

    /// Whether reads must not wait (`setnonblock(True)` on a live feed).
    pub(crate) fn nonblock(&self) -> bool {
        self.nonblock.load(std::sync::atomic::Ordering::Relaxed)
    }

    /// Whether the feed was closed. A feed in use (a read running in
    /// another thread or in this thread's callback) is open: asking never
    /// waits, and never raises "feed is busy".
    pub fn is_closed(&self) -> PyResult<bool> {
        Ok(match self.state.take() {
            Some(guard) => guard.is_none(),
            None => false,
        })
    }
}

/// A feed's open state, used by one call at a time.
///
/// Every method of a feed takes the state with the GIL held and gives it
/// back with the GIL held; a call that waits without the GIL (for a live
/// packet, or data from a pipe) keeps it meanwhile. The GIL orders all of
/// these, so a plain flag is enough to tell a second user — a callback
/// re-entering its own feed, or another thread while the first waits — that
/// the state is in use. (A mutex's atomic read-modify-write costs a stall
/// on the memory traffic in flight, twice per `next()`.)
struct OpenCell {
    busy: std::sync::atomic::AtomicBool,
    open: std::cell::UnsafeCell<Option<Open>>,
}

// SAFETY: the state is only reached through an `OpenGuard`, of which at
// most one exists at a time: `take` and the guard's drop run with the GIL
// held (see above), which serialises them across threads.
unsafe impl Sync for OpenCell {}

/// The open state, while a call uses it; given back on drop.
struct OpenGuard<'a>(&'a OpenCell);

impl OpenCell {
    fn new(o: Open) -> Self {
        OpenCell { busy: false.into(), open: std::cell::UnsafeCell::new(Some(o)) }
    }

    /// The state (`None` inside once closed), or `None` while another call
    /// has it. Call with the GIL held.
    #[inline]
    fn take(&self) -> Option<OpenGuard<'_>> {
        use std::sync::atomic::Ordering;
        if self.busy.load(Ordering::Acquire) {
            return None;
        }
        self.busy.store(true, Ordering::Release);
        Some(OpenGuard(self))
    }
}

impl std::ops::Deref for OpenGuard<'_> {
    type Target = Option<Open>;
    fn deref(&self) -> &Option<Open> {
        // SAFETY: this guard is the only one (see `OpenCell`).
        unsafe { &*self.0.open.get() }
    }
}

impl std::ops::DerefMut for OpenGuard<'_> {
    fn deref_mut(&mut self) -> &mut Option<Open> {
        // SAFETY: this guard is the only one (see `OpenCell`).
        unsafe { &mut *self.0.open.get() }
    }
}

impl Drop for OpenGuard<'_> {
    #[inline]
    fn drop(&mut self) {
        self.0.busy.store(false, std::sync::atomic::Ordering::Release);
    }
}
