//! The fast path for classic pcap files: records are read in Rust from a
//! large buffer filled with `pread` on the file libpcap opened, instead of
//! one `fread` per record through libpcap.
//!
//! libpcap stays the authority: it opens and validates the file (and reports
//! its errors), maps the link type, applies filters (its compiled program is
//! run here with `pcap_offline_filter`), and reads every record the fast
//! path is not sure about — a header or body cut short, a capture length
//! above the snapshot length, the end of the file. For those the libpcap
//! stream is positioned at the record and `pcap_next_ex` reads it, so errors
//! and edge cases are exactly libpcap's. pcapng files, old format versions
//! and link types whose pseudo-headers libpcap rewrites never take the fast
//! path.

use crate::deliver::{ArgBuilder, Delivery};
use crate::feed::Feed;
use crate::ffi;
use crate::filter::{BPFProgram, CompiledFilter};
use crate::handle::RawHandle;
use crate::packet::LinkInfo;
use pyo3::prelude::*;
use std::os::unix::io::RawFd;
use std::ptr::NonNull;

/// Size of the read buffer (256 KiB: stays in L2 between the read and the
/// copy into `bytes`); a record never exceeds libpcap's maximum snap
/// length (256 KiB), so any record that fits is read whole.
const BUFFER: usize = 1 << 18;
const RECORD_HEADER: usize = 16;
const MAGIC_USEC: u32 = 0xa1b2_c3d4;
const MAGIC_NSEC: u32 = 0xa1b2_3c4d;
/// Link types whose pseudo-headers libpcap fixes up while reading
/// (USB_LINUX, USB_LINUX_MMAPPED, NFLOG): left to libpcap.
const REWRITTEN_LINKTYPES: [i32; 3] = [189, 220, 239];

/// One packet record, borrowed from the reader's buffer.
pub struct Record<'a> {
    pub sec: i64,
    pub usec: i64,
    pub len: u32,
    pub data: &'a [u8],
}

/// What the reader found at the current offset.
pub enum Step<'a> {
    Record(Record<'a>),
    /// Let libpcap read the record at [`FastReader::offset`].
    Slow,
}

pub struct FastReader {
    fd: RawFd,
    buf: Box<[u8]>,
    start: usize,
    end: usize,
    /// File offset of `buf[0]`.
    buf_off: u64,
    swapped: bool,
    nsec: bool,
    snapshot: u32,
}

/// Whether the stream behind the offline handle `p` is a regular file.
///
/// # Safety
/// `p` must be an open offline handle.
unsafe fn is_regular_file(p: *mut ffi::pcap_t) -> bool {
    let file = ffi::pcap_file(p);
    if file.is_null() {
        return false;
    }
    let mut st: libc::stat = std::mem::zeroed();
    libc::fstat(libc::fileno(file), &mut st) == 0 && (st.st_mode & libc::S_IFMT) == libc::S_IFREG
}

fn pread_exact_or_less(fd: RawFd, buf: &mut [u8], off: u64) -> usize {
    let mut got = 0;
    while got < buf.len() {
        // SAFETY: writes at most `buf.len() - got` bytes into `buf[got..]`.
        let n = unsafe {
            libc::pread(
                fd,
                buf[got..].as_mut_ptr().cast(),
                buf.len() - got,
                (off + got as u64) as libc::off_t,
            )
        };
        if n <= 0 {
            if n < 0 && std::io::Error::last_os_error().kind() == std::io::ErrorKind::Interrupted {
                continue;
            }
            break;
        }
        got += n as usize;
    }
    got
}

impl FastReader {
    /// A reader for the file behind the offline handle `p`, positioned after
    /// the file header, or `None` when the file must be read by libpcap.
    ///
    /// # Safety
    /// `p` must be an open offline handle; the reader must not outlive it.
    pub unsafe fn open(p: *mut ffi::pcap_t) -> Option<Self> {
        if !is_regular_file(p) {
            return None;
        }
        let file = ffi::pcap_file(p);
        let fd = libc::fileno(file);
        if ffi::pcap_major_version(p) != 2 || ffi::pcap_minor_version(p) != 4 {
            return None;
        }
        if REWRITTEN_LINKTYPES.contains(&ffi::pcap_datalink(p)) {
            return None;
        }
        let mut magic = [0u8; 4];
        if pread_exact_or_less(fd, &mut magic, 0) != 4 {
            return None;
        }
        let swapped = ffi::pcap_is_swapped(p) == 1;
        let m = if swapped { u32::from_ne_bytes(magic).swap_bytes() } else { u32::from_ne_bytes(magic) };
        let nsec = match m {
            MAGIC_USEC => false,
            MAGIC_NSEC => true,
            _ => return None, // modified/unknown variants: libpcap reads them
        };
        let snapshot = u32::try_from(ffi::pcap_snapshot(p)).ok()?;
        // The stream sits after the 24-byte file header.
        let off = libc::ftell(file);
        if off < 0 {
            return None;
        }
        Some(FastReader {
            fd,
            buf: vec![0u8; BUFFER].into_boxed_slice(),
            start: 0,
            end: 0,
            buf_off: off as u64,
            swapped,
            nsec,
            snapshot,
        })
    }

