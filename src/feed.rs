//! `Feed`, the base class of `Live`, `Offline` and `Dead`: the methods every
//! feed has (`dispatch`, `loop`, `next`, iteration, `filter`, `datalink`,
//! `inject`, `stats`, `close`, context manager).
//!
//! The libpcap handle is taken for the whole of a read (`HandleCell`, a
//! flag ordered by the GIL): a callback that re-enters or closes its own
//! feed (or another thread that touches a feed being read) gets a
//! `PcapError` instead of a deadlock or a use-after-free.

use crate::args::packet_bytes;
use crate::deliver::{trampoline, ArgBuilder, Delivery};
use crate::error::{pcap_error, pcap_error_about, pcap_error_after_os, BUSY, CLOSED};
use crate::ffi;
use crate::filter::{BPFProgram, CompiledFilter};
use crate::handle::Handle;
use crate::packet::LinkInfo;
use crate::savefile::ActiveFilter;
use pyo3::exceptions::PyTypeError;
use pyo3::prelude::*;
use pyo3::types::PyDict;

/// Which libpcap reading function a read maps to.
#[derive(Clone, Copy, PartialEq, Eq)]
pub enum ReadMode {
    Dispatch,
    Loop,
}

/// One record from `pcap_next_ex`.
pub enum Next {
    Packet,
    Timeout,
    End,
}

/// Common base class of `Live`, `Offline` and `Dead`.
#[pyclass(frozen, subclass, module = "openbsd.pcap")]
pub struct Feed {
    state: crate::handle::HandleCell,
    /// The file or interface, for error messages.
    pub(crate) name: String,
    pub(crate) link: LinkInfo,
    /// The live read timeout in milliseconds (0: none).
    pub(crate) timeout_ms: i32,
    /// Set by `breakloop()` (from any thread, without the handle); cleared
    /// by the read it stops.
    pub(crate) brk: std::sync::atomic::AtomicBool,
}

impl Feed {
    pub fn new(handle: Handle, name: String) -> Self {
        let p = handle.ptr();
        // SAFETY: `p` is the live handle we were just given.
        let (dlt, swapped) = unsafe {
            let swapped = matches!(handle, Handle::Offline(_)) && ffi::pcap_is_swapped(p) == 1;
            (ffi::pcap_datalink(p), swapped)
        };
        Feed { state: crate::handle::HandleCell::new(handle), name, link: LinkInfo { dlt, swapped }, timeout_ms: 0, brk: false.into() }
    }

    /// Whether `breakloop()` was asked for since the last read it stopped;
    /// clears the request.
    pub(crate) fn take_break(&self) -> bool {
        take_flag(&self.brk)
    }

