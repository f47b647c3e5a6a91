//! libpcap's own read loop (`pcap_dispatch`) feeding a `Consumer`, for the
//! sources libpcap reads itself (live interfaces, dead handles).
//!
//! The C callback (`trampoline`) builds and hands over each record. It
//! never unwinds into C: a Rust panic becomes a Python exception, and any
//! error stops libpcap's loop at once (`pcap_breakloop`) and is returned
//! after it.

use crate::ffi;
use crate::io::record::{Consumer, Record};
use crate::py::error::pcap_error_about;
use pyo3::prelude::*;
use std::panic::{catch_unwind, AssertUnwindSafe};

/// The state the C callback works on during one `pcap_dispatch`.
struct Run<'s, S: Consumer> {
    sink: &'s mut S,
    handle: *mut ffi::pcap_t,
    /// Records handed to the sink by this call.
    taken: usize,
    /// The first error (the sink's, or a panic); once set, libpcap's loop
    /// has been told to stop.
    err: Option<PyErr>,
}

/// The C callback given to libpcap.
///
/// # Safety
/// `user` must point to the `Run` of the running `dispatch`; `h` and
/// `bytes` are libpcap's record.
unsafe extern "C" fn trampoline<S: Consumer>(
    user: *mut libc::c_uchar,
    h: *const ffi::pcap_pkthdr,
    bytes: *const libc::c_uchar,
) {
    let run = &mut *(user as *mut Run<'_, S>);
    if run.err.is_some() {
        return;
    }
    let hdr = &*h;
    let data: &[u8] = if bytes.is_null() { &[] } else { std::slice::from_raw_parts(bytes, hdr.caplen as usize) };
    let outcome = catch_unwind(AssertUnwindSafe(|| {
        let (sec, usec) = ffi::tstamp(&hdr.ts);
        let built = run.sink.build(&Record { sec, usec, len: hdr.len, data })?;
        run.sink.take(built)
    }));
    let err = match outcome {
        Ok(Ok(())) => {
            run.taken += 1;
            if run.sink.remaining() == Some(0) {
                ffi::pcap_breakloop(run.handle);
            }
            return;
        }
        Ok(Err(e)) => e,
        Err(_) => pyo3::exceptions::PySystemError::new_err("internal error while delivering a packet (please report)"),
    };
    run.err = Some(err);
    ffi::pcap_breakloop(run.handle);
}

/// One `pcap_dispatch` on `p` into `sink`: at most what the sink still
/// takes, from what libpcap has buffered (a live handle in non-blocking
/// mode does not wait). Returns the number of records handed over. Errors
/// name `name`.
///
/// # Safety
/// `p` must be an open handle, used by nobody else during the call.
pub unsafe fn dispatch<S: Consumer>(py: Python<'_>, p: *mut ffi::pcap_t, name: &str, sink: &mut S) -> PyResult<usize> {
    let cnt = match sink.remaining() {
        Some(0) => return Ok(0),
        Some(n) => i32::try_from(n).unwrap_or(i32::MAX),
        None => -1,
    };
    let mut run = Run { sink, handle: p, taken: 0, err: None };
    let user = (&mut run as *mut Run<'_, S>).cast();
    let mut rc = ffi::pcap_dispatch(p, cnt, trampoline::<S>, user);
    if rc == -2 && run.err.is_none() && run.taken == 0 {
        // A break requested by an earlier read (whose sink stopped on its
        // last record) was still pending; libpcap has now cleared it.
        rc = ffi::pcap_dispatch(p, cnt, trampoline::<S>, user);
    }
    if let Some(e) = run.err {
        return Err(e);
    }
    if rc == -1 {
        // A read interrupted by a signal: the signal's exception first.
        py.check_signals()?;
        return Err(pcap_error_about(name, &ffi::last_error(p)));
    }
    Ok(run.taken)
}