    /// File offset of the next record.
    pub fn offset(&self) -> u64 {
        self.buf_off + self.start as u64
    }

    /// Continue at `off` (after libpcap read records itself).
    pub fn resync(&mut self, off: u64) {
        self.buf_off = off;
        self.start = 0;
        self.end = 0;
    }

    /// Moves the unread tail to the front and reads more; false when no new
    /// byte came (end of file or read error: libpcap will say which).
    fn fill(&mut self) -> bool {
        if self.start > 0 {
            self.buf.copy_within(self.start..self.end, 0);
            self.buf_off += self.start as u64;
            self.end -= self.start;
            self.start = 0;
        }
        let off = self.buf_off + self.end as u64;
        let end = self.end;
        let n = pread_exact_or_less(self.fd, &mut self.buf[end..], off);
        self.end += n;
        n > 0
    }

    #[inline]
    fn u32_at(&self, i: usize) -> u32 {
        let b = [self.buf[i], self.buf[i + 1], self.buf[i + 2], self.buf[i + 3]];
        let v = u32::from_ne_bytes(b);
        if self.swapped {
            v.swap_bytes()
        } else {
            v
        }
    }

    /// The next record, or `Step::Slow` when libpcap must read it.
    #[inline]
    pub fn next(&mut self) -> Step<'_> {
        loop {
            let avail = self.end - self.start;
            if avail >= RECORD_HEADER {
                let s = self.start;
                let caplen = self.u32_at(s + 8);
                if caplen > self.snapshot {
                    return Step::Slow;
                }
                let total = RECORD_HEADER + caplen as usize;
                if avail >= total {
                    let sec = self.u32_at(s) as i64;
                    let frac = self.u32_at(s + 4) as i64;
                    let len = self.u32_at(s + 12);
                    self.start += total;
                    return Step::Record(Record {
                        sec,
                        usec: if self.nsec { frac / 1000 } else { frac },
                        len,
                        data: &self.buf[s + RECORD_HEADER..s + total],
                    });
                }
                if total > self.buf.len() {
                    return Step::Slow;
                }
            }
            if !self.fill() {
                return Step::Slow;
            }
        }
    }
}

/// The filter in force on an offline feed, run on fast-path records.
pub enum ActiveFilter {
    Own(CompiledFilter),
    Program(Py<BPFProgram>),
}

impl ActiveFilter {
    #[inline]
    fn matches(&self, data: &[u8], len: u32) -> bool {
        match self {
            ActiveFilter::Own(f) => f.matches(data, len),
            ActiveFilter::Program(p) => p.get().compiled().matches(data, len),
        }
    }
}

/// An open capture file: libpcap's handle on a stdio stream with a large
/// buffer of ours, the fast reader, and the filter in force.
///
/// Fields drop in order: the reader (which reads libpcap's descriptor), then
/// the handle (which closes the stream), then the stream's buffer.
pub struct OfflineFile {
    fast: Option<FastReader>,
    /// Reads may wait for data (a pipe, a FIFO, a terminal: not a regular
    /// file), so they run without the GIL.
    may_wait: bool,
    /// Builds `next()` results; kept between calls so objects are reused.
    pub args: ArgBuilder,
    pub filter: Option<ActiveFilter>,
    handle: RawHandle,
    _stdio_buffer: Box<[u8]>,
}

/// The seconds of a savefile record as the pcap format defines them, an
/// unsigned 32-bit number: libpcap 1.10 sign-extends them (a time past
/// 2038 comes out negative), the fast reader does not.
fn file_seconds(sec: i64) -> i64 {
    if (-(1i64 << 31)..0).contains(&sec) {
        sec + (1i64 << 32)
    } else {
        sec
    }
}

/// What one libpcap read gave.
enum Slow {
    Packet(i64, i64, u32, *const u8, usize),
    End,
}

impl OfflineFile {
    /// Size of the stdio buffer libpcap reads through (glibc's default, one
    /// page, costs a syscall every few packets).
    pub const STDIO_BUFFER: usize = 1 << 20;

    /// # Safety
    /// `p` must come from `pcap_fopen_offline` on a stream whose buffer is
    /// `stdio_buffer`.
    pub unsafe fn new(p: NonNull<ffi::pcap_t>, stdio_buffer: Box<[u8]>) -> Self {
        let handle = RawHandle::from_ptr(p);
        let fast = if std::env::var_os("PYOPENBSD_NO_FAST_READER").is_some() {
            None
        } else {
            FastReader::open(handle.ptr())
        };
        let may_wait = !is_regular_file(handle.ptr());
        OfflineFile { fast, may_wait, args: ArgBuilder::new(None), filter: None, handle, _stdio_buffer: stdio_buffer }
    }

    pub fn ptr(&self) -> *mut ffi::pcap_t {
        self.handle.ptr()
    }

