//! Streams that cannot seek (a pipe, a FIFO, standard input, a terminal):
//! libpcap reads them through a stdio stream of ours that counts the bytes
//! it hands over, so that `ftell()` there is the number of bytes libpcap
//! has consumed: the offset it would be at in a regular file.
//!
//! The stream (`fopencookie`) gets its data from [`Counted::read`], which
//! serves it from a large buffer of its own (one `read(2)` for many
//! records) and counts what it served. With glibc the stream is buffered
//! as any file is, and what stdio holds back is known (its read pointers,
//! public in glibc's `struct _IO_FILE`, as gnulib's `freadahead` reads
//! them): an unbuffered cookie stream would come to `read` for every byte
//! (glibc's `_IO_default_xsgetn` fills a one-byte buffer), some 20 µs per
//! packet. Elsewhere the stream is unbuffered. Linux only (glibc and musl
//! have `fopencookie`); elsewhere such streams are read as any file, and
//! their offset is unknown.
//!
//! On a pcapng stream the counting state also keeps, in its [`Kept`], the
//! section headers and interface descriptions that pass (their offsets and
//! bytes): the blocks a pcapng `Dumper` needs to copy the stream's
//! interfaces when the bytes themselves are gone (`crate::io::pcapng_read`
//! reads them, and the block of the packet handed out last from the
//! counting buffer, which still holds it). Packet blocks are not copied.
//!
//! The writing side is a stream into a `crate::io::sink::Sink`, which
//! buffers a `Dumper`'s records and writes them itself.

use crate::io::format::{
    BYTE_ORDER_MAGIC, IDB, PCAPNG_MAX_BLOCK, PCAP_FILE_HEADER, PCAP_KUZNETZOV_RECORD_HEADER, PCAP_MAGIC_KUZNETZOV,
    PCAP_MAGIC_NSEC, PCAP_MAGIC_USEC, PCAP_RECORD_HEADER, SHB,
};
use crate::io::sink::Sink;
use pyo3::prelude::*;
use std::os::unix::io::RawFd;
use std::ptr::NonNull;
use std::sync::{Arc, Mutex};

/// The state behind a counting stream, owned by the stream (freed, and
/// its descriptor closed, by `fclose`).
///
/// It keeps the bytes of the record (or pcapng block) being read until the
/// record has been handed over whole, so that a read a signal handler
/// ended (see [`Counted::read`]) can be made again from the record's start
/// ([`Counted::rewind`]): libpcap, which gave up half-way through that
/// record, reads it anew, and nothing is lost, repeated or invented.
pub struct Counted {
    fd: RawFd,
    buf: Vec<u8>,
    /// `buf[start..end]` is read from `fd` and not yet handed over.
    start: usize,
    end: usize,
    /// The stream offset of `buf[0]`: `base + start` bytes have been
    /// handed over to stdio (so to libpcap) since the start.
    base: u64,
    /// The stream offset where the record being read starts (between
    /// `base` and `base + start`); `buf` keeps the bytes from there on.
    unit: u64,
    /// How records are delimited in the stream.
    units: Units,
    /// The exception a signal handler raised while a read waited (see
    /// `Counted::read`), for the caller to raise once libpcap gave up.
    pending: Option<PyErr>,
    /// The stdio stream reading this state, when stdio buffers it (see
    /// [`Counted::held`]); null otherwise.
    file: *mut libc::FILE,
    /// The section headers and interface descriptions of a pcapng stream.
    kept: Arc<Mutex<Kept>>,
}

/// The section header and interface description blocks of a pcapng stream
/// (whole, as read), with their stream offsets, in order: what a follower
/// of the stream needs of the blocks libpcap read before it asked. Shared,
/// so that a follower in another thread reads them while the stream is
/// read. Once a follower walks the stream (a pcapng `Dumper`), the blocks
/// it walked past go ([`Kept::prune`]): the memory held is then that of the
/// blocks libpcap read since the last packet.
pub struct Kept {
    pub blocks: Vec<(u64, Vec<u8>)>,
    /// Their bytes: at most `cap`.
    bytes: usize,
    cap: usize,
    /// The offset of the first block not kept (the cap was reached): a
    /// follower that walks past it has lost what it described.
    pub lost: Option<u64>,
}

/// How many bytes of blocks a stream keeps at most.
pub const MAX_KEPT: usize = 64 << 20;

