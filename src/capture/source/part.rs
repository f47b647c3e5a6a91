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
use crate::py::error::pcap_error_about;
use pyo3::prelude::*;

/// A part of a capture file being read.
pub struct PartSource<'a> {
    /// The file's name, for errors.
    name: &'a str,
    records: Records<'a>,
    filter: Option<CompiledFilter>,
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
        let filter = match filter {
            None => None,
            Some(expr) => {
                let linktype = i32::try_from(fmt.linktype()).unwrap_or(i32::MAX);
                let snap = i32::try_from(fmt.snapshot()).unwrap_or(i32::MAX);
                let dead = RawHandle::open_dead(linktype, snap)
                    .ok_or_else(|| pcap_error_about(name, "cannot open a handle to compile the filter"))?;
                Some(CompiledFilter::compile(dead.ptr(), name, expr, true, ffi::PCAP_NETMASK_UNKNOWN)?)
            }
        };
        Ok(PartSource { name, records: Records::new(fmt, bytes, start, end), filter })
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
