//! The fast path for classic pcap files: records are read in Rust from
//! memory-mapped windows of the file libpcap opened (or, where mapping is
//! not possible, from a large buffer filled with `pread`), instead of one
//! `fread` per record through libpcap.
//!
//! Windows ([`crate::mapping`]) save the copy into a buffer, and the next
//! record is prefetched while Python handles the current one. A window that
//! faults because the file was cut short is noticed before its record is
//! handed out; from that record on the file is read with `pread` and
//! libpcap, which report the short file as usual.
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
use crate::error::pcap_os_error_about;
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
/// Size of a mapped window (a record is at most 256 KiB and a bit). Mapped
/// pages count in the process's RSS while mapped; 16 MiB measured faster
/// than 1–8 MiB on the bench capture, and larger ones hardly faster.
const WINDOW: usize = 16 << 20;
/// Bytes after a record prefetched while it is handed out (an Ethernet
/// frame and its record header): Python's work on this record gives them
/// time to arrive.
const PREFETCH: usize = 1600;
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

/// Where the reader's bytes are.
enum Source {
    Mapped(crate::mapping::Window),
    /// Read with `pread` (allocated on first use).
    Buffer(Box<[u8]>),
}

pub struct FastReader {
    fd: RawFd,
    source: Source,
    /// Whether to map windows (off after a fault, or when mapping fails).
    map: bool,
    /// `source`'s bytes `start..end` are the unread ones.
    start: usize,
    end: usize,
    /// File offset of the first byte of `source`.
    buf_off: u64,
    /// File offset of the record `next` returned last.
    last: u64,
    /// Index in the source just after that record.
    last_end: usize,
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
            source: Source::Buffer(Box::default()),
            map: std::env::var_os("PYOPENBSD_NO_MMAP").is_none(),
            start: 0,
            end: 0,
            buf_off: off as u64,
            last: off as u64,
            last_end: 0,
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
        if let Source::Mapped(_) = self.source {
            self.source = Source::Buffer(Box::default());
        }
    }

    /// Whether the record `next` returned last was read whole, asked after
    /// reading it and before handing it out. False when the file was cut
    /// short under its window: the reader has then moved back to that
    /// record, which is read again with `pread` (and libpcap).
    #[inline]
    pub fn intact(&mut self) -> bool {
        if let Source::Mapped(w) = &self.source {
            if !w.intact() || !self.followed(self.last_end) {
                self.map = false;
                self.resync(self.last);
                return false;
            }
        }
        true
    }

    /// The bytes of the source.
    #[inline]
    fn bytes(&self) -> &[u8] {
        match &self.source {
            Source::Mapped(w) => w.bytes(),
            Source::Buffer(b) => b,
        }
    }

    /// Makes more bytes available after the unread ones; false when no new
    /// byte came (end of file or read error: libpcap will say which).
    fn fill(&mut self) -> bool {
        if self.map {
            match self.map_next() {
                Some(more) => return more,
                None => self.map = false,
            }
        }
        let pos = self.buf_off + self.start as u64;
        let mut buf = match std::mem::replace(&mut self.source, Source::Buffer(Box::default())) {
            Source::Buffer(b) if !b.is_empty() => b,
            Source::Buffer(_) => vec![0u8; BUFFER].into_boxed_slice(),
            Source::Mapped(w) => {
                // Carry the unread bytes over from the window.
                let mut b = vec![0u8; BUFFER].into_boxed_slice();
                let tail = w.bytes().get(self.start..self.end).unwrap_or(&[]);
                let n = tail.len().min(BUFFER);
                b[..n].copy_from_slice(&tail[..n]);
                (self.start, self.end) = (0, n);
                self.buf_off = pos;
                b
            }
        };
        if self.start > 0 {
            buf.copy_within(self.start..self.end, 0);
            self.buf_off += self.start as u64;
            self.end -= self.start;
            self.start = 0;
        }
        let off = self.buf_off + self.end as u64;
        let end = self.end;
        let n = pread_exact_or_less(self.fd, &mut buf[end..], off);
        self.source = Source::Buffer(buf);
        self.end += n;
        n > 0
    }

    /// Maps the window that starts at the page of the next unread byte:
    /// `Some(true)` when it holds more than we had, `Some(false)` when the
    /// file has nothing more, `None` when it cannot be mapped.
    fn map_next(&mut self) -> Option<bool> {
        let pos = self.buf_off + self.start as u64;
        let have = match self.source {
            Source::Mapped(_) => self.buf_off + self.end as u64,
            Source::Buffer(_) => pos,
        };
        let size = self.file_size()?;
        if size <= have {
            return Some(false);
        }
        // Unmap the old window first (only one is ever mapped: it counts in
        // the process's RSS); from here the unread bytes start at `pos`.
        self.source = Source::Buffer(Box::default());
        (self.buf_off, self.start, self.end) = (pos, 0, 0);
        let base = pos & !(crate::mapping::page_size() as u64 - 1);
        let len = usize::try_from(size - base).ok()?.min(WINDOW);
        let w = crate::mapping::Window::map(self.fd, base, len)?;
        self.source = Source::Mapped(w);
        self.buf_off = base;
        self.start = (pos - base) as usize;
        self.end = len;
        Some(true)
    }

    #[inline]
    fn u32_at(&self, i: usize) -> u32 {
        let d = self.bytes();
        let b = [d[i], d[i + 1], d[i + 2], d[i + 3]];
        let v = u32::from_ne_bytes(b);
        if self.swapped {
            v.swap_bytes()
        } else {
            v
        }
    }

    /// Whether the file still holds a record that ends at `end` (an index
    /// into the mapped window).
    ///
    /// A file cut short while mapped reads as zeros after the cut up to
    /// the end of that page, and faults (see `crate::mapping`) after it. So
    /// when the next record's header is in the window and not all zeros,
    /// this record was whole when read (it was read before this check);
    /// otherwise the file's size says.
    #[inline]
    fn followed(&self, end: usize) -> bool {
        if let Some(h) = self.bytes().get(end..end + RECORD_HEADER) {
            if h.iter().any(|&b| b != 0) {
                return true;
            }
        }
        self.file_size().is_some_and(|size| size >= self.buf_off + end as u64)
    }

    /// The file's size now.
    fn file_size(&self) -> Option<u64> {
        // SAFETY: fstat on our open descriptor into a zeroed struct.
        unsafe {
            let mut st: libc::stat = std::mem::zeroed();
            if libc::fstat(self.fd, &mut st) != 0 {
                return None;
            }
            u64::try_from(st.st_size).ok()
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
                    // Signed, as libpcap reads it (see the note above `Slow`).
                    let frac = self.u32_at(s + 4) as i32 as i64;
                    let len = self.u32_at(s + 12);
                    self.start += total;
                    self.last = self.buf_off + s as u64;
                    self.last_end = s + total;
                    let bytes = self.bytes();
                    if let Source::Mapped(_) = self.source {
                        prefetch(bytes.get(s + total..(s + total + PREFETCH).min(bytes.len())).unwrap_or(&[]));
                    }
                    return Step::Record(Record {
                        sec,
                        usec: if self.nsec { frac / 1000 } else { frac },
                        len,
                        data: &bytes[s + RECORD_HEADER..s + total],
                    });
                }
                if total > BUFFER.max(self.bytes().len()) {
                    return Step::Slow;
                }
            }
            if !self.fill() {
                return Step::Slow;
            }
        }
    }
}

