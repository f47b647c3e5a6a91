//! The source of an `Offline` feed: a capture file (pcap or pcapng),
//! standard input, a pipe or a FIFO, opened by libpcap on a stdio stream
//! of ours.
//!
//! Classic pcap files that are regular files are read by the fast reader
//! (`crate::io::savefile`); everything else, and every record the fast
//! reader is not sure about, is read by libpcap (`pcap_next_ex`), with the
//! stream positioned at that record, so errors and edge cases are exactly
//! libpcap's. The filter in force runs on fast-read records here, and
//! inside libpcap on the others.

use super::bpf::ActiveFilter;
use super::raw::RawHandle;
use crate::ffi;
use crate::io::pcapng_read::Trace;
use crate::io::record::{file_seconds, Consumer, Pumped, Record};
use crate::io::savefile::{is_regular_file, FastReader, Step};
use crate::py::error::{pcap_error_after_os, pcap_os_error_about};
use pyo3::prelude::*;
use std::os::unix::io::RawFd;
use std::ptr::NonNull;
use std::sync::Arc;

/// What is behind libpcap's stdio stream, besides the descriptor.
pub enum StreamState {
    /// A regular file: the stream's buffer, ours.
    Buffer(Box<[u8]>),
    /// A stream that cannot seek, counting what libpcap read (owned by the
    /// stream; valid while the handle is open).
    Counted(NonNull<crate::io::stream::Counted>),
}

// The counting state is only touched by calls that hold the feed's handle.
unsafe impl Send for StreamState {}

/// An open capture file: libpcap's handle on a stdio stream of ours (with a
/// large buffer, or counting what is read), the fast reader, and the
/// filter in force.
///
/// Fields drop in order: the reader (which reads libpcap's descriptor), then
/// the handle (which closes the stream), then the stream's buffer.
pub struct FileSource {
    /// The path, for error messages.
    name: String,
    fast: Option<FastReader>,
    /// Reads may wait for data (a pipe, a FIFO, a terminal: not a regular
    /// file), so they run without the GIL.
    may_wait: bool,
    /// A classic pcap file (a regular one) that libpcap reads without the
    /// fast reader (a link type libpcap rewrites, an old version): after a
    /// failed read the stream goes back to the record that failed, as the
    /// fast reader does.
    back_on_error: bool,
    pub filter: Option<ActiveFilter>,
    /// A pcapng file or stream: the blocks behind the records libpcap
    /// reads, followed once a pcapng `Dumper` asks
    /// (`crate::io::pcapng_read`).
    pub trace: Option<Arc<Trace>>,
    handle: RawHandle,
    stream: StreamState,
}

// The fraction of a second (micro- or nanoseconds) is a signed 32-bit number
// to libpcap 1.10, which divides nanoseconds by 1000 rounding towards zero;
// the fast reader does the same (`as i32`, then Rust's `/`), so that both
// readers and tcpdump agree even on a field out of its range (>= 2^31).

/// Hands `sink` (which takes runs) a run of the records the fast reader
/// has at hand, those the filter accepts; false when it had none (the
/// next record is read one at a time).
#[inline]
fn pump_run<S: Consumer>(r: &mut FastReader, filter: Option<&ActiveFilter>, sink: &mut S) -> PyResult<bool> {
    let max = sink.run_max();
    let max = sink.remaining().unwrap_or(max).min(max);
    let run = r.run(max);
    if run.recs.is_empty() {
        return Ok(false);
    }
    let mut recs = Vec::with_capacity(run.recs.len());
    recs.extend(run.recs.iter().map(|h| run.record(h)));
    let before = recs.len();
    if let Some(f) = filter {
        recs.retain(|rec| f.matches(rec.data, rec.len));
    }
    let (taken, rejected) = (recs.len(), before - recs.len());
    sink.build_run(&recs)?;
    drop(recs);
    // Records read whole are handed over; the others are read again.
    if r.run_intact() {
        sink.take_run(taken)?;
        for _ in 0..rejected {
            sink.skipped()?;
        }
    }
    Ok(true)
}

/// What one libpcap read gave.
enum Slow {
    Packet(i64, i64, u32, *const u8, usize),
    End,
}

impl FileSource {
    /// Size of the stdio buffer libpcap reads through (glibc's default, one
    /// page, costs a syscall every few packets).
    pub const STDIO_BUFFER: usize = 1 << 20;

    /// # Safety
    /// `p` must come from `pcap_fopen_offline_with_tstamp_precision` on the stream `stream` tells
    /// of.
    pub unsafe fn new(p: NonNull<ffi::pcap_t>, stream: StreamState, name: String) -> Self {
        let handle = RawHandle::from_ptr(p);
        let fast =
            if std::env::var_os("PYOPENBSD_NO_FAST_READER").is_some() { None } else { FastReader::open(handle.ptr()) };
        let may_wait = !is_regular_file(handle.ptr());
        let back_on_error = fast.is_none() && !may_wait && ffi::pcap_major_version(handle.ptr()) == 2;
        let nano = super::options::Precision::of(handle.ptr()) == super::options::Precision::Nano;
        let trace = match &stream {
            StreamState::Buffer(_) if fast.is_none() => Trace::open(ffi::pcap_file(handle.ptr()), nano),
            StreamState::Buffer(_) => None,
            StreamState::Counted(c) => Trace::open_stream(*c, nano),
        };
        let trace = trace.map(Arc::new);
        FileSource { name, fast, may_wait, back_on_error, filter: None, trace, handle, stream }
    }