impl Default for Kept {
    fn default() -> Self {
        Kept::with_cap(MAX_KEPT)
    }
}

impl Kept {
    fn with_cap(cap: usize) -> Self {
        Kept { blocks: Vec::new(), bytes: 0, cap, lost: None }
    }

    fn keep(&mut self, at: u64, block: &[u8]) {
        if self.lost.is_none() && self.bytes + block.len() <= self.cap {
            self.bytes += block.len();
            self.blocks.push((at, block.to_vec()));
        } else {
            self.lost.get_or_insert(at);
        }
    }

    /// Drops the blocks that end at or before `to` (a follower walked past
    /// them).
    pub fn prune(&mut self, to: u64) {
        let n = self.blocks.partition_point(|(at, b)| at + b.len() as u64 <= to);
        self.bytes -= self.blocks.drain(..n).map(|(_, b)| b.len()).sum::<usize>();
    }
}

/// The start of glibc's `struct _IO_FILE` (`<bits/types/struct_FILE.h>`):
/// the read pointers of its buffer.
#[cfg(all(target_os = "linux", target_env = "gnu"))]
#[repr(C)]
struct GlibcFileHead {
    flags: libc::c_int,
    read_ptr: *const u8,
    read_end: *const u8,
}

/// How the stream divides into records, read from the bytes themselves (so
/// it does not depend on how libpcap splits its reads).
#[derive(Clone, Copy)]
enum Units {
    /// Nothing read yet: the first four bytes tell.
    Start,
    /// A classic pcap file: a 24-byte file header, then records of a
    /// `hdr`-byte header and the captured length (at offset 8).
    Pcap { hdr: u64, big: bool },
    /// pcapng blocks, their total length at offset 4; `big`: the byte order
    /// of the current section (each section header block gives it).
    PcapNg { big: bool },
    /// Unknown (another format, or a record libpcap refused): a record is
    /// what one libpcap read takes (`Counted::begin_read`).
    Calls,
}

/// Records or blocks larger than this are not believed (libpcap reads at
/// most 256 KiB for a packet and 16 MiB for a pcapng block).
const MAX_UNIT: u64 = PCAPNG_MAX_BLOCK as u64;
/// stdio's buffer on a counting stream (glibc): libpcap reads a record
/// header and its body from it without coming to `Counted::read`.
#[cfg(target_os = "linux")]
const STDIO_BUFFER: usize = 64 << 10;

fn u32_in(b: &[u8], at: usize, big: bool) -> Option<u32> {
    let v: [u8; 4] = b.get(at..at + 4)?.try_into().ok()?;
    Some(if big { u32::from_be_bytes(v) } else { u32::from_le_bytes(v) })
}

impl Units {
    /// The length of the record whose first bytes are `b` (as many as have
    /// arrived), how the stream goes on after it, and whether it is a block
    /// to keep (see [`Kept`]); `None` while too few bytes are there to tell.
    /// A length that cannot be right turns tracking off (`Calls`).
    fn measure(self, b: &[u8]) -> Option<(u64, Units, bool)> {
        match self {
            Units::Start => {
                let magic = b.get(..4)?;
                let le = u32::from_le_bytes(magic.try_into().ok()?);
                let be = u32::from_be_bytes(magic.try_into().ok()?);
                let hdr = |m| match m {
                    PCAP_MAGIC_USEC | PCAP_MAGIC_NSEC => Some(PCAP_RECORD_HEADER as u64),
                    PCAP_MAGIC_KUZNETZOV => Some(PCAP_KUZNETZOV_RECORD_HEADER as u64),
                    _ => None,
                };
                let file = PCAP_FILE_HEADER as u64;
                Some(match (hdr(le), hdr(be)) {
                    (Some(hdr), _) => (file, Units::Pcap { hdr, big: false }, false),
                    (_, Some(hdr)) => (file, Units::Pcap { hdr, big: true }, false),
                    _ if le == SHB => return Units::PcapNg { big: false }.measure(b),
                    _ => (0, Units::Calls, false),
                })
            }
            Units::Pcap { hdr, big } => {
                let caplen = u64::from(u32_in(b, 8, big)?);
                Some(if caplen <= MAX_UNIT { (hdr + caplen, self, false) } else { (0, Units::Calls, false) })
            }
            Units::PcapNg { big } => {
                let mut next = self;
                let mut order = big;
                let kind = u32_in(b, 0, big)?;
                if kind == SHB {
                    order = match (u32_in(b, 8, false)?, u32_in(b, 8, true)?) {
                        (BYTE_ORDER_MAGIC, _) => false,
                        (_, BYTE_ORDER_MAGIC) => true,
                        _ => return Some((0, Units::Calls, false)),
                    };
                    next = Units::PcapNg { big: order };
                }
                let len = u64::from(u32_in(b, 4, order)?);
                let keep = kind == SHB || kind == IDB;
                Some(if (12..=MAX_UNIT).contains(&len) && len % 4 == 0 {
                    (len, next, keep)
                } else {
                    (0, Units::Calls, false)
                })
            }
            Units::Calls => None,
        }
    }
}