    /// The byte offset of the next record.
    pub fn tell(&self) -> Option<u64> {
        match &self.fast {
            Some(r) => Some(r.offset()),
            None => {
                // SAFETY: the stream belongs to the open handle.
                let off = unsafe { libc::ftell(ffi::pcap_file(self.ptr())) };
                u64::try_from(off).ok()
            }
        }
    }

    /// Lets libpcap read the next record (applying the filter itself) at the
    /// fast reader's offset, then moves the fast reader past what it read.
    fn slow_next(&mut self, feed: &Feed, py: Python<'_>) -> PyResult<Slow> {
        let p = self.ptr();
        // SAFETY: open handle; the record stays valid until the next read.
        unsafe {
            let file = ffi::pcap_file(p);
            let start = self.fast.as_ref().map(FastReader::offset);
            if let Some(off) = start {
                if libc::fseeko(file, off as libc::off_t, libc::SEEK_SET) != 0 {
                    return Err(feed.last_error(p));
                }
            }
            let mut hdr: *mut ffi::pcap_pkthdr = std::ptr::null_mut();
            let mut data: *const libc::c_uchar = std::ptr::null();
            let rc = if self.may_wait {
                // Not a regular file (a pipe, a FIFO, standard input): the
                // read may wait for a writer, which may be another thread of
                // this process, so it runs without the GIL. The feed's lock
                // keeps the handle ours meanwhile.
                let addr = p as usize;
                let (rc, h, d) = py.detach(move || {
                    let (mut h, mut d): (*mut ffi::pcap_pkthdr, *const libc::c_uchar) =
                        (std::ptr::null_mut(), std::ptr::null());
                    // SAFETY: as above; the handle stays open and ours.
                    let rc = ffi::pcap_next_ex(addr as *mut ffi::pcap_t, &mut h, &mut d);
                    (rc, h as usize, d as usize)
                });
                hdr = h as *mut ffi::pcap_pkthdr;
                data = d as *const libc::c_uchar;
                rc
            } else {
                ffi::pcap_next_ex(p, &mut hdr, &mut data)
            };
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
                    Ok(Slow::Packet(file_seconds(h.ts.tv_sec as i64), h.ts.tv_usec as i64, h.len, data, h.caplen as usize))
                }
                -2 => Ok(Slow::End),
                _ => {
                    // A signal that interrupted a read of a pipe shows as
                    // EINTR from fread: the signal's exception, not the
                    // libpcap error, is what the caller must see.
                    py.check_signals()?;
                    Err(feed.last_error(p))
                }
            }
        }
    }

    /// `dispatch`/`loop` on a file: up to `cnt` packets (`cnt <= 0`: all).
    pub fn read(&mut self, feed: &Feed, d: &mut Delivery<'_, '_>, cnt: i64) -> PyResult<()> {
        let limit = if cnt > 0 { cnt as usize } else { usize::MAX };
        while d.count < limit {
            if let Some(r) = &mut self.fast {
                if let Step::Record(rec) = r.next() {
                    if let Some(f) = &self.filter {
                        if !f.matches(rec.data, rec.len) {
                            d.tick()?;
                            continue;
                        }
                    }
                    d.deliver(rec.sec, rec.usec, rec.len, rec.data)?;
                    continue;
                }
            }
            match self.slow_next(feed, d.py())? {
                Slow::Packet(sec, usec, len, data, caplen) => {
                    // SAFETY: libpcap's record, valid until its next read.
                    let data = if data.is_null() { &[][..] } else { unsafe { std::slice::from_raw_parts(data, caplen) } };
                    d.deliver(sec, usec, len, data)?;
                }
                Slow::End => break,
            }
        }
        Ok(())
    }

    /// `next()`: the next packet's tuple, or `None` at the end.
    pub fn next_tuple(
        &mut self,
        feed: &Feed,
        py: Python<'_>,
        interpret: Option<LinkInfo>,
    ) -> PyResult<Option<Py<PyAny>>> {
        self.args.set_interpret(interpret);
        if let Some(r) = &mut self.fast {
            let mut skipped = 0u32;
            loop {
                match r.next() {
                    Step::Record(rec) => {
                        if let Some(f) = &self.filter {
                            if !f.matches(rec.data, rec.len) {
                                skipped += 1;
                                if skipped % 1024 == 0 {
                                    py.check_signals()?;
                                }
                                continue;
                            }
                        }
                        let t = self.args.tuple(py, rec.sec, rec.usec, rec.len, rec.data)?;
                        return Ok(Some(t.unbind()));
                    }
                    Step::Slow => break,
                }
            }
        }
        match self.slow_next(feed, py)? {
            Slow::Packet(sec, usec, len, data, caplen) => {
                // SAFETY: libpcap's record, valid until its next read.
                let data = if data.is_null() { &[][..] } else { unsafe { std::slice::from_raw_parts(data, caplen) } };
                Ok(Some(self.args.tuple(py, sec, usec, len, data)?.unbind()))
            }
            Slow::End => Ok(None),
        }
    }
}