    /// The handle, for one call (all callers are methods run with the GIL
    /// held: see `HandleCell`); `PcapError` while another call has it.
    fn lock(&self) -> PyResult<crate::handle::HandleGuard<'_>> {
        self.state.take().ok_or_else(|| pcap_error(BUSY))
    }

    /// Runs `f` on the open handle; `PcapError` when the feed is closed or
    /// in use.
    pub fn with_handle<R>(&self, f: impl FnOnce(&mut Handle) -> PyResult<R>) -> PyResult<R> {
        let mut guard = self.lock()?;
        match guard.as_mut() {
            Some(h) => f(h),
            None => Err(pcap_error(CLOSED)),
        }
    }

    /// A `PcapError` naming this feed, with libpcap's last message.
    pub fn last_error(&self, p: *mut ffi::pcap_t) -> PyErr {
        // SAFETY: callers pass the handle they are using.
        pcap_error_about(&self.name, &unsafe { ffi::last_error(p) })
    }

    /// A `PcapError` for a read that failed, naming this feed, with
    /// libpcap's last message and, when the OS reported the failure, its
    /// `errno` (`os`: the OS error right after the failed call).
    pub fn read_error(&self, p: *mut ffi::pcap_t, os: &std::io::Error) -> PyErr {
        // SAFETY: callers pass the handle they are using.
        pcap_error_after_os(&self.name, &unsafe { ffi::last_error(p) }, os)
    }

    /// The link to decode packets with, when `interpret` (default false) is true.
    fn interpret_info(&self, interpret: Option<&Bound<'_, PyAny>>) -> PyResult<Option<LinkInfo>> {
        Ok(match interpret {
            Some(i) if i.is_truthy()? => Some(self.link),
            _ => None,
        })
    }

    /// `dispatch` and `loop`: hands packets to `callback` through libpcap's
    /// own loop, and returns how many were handed.
    fn read(
        &self,
        py: Python<'_>,
        mode: ReadMode,
        cnt: i64,
        callback: &Bound<'_, PyAny>,
        interpret: Option<&Bound<'_, PyAny>>,
    ) -> PyResult<usize> {
        if !callback.is_callable() {
            return Err(PyTypeError::new_err("callback must be callable"));
        }
        let interpret = self.interpret_info(interpret)?;
        self.with_handle(|h| {
            if self.take_break() {
                return Ok(0); // breakloop() came before this read
            }
            if h.is_live() {
                return crate::live::read(self, py, h, mode, cnt, callback, interpret);
            }
            let p = h.ptr();
            if let Handle::Offline(f) = h {
                // Files: dispatch and loop both read up to `cnt` (all if <= 0).
                let mut d = Delivery::new(py, callback, p, interpret, &self.brk);
                f.read(self, &mut d, cnt)?;
                return Ok(d.count);
            }
            let mut d = Delivery::new(py, callback, p, interpret, &self.brk);
            // SAFETY: `d` outlives the call; the trampoline only uses it
            // during the call, on this thread, with the GIL held.
            let rc = unsafe { run_pcap(p, mode, cnt, &mut d) };
            self.finish(p, rc, d)
        })
    }

    /// Turns the return code of `pcap_dispatch`/`pcap_loop` and the state of
    /// the delivery into the Python result.
    pub(crate) fn finish(&self, p: *mut ffi::pcap_t, rc: i32, d: Delivery<'_, '_>) -> PyResult<usize> {
        if let Some(e) = d.err {
            return Err(e);
        }
        if rc == -1 {
            // A read interrupted by a signal: the signal's exception first.
            d.py().check_signals()?;
            return Err(self.last_error(p));
        }
        Ok(d.count)
    }

    /// Reads one record with `pcap_next_ex` and builds its tuple.
    pub(crate) fn next_record(
        &self,
        py: Python<'_>,
        h: &mut Handle,
        args: &mut ArgBuilder,
    ) -> PyResult<(Next, Option<Py<PyAny>>)> {
        let p = h.ptr();
        let mut hdr: *mut ffi::pcap_pkthdr = std::ptr::null_mut();
        let mut data: *const libc::c_uchar = std::ptr::null();
        // SAFETY: out-pointers are valid; the record stays valid until the
        // next read on this handle, which cannot happen while we hold it.
        let mut rc = unsafe { ffi::pcap_next_ex(p, &mut hdr, &mut data) };
        if rc == -2 {
            // Either the end of the file, or a stale break (see `run_pcap`),
            // which libpcap clears as it reports it: ask once more.
            rc = unsafe { ffi::pcap_next_ex(p, &mut hdr, &mut data) };
        }
        match rc {
            1 if !hdr.is_null() => {
                // SAFETY: libpcap returned a record of `caplen` bytes.
                let (hdr, bytes) = unsafe {
                    let hdr = &*hdr;
                    let bytes: &[u8] = if data.is_null() {
                        &[]
                    } else {
                        std::slice::from_raw_parts(data, hdr.caplen as usize)
                    };
                    (hdr, bytes)
                };
                let (sec, usec) = ffi::tstamp(&hdr.ts);
                Ok((Next::Packet, Some(args.tuple(py, sec, usec, hdr.len, bytes)?.unbind())))
            }
            0 => Ok((Next::Timeout, None)),
            -2 => Ok((Next::End, None)),
            _ => {
                py.check_signals()?;
                Err(self.last_error(p))
            }
        }
    }

    /// Closes the handle. `PcapError` if already closed or in use.
    pub fn close_handle(&self) -> PyResult<()> {
        let mut guard = self.lock()?;
        match guard.take() {
            Some(h) => {
                drop(h);
                Ok(())
            }
            None => Err(pcap_error(CLOSED)),
        }
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

    /// The netmask filters are compiled with: the interface's for a live feed.
    fn netmask(&self, h: &Handle) -> u32 {
        match h {
            Handle::Live(_) => crate::live::netmask_of(&self.name),
            _ => ffi::PCAP_NETMASK_UNKNOWN,
        }
    }
}

/// Whether `flag` (a `breakloop()` request) is set; clears it. Costs a
/// plain load when it is not set (once per packet).
#[inline]
pub(crate) fn take_flag(flag: &std::sync::atomic::AtomicBool) -> bool {
    use std::sync::atomic::Ordering;
    flag.load(Ordering::Relaxed) && flag.swap(false, Ordering::AcqRel)
}

