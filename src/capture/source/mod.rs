//! Record sources: where a feed's records come from, one kind per module,
//! behind one type (`Source`) that the feed drives.
//!
//! - `file`: a capture file, standard input, a pipe or a FIFO (`Offline`);
//! - `live`: an interface (`Live`);
//! - `raw` (`Source::Dead`): a handle with no records (`Dead`);
//! - `part` (`PartSource`, not a `Source` variant: it reads bytes it is
//!   given, not a handle): one part of a capture file, read from memory
//!   (`openbsd.parts`, `openbsd.dask`);
//! - `options`: what a source is opened with (timestamp precision, the
//!   modern `Live` options) and the interface listing behind `interfaces()`.
//!
//! Every source pushes records into a consumer (`crate::io::record::Consumer`):
//! `pump` hands over what the source has now, up to what the sink takes.
//! A source applies the filter in force (`bpf`), reports statistics, and
//! sends packets where it can (`inject`). No source knows the feed or
//! Python callbacks: errors name the file or interface the source was
//! opened with.

pub mod bpf;
pub mod file;
pub mod live;
pub mod options;
pub mod part;
mod pcap_loop;
pub mod raw;

use crate::ffi;
pub use crate::io::record::Pumped;
use crate::io::record::{BreakFlag, Consumer};
use crate::py::error::pcap_error_about;
use bpf::{ActiveFilter, CompiledFilter};
use file::FileSource;
use live::LiveSource;
use pyo3::prelude::*;
use raw::RawHandle;
use std::time::Instant;

pub use live::Wait;

/// An open source. Dropping it closes the handle (and the file it read).
///
/// One per feed, so the size of the largest variant costs nothing worth an
/// indirection on every packet read from a file.
#[allow(clippy::large_enum_variant)]
pub enum Source {
    File(FileSource),
    Live(LiveSource),
    Dead(RawHandle),
}

impl Source {
    /// The libpcap handle, valid for as long as `self` lives.
    pub fn ptr(&self) -> *mut ffi::pcap_t {
        match self {
            Source::File(f) => f.ptr(),
            Source::Live(l) => l.ptr(),
            Source::Dead(d) => d.ptr(),
        }
    }

    /// Hands records to `sink`: up to what it takes, or what the source has
    /// now. Errors name `name` (the feed's file or interface).
    #[inline]
    pub fn pump<S: Consumer>(&mut self, py: Python<'_>, name: &str, sink: &mut S) -> PyResult<Pumped> {
        match self {
            Source::File(f) => f.pump(py, sink),
            Source::Live(l) => l.pump(py, sink).map(|_| Pumped::More),
            // SAFETY: our open handle, used by this call alone. libpcap
            // refuses the read with its own message.
            Source::Dead(d) => unsafe { pcap_loop::dispatch(py, d.ptr(), name, sink) }.map(|_| Pumped::End),
        }
    }

    /// Waits until records can be read, `deadline` passes (`None`: no
    /// deadline) or `brk` is set. Only a live source ever waits.
    pub fn wait(&mut self, py: Python<'_>, brk: &BreakFlag, deadline: Option<Instant>) -> PyResult<Wait> {
        match self {
            Source::Live(l) => l.wait(py, brk, deadline),
            _ => Ok(Wait::Ready),
        }
    }

    /// Applies the compiled filter `prog` (named `name` in errors).
    pub fn set_filter(&mut self, name: &str, prog: std::sync::Arc<CompiledFilter>) -> PyResult<()> {
        let p = self.ptr();
        // SAFETY: libpcap copies the program into the open handle.
        if unsafe { ffi::pcap_setfilter(p, prog.as_ptr()) } != 0 {
            return Err(pcap_error_about(name, &unsafe { ffi::last_error(p) }));
        }
        if let Source::File(f) = self {
            // Records read by the fast reader are filtered with the same program.
            f.set_filter(ActiveFilter::new(prog));
        }
        Ok(())
    }

    /// The netmask filters are compiled with: the interface's for a live
    /// source (named `name`), unknown for the others.
    pub fn netmask(&self, name: &str) -> u32 {
        match self {
            Source::Live(_) => live::netmask_of(name),
            _ => ffi::PCAP_NETMASK_UNKNOWN,
        }
    }

    /// libpcap's statistics (`pcap_stats`).
    pub fn stats(&self, name: &str) -> PyResult<ffi::pcap_stat> {
        let p = self.ptr();
        let mut st = ffi::pcap_stat::default();
        // SAFETY: open handle, valid out-parameter.
        if unsafe { ffi::pcap_stats(p, &mut st) } != 0 {
            return Err(pcap_error_about(name, &unsafe { ffi::last_error(p) }));
        }
        Ok(st)
    }

    /// Sends `data` out of the interface; only a live source can.
    pub fn inject(&mut self, name: &str, data: &[u8]) -> PyResult<usize> {
        match self {
            Source::Live(l) => l.inject(data),
            Source::File(_) => {
                Err(pcap_error_about(name, "cannot inject packets: an Offline feed reads a file and cannot send"))
            }
            Source::Dead(_) => {
                Err(pcap_error_about(name, "cannot inject packets: a Dead feed has no interface to send on"))
            }
        }
    }

    /// The trace of the pcapng file a file source reads, if it is one.
    pub fn ng_trace(&self) -> Option<std::sync::Arc<crate::io::pcapng_read::Trace>> {
        match self {
            Source::File(f) => f.trace.clone(),
            _ => None,
        }
    }

    pub fn is_live(&self) -> bool {
        matches!(self, Source::Live(_))
    }
}