impl Counted {
    pub fn fd(&self) -> RawFd {
        self.fd
    }

    /// The section headers and interface descriptions seen (a pcapng
    /// stream's).
    pub fn kept(&self) -> Arc<Mutex<Kept>> {
        self.kept.clone()
    }

    /// The bytes read and still held, and the stream offset of the first:
    /// from the start of the record libpcap was reading when the buffer was
    /// last filled (a record boundary) on.
    pub fn window(&self) -> (u64, &[u8]) {
        (self.base, &self.buf[..self.end])
    }

    /// Bytes libpcap has read from the stream so far: what was handed to
    /// stdio, less what stdio still holds.
    pub fn consumed(&self) -> u64 {
        self.handed() - self.held() as u64
    }

    /// Bytes handed to stdio so far.
    fn handed(&self) -> u64 {
        self.base + self.start as u64
    }

    /// Bytes stdio has read from us and not yet handed to libpcap. (While
    /// [`Counted::read`] runs, none: stdio asks only once its buffer is
    /// empty.)
    fn held(&self) -> usize {
        #[cfg(all(target_os = "linux", target_env = "gnu"))]
        if !self.file.is_null() {
            // SAFETY: a live glibc stream (set by `open`, which made it);
            // its read pointers bound the bytes buffered and not yet read.
            let head = unsafe { &*self.file.cast::<GlibcFileHead>() };
            return (head.read_end as usize).saturating_sub(head.read_ptr as usize);
        }
        0
    }

    /// The exception a signal handler raised during a read, if any.
    pub fn take_pending(&mut self) -> Option<PyErr> {
        self.pending.take()
    }

    /// Called before each libpcap read: where records cannot be told from
    /// the bytes, the read starts one.
    pub fn begin_read(&mut self) {
        if let Units::Calls = self.units {
            self.unit = self.consumed();
        }
    }

    /// After a read a signal handler ended: the stream goes back to the
    /// start of the record libpcap was reading, to be handed over again
    /// (anything stdio still holds is dropped: it is handed over again).
    pub fn rewind(&mut self) {
        if !self.file.is_null() {
            // SAFETY: the live stream reading this state.
            unsafe { __fpurge(self.file) };
        }
        self.start = (self.unit - self.base) as usize;
    }

    /// After a read libpcap refused (a bad record): records are no longer
    /// told from the bytes, but by libpcap's reads.
    pub fn lose_track(&mut self) {
        self.units = Units::Calls;
        self.unit = self.consumed();
    }

    /// Moves `unit` past the records handed over whole. (Called from
    /// `read`, when stdio holds nothing: libpcap is reading the record
    /// that holds the last byte handed over, and has read those before.)
    fn track(&mut self) {
        let done = self.handed();
        while self.unit < done {
            let at = (self.unit - self.base) as usize;
            let Some((len, next, keep)) = self.units.measure(&self.buf[at..self.end]) else { return };
            self.units = next;
            if len == 0 || self.unit + len > done {
                if len == 0 {
                    self.unit = done; // tracking just turned off
                }
                return;
            }
            if keep {
                // A block handed over whole that a follower needs.
                let block = &self.buf[at..at + len as usize];
                self.kept.lock().unwrap_or_else(|p| p.into_inner()).keep(self.unit, block);
            }
            self.unit += len;
        }
    }

    /// Room after `end` for a read: drops the bytes before the record being
    /// read, and grows the buffer when that record fills it.
    fn make_room(&mut self) {
        let keep = (self.unit - self.base) as usize;
        if keep > 0 {
            self.buf.copy_within(keep..self.end, 0);
            self.base += keep as u64;
            (self.start, self.end) = (self.start - keep, self.end - keep);
        }
        if self.end == self.buf.len() {
            let n = self.buf.len() * 2;
            self.buf.resize(n, 0);
        }
    }

