//! `PartSource`: the records of one part of a capture file, read from
//! memory (bytes a caller fetched: a local file's range, or an object
//! store's through fsspec) by `crate::io::split::Records`, filtered with
//! libpcap's compiled program, and pushed into any `Sink` (Python
//! delivery, a table builder).
//!
//! The part is the records from the split point `start` to the split point
//! `end` (see `crate::io::split`); a chain that does not land exactly on
//! `end` is an error naming the file, never a silent short or long read.

use super::bpf::CompiledFilter;
use super::raw::RawHandle;
use crate::ffi;
use crate::io::record::{Pumped, Record, Sink};
use crate::io::split::{Bytes, Format, Records};
use crate::packet::LinkInfo;
use crate::py::error::pcap_error_about;
use pyo3::prelude::*;
use std::ptr::NonNull;

/// libpcap's DLT for `fmt`'s link type on this platform (as `Offline`
/// reports it), and `fmt`'s filter `expr` compiled for it: both from an
/// offline handle on a classic file header of the link type and snap
/// length, read from memory.
fn link_and_filter(name: &str, fmt: &Format, expr: Option<&str>) -> PyResult<(i32, Option<CompiledFilter>)> {
    let mut hdr = [0u8; 24];
    hdr[..4].copy_from_slice(&0xa1b2_c3d4u32.to_ne_bytes());
    hdr[4..6].copy_from_slice(&2u16.to_ne_bytes());
    hdr[6..8].copy_from_slice(&4u16.to_ne_bytes());
    hdr[16..20].copy_from_slice(&fmt.snapshot().to_ne_bytes());
    hdr[20..].copy_from_slice(&fmt.linktype().to_ne_bytes());
    let mut errbuf = [0 as libc::c_char; ffi::PCAP_ERRBUF_SIZE];
    // SAFETY: the stream reads `hdr`, which outlives the handle (dropped
    // first, at the end of this function); pcap_fopen_offline takes the
    // stream (and closes it on failure).
    let h = unsafe {
        let f = libc::fmemopen(hdr.as_mut_ptr().cast(), hdr.len(), c"r".as_ptr());
        if f.is_null() {
            return Err(pcap_error_about(name, "cannot open a handle for the file's link type"));
        }
        match NonNull::new(ffi::pcap_fopen_offline_with_tstamp_precision(
            f,
            ffi::PCAP_TSTAMP_PRECISION_MICRO as libc::c_uint,
            errbuf.as_mut_ptr(),
        )) {
            Some(p) => RawHandle::from_ptr(p),
            None => {
                let msg = std::ffi::CStr::from_ptr(errbuf.as_ptr()).to_string_lossy().into_owned();
                return Err(pcap_error_about(name, &msg));
            }
        }
    };
    let filter = match expr {
        None => None,
        Some(e) => Some(CompiledFilter::compile(h.ptr(), name, e, true, ffi::PCAP_NETMASK_UNKNOWN)?),
    };
    // SAFETY: an open handle.
    Ok((unsafe { ffi::pcap_datalink(h.ptr()) }, filter))
}

/// A part of a capture file being read.
pub struct PartSource<'a> {
    /// The file's name, for errors.
    name: &'a str,
    records: Records<'a>,
    filter: Option<CompiledFilter>,
    /// The link layer, as an `Offline` feed of the file reports it.
    pub link: LinkInfo,
}

impl<'a> PartSource<'a> {
    /// The records of `bytes` (which hold the file from `start` to `end`
    /// at least) between the split points `start` and `end`, filtered with
    /// `filter` compiled for the file's link type and snap length.
    pub fn new(
        name: &'a str,
        fmt: Format,
        bytes: Bytes<'a>,
        start: u64,
        end: u64,
        filter: Option<&str>,
    ) -> PyResult<Self> {
        let (dlt, filter) = link_and_filter(name, &fmt, filter)?;
        // Microsecond time stamps, as `Offline` reads by default.
        let link = LinkInfo { dlt, swapped: fmt.swapped(), first: None, nano: false };
        Ok(PartSource { name, records: Records::new(fmt, bytes, start, end), filter, link })
    }

    /// Hands the part's records to `sink`, up to what it takes.
    pub fn pump<S: Sink>(&mut self, sink: &mut S) -> PyResult<Pumped> {
        loop {
            if sink.remaining() == Some(0) {
                return Ok(Pumped::More);
            }
            let rec = match self.records.next() {
                None => return Ok(Pumped::End),
                Some(Err(e)) => return Err(pcap_error_about(self.name, &e)),
                Some(Ok(r)) => r,
            };
            if let Some(f) = &self.filter {
                if !f.matches(rec.data, rec.len) {
                    sink.skipped()?;
                    continue;
                }
            }
            // Bytes in memory are always whole: build, then take.
            let built = sink.build(&Record { sec: rec.sec, usec: rec.usec, len: rec.len, data: rec.data })?;
            sink.take(built)?;
        }
    }
}
