//! Where a `Dumper`'s savefile goes: a buffer of whole records in front of
//! a descriptor (a regular file, a pipe, a FIFO, standard output), so that
//! what is in the output is always known. The same sink takes a pcapng
//! file's blocks (`Sink::pcapng`): its units are then blocks, its records
//! the packet blocks, and the blocks that are not records (the section
//! header, interface descriptions) are never dropped.
//!
//! libpcap writes the file header through a stdio stream over this sink
//! (`crate::io::stream::open_sink`, unbuffered, so stdio holds nothing);
//! records are added here directly ([`Sink::push`]). Nothing is written to
//! the descriptor until [`Sink::drain`], which the `Dumper` calls without
//! the GIL when the buffer is full (as much as stdio would buffer: the
//! output's block size), and on `flush()` and `close()`. A drain
//! knows where records end (it reads their lengths back from the buffer),
//! so:
//!
//! - after a write error (a full disk), it counts the records the output
//!   holds whole, cuts a regular file back to the end of the last one (a
//!   record the error cut short is removed), and drops the records it could
//!   not write: the error says how many of each;
//! - a signal whose handler raises stops a drain that waits (on a full
//!   pipe) and keeps everything not yet written, the rest of a record
//!   half-written included, for the next drain: the output never holds
//!   part of a record that is then lost.

use super::format::{PACKET_BLOCKS, PCAP_FILE_HEADER, PCAP_RECORD_HEADER};
use pyo3::prelude::*;
use std::os::unix::io::RawFd;

/// How the bytes divide into units.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Framing {
    /// A classic savefile: its header, then 16-byte record headers and data.
    Pcap,
    /// pcapng blocks (of this machine's byte order), their total length at
    /// offset 4.
    Pcapng,
}
/// How many bytes wait before a drain, when the output does not say (its
/// `st_blksize` is what stdio would buffer, and what this sink buffers).
const DRAIN_AT: usize = 8192;

/// How a drain failed.
pub enum DrainError {
    /// A signal handler raised this while a write waited; everything not
    /// written is still buffered.
    Signal(PyErr),
    /// The OS refused a write. `header`: whether the output holds the
    /// file header (when not, it stays buffered, to be written first);
    /// `records`: whole records in the output; `dropped`: records accepted
    /// but not written (now dropped).
    Os { error: std::io::Error, header: bool, records: u64, dropped: u64 },
}

pub struct Sink {
    /// The output (-1 until it is opened: the header can be made before).
    fd: RawFd,
    /// Whether `fd` is a regular file (which can be cut back to a record).
    regular: bool,
    /// Bytes accepted and not yet written, from a record boundary (or the
    /// start of the file) on; `buf[..sent]` has been written.
    buf: Vec<u8>,
    sent: usize,
    /// Output offset of `buf[0]`.
    base: u64,
    /// Whether `buf` starts with the (not yet wholly written) file header.
    header: bool,
    /// Whole records in the output.
    records: u64,
    /// Bytes that may wait before a drain (see [`Sink::is_full_for`]).
    limit: usize,
    framing: Framing,
}

impl Sink {
    /// A sink for a classic savefile (its header comes through
    /// [`Sink::accept`]).
    pub fn new() -> Self {
        Sink {
            fd: -1,
            regular: false,
            buf: Vec::new(),
            sent: 0,
            base: 0,
            header: true,
            records: 0,
            limit: DRAIN_AT,
            framing: Framing::Pcap,
        }
    }

    /// A sink for pcapng blocks ([`Sink::push_blocks`]), the first of which
    /// is the section header block.
    pub fn pcapng() -> Self {
        Sink { framing: Framing::Pcapng, ..Sink::new() }
    }

    /// Gives the sink its output. As much waits before a drain as stdio
    /// would buffer for it (its block size: a page for a pipe).
    pub fn set_output(&mut self, fd: RawFd, regular: bool) {
        (self.fd, self.regular) = (fd, regular);
        // SAFETY: fstat on an open descriptor into a zeroed struct.
        let block = unsafe {
            let mut st: libc::stat = std::mem::zeroed();
            if libc::fstat(fd, &mut st) == 0 {
                st.st_blksize as usize
            } else {
                0
            }
        };
        self.limit = if (512..=1 << 20).contains(&block) { block } else { DRAIN_AT };
    }

    /// Whether a record of `n` bytes should wait for a drain of what is
    /// waiting now (it would not fit the buffer).
    #[inline]
    pub fn is_full_for(&self, n: usize) -> bool {
        self.is_full_for_unit(PCAP_RECORD_HEADER + n)
    }

