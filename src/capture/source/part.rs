//! `PartSource`: the records of one part of a capture file, read a chunk
//! at a time (`crate::io::split::Window`) from a local file or through a
//! caller's `Fetch` (an object store's ranged reads through fsspec) by `crate::io::split::Records`, filtered with
//! libpcap's compiled program, and pushed into any `Consumer` (Python
//! delivery, a table builder).
//!
//! The part is the records from the split point `start` to the split point
//! `end` (see `crate::io::split`); a chain that does not land exactly on
//! `end` is an error naming the file, never a silent short or long read.

use super::bpf::CompiledFilter;
use super::raw::RawHandle;
use crate::ffi;
use crate::io::format::pcap_file_header;
use crate::io::record::{Consumer, Pumped, Record};
use crate::io::split::{Fetch, FetchError, Format, Interface, Miss, Records, Section, Window};
use crate::packet::LinkInfo;
use crate::py::error::pcap_error_about;
use pyo3::prelude::*;
use std::collections::{BTreeMap, HashMap};
use std::ptr::NonNull;
use std::sync::Mutex;

/// libpcap's DLT for `fmt`'s link type on this platform (as `Offline`
/// reports it), and `fmt`'s filter `expr` compiled for it: both from an
/// offline handle on a classic file header of the link type and snap
/// length, read from memory.
fn link_and_filter(name: &str, fmt: &Format, expr: Option<&str>) -> PyResult<(i32, Option<CompiledFilter>)> {
    let mut hdr = pcap_file_header(fmt.snapshot(), fmt.linktype());
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

/// Checkpoints of pcapng files read in parts by this process: at block
/// boundaries where a part ended, the section's interfaces. A later part of
/// the same file walks from the nearest one before its start instead of
/// from the file's start. Keyed by the file's name, size and `token` (what
/// the caller knows of its version: inode and modification time, an
/// object's ETag).
type Checkpoints = HashMap<(String, u64, String), BTreeMap<u64, Section>>;

static CHECKPOINTS: Mutex<Option<Checkpoints>> = Mutex::new(None);

/// Files and checkpoints per file kept, at most.
const MAX_FILES: usize = 64;
const MAX_CHECKPOINTS: usize = 4096;

fn checkpoint_before(key: &(String, u64, String), start: u64) -> Option<(u64, Section)> {
    let map = CHECKPOINTS.lock().ok()?;
    let (off, s) = map.as_ref()?.get(key)?.range(..=start).next_back()?;
    Some((*off, s.clone()))
}

fn save_checkpoint(key: (String, u64, String), at: u64, section: &[Interface]) {
    let Ok(mut map) = CHECKPOINTS.lock() else { return };
    let map = map.get_or_insert_with(HashMap::new);
    if map.len() >= MAX_FILES && !map.contains_key(&key) {
        map.clear();
    }
    let file = map.entry(key).or_default();
    if file.len() >= MAX_CHECKPOINTS {
        file.clear();
    }
    file.insert(at, section.to_vec());
}

/// A part of a capture file being read.
pub struct PartSource<'a> {
    /// The file's name, for errors.
    name: &'a str,
    records: Records,
    window: Window,
    fetch: Box<dyn Fetch + 'a>,
    filter: Option<CompiledFilter>,
    /// Where to leave a checkpoint at the end (pcapng).
    key: Option<(String, u64, String)>,
    /// The link layer, as an `Offline` feed of the file reports it.
    pub link: LinkInfo,
}

impl<'a> PartSource<'a> {
    /// The records of the file `name` (`size` bytes, read through `fetch`)
    /// between the split points `start` and `end`, filtered with `filter`
    /// compiled for the file's link type and snap length, with time stamps
    /// in nanoseconds when `nano`. `token` names the file's version (see
    /// `CHECKPOINTS`).
    #[allow(clippy::too_many_arguments)]
    pub fn new(
        name: &'a str,
        fmt: Format,
        fetch: Box<dyn Fetch + 'a>,
        (start, end, size): (u64, u64, u64),
        filter: Option<&str>,
        nano: bool,
        token: &str,
    ) -> PyResult<Self> {
        let (dlt, filter) = link_and_filter(name, &fmt, filter)?;
        let link = LinkInfo { dlt, swapped: fmt.swapped(), first: None, nano };
        let key = matches!(fmt, Format::Pcapng { .. }).then(|| (name.to_owned(), size, token.to_owned()));
        let (from, section) = match &key {
            Some(k) if start > fmt.header_end() => checkpoint_before(k, start).unwrap_or((0, Vec::new())),
            _ => (start, Vec::new()),
        };
        Ok(PartSource {
            name,
            records: Records::new(fmt, from, section, start, end, nano),
            window: Window::new(size, end),
            fetch,
            filter,
            key,
            link,
        })
    }

    /// Hands the part's records to `sink`, up to what it takes: in runs
    /// of the records at hand when the sink takes runs (`Consumer::RUNS`, a
    /// table builder), else one at a time.
    pub fn pump<S: Consumer>(&mut self, sink: &mut S) -> PyResult<Pumped> {
        loop {
            let want = match sink.remaining() {
                Some(0) => return Ok(Pumped::More),
                Some(n) if S::RUNS => n.min(sink.run_max()),
                None if S::RUNS => sink.run_max(),
                _ => 1,
            };
            let bytes = self.window.bytes();
            let mut run: Vec<Record<'_>> = Vec::with_capacity(want);
            let mut stop = None;
            while run.len() < want {
                let rec = match self.records.next(&bytes) {
                    Some(Ok(r)) => r,
                    other => {
                        stop = Some(other);
                        break;
                    }
                };
                if let Some(f) = &self.filter {
                    if !f.matches(rec.data, rec.len) {
                        sink.skipped()?;
                        continue;
                    }
                }
                run.push(Record { sec: rec.sec, usec: rec.frac, len: rec.len, data: rec.data });
            }
            // Bytes in memory are always whole: build, then take (a mapped
            // file cut short under the read is an error instead).
            if S::RUNS {
                if !run.is_empty() {
                    sink.build_run(&run)?;
                    if !self.window.intact() {
                        return Err(self.cut_short());
                    }
                    sink.take_run(run.len())?;
                }
            } else if let Some(rec) = run.first() {
                let built = sink.build(rec)?;
                if !self.window.intact() {
                    return Err(self.cut_short());
                }
                sink.take(built)?;
            }
            if !matches!(stop, None | Some(Some(Err(Miss::Need(..))))) && !self.window.intact() {
                return Err(self.cut_short());
            }
            match stop {
                None | Some(Some(Ok(_))) => {}
                Some(None) => {
                    if let Some(k) = self.key.take() {
                        save_checkpoint(k, self.records.pos(), self.records.section());
                    }
                    return Ok(Pumped::End);
                }
                Some(Some(Err(Miss::Need(at, n)))) => match self.window.fill(&mut *self.fetch, at, n) {
                    Ok(()) => {}
                    Err(FetchError::Io(e)) => return Err(pcap_error_about(self.name, &e)),
                    Err(FetchError::Py(e)) => return Err(e),
                },
                Some(Some(Err(Miss::Bad(e)))) => return Err(pcap_error_about(self.name, &e)),
            }
        }
    }

    /// The error of a mapped file found shorter than when the part
    /// started (a record read from it may hold zeros in place of bytes).
    fn cut_short(&self) -> PyErr {
        pcap_error_about(self.name, "the file was cut short while it was read (it changed under the reader)")
    }
}