    /// Hands over up to `out.len()` bytes: 0 at the end of the stream, -1
    /// (with `errno` set) when the read failed.
    ///
    /// A read interrupted by a signal (`EINTR`) runs Python's signal
    /// handlers, as Python's own reads do (PEP 475), and is tried again
    /// unless one raised: then the exception is kept for the caller
    /// (`take_pending`) and the read fails with `EINTR`. Without this, a
    /// handler that returns normally (a timer, `SIGCHLD`) would end the read
    /// with an "Interrupted system call" error.
    fn read(&mut self, out: &mut [u8]) -> isize {
        while self.start == self.end {
            self.make_room();
            let room = &mut self.buf[self.end..];
            // SAFETY: reads at most `room.len()` bytes into `room`.
            let n = unsafe { libc::read(self.fd, room.as_mut_ptr().cast(), room.len()) };
            if n > 0 {
                self.end += n as usize;
            } else if n < 0 && interrupted() {
                if !go_on_after_signal(&mut self.pending) {
                    return -1;
                }
            } else {
                return n;
            }
        }
        let n = out.len().min(self.end - self.start);
        out[..n].copy_from_slice(&self.buf[self.start..self.start + n]);
        self.start += n;
        self.track();
        n as isize
    }
}

extern "C" {
    /// Drops what a stdio stream has buffered (`<stdio_ext.h>`; glibc and
    /// musl).
    fn __fpurge(f: *mut libc::FILE);
}

/// Whether the last failed call of this thread was interrupted by a signal.
fn interrupted() -> bool {
    std::io::Error::last_os_error().raw_os_error() == Some(libc::EINTR)
}

/// After a call was interrupted by a signal: runs Python's signal handlers
/// (PEP 475). True when the call should be made again; false when a
/// handler raised: the exception is kept in `pending` and `errno` is EINTR
/// again, for the failing call to report.
///
/// The caller may hold the GIL or not: taking it here is allowed either way.
fn go_on_after_signal(pending: &mut Option<PyErr>) -> bool {
    match Python::attach(|py| py.check_signals().err()) {
        None => true,
        Some(e) => {
            *pending = Some(e);
            // SAFETY: this thread's errno.
            unsafe { *libc::__errno_location() = libc::EINTR };
            false
        }
    }
}

/// `open(path, flags)`, run without the GIL. Opening a FIFO waits for the
/// other end: a signal then runs its Python handlers and the open goes on,
/// unless one raised (PEP 475), as for reads and writes. `Ok(-1)` with
/// `errno` set when the open failed.
pub fn open_waiting(path: &std::ffi::CStr, flags: libc::c_int) -> PyResult<RawFd> {
    loop {
        // SAFETY: a valid C string.
        let fd = unsafe { libc::open(path.as_ptr(), flags | libc::O_CLOEXEC) };
        if fd < 0 && interrupted() {
            Python::attach(|py| py.check_signals())?;
            continue;
        }
        return Ok(fd);
    }
}

#[cfg(target_os = "linux")]
mod cookie {
    use super::Counted;
    use crate::io::sink::Sink;
    use libc::{c_char, c_int, c_void, size_t, ssize_t, FILE};

    #[repr(C)]
    pub struct CookieIoFunctions {
        pub read: Option<unsafe extern "C" fn(*mut c_void, *mut c_char, size_t) -> ssize_t>,
        pub write: Option<unsafe extern "C" fn(*mut c_void, *const c_char, size_t) -> ssize_t>,
        pub seek: Option<unsafe extern "C" fn(*mut c_void, *mut i64, c_int) -> c_int>,
        pub close: Option<unsafe extern "C" fn(*mut c_void) -> c_int>,
    }

    extern "C" {
        pub fn fopencookie(cookie: *mut c_void, mode: *const c_char, funcs: CookieIoFunctions) -> *mut FILE;
    }

    pub unsafe extern "C" fn read(cookie: *mut c_void, buf: *mut c_char, size: size_t) -> ssize_t {
        // SAFETY: stdio passes our cookie and a buffer of `size` bytes.
        let (c, out) =
            unsafe { (&mut *cookie.cast::<Counted>(), std::slice::from_raw_parts_mut(buf.cast::<u8>(), size)) };
        c.read(out)
    }