    /// Whether `n` more bytes (whole units) should wait for a drain.
    #[inline]
    pub fn is_full_for_unit(&self, n: usize) -> bool {
        let waiting = self.waiting();
        waiting > 0 && waiting + n > self.limit
    }

    pub fn fd(&self) -> RawFd {
        self.fd
    }

    /// The output offset after everything accepted.
    pub fn position(&self) -> u64 {
        self.base + self.buf.len() as u64
    }

    /// Bytes accepted and not yet written.
    pub fn waiting(&self) -> usize {
        self.buf.len() - self.sent
    }

    /// The bytes accepted and not yet written.
    #[cfg(test)]
    pub fn pending(&self) -> &[u8] {
        &self.buf[self.sent..]
    }

    /// Takes bytes written by libpcap (the file header).
    pub fn accept(&mut self, data: &[u8]) {
        self.buf.extend_from_slice(data);
    }

    /// Overwrites bytes of the file header before they are written; false
    /// when they were written already.
    pub fn patch_header(&mut self, at: usize, bytes: &[u8]) -> bool {
        if !self.header || self.sent > at || self.buf.len() < at + bytes.len() {
            return false;
        }
        self.buf[at..at + bytes.len()].copy_from_slice(bytes);
        true
    }

    /// Takes one record: its 16-byte header, then its data.
    #[inline]
    pub fn push(&mut self, header: &[u8; PCAP_RECORD_HEADER], data: &[u8]) {
        self.buf.reserve(PCAP_RECORD_HEADER + data.len());
        self.buf.extend_from_slice(header);
        self.buf.extend_from_slice(data);
    }

    /// Takes whole pcapng blocks (one or more, each of this machine's byte
    /// order and a length that is right: the sink walks them by it).
    pub fn push_blocks(&mut self, blocks: &[u8]) {
        debug_assert!(self.framing == Framing::Pcapng);
        self.buf.extend_from_slice(blocks);
    }

    fn word(&self, at: usize) -> Option<u32> {
        Some(u32::from_ne_bytes(self.buf.get(at..at + 4)?.try_into().ok()?))
    }

    /// The length of the unit (file header, record or block) at `at` in
    /// `buf`, when it is all there.
    fn unit_at(&self, at: usize) -> Option<usize> {
        let len = match self.framing {
            Framing::Pcap if at == 0 && self.header => PCAP_FILE_HEADER,
            Framing::Pcap => PCAP_RECORD_HEADER + self.word(at + 8)? as usize,
            Framing::Pcapng => (self.word(at + 4)? as usize).max(12),
        };
        (at + len <= self.buf.len()).then_some(len)
    }

    /// Whether the unit at `at` is a record (not the file header, not a
    /// block that describes the records).
    fn is_record(&self, at: usize) -> bool {
        match self.framing {
            Framing::Pcap => !(at == 0 && self.header),
            Framing::Pcapng => self.word(at).is_some_and(|t| PACKET_BLOCKS.contains(&t)),
        }
    }

    /// Writes what is waiting. Call it without the GIL: it may wait (on a
    /// full pipe). A signal that interrupts a write runs the Python
    /// handlers; the write goes on unless one raised (PEP 475).
    pub fn drain(&mut self) -> Result<(), DrainError> {
        let mut failed = None;
        while self.sent < self.buf.len() {
            let rest = &self.buf[self.sent..];
            // SAFETY: writes at most `rest.len()` bytes from `rest`.
            let n = unsafe { libc::write(self.fd, rest.as_ptr().cast(), rest.len()) };
            if n > 0 {
                self.sent += n as usize;
                continue;
            }
            let e = std::io::Error::last_os_error();
            if n < 0 && e.raw_os_error() == Some(libc::EINTR) {
                if let Err(raised) = Python::attach(|py| py.check_signals()) {
                    failed = Some(DrainError::Signal(raised));
                    break;
                }
                continue;
            }
            failed = Some(DrainError::Os { error: e, header: false, records: 0, dropped: 0 });
            break;
        }
        // Whole units written: forget them.
        let (mut done, mut records) = (0, 0);
        while let Some(len) = self.unit_at(done).filter(|len| done + len <= self.sent) {
            records += u64::from(self.is_record(done));
            done += len;
        }
        self.records += records;
        if done > 0 {
            self.header = false;
        }
        self.base += done as u64;
        self.sent -= done;
        self.buf.drain(..done);
        match failed {
            None => Ok(()),
            Some(DrainError::Os { error, .. }) => {
                // What the output holds is what it holds whole: a unit the
                // error cut short is cut off a regular file, and the records
                // not written are dropped (the error says how many). The
                // units that are not records (a file header, pcapng
                // interface descriptions) stay, to be written first: the
                // records still to come need them.
                // SAFETY: our descriptor, cut back to a unit boundary.
                if self.sent > 0
                    && self.regular
                    && unsafe { libc::ftruncate(self.fd, self.base as libc::off_t) } == 0
                    && unsafe { libc::lseek(self.fd, self.base as libc::off_t, libc::SEEK_SET) } >= 0
                {
                    self.sent = 0;
                }
                let (mut kept, mut dropped, mut at) = (Vec::new(), 0, 0);
                while let Some(len) = self.unit_at(at) {
                    if self.is_record(at) {
                        dropped += 1;
                        if at == 0 {
                            // Partly in a stream that cannot be cut back:
                            // that part stays there.
                            self.base += self.sent as u64;
                            self.sent = 0;
                        }
                    } else {
                        kept.extend_from_slice(&self.buf[at..at + len]);
                    }
                    at += len;
                }
                self.buf = kept;
                Err(DrainError::Os { error, header: !self.header, records: self.records, dropped })
            }
            Some(signal) => Err(signal),
        }
    }
}