    pub fn ptr(&self) -> *mut ffi::pcap_t {
        self.handle.ptr()
    }

    /// How the next record will be read (see `Offline._reader`).
    pub fn reader_kind(&self) -> &'static str {
        self.fast.as_ref().map_or("libpcap", FastReader::kind)
    }

    /// The descriptor being read.
    pub fn fileno(&self) -> RawFd {
        match &self.stream {
            // SAFETY: the state lives as long as the open handle.
            StreamState::Counted(c) => unsafe { c.as_ref().fd() },
            // SAFETY: the stream belongs to the open handle.
            StreamState::Buffer(_) => unsafe { libc::fileno(ffi::pcap_file(self.ptr())) },
        }
    }

    /// The byte offset of the next record (on a stream that cannot seek:
    /// the bytes libpcap read from it).
    pub fn tell(&self) -> Option<u64> {
        if let StreamState::Counted(c) = &self.stream {
            // SAFETY: the state lives as long as the open handle.
            return Some(unsafe { c.as_ref().consumed() });
        }
        match &self.fast {
            Some(r) => Some(r.offset()),
            None => {
                // SAFETY: the stream belongs to the open handle.
                let off = unsafe { libc::ftell(ffi::pcap_file(self.ptr())) };
                u64::try_from(off).ok()
            }
        }
    }

    /// Moves to byte `off` of the file: the next record is read from there.
    /// Fails on a stream that cannot seek (`ESPIPE`).
    pub fn seek(&mut self, off: u64) -> std::io::Result<()> {
        if let StreamState::Counted(_) = &self.stream {
            return Err(std::io::Error::from_raw_os_error(libc::ESPIPE));
        }
        let off = libc::off_t::try_from(off).map_err(|_| std::io::Error::from_raw_os_error(libc::EINVAL))?;
        // SAFETY: the stream belongs to the open handle.
        if unsafe { libc::fseeko(ffi::pcap_file(self.ptr()), off, libc::SEEK_SET) } != 0 {
            return Err(std::io::Error::last_os_error());
        }
        if let Some(r) = &mut self.fast {
            r.resync(off as u64);
        }
        if let Some(t) = &self.trace {
            t.seeked(off as u64);
        }
        Ok(())
    }

    /// Lets libpcap read the next record (applying the filter itself) at the
    /// fast reader's offset, then moves the fast reader past what it read.
    fn slow_next(&mut self, py: Python<'_>) -> PyResult<Slow> {
        let p = self.ptr();
        // SAFETY: open handle; the record stays valid until the next read.
        unsafe {
            let file = ffi::pcap_file(p);
            let start = self.fast.as_ref().map(FastReader::offset);
            if let Some(off) = start {
                if libc::fseeko(file, off as libc::off_t, libc::SEEK_SET) != 0 {
                    // The file can no longer be read (its descriptor was
                    // closed under us: EBADF); worded as libpcap words a
                    // read that failed.
                    let os = std::io::Error::last_os_error();
                    return Err(pcap_os_error_about(&self.name, "error reading dump file: ", &os));
                }
            }
            if let StreamState::Counted(c) = &mut self.stream {
                // SAFETY: the state lives as long as the open handle, and
                // no read is running.
                c.as_mut().begin_read();
            }
            let before = if self.back_on_error { libc::ftello(file) } else { -1 };
            let mut hdr: *mut ffi::pcap_pkthdr = std::ptr::null_mut();
            let mut data: *const libc::c_uchar = std::ptr::null();
            // The OS error of a failed read is taken right after it, before
            // anything else can change errno.
            let (rc, os) = if self.may_wait {
                // Not a regular file (a pipe, a FIFO, standard input): the
                // read may wait for a writer, which may be another thread of
                // this process, so it runs without the GIL. The feed's lock
                // keeps the source ours meanwhile.
                let addr = p as usize;
                let tap = self.trace.as_deref();
                if let Some(t) = tap {
                    t.reading(true);
                }
                let (rc, h, d, os) = py.detach(move || {
                    let (mut h, mut d): (*mut ffi::pcap_pkthdr, *const libc::c_uchar) =
                        (std::ptr::null_mut(), std::ptr::null());
                    // SAFETY: as above; the handle stays open and ours.
                    let rc = ffi::pcap_next_ex(addr as *mut ffi::pcap_t, &mut h, &mut d);
                    (rc, h as usize, d as usize, std::io::Error::last_os_error())
                });
                if let Some(t) = tap {
                    t.reading(false);
                }
                hdr = h as *mut ffi::pcap_pkthdr;
                data = d as *const libc::c_uchar;
                (rc, os)
            } else {
                let rc = ffi::pcap_next_ex(p, &mut hdr, &mut data);
                (rc, std::io::Error::last_os_error())
            };
            // (Asked after the read: a `Dumper` may have asked for the
            // trace while a read of a stream waited.)
            let trace = self.trace.as_ref().filter(|t| t.wanted());
            if let (Some(r), Some(start)) = (&mut self.fast, start) {
                // Past what libpcap read; or, when it read no whole record
                // (end of file, a record cut short), back at that record, so
                // a file still being written is read on where it will grow.
                let at = if rc == 1 { libc::ftello(file).max(0) as u64 } else { start };
                r.resync(at);
            }
            match rc {
                1 if !hdr.is_null() => {
                    let h = &*hdr;
                    let (sec, usec) = ffi::tstamp(&h.ts);
                    if let Some(t) = trace {
                        // libpcap's offset costs a system call on a file:
                        // only when the trace cannot tell the block by
                        // itself. On a stream it is the count of bytes read.
                        let after = match &self.stream {
                            // SAFETY: the state lives as long as the open handle.
                            StreamState::Counted(c) => Some(c.as_ref().consumed()),
                            StreamState::Buffer(_) => {
                                (self.filter.is_some() || t.needs_offset()).then(|| libc::ftello(file).max(0) as u64)
                            }
                        };
                        t.update(after, file_seconds(sec), usec, h.caplen, h.len);
                    }
                    Ok(Slow::Packet(file_seconds(sec), usec, h.len, data, h.caplen as usize))
                }
                -2 => Ok(Slow::End),
                _ => {
                    if let Some(t) = trace {
                        t.lost();
                    }
                    if before >= 0 {
                        // Back at the record that failed: `ftell()` gives
                        // its offset and the next read tries it again.
                        libc::fseeko(file, before, libc::SEEK_SET);
                    }
                    // A signal whose handler raised while a read of a pipe
                    // waited: that exception, not libpcap's error, is what
                    // the caller must see (kept by the counting stream; on
                    // other streams the EINTR comes from fread). The stream
                    // goes back to the start of the record libpcap gave up
                    // on, so that the next read takes it whole.
                    if let StreamState::Counted(c) = &mut self.stream {
                        // SAFETY: the state lives as long as the open
                        // handle, and no read is running.
                        let c = c.as_mut();
                        if let Some(e) = c.take_pending() {
                            c.rewind();
                            libc::clearerr(file);
                            return Err(e);
                        }
                        c.lose_track();
                    }
                    py.check_signals()?;
                    Err(pcap_error_after_os(&self.name, &ffi::last_error(p), &os))
                }
            }
        }
    }

    /// Reads records into `sink` until it is full (`Pumped::More`) or the
    /// file ends (`Pumped::End`). Records the filter rejects are only
    /// counted (`Consumer::skipped`).
    #[inline]
    pub fn pump<S: Consumer>(&mut self, py: Python<'_>, sink: &mut S) -> PyResult<Pumped> {
        while sink.remaining() != Some(0) {
            if let Some(r) = &mut self.fast {
                if S::RUNS && pump_run(r, self.filter.as_ref(), sink)? {
                    continue;
                }
                if let Step::Record(rec) = r.next() {
                    // A record is read whole before it is handed over; when
                    // it was not (`intact`: the file was cut short), it is
                    // read again, by the next round.
                    if self.filter.as_ref().is_some_and(|f| !f.matches(rec.data, rec.len)) {
                        if r.intact() {
                            sink.skipped()?;
                        }
                        continue;
                    }
                    let built = sink.build(&rec)?;
                    if r.intact() {
                        sink.take(built)?;
                    }
                    continue;
                }
            }
            match self.slow_next(py)? {
                Slow::Packet(sec, usec, len, data, caplen) => {
                    // SAFETY: libpcap's record, valid until its next read.
                    let data =
                        if data.is_null() { &[][..] } else { unsafe { std::slice::from_raw_parts(data, caplen) } };
                    let built = sink.build(&Record { sec, usec, len, data })?;
                    sink.take(built)?;
                }
                Slow::End => return Ok(Pumped::End),
            }
        }
        Ok(Pumped::More)
    }

    /// Whether records are read from memory (the fast reader), so that a
    /// sink that takes runs gets them.
    pub fn reads_runs(&self) -> bool {
        self.fast.is_some()
    }

    /// The fast reader (a classic pcap regular file), whose twins read
    /// spans of the file on other threads (`capture::spans`).
    pub fn fast_reader(&self) -> Option<&FastReader> {
        self.fast.as_ref()
    }

    /// Applies `filter` to the records read from now on (libpcap was given
    /// the same program for the records it reads itself).
    pub fn set_filter(&mut self, filter: ActiveFilter) {
        self.filter = Some(filter);
    }
}

impl Drop for FileSource {
    fn drop(&mut self) {
        // Before the handle closes the descriptor the trace would duplicate.
        if let Some(t) = &self.trace {
            t.source_closed();
        }
    }
}