    pub unsafe extern "C" fn close(cookie: *mut c_void) -> c_int {
        // SAFETY: the cookie made by `super::open`, closed once by fclose.
        let c = unsafe { Box::from_raw(cookie.cast::<Counted>()) };
        unsafe { libc::close(c.fd) }
    }

    pub unsafe extern "C" fn sink_write(cookie: *mut c_void, buf: *const c_char, size: size_t) -> ssize_t {
        // SAFETY: stdio passes our cookie and `size` bytes to write.
        let (s, data) = unsafe { (&mut *cookie.cast::<Sink>(), std::slice::from_raw_parts(buf.cast::<u8>(), size)) };
        s.accept(data);
        size as ssize_t
    }

    /// `ftell` asks where the stream is (offset 0 from the current
    /// position): the bytes written so far. Any real seek is refused.
    pub unsafe extern "C" fn sink_seek(cookie: *mut c_void, offset: *mut i64, whence: c_int) -> c_int {
        // SAFETY: stdio passes our cookie and a valid offset.
        let (s, off) = unsafe { (&*cookie.cast::<Sink>(), &mut *offset) };
        if whence == libc::SEEK_CUR && *off == 0 {
            *off = s.position() as i64;
            return 0;
        }
        // SAFETY: this thread's errno.
        unsafe { *libc::__errno_location() = libc::ESPIPE };
        -1
    }

    pub unsafe extern "C" fn sink_close(cookie: *mut c_void) -> c_int {
        // SAFETY: the cookie made by `super::open_sink`, closed once by fclose.
        let s = unsafe { Box::from_raw(cookie.cast::<Sink>()) };
        match s.fd() {
            -1 => 0,
            fd => unsafe { libc::close(fd) },
        }
    }
}

/// A write-only, unbuffered stdio stream into a new [`Sink`], and the sink
/// (valid until the stream is closed), for libpcap to write the file
/// header into; the sink's output is given later (`Sink::set_output`), and
/// closed with the stream. `None` where this is not available.
///
/// # Safety
/// The stream must be closed once, with `fclose` (libpcap's
/// `pcap_dump_close` does).
pub unsafe fn open_sink() -> Option<(*mut libc::FILE, NonNull<Sink>)> {
    #[cfg(target_os = "linux")]
    {
        let raw = Box::into_raw(Box::new(Sink::new()));
        let funcs = cookie::CookieIoFunctions {
            read: None,
            write: Some(cookie::sink_write),
            seek: Some(cookie::sink_seek),
            close: Some(cookie::sink_close),
        };
        // SAFETY: the cookie stays valid until `sink_close` frees it.
        let f = unsafe { cookie::fopencookie(raw.cast(), c"wb".as_ptr(), funcs) };
        if f.is_null() {
            // SAFETY: not handed to any stream: still ours.
            drop(unsafe { Box::from_raw(raw) });
            return None;
        }
        // SAFETY: a fresh stream, before any write: stdio keeps nothing.
        unsafe { libc::setvbuf(f, std::ptr::null_mut(), libc::_IONBF, 0) };
        NonNull::new(raw).map(|state| (f, state))
    }
    #[cfg(not(target_os = "linux"))]
    None
}

/// A read-only, unbuffered stdio stream over `fd` that counts what is read
/// from it, and its state (valid until the stream is closed). The stream
/// owns `fd` from then on. `None` where this is not available, or when
/// the stream cannot be made (`fd` is then still the caller's).
///
/// # Safety
/// `fd` must be an open descriptor; the stream must be closed once, with
/// `fclose` (libpcap's `pcap_close` does).
#[allow(unused_variables)]
pub unsafe fn open(fd: RawFd, buffer: usize) -> Option<(*mut libc::FILE, NonNull<Counted>)> {
    #[cfg(target_os = "linux")]
    {
        let state = Box::new(Counted {
            fd,
            buf: vec![0u8; buffer.max(1)],
            start: 0,
            end: 0,
            base: 0,
            unit: 0,
            units: Units::Start,
            pending: None,
            file: std::ptr::null_mut(),
            kept: Arc::default(),
        });
        let raw = Box::into_raw(state);
        let funcs =
            cookie::CookieIoFunctions { read: Some(cookie::read), write: None, seek: None, close: Some(cookie::close) };
        // SAFETY: the cookie stays valid until `close` frees it.
        let f = unsafe { cookie::fopencookie(raw.cast(), c"rb".as_ptr(), funcs) };
        if f.is_null() {
            // SAFETY: not handed to any stream: still ours.
            drop(unsafe { Box::from_raw(raw) });
            return None;
        }
        // SAFETY: a fresh stream, before any read; `raw` is live until the
        // stream is closed.
        unsafe {
            if cfg!(target_env = "gnu") {
                libc::setvbuf(f, std::ptr::null_mut(), libc::_IOFBF, STDIO_BUFFER);
                (*raw).file = f;
            } else {
                libc::setvbuf(f, std::ptr::null_mut(), libc::_IONBF, 0);
            }
        }
        NonNull::new(raw).map(|state| (f, state))
    }
    #[cfg(not(target_os = "linux"))]
    None
}