impl Default for Sink {
    fn default() -> Self {
        Self::new()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::unix::io::IntoRawFd;

    fn header() -> Vec<u8> {
        let mut h = 0xa1b2_c3d4u32.to_ne_bytes().to_vec();
        h.resize(PCAP_FILE_HEADER, 0);
        h
    }

    fn record(sink: &mut Sink, n: usize) {
        let mut hdr = [0u8; 16];
        hdr[8..12].copy_from_slice(&(n as u32).to_ne_bytes());
        sink.push(&hdr, &vec![7u8; n]);
    }

    #[test]
    fn drained_records_are_counted() {
        let mut s = Sink::new();
        s.accept(&header());
        record(&mut s, 60);
        record(&mut s, 10);
        assert_eq!((s.position(), s.waiting()), (24 + 76 + 26, 24 + 76 + 26));
        s.set_output(std::fs::File::create("/dev/null").unwrap().into_raw_fd(), false);
        assert!(s.drain().is_ok());
        assert_eq!((s.records, s.waiting(), s.position()), (2, 0, 126));
        unsafe { libc::close(s.fd) };
    }

    #[test]
    fn a_refused_write_counts_what_was_dropped_and_keeps_the_header() {
        let mut s = Sink::new();
        s.accept(&header());
        for _ in 0..3 {
            record(&mut s, 60);
        }
        s.set_output(std::fs::OpenOptions::new().write(true).open("/dev/full").unwrap().into_raw_fd(), false);
        match s.drain() {
            Err(DrainError::Os { error, header, records, dropped }) => {
                assert_eq!(error.raw_os_error(), Some(libc::ENOSPC));
                assert_eq!((header, records, dropped), (false, 0, 3));
            }
            _ => panic!("/dev/full took the records"),
        }
        // The header waits to be written first; the records are gone.
        assert_eq!((s.waiting(), s.position()), (24, 24));
        unsafe { libc::close(s.fd) };
    }

    fn block(kind: u32, body: usize) -> Vec<u8> {
        let len = (12 + body) as u32;
        let mut b = [kind.to_ne_bytes(), len.to_ne_bytes()].concat();
        b.resize(8 + body, 0);
        b.extend(len.to_ne_bytes());
        b
    }

    #[test]
    fn pcapng_blocks_that_are_not_records_survive_a_refused_write() {
        let mut s = Sink::pcapng();
        s.push_blocks(&block(0x0A0D_0D0A, 16)); // section header
        s.push_blocks(&[block(1, 8), block(6, 80)].concat()); // interface, packet
        s.push_blocks(&[block(1, 8), block(6, 20), block(6, 20)].concat());
        assert!(s.is_full_for_unit(DRAIN_AT));
        s.set_output(std::fs::OpenOptions::new().write(true).open("/dev/full").unwrap().into_raw_fd(), false);
        match s.drain() {
            Err(DrainError::Os { header, records, dropped, .. }) => {
                assert_eq!((header, records, dropped), (false, 0, 3))
            }
            _ => panic!("/dev/full took the blocks"),
        }
        // The section header and both interface descriptions wait, in order.
        assert_eq!(s.pending(), &[block(0x0A0D_0D0A, 16), block(1, 8), block(1, 8)].concat()[..]);
        unsafe { libc::close(s.fd) };
        s.set_output(std::fs::File::create("/dev/null").unwrap().into_raw_fd(), false);
        s.push_blocks(&block(6, 4));
        assert!(s.drain().is_ok());
        assert_eq!((s.records, s.waiting(), s.position()), (1, 0, 28 + 20 + 20 + 16));
        unsafe { libc::close(s.fd) };
    }
}