/// Calls `pcap_dispatch` or `pcap_loop` with the delivery trampoline.
///
/// # Safety
/// `p` must be the live handle `d` was made for.
pub(crate) unsafe fn run_pcap(
    p: *mut ffi::pcap_t,
    mode: ReadMode,
    cnt: i64,
    d: &mut Delivery<'_, '_>,
) -> i32 {
    let cnt = cnt.clamp(i32::MIN as i64, i32::MAX as i64) as i32;
    let call = |d: &mut Delivery<'_, '_>| match mode {
        ReadMode::Dispatch => ffi::pcap_dispatch(p, cnt, trampoline, d.as_user()),
        // pcap_loop treats 0 and -1 as "no limit"; so do we for any cnt <= 0.
        ReadMode::Loop => ffi::pcap_loop(p, if cnt <= 0 { -1 } else { cnt }, trampoline, d.as_user()),
    };
    let rc = call(d);
    if rc == -2 && d.err.is_none() && d.count == 0 {
        // A break requested by an earlier read whose callback raised on its
        // last packet is still pending; libpcap has now cleared it.
        return call(d);
    }
    rc
}

#[pymethods]
impl Feed {
    /// dispatch(cnt, callback, interpret=0) -> int
    ///
    /// Processes at most one buffer's worth of packets, calling
    /// `callback(packet, (sec, usec), length)` for each. `cnt > 0`: at most
    /// `cnt` packets; `-1`: every packet of one buffer (for a file: all that
    /// remain); `0`: until an error, end of file or a live read timeout.
    /// A `cnt` past `2**63 - 1` means no limit. Returns the number of
    /// packets processed. An exception raised by the
    /// callback stops the read and propagates unchanged.
    #[pyo3(signature = (cnt, callback, interpret = None))]
    fn dispatch(
        &self,
        py: Python<'_>,
        #[pyo3(from_py_with = crate::args::count)] cnt: i64,
        callback: &Bound<'_, PyAny>,
        interpret: Option<&Bound<'_, PyAny>>,
    ) -> PyResult<usize> {
        self.read(py, ReadMode::Dispatch, cnt, callback, interpret)
    }

    /// loop(cnt, callback, interpret=0) -> int
    ///
    /// Reads until `cnt` packets were processed (`cnt <= 0`, or past
    /// `2**63 - 1`: no limit), the end of the file, or an error. Returns the number of packets processed.
    #[pyo3(name = "loop", signature = (cnt, callback, interpret = None))]
    fn loop_(
        &self,
        py: Python<'_>,
        #[pyo3(from_py_with = crate::args::count)] cnt: i64,
        callback: &Bound<'_, PyAny>,
        interpret: Option<&Bound<'_, PyAny>>,
    ) -> PyResult<usize> {
        self.read(py, ReadMode::Loop, cnt, callback, interpret)
    }

    /// breakloop() -> None
    ///
    /// Makes the `loop()` or `dispatch()` running on this feed return after
    /// the packet being handled, with the number of packets handled so far;
    /// a live `next()` or iteration waiting for packets returns `None` (ends).
    /// May be called from the callback or from another thread (it does not
    /// wait for the feed); a wait notices it within about 50 ms. Called when
    /// nothing is reading, it makes the next `loop()`/`dispatch()` return 0
    /// at once, as libpcap's `pcap_breakloop` does. On a closed feed it
    /// raises `PcapError("feed is closed")`, like every method.
    fn breakloop(&self) -> PyResult<()> {
        // A feed in use (`take` gives nothing: a read is running, on this
        // thread's callback or waiting in another thread) is open; only an
        // idle feed is looked at, so this never waits for a read.
        if self.is_closed()? {
            return Err(pcap_error(CLOSED));
        }
        self.brk.store(true, std::sync::atomic::Ordering::Release);
        Ok(())
    }

    /// next(interpret=0) -> (packet, (sec, usec), length) or None
    ///
    /// The next packet, or `None` at the end of a file or when a live read
    /// timed out with nothing.
    #[pyo3(signature = (interpret = None))]
    fn next(&self, py: Python<'_>, interpret: Option<&Bound<'_, PyAny>>) -> PyResult<Option<Py<PyAny>>> {
        let interpret = self.interpret_info(interpret)?;
        self.with_handle(|h| {
            if h.is_live() {
                return crate::live::next(self, py, h, interpret, false);
            }
            if let Handle::Offline(f) = h {
                return f.next_tuple(self, py, interpret);
            }
            let mut args = ArgBuilder::new(interpret);
            Ok(self.next_record(py, h, &mut args)?.1)
        })
    }

