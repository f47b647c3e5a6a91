//! The fast reader of classic pcap files: records are read in Rust from
//! memory-mapped windows of the file libpcap opened (or, where mapping is
//! not possible, from a large buffer filled with `pread`), instead of one
//! `fread` per record through libpcap.
//!
//! Windows ([`super::mapping`]) save the copy into a buffer, and the next
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

use super::format::{PCAP_MAGIC_NSEC, PCAP_MAGIC_USEC, PCAP_RECORD_HEADER, REWRITTEN_LINKTYPES};
use super::map_cost::MapCost;
pub use super::record::Record;
use crate::ffi;
use std::os::unix::io::RawFd;

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
/// How far ahead of a run's walk its bytes are prefetched.
const RUN_AHEAD: usize = 4096;

/// What the reader found at the current offset.
pub enum Step<'a> {
    Record(Record<'a>),
    /// Let libpcap read the record at [`FastReader::offset`].
    Slow,
}

/// A record of a run: its header, and where its bytes are in the run's.
#[derive(Clone, Copy)]
pub struct RunRecord {
    sec: u32,
    usec: i64,
    len: u32,
    data: usize,
    end: usize,
}

/// Records read by [`FastReader::run`].
pub struct Run<'a> {
    bytes: &'a [u8],
    /// File offset of `bytes[0]`.
    base: u64,
    pub recs: &'a [RunRecord],
}

impl<'a> Run<'a> {
    /// The record `r` of this run.
    #[inline(always)]
    pub fn record(&self, r: &RunRecord) -> Record<'a> {
        Record { sec: r.sec as i64, usec: r.usec, len: r.len, data: self.bytes.get(r.data..r.end).unwrap_or(&[]) }
    }

    /// The file offset just after the record `r` of this run.
    #[inline(always)]
    pub fn end(&self, r: &RunRecord) -> u64 {
        self.base + r.end as u64
    }
}

/// Where the reader's bytes are.
enum Bytes {
    Mapped(super::mapping::Window),
    /// Read with `pread` (allocated on first use).
    Buffer(Box<[u8]>),
}

/// What [`FastReader::map_next`] did.
enum Mapped {
    /// A window holding more bytes is mapped.
    More,
    /// The file has no more bytes.
    End,
    /// A probe said mapping the window is costly: nothing was mapped.
    Costly,
}

pub struct FastReader {
    fd: RawFd,
    source: Bytes,
    /// Whether to map windows (off after a fault, or when mapping fails).
    map: bool,
    /// Whether the next window is mapped or read, by what mapping the last
    /// one cost.
    cost: MapCost,
    /// Whether a window is probed before it is mapped (a twin's: see
    /// `FastReader::map_next`).
    probe: bool,
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
    /// The file's fractions of a second are nanoseconds.
    nsec: bool,
    linktype: u32,
    scale: FracScale,
    snapshot: u32,
    /// The records of the last run, and the file offset of its first.
    run: Vec<RunRecord>,
    run_start: u64,
    /// Runs stop before a record that starts here or later (a twin's
    /// span: [`FastReader::twin`]); `u64::MAX` for a feed's reader.
    stop: u64,
    /// The most bytes the `pread` buffer grows to when a record, or a
    /// chain of headers [`FastReader::find_boundary`] judges, does not fit
    /// in it: `BUFFER` for a feed's reader (a longer record is libpcap's),
    /// `WINDOW` for a twin (as much as a mapped window holds).
    most: usize,
}

/// How a record's fraction of a second becomes the handle's: as libpcap's
/// reader does it (nanoseconds to micro: divided by 1000 rounding towards
/// zero; micro to nano: times 1000).
#[derive(Clone, Copy)]
enum FracScale {
    Keep,
    Down,
    Up,
}

impl FracScale {
    #[inline]
    fn apply(self, frac: i64) -> i64 {
        match self {
            FracScale::Keep => frac,
            FracScale::Down => frac / 1000,
            FracScale::Up => frac * 1000,
        }
    }
}