#[cfg(test)]
mod tests {
    use super::{Kept, Units};

    fn is_calls(u: Units) -> bool {
        matches!(u, Units::Calls)
    }

    #[test]
    fn classic_pcap_records_are_told_from_their_headers() {
        let mut file = 0xa1b2_c3d4u32.to_be_bytes().to_vec();
        file.resize(24, 0);
        let (len, u, _) = Units::Start.measure(&file).unwrap();
        assert!(matches!(u, Units::Pcap { hdr: 16, big: true }) && len == 24);
        let mut rec = vec![0u8; 16];
        rec[8..12].copy_from_slice(&60u32.to_be_bytes());
        assert_eq!(u.measure(&rec).map(|(n, _, _)| n), Some(76));
        assert!(u.measure(&rec[..11]).is_none()); // the length has not arrived
        rec[8..12].copy_from_slice(&u32::MAX.to_be_bytes());
        assert!(is_calls(u.measure(&rec).unwrap().1)); // not believed
        let nsec_le = 0xa1b2_3c4du32.to_le_bytes();
        assert!(matches!(Units::Start.measure(&nsec_le), Some((24, Units::Pcap { hdr: 16, big: false }, false))));
        assert!(matches!(
            Units::Start.measure(&0xa1b2_cd34u32.to_le_bytes()),
            Some((24, Units::Pcap { hdr: 24, .. }, false))
        ));
        assert!(is_calls(Units::Start.measure(b"GIF8").unwrap().1));
    }

    #[test]
    fn pcapng_blocks_follow_the_section_byte_order() {
        // A big-endian section header block of 28 bytes, then a block of 32.
        let mut shb = vec![0x0a, 0x0d, 0x0d, 0x0a];
        shb.extend(28u32.to_be_bytes());
        shb.extend(0x1a2b_3c4du32.to_be_bytes());
        let (len, u, keep) = Units::Start.measure(&shb).unwrap();
        assert!(len == 28 && matches!(u, Units::PcapNg { big: true }) && keep);
        let mut epb = 6u32.to_be_bytes().to_vec();
        epb.extend(32u32.to_be_bytes());
        assert_eq!(u.measure(&epb).map(|(n, _, keep)| (n, keep)), Some((32, false)));
        let idb = [1u32.to_be_bytes(), 32u32.to_be_bytes()].concat();
        assert_eq!(u.measure(&idb).map(|(n, _, keep)| (n, keep)), Some((32, true)));
        epb[4..8].copy_from_slice(&30u32.to_be_bytes()); // not a multiple of 4
        assert!(is_calls(u.measure(&epb).unwrap().1));
        assert!(Units::Calls.measure(&shb).is_none());
    }

    #[test]
    fn kept_blocks_go_once_walked_and_those_past_the_cap_are_told() {
        let mut k = Kept::with_cap(100);
        k.keep(0, &[1; 28]);
        k.keep(28, &[2; 32]);
        k.keep(200, &[3; 40]);
        assert_eq!((k.blocks.len(), k.bytes, k.lost), (3, 100, None));
        // Walked to the middle of the third block: the first two go.
        k.prune(220);
        assert_eq!((k.blocks.iter().map(|(at, _)| *at).collect::<Vec<_>>(), k.bytes), (vec![200], 40));
        k.keep(300, &[4; 60]);
        assert_eq!((k.bytes, k.lost), (100, None));
        // Past the cap: not kept, and no later block either (a follower
        // that walks past the first one lost it whatever comes after).
        k.keep(400, &[5; 4]);
        k.prune(360);
        k.keep(500, &[6; 4]);
        assert_eq!((k.blocks.iter().map(|(at, _)| *at).collect::<Vec<_>>(), k.bytes, k.lost), (vec![], 0, Some(400)));
    }
}