    fn __iter__(slf: Bound<'_, Self>) -> Bound<'_, Self> {
        slf
    }

    /// Yields `(packet, (sec, usec), length)` like `next()`; a live feed
    /// keeps waiting through read timeouts.
    fn __next__(&self, py: Python<'_>) -> PyResult<Option<Py<PyAny>>> {
        self.with_handle(|h| {
            if h.is_live() {
                return crate::live::next(self, py, h, None, true);
            }
            if let Handle::Offline(f) = h {
                return f.next_tuple(self, py, None);
            }
            let mut args = ArgBuilder::new(None);
            Ok(self.next_record(py, h, &mut args)?.1)
        })
    }

    /// inject(packet) -> int
    ///
    /// Sends `packet` (bytes-like or a `Packet`) out of the interface and
    /// returns the number of bytes written. Only a `Live` feed can send.
    fn inject(&self, packet: &Bound<'_, PyAny>) -> PyResult<usize> {
        let data = packet_bytes(packet)?;
        self.with_handle(|h| match h {
            Handle::Live(_) => crate::live::inject(self, h, &data),
            Handle::Offline(_) => Err(pcap_error_about(
                &self.name,
                "cannot inject packets: an Offline feed reads a file and cannot send",
            )),
            Handle::Dead(_) => Err(pcap_error_about(
                &self.name,
                "cannot inject packets: a Dead feed has no interface to send on",
            )),
        })
    }

    /// datalink() -> int: the link type, one of the `DLT_*` constants.
    fn datalink(&self) -> PyResult<i32> {
        self.with_handle(|h| Ok(unsafe { ffi::pcap_datalink(h.ptr()) }))
    }

    /// snapshot() -> int: the snap length in force.
    fn snapshot(&self) -> PyResult<i32> {
        self.with_handle(|h| Ok(unsafe { ffi::pcap_snapshot(h.ptr()) }))
    }

    /// filter(filterstr)
    ///
    /// Compiles a tcpdump-syntax filter (or takes a `BPFProgram`) and applies
    /// it. An empty string accepts everything. A bad expression raises
    /// `PcapError` with libpcap's message.
    fn filter(&self, filterstr: &Bound<'_, PyAny>) -> PyResult<()> {
        self.with_handle(|h| {
            let p = h.ptr();
            let set = |prog: &CompiledFilter| -> PyResult<()> {
                // SAFETY: libpcap copies the program into the handle.
                if unsafe { ffi::pcap_setfilter(p, prog.as_ptr()) } != 0 {
                    return Err(self.last_error(p));
                }
                Ok(())
            };
            let active = if let Ok(prog) = filterstr.cast::<BPFProgram>() {
                // SAFETY: the open handle.
                prog.get().check_linktype(&self.name, unsafe { ffi::pcap_datalink(p) })?;
                set(prog.get().compiled())?;
                ActiveFilter::Program(prog.clone().unbind())
            } else {
                let expr: String = filterstr.extract().map_err(|_| {
                    PyTypeError::new_err("filter expects a str (tcpdump syntax) or a BPFProgram")
                })?;
                let prog = CompiledFilter::compile(p, &self.name, &expr, true, self.netmask(h))?;
                set(&prog)?;
                ActiveFilter::Own(prog)
            };
            if let Handle::Offline(f) = h {
                // Records read by the fast path are filtered with the same program.
                f.filter = Some(active);
            }
            Ok(())
        })
    }

    /// stats() -> dict with int values for `ps_recv`, `ps_drop`, `ps_ifdrop`.
    fn stats<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyDict>> {
        let st = self.with_handle(|h| {
            let p = h.ptr();
            let mut st = ffi::pcap_stat::default();
            if unsafe { ffi::pcap_stats(p, &mut st) } != 0 {
                return Err(self.last_error(p));
            }
            Ok(st)
        })?;
        let d = PyDict::new(py);
        d.set_item("ps_recv", st.ps_recv)?;
        d.set_item("ps_drop", st.ps_drop)?;
        d.set_item("ps_ifdrop", st.ps_ifdrop)?;
        Ok(d)
    }

    /// close(): releases the handle. A second `close()`, and any method on a
    /// closed feed, raise `PcapError("feed is closed")`.
    fn close(&self) -> PyResult<()> {
        self.close_handle()
    }

    /// True once the feed has been closed (new).
    #[getter]
    fn closed(&self) -> PyResult<bool> {
        self.is_closed()
    }

    fn __enter__(slf: Bound<'_, Self>) -> Bound<'_, Self> {
        slf
    }

    /// Closes the feed; does nothing if it is closed already.
    #[pyo3(signature = (*_args))]
    fn __exit__(&self, _args: &Bound<'_, pyo3::types::PyTuple>) -> PyResult<bool> {
        if !self.is_closed()? {
            self.close_handle()?;
        }
        Ok(false)
    }
}
