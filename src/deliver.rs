//! The per-packet path: turning a libpcap record into the callback's
//! `(packet, (sec, usec), length)` arguments and calling Python.
//!
//! This is the hot loop of every read, so it talks to the C API directly:
//! one `bytes` (or decoded `Packet`), one timestamp tuple whose seconds
//! object is reused while the second does not change, one length int, and a
//! vectorcall (no argument tuple). Errors raised by the callback are kept and
//! the libpcap loop is broken at once.

use crate::ffi;
use crate::packet::LinkInfo;
use pyo3::ffi as py;
use pyo3::prelude::*;
use std::panic::{catch_unwind, AssertUnwindSafe};

/// How many packets pass between two checks for pending signals when the
/// callback never runs Python bytecode (which checks them itself).
const SIGNAL_CHECK_INTERVAL: u32 = 1024;

/// Builds the Python objects of one packet record.
pub struct ArgBuilder {
    interpret: Option<LinkInfo>,
    last_sec: i64,
    sec_obj: Option<Py<PyAny>>,
}

impl ArgBuilder {
    pub fn new(interpret: Option<LinkInfo>) -> Self {
        ArgBuilder { interpret, last_sec: i64::MIN, sec_obj: None }
    }

    /// The packet object: `bytes`, or a decoded `Packet` when interpreting.
    fn packet<'py>(&self, py: Python<'py>, data: &[u8]) -> PyResult<Bound<'py, PyAny>> {
        match &self.interpret {
            None => Ok(pyo3::types::PyBytes::new(py, data).into_any()),
            Some(link) => crate::packet::decode_for_feed(py, data, link),
        }
    }

    /// `(sec, usec)`, reusing the seconds object of the previous packet when
    /// it is the same second (the common case in any capture).
    fn tstamp<'py>(&mut self, py: Python<'py>, sec: i64, usec: i64) -> PyResult<Bound<'py, PyAny>> {
        let sec_obj = match &self.sec_obj {
            Some(o) if self.last_sec == sec => o.clone_ref(py).into_bound(py),
            _ => {
                let o = sec.into_pyobject(py)?.into_any();
                self.sec_obj = Some(o.clone().unbind());
                self.last_sec = sec;
                o
            }
        };
        let usec_obj = usec.into_pyobject(py)?.into_any();
        // SAFETY: PyTuple_New(2) is filled with two owned references before
        // it is seen by anyone; SET_ITEM steals them.
        unsafe {
            let t = py::PyTuple_New(2);
            if t.is_null() {
                return Err(PyErr::fetch(py));
            }
            py::PyTuple_SET_ITEM(t, 0, sec_obj.into_ptr());
            py::PyTuple_SET_ITEM(t, 1, usec_obj.into_ptr());
            Ok(Bound::from_owned_ptr(py, t))
        }
    }

    /// The three callback arguments of one record.
    pub fn build<'py>(
        &mut self,
        py: Python<'py>,
        hdr: &ffi::pcap_pkthdr,
        data: &[u8],
    ) -> PyResult<[Bound<'py, PyAny>; 3]> {
        let pkt = self.packet(py, data)?;
        let ts = self.tstamp(py, hdr.ts.tv_sec as i64, hdr.ts.tv_usec as i64)?;
        let len = (hdr.len as u64).into_pyobject(py)?.into_any();
        Ok([pkt, ts, len])
    }

    /// `(packet, (sec, usec), length)` as one tuple, for `next()`.
    pub fn tuple<'py>(
        &mut self,
        py: Python<'py>,
        hdr: &ffi::pcap_pkthdr,
        data: &[u8],
    ) -> PyResult<Bound<'py, PyAny>> {
        let [a, b, c] = self.build(py, hdr, data)?;
        Ok(pyo3::types::PyTuple::new(py, [a, b, c])?.into_any())
    }
}

/// The state shared with the libpcap callback during one `dispatch`/`loop`.
pub struct Delivery<'py, 'a> {
    py: Python<'py>,
    callback: &'a Bound<'py, PyAny>,
    handle: *mut ffi::pcap_t,
    args: ArgBuilder,
    until_signal_check: u32,
    /// Packets handed to the callback so far.
    pub count: usize,
    /// The first error raised by the callback (or a signal handler); once set,
    /// the libpcap loop has been told to stop.
    pub err: Option<PyErr>,
}

impl<'py, 'a> Delivery<'py, 'a> {
    pub fn new(
        py: Python<'py>,
        callback: &'a Bound<'py, PyAny>,
        handle: *mut ffi::pcap_t,
        interpret: Option<LinkInfo>,
    ) -> Self {
        Delivery {
            py,
            callback,
            handle,
            args: ArgBuilder::new(interpret),
            until_signal_check: SIGNAL_CHECK_INTERVAL,
            count: 0,
            err: None,
        }
    }

    fn deliver(&mut self, hdr: &ffi::pcap_pkthdr, data: &[u8]) -> PyResult<()> {
        let py = self.py;
        let args = self.args.build(py, hdr, data)?;
        let argv = [args[0].as_ptr(), args[1].as_ptr(), args[2].as_ptr()];
        // SAFETY: `argv` holds three live references for the duration of the
        // call; the result is a new reference or null with an exception set.
        let res = unsafe {
            py::PyObject_Vectorcall(self.callback.as_ptr(), argv.as_ptr(), 3, std::ptr::null_mut())
        };
        if res.is_null() {
            return Err(PyErr::fetch(py));
        }
        // SAFETY: `res` is an owned reference we no longer need.
        unsafe { py::Py_DECREF(res) };
        if self.args.interpret.is_some() {
            crate::packet::release_after_callback(&args[0]);
        }
        self.count += 1;
        self.until_signal_check -= 1;
        if self.until_signal_check == 0 {
            self.until_signal_check = SIGNAL_CHECK_INTERVAL;
            py.check_signals()?;
        }
        Ok(())
    }

    /// The `user` pointer to pass to `pcap_dispatch`/`pcap_loop` along with
    /// [`trampoline`].
    pub fn as_user(&mut self) -> *mut libc::c_uchar {
        (self as *mut Self).cast()
    }
}

/// The C callback given to libpcap. Never unwinds into C: a Rust panic is
/// turned into a Python exception, and either stops the loop.
///
/// # Safety
/// `user` must come from [`Delivery::as_user`] of a `Delivery` that outlives
/// the libpcap call; `h` and `bytes` are libpcap's record.
pub unsafe extern "C" fn trampoline(
    user: *mut libc::c_uchar,
    h: *const ffi::pcap_pkthdr,
    bytes: *const libc::c_uchar,
) {
    let d = &mut *(user as *mut Delivery<'_, '_>);
    if d.err.is_some() {
        return;
    }
    let hdr = &*h;
    let data: &[u8] = if bytes.is_null() {
        &[]
    } else {
        std::slice::from_raw_parts(bytes, hdr.caplen as usize)
    };
    let outcome = catch_unwind(AssertUnwindSafe(|| d.deliver(hdr, data)));
    let err = match outcome {
        Ok(Ok(())) => return,
        Ok(Err(e)) => e,
        Err(_) => pyo3::exceptions::PySystemError::new_err(
            "internal error while delivering a packet (please report)",
        ),
    };
    d.err = Some(err);
    ffi::pcap_breakloop(d.handle);
}