/// Whether the stream behind the offline handle `p` is a regular file.
///
/// # Safety
/// `p` must be an open offline handle.
pub unsafe fn is_regular_file(p: *mut ffi::pcap_t) -> bool {
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
            libc::pread(fd, buf[got..].as_mut_ptr().cast(), buf.len() - got, (off + got as u64) as libc::off_t)
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
        // Link types whose pseudo-headers libpcap fixes up: left to libpcap.
        if u32::try_from(ffi::pcap_datalink(p)).is_ok_and(|l| REWRITTEN_LINKTYPES.contains(&l)) {
            return None;
        }
        let mut magic = [0u8; 4];
        if pread_exact_or_less(fd, &mut magic, 0) != 4 {
            return None;
        }
        let swapped = ffi::pcap_is_swapped(p) == 1;
        let m = if swapped { u32::from_ne_bytes(magic).swap_bytes() } else { u32::from_ne_bytes(magic) };
        let nsec = match m {
            PCAP_MAGIC_USEC => false,
            PCAP_MAGIC_NSEC => true,
            _ => return None, // modified/unknown variants: libpcap reads them
        };
        // What the handle hands out: libpcap scales the file's fraction to it.
        let want_nsec = ffi::pcap_get_tstamp_precision(p) == ffi::PCAP_TSTAMP_PRECISION_NANO;
        let scale = match (nsec, want_nsec) {
            (true, false) => FracScale::Down,
            (false, true) => FracScale::Up,
            _ => FracScale::Keep,
        };
        let snapshot = u32::try_from(ffi::pcap_snapshot(p)).ok()?;
        // The stream sits after the 24-byte file header.
        let off = libc::ftell(file);
        if off < 0 {
            return None;
        }
        Some(FastReader {
            fd,
            source: Bytes::Buffer(Box::default()),
            map: std::env::var_os("PYOPENBSD_NO_MMAP").is_none(),
            cost: MapCost::default(),
            probe: false,
            start: 0,
            end: 0,
            buf_off: off as u64,
            last: off as u64,
            last_end: 0,
            swapped,
            nsec,
            linktype: ffi::pcap_datalink(p) as u32,
            scale,
            snapshot,
            run: Vec::new(),
            run_start: 0,
            stop: u64::MAX,
            most: BUFFER,
        })
    }

    /// A reader of the same file for another thread, at `off` (a record
    /// boundary), with nothing read yet. It maps the file's windows or
    /// reads them with `pread` (into a buffer of its own: 256 KiB, grown up
    /// to 16 MiB when a record or the chain of headers a boundary search
    /// judges needs more) as this reader would, going on from `cost`, the
    /// choice its thread made so far (`map_cost`): a span thread carries
    /// its choice from span to span, so that where mapping is costly
    /// (pages cached 4 KiB at a time) it reads on with `pread` rather than
    /// trying a window per span. Its runs stop before `stop`
    /// ([`FastReader::set_stop`]).
    pub fn twin(&self, off: u64, cost: MapCost) -> FastReader {
        FastReader {
            fd: self.fd,
            source: Bytes::Buffer(Box::default()),
            map: self.map,
            cost,
            probe: true,
            start: 0,
            end: 0,
            buf_off: off,
            last: off,
            last_end: 0,
            swapped: self.swapped,
            nsec: self.nsec,
            linktype: self.linktype,
            scale: self.scale,
            snapshot: self.snapshot,
            run: Vec::new(),
            run_start: off,
            stop: u64::MAX,
            most: WINDOW,
        }
    }

    /// The choice between mapping and `pread` this reader made so far (to
    /// go on with in its thread's next twin).
    pub fn map_cost(&self) -> MapCost {
        self.cost
    }

    /// The same reader on the descriptor `fd` (a duplicate of this one's).
    pub fn on_fd(mut self, fd: RawFd) -> FastReader {
        self.fd = fd;
        self
    }

    /// Runs stop before a record that starts at `off` or later.
    pub fn set_stop(&mut self, off: u64) {
        self.stop = off;
    }

    /// How the file's records are laid out: whether its byte order is
    /// swapped, whether its fractions are nanoseconds, its link type and
    /// the snap length libpcap reads it with.
    pub fn layout(&self) -> (bool, bool, u32, u32) {
        (self.swapped, self.nsec, self.linktype, self.snapshot)
    }

    /// Moves to the first offset from the reader's on, before `limit`,
    /// that `judge(bytes, base, size, offset)` calls a record boundary
    /// (`Some(true)`; `Some(false)`: not one; `None`: it needs bytes past
    /// those at hand, which are then mapped or read; `bytes` are the
    /// file's from `base`, the file is `size` bytes long). False when
    /// there is none before `limit`.
    pub fn find_boundary(&mut self, limit: u64, judge: impl Fn(&[u8], u64, u64, u64) -> Option<bool>) -> bool {
        loop {
            let Some(size) = self.file_size() else { return false };
            let base = self.buf_off;
            let mut off = self.offset();
            let mut found = None;
            {
                let data = self.bytes().get(..self.end).unwrap_or(&[]);
                while off < limit {
                    match judge(data, base, size, off) {
                        Some(true) => {
                            found = Some(true);
                            break;
                        }
                        Some(false) => off += 1,
                        None => {
                            found = Some(false);
                            break;
                        }
                    }
                }
            }
            self.start = (off - base) as usize;
            match found {
                Some(true) => return true,
                // More bytes for the judgement at `off`.
                Some(false) if self.fill() => {}
                _ => return false,
            }
        }
    }

    /// Makes more bytes available after the unread ones (mapping the next
    /// window, or reading with `pread`, growing the buffer as far as it
    /// may), until the next record is whole at hand (or its header is not
    /// one this reader takes); false when no new byte came.
    pub fn more(&mut self) -> bool {
        let mut got = false;
        while self.fill() {
            got = true;
            let avail = self.end - self.start;
            if avail >= PCAP_RECORD_HEADER {
                let caplen = self.u32_at(self.start + 8);
                if caplen > self.snapshot || avail >= PCAP_RECORD_HEADER + caplen as usize {
                    break;
                }
            }
        }
        got
    }

    /// How the next record will be read: "mapped" (a memory-mapped window)
    /// or "buffer" (`pread` into a buffer).
    pub fn kind(&self) -> &'static str {
        match self.source {
            Bytes::Mapped(_) if self.map => "mapped",
            _ if self.map && self.end == self.start && self.cost.map_next() => "mapped",
            _ => "buffer",
        }
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
        if let Bytes::Mapped(_) = self.source {
            self.source = Bytes::Buffer(Box::default());
        }
    }

    /// Whether the record `next` returned last was read whole, asked after
    /// reading it and before handing it out. False when the file was cut
    /// short under its window: the reader has then moved back to that
    /// record, which is read again with `pread` (and libpcap).
    #[inline]
    pub fn intact(&mut self) -> bool {
        if let Bytes::Mapped(w) = &self.source {
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
            Bytes::Mapped(w) => w.bytes(),
            Bytes::Buffer(b) => b,
        }
    }

    /// Makes more bytes available after the unread ones; false when no new
    /// byte came (end of file or read error: libpcap will say which).
    fn fill(&mut self) -> bool {
        if self.map && self.cost.map_next() {
            match self.map_next() {
                Some(Mapped::More) => return true,
                Some(Mapped::End) => return false,
                Some(Mapped::Costly) => {} // read with `pread` below
                None => self.map = false,
            }
        }
        let pos = self.buf_off + self.start as u64;
        let mut buf = match std::mem::replace(&mut self.source, Bytes::Buffer(Box::default())) {
            Bytes::Buffer(b) if !b.is_empty() => b,
            Bytes::Buffer(_) => vec![0u8; BUFFER].into_boxed_slice(),
            Bytes::Mapped(w) => {
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
        if self.end == buf.len() && buf.len() < self.most {
            // Full of unread bytes: a record, or a chain of headers, longer
            // than the buffer.
            let mut grown = vec![0u8; (buf.len() * 2).min(self.most)].into_boxed_slice();
            grown[..self.end].copy_from_slice(&buf[..self.end]);
            buf = grown;
        }
        let off = self.buf_off + self.end as u64;
        let end = self.end;
        let n = pread_exact_or_less(self.fd, &mut buf[end..], off);
        self.cost.read(n);
        self.source = Bytes::Buffer(buf);
        self.end += n;
        n > 0
    }

    /// Maps the window that starts at the page of the next unread byte:
    /// `Mapped::More` when it holds more than we had, `End` when the file
    /// has nothing more, `Costly` when a twin's probe of it says mapping it
    /// is costly (nothing was mapped: the next bytes are read with `pread`),
    /// `None` when it cannot be mapped.
    ///
    /// A twin probes before it maps a whole window: two threads of one
    /// process mapping costly windows cost each other more than the mapping
    /// itself (unmapping a window of 4 KiB pages makes the kernel flush the
    /// other core's TLB), so there reading with `pread` throughout was
    /// 12-16 % faster than trying 16 MiB windows as one thread does, while
    /// mapping cheap windows was 20-25 % faster than `pread`
    /// (docs/performance.md); a 2 MiB probe costs an eighth of a window.
    fn map_next(&mut self) -> Option<Mapped> {
        let pos = self.buf_off + self.start as u64;
        let have = match self.source {
            Bytes::Mapped(_) => self.buf_off + self.end as u64,
            Bytes::Buffer(_) => pos,
        };
        let size = self.file_size()?;
        if size <= have {
            return Some(Mapped::End);
        }
        let base = pos & !(super::mapping::page_size() as u64 - 1);
        let len = usize::try_from(size - base).ok()?.min(WINDOW);
        // Only whole windows are judged: a file's last bytes, or a file
        // smaller than a window, are mapped whatever they cost. A probe
        // that cannot be mapped means the window cannot be either.
        if self.probe && len == WINDOW {
            let at = super::map_cost::probe_at(base, len)?;
            let took = super::map_cost::probe(self.fd, at, super::map_cost::PROBE)?;
            self.cost.mapped(super::map_cost::PROBE, took);
            if !self.cost.map_next() {
                return Some(Mapped::Costly);
            }
        }
        // Unmap the old window first (only one is ever mapped: it counts in
        // the process's RSS); from here the unread bytes start at `pos`.
        self.source = Bytes::Buffer(Box::default());
        (self.buf_off, self.start, self.end) = (pos, 0, 0);
        let t = super::map_cost::thread_cpu_time();
        let w = super::mapping::Window::map(self.fd, base, len)?;
        if len == WINDOW {
            self.cost.mapped(len, super::map_cost::thread_cpu_time().saturating_sub(t));
        }
        self.source = Bytes::Mapped(w);
        self.buf_off = base;
        self.start = (pos - base) as usize;
        self.end = len;
        Some(Mapped::More)
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
    /// the end of that page, and faults (see `super::mapping`) after it. So
    /// when the next record's header is in the window and not all zeros,
    /// this record was whole when read (it was read before this check);
    /// otherwise the file's size says.
    #[inline]
    fn followed(&self, end: usize) -> bool {
        if let Some(h) = self.bytes().get(end..end + PCAP_RECORD_HEADER) {
            if h.iter().any(|&b| b != 0) {
                return true;
            }
        }
        self.file_size().is_some_and(|size| size >= self.buf_off + end as u64)
    }

    /// The file's size now.
    pub fn file_size(&self) -> Option<u64> {
        // SAFETY: fstat on our open descriptor into a zeroed struct.
        unsafe {
            let mut st: libc::stat = std::mem::zeroed();
            if libc::fstat(self.fd, &mut st) != 0 {
                return None;
            }
            u64::try_from(st.st_size).ok()
        }
    }

    /// Reads the headers of up to `max` records that lie whole in the bytes
    /// at hand (nothing is mapped or read here; no record libpcap must
    /// read is taken): a run of records. Empty when the next record needs
    /// [`FastReader::next`]. Check [`FastReader::run_intact`] after using
    /// the records and before handing them out.
    #[inline]
    pub fn run(&mut self, max: usize) -> Run<'_> {
        self.run_start = self.offset();
        self.run.clear();
        let (swapped, snapshot, scale) = (self.swapped, self.snapshot, self.scale);
        let bytes = match &self.source {
            Bytes::Mapped(w) => w.bytes(),
            Bytes::Buffer(b) => b,
        };
        let bytes = bytes.get(..self.end).unwrap_or(&[]);
        // Records from this index on start at or after `stop`.
        let stop = usize::try_from(self.stop.saturating_sub(self.buf_off)).unwrap_or(usize::MAX);
        let u32_at = |i: usize| -> Option<u32> {
            let v = u32::from_ne_bytes(bytes.get(i..i + 4)?.try_into().ok()?);
            Some(if swapped { v.swap_bytes() } else { v })
        };
        let mut s = self.start;
        // The walk from header to header is a chain of loads, each waiting
        // for memory: every line up to `RUN_AHEAD` bytes ahead is asked for
        // early, so that many are on their way at once.
        let mut ahead = s;
        while self.run.len() < max && s < stop {
            let until = (s + RUN_AHEAD).min(bytes.len());
            if ahead < until {
                prefetch(&bytes[ahead..until]);
                ahead = until;
            }
            let Some(caplen) = u32_at(s + 8) else { break };
            if caplen > snapshot {
                break;
            }
            let data = s + PCAP_RECORD_HEADER;
            let end = data + caplen as usize;
            if end > bytes.len() {
                break;
            }
            let (Some(sec), Some(frac), Some(len)) = (u32_at(s), u32_at(s + 4), u32_at(s + 12)) else { break };
            // Signed, as libpcap reads it (see `next`).
            self.run.push(RunRecord { sec, usec: scale.apply(frac as i32 as i64), len, data, end });
            s = end;
        }
        if let Some(last) = self.run.last() {
            self.last_end = last.end;
            self.start = s;
        }
        Run { bytes, base: self.buf_off, recs: &self.run }
    }

    /// Whether the records of the last [`FastReader::run`] were read whole
    /// (see [`FastReader::intact`]); when not, the reader has moved back
    /// to the first of them, which are read again with `pread` (and
    /// libpcap).
    #[inline]
    pub fn run_intact(&mut self) -> bool {
        if let Bytes::Mapped(w) = &self.source {
            if !w.intact() || !self.followed(self.last_end) {
                self.map = false;
                self.resync(self.run_start);
                return false;
            }
        }
        true
    }

    /// The next record, or `Step::Slow` when libpcap must read it.
    #[inline]
    pub fn next(&mut self) -> Step<'_> {
        loop {
            let avail = self.end - self.start;
            if avail >= PCAP_RECORD_HEADER {
                let s = self.start;
                let caplen = self.u32_at(s + 8);
                if caplen > self.snapshot {
                    return Step::Slow;
                }
                let total = PCAP_RECORD_HEADER + caplen as usize;
                if avail >= total {
                    let sec = self.u32_at(s) as i64;
                    // Signed, as libpcap reads it (see the note above `Slow`).
                    let frac = self.u32_at(s + 4) as i32 as i64;
                    let len = self.u32_at(s + 12);
                    self.start += total;
                    self.last = self.buf_off + s as u64;
                    self.last_end = s + total;
                    let bytes = self.bytes();
                    if let Bytes::Mapped(_) = self.source {
                        prefetch(bytes.get(s + total..(s + total + PREFETCH).min(bytes.len())).unwrap_or(&[]));
                    }
                    return Step::Record(Record {
                        sec,
                        usec: self.scale.apply(frac),
                        len,
                        data: &bytes[s + PCAP_RECORD_HEADER..s + total],
                    });
                }
                if total > self.most.max(self.bytes().len()) {
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
pub fn prefetch(b: &[u8]) {
    #[cfg(target_arch = "x86_64")]
    for line in b.chunks(64) {
        // SAFETY: a prefetch hint on an address inside `b`; it never faults.
        unsafe { std::arch::x86_64::_mm_prefetch(line.as_ptr().cast(), std::arch::x86_64::_MM_HINT_T0) };
    }
    #[cfg(not(target_arch = "x86_64"))]
    let _ = b;
}