/// Asks the CPU to start loading `b` (the next record) into cache.
#[inline(always)]
fn prefetch(b: &[u8]) {
    #[cfg(target_arch = "x86_64")]
    for line in b.chunks(64) {
        // SAFETY: a prefetch hint on an address inside `b`; it never faults.
        unsafe { std::arch::x86_64::_mm_prefetch(line.as_ptr().cast(), std::arch::x86_64::_MM_HINT_T0) };
    }
    #[cfg(not(target_arch = "x86_64"))]
    let _ = b;
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

/// What is behind libpcap's stdio stream, besides the descriptor.
pub enum StreamState {
    /// A regular file: the stream's buffer, ours.
    Buffer(Box<[u8]>),
    /// A stream that cannot seek, counting what libpcap read (owned by the
    /// stream; valid while the handle is open).
    Counted(NonNull<crate::stream::Counted>),
}

// The counting state is only touched by calls that hold the feed's handle.
unsafe impl Send for StreamState {}

/// An open capture file: libpcap's handle on a stdio stream of ours (with a
/// large buffer, or counting what is read), the fast reader, and the
/// filter in force.
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
    stream: StreamState,
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

// The fraction of a second (micro- or nanoseconds) is a signed 32-bit number
// to libpcap 1.10, which divides nanoseconds by 1000 rounding towards zero;
// the fast reader does the same (`as i32`, then Rust's `/`), so that both
// readers and tcpdump agree even on a field out of its range (>= 2^31).

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
    /// `p` must come from `pcap_fopen_offline` on the stream `stream` tells
    /// of.
    pub unsafe fn new(p: NonNull<ffi::pcap_t>, stream: StreamState) -> Self {
        let handle = RawHandle::from_ptr(p);
        let fast = if std::env::var_os("PYOPENBSD_NO_FAST_READER").is_some() {
            None
        } else {
            FastReader::open(handle.ptr())
        };
        let may_wait = !is_regular_file(handle.ptr());
        OfflineFile { fast, may_wait, args: ArgBuilder::new(None), filter: None, handle, stream }
    }

    pub fn ptr(&self) -> *mut ffi::pcap_t {
        self.handle.ptr()
    }

    /// How the next record will be read (see `Offline._reader`).
    pub fn reader_kind(&self) -> &'static str {
        match &self.fast {
            Some(r) if r.map && matches!(r.source, Source::Mapped(_)) => "mapped",
            Some(r) if r.map && r.end == r.start => "mapped",
            Some(_) => "buffer",
            None => "libpcap",
        }
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
                    // The file can no longer be read (its descriptor was
                    // closed under us: EBADF); worded as libpcap words a
                    // read that failed.
                    let os = std::io::Error::last_os_error();
                    return Err(pcap_os_error_about(&feed.name, "error reading dump file: ", &os));
                }
            }
            let mut hdr: *mut ffi::pcap_pkthdr = std::ptr::null_mut();
            let mut data: *const libc::c_uchar = std::ptr::null();
            // The OS error of a failed read is taken right after it, before
            // anything else can change errno.
            let (rc, os) = if self.may_wait {
                // Not a regular file (a pipe, a FIFO, standard input): the
                // read may wait for a writer, which may be another thread of
                // this process, so it runs without the GIL. The feed's lock
                // keeps the handle ours meanwhile.
                let addr = p as usize;
                let (rc, h, d, os) = py.detach(move || {
                    let (mut h, mut d): (*mut ffi::pcap_pkthdr, *const libc::c_uchar) =
                        (std::ptr::null_mut(), std::ptr::null());
                    // SAFETY: as above; the handle stays open and ours.
                    let rc = ffi::pcap_next_ex(addr as *mut ffi::pcap_t, &mut h, &mut d);
                    (rc, h as usize, d as usize, std::io::Error::last_os_error())
                });
                hdr = h as *mut ffi::pcap_pkthdr;
                data = d as *const libc::c_uchar;
                (rc, os)
            } else {
                let rc = ffi::pcap_next_ex(p, &mut hdr, &mut data);
                (rc, std::io::Error::last_os_error())
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
                    let (sec, usec) = ffi::tstamp(&h.ts);
                    Ok(Slow::Packet(file_seconds(sec), usec, h.len, data, h.caplen as usize))
                }
                -2 => Ok(Slow::End),
                _ => {
                    // A signal whose handler raised while a read of a pipe
                    // waited: that exception, not libpcap's error, is what
                    // the caller must see (kept by the counting stream; on
                    // other streams the EINTR comes from fread).
                    if let StreamState::Counted(c) = &mut self.stream {
                        // SAFETY: the state lives as long as the open
                        // handle, and no read is running.
                        if let Some(e) = c.as_mut().take_pending() {
                            return Err(e);
                        }
                    }
                    py.check_signals()?;
                    Err(feed.read_error(p, &os))
                }
            }
        }
    }

    /// `dispatch`/`loop` on a file: up to `cnt` packets (`cnt <= 0`: all).
    pub fn read(&mut self, feed: &Feed, d: &mut Delivery<'_, '_>, cnt: i64) -> PyResult<()> {
        let limit = if cnt > 0 { cnt as usize } else { usize::MAX };
        while d.count < limit && !d.broken {
            if let Some(r) = &mut self.fast {
                if let Step::Record(rec) = r.next() {
                    // A record is read whole before it is handed out; when
                    // it was not (`intact`: the file was cut short), it is
                    // read again, by the next round.
                    if self.filter.as_ref().is_some_and(|f| !f.matches(rec.data, rec.len)) {
                        if r.intact() {
                            d.tick()?;
                        }
                        continue;
                    }
                    let args = d.build(rec.sec, rec.usec, rec.len, rec.data)?;
                    if r.intact() {
                        d.call(args)?;
                    }
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
            while let Step::Record(rec) = r.next() {
                let wanted = self.filter.as_ref().is_none_or(|f| f.matches(rec.data, rec.len));
                let t = if wanted { Some(self.args.tuple(py, rec.sec, rec.usec, rec.len, rec.data)?) } else { None };
                if !r.intact() {
                    continue; // the file was cut short: read that record again
                }
                match t {
                    Some(t) => return Ok(Some(t.unbind())),
                    None => {
                        skipped += 1;
                        if skipped % 1024 == 0 {
                            py.check_signals()?;
                        }
                    }
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
