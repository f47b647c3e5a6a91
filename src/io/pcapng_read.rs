//! Reading pcapng blocks, beside libpcap: what libpcap 1.10 reads but does
//! not tell (the interface a packet came from, its timestamp in the
//! interface's own units, the options of interfaces and packets), for a
//! `Dumper(..., format="pcapng")` that copies a pcapng file.
//!
//! libpcap stays the reader of the records a feed hands out (filters,
//! errors, offsets are all its own); a [`Trace`] follows it through the
//! same file with `pread` on a descriptor of its own, once a `Dumper` asks
//! (`Trace::start`): after each record libpcap hands out, it walks from the
//! block after the last it looked at to the next packet block (or, when
//! libpcap may have skipped some: after a start, an error, or with a
//! filter, up to libpcap's offset), keeping the interface descriptions it
//! passes and that packet block, checked against the record's lengths.
//! `fseek()` moves it too. Blocks are parsed here with every length checked
//! against the bytes there are (`exercise` is what the fuzz target and the
//! property test drive); options are rewritten in this machine's byte
//! order, those whose layout is not known being dropped when that order
//! differs from the file's.

use std::os::unix::fs::FileExt;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Mutex;

pub const SHB: u32 = 0x0A0D_0D0A;
pub const IDB: u32 = 0x0000_0001;
/// The obsolete packet block.
pub const PB: u32 = 0x0000_0002;
pub const SPB: u32 = 0x0000_0003;
pub const EPB: u32 = 0x0000_0006;
pub const BYTE_ORDER_MAGIC: u32 = 0x1A2B_3C4D;
/// The largest block believed (libpcap reads at most 16 MiB).
const MAX_BLOCK: usize = 16 << 20;
/// How much a trace reads at once.
const WINDOW: usize = 256 << 10;

/// How an option's value is laid out, for a file of the other byte order.
#[derive(Clone, Copy)]
enum Width {
    /// Bytes or text: kept as they are.
    Bytes,
    U32,
    U64,
    /// A custom option: a 32-bit enterprise number, then bytes.
    Custom,
    /// Not known: dropped when the byte order changes.
    Unknown,
}

fn custom(code: u16) -> bool {
    matches!(code, 2988 | 2989 | 19372 | 19373)
}

/// Option layouts of an interface description block.
fn idb_width(code: u16) -> Width {
    match code {
        8 | 14 | 16 | 17 => Width::U64, // if_speed, if_tsoffset, if_txspeed, if_rxspeed
        10 => Width::U32,               // if_tzone
        1..=7 | 9 | 11..=13 | 15 | 18 => Width::Bytes,
        c if custom(c) => Width::Custom,
        _ => Width::Unknown,
    }
}

/// Option layouts of an enhanced (or obsolete) packet block.
fn epb_width(code: u16) -> Width {
    match code {
        2 | 6 => Width::U32, // epb_flags, epb_queue
        4 | 5 => Width::U64, // epb_dropcount, epb_packetid
        1 | 3 | 7 => Width::Bytes,
        c if custom(c) => Width::Custom,
        _ => Width::Unknown,
    }
}

fn u16_at(b: &[u8], at: usize, big: bool) -> Option<u16> {
    let v: [u8; 2] = b.get(at..at.checked_add(2)?)?.try_into().ok()?;
    Some(if big { u16::from_be_bytes(v) } else { u16::from_le_bytes(v) })
}

fn u32_at(b: &[u8], at: usize, big: bool) -> Option<u32> {
    let v: [u8; 4] = b.get(at..at.checked_add(4)?)?.try_into().ok()?;
    Some(if big { u32::from_be_bytes(v) } else { u32::from_le_bytes(v) })
}

const NATIVE_BIG: bool = cfg!(target_endian = "big");

/// The options in `opts` (up to `opt_endofopt`, or as far as they are
/// whole), in this machine's byte order, without the end marker.
fn options_native(opts: &[u8], big: bool, width: fn(u16) -> Width) -> Vec<u8> {
    let mut out = Vec::new();
    let mut at = 0usize;
    while let (Some(code), Some(len)) = (u16_at(opts, at, big), u16_at(opts, at + 2, big)) {
        if code == 0 {
            break;
        }
        let len = usize::from(len);
        let Some(value) = opts.get(at + 4..at + 4 + len) else { break };
        at += 4 + len.next_multiple_of(4);
        let mut v = value.to_vec();
        if big != NATIVE_BIG {
            match (width(code), len) {
                (Width::Bytes, _) => {}
                (Width::U32, 4) | (Width::Custom, 4..) => v[..4].reverse(),
                (Width::U64, 8) => v.reverse(),
                _ => continue,
            }
        }
        out.extend_from_slice(&code.to_ne_bytes());
        out.extend_from_slice(&(len as u16).to_ne_bytes());
        out.extend_from_slice(&v);
        out.resize(out.len().next_multiple_of(4), 0);
    }
    out
}

/// The value of option `code` in options of this machine's order.
pub fn option_value(opts: &[u8], code: u16) -> Option<&[u8]> {
    let mut at = 0usize;
    while let (Some(c), Some(len)) = (u16_at(opts, at, NATIVE_BIG), u16_at(opts, at + 2, NATIVE_BIG)) {
        let value = opts.get(at + 4..at + 4 + usize::from(len))?;
        if c == code {
            return Some(value);
        }
        at += 4 + usize::from(len).next_multiple_of(4);
    }
    None
}

/// An interface description, as read from a file.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Interface {
    pub linktype: u16,
    pub snaplen: u32,
    /// Its options, in this machine's byte order (no end marker).
    pub options: Vec<u8>,
}

impl Interface {
    /// `if_tsresol`: units per second are 10^n, or 2^n with the top bit.
    pub fn tsresol(&self) -> u8 {
        option_value(&self.options, 9).and_then(|v| v.first().copied()).unwrap_or(6)
    }

    /// `if_tsoffset`: seconds added to every timestamp.
    pub fn tsoffset(&self) -> i64 {
        option_value(&self.options, 14)
            .and_then(|v| v.try_into().ok())
            .map_or(0, i64::from_ne_bytes)
    }

    /// Timestamp units per second (saturated).
    pub fn units(&self) -> u64 {
        let r = self.tsresol();
        if r & 0x80 != 0 {
            1u64.checked_shl(u32::from(r & 0x7f)).unwrap_or(u64::MAX)
        } else {
            10u64.checked_pow(u32::from(r)).unwrap_or(u64::MAX)
        }
    }
}

/// A packet block, as read from a file.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Packet {
    /// The interface, counted across sections (the first of section *n*
    /// comes after every interface of the sections before).
    pub iface: usize,
    /// The timestamp in the interface's units (0 in a simple packet block).
    pub ticks: u64,
    /// Its options, in this machine's byte order (no end marker).
    pub options: Vec<u8>,
    /// Its captured and wire lengths (to tell it is the record libpcap
    /// handed out).
    pub caplen: u32,
    pub wire: u32,
}

/// What a walk through blocks found.
#[derive(Default, Debug)]
pub struct Blocks {
    /// Whether the current section is big-endian.
    pub big: bool,
    /// The index of the current section's first interface.
    pub section_base: usize,
    /// Every interface so far (`None`: a description that could not be
    /// read).
    pub ifaces: Vec<Option<Interface>>,
    /// The last packet block.
    pub last: Option<Packet>,
}

impl Blocks {
    /// Takes in one block: `kind` (read in the section's order), its body
    /// (between the length fields).
    fn absorb(&mut self, kind: u32, body: &[u8]) {
        let big = self.big;
        match kind {
            SHB => self.section_base = self.ifaces.len(),
            IDB => {
                let iface = (|| {
                    Some(Interface {
                        linktype: u16_at(body, 0, big)?,
                        snaplen: u32_at(body, 4, big)?,
                        options: options_native(body.get(8..)?, big, idb_width),
                    })
                })();
                self.ifaces.push(iface);
            }
            EPB | PB => {
                self.last = (|| {
                    let (iface, at) = if kind == EPB {
                        (u32_at(body, 0, big)? as usize, 4)
                    } else {
                        (usize::from(u16_at(body, 0, big)?), 4)
                    };
                    let hi = u64::from(u32_at(body, at, big)?);
                    let lo = u64::from(u32_at(body, at + 4, big)?);
                    let caplen = u32_at(body, at + 8, big)?;
                    let wire = u32_at(body, at + 12, big)?;
                    let opts = body.get(at + 16 + (caplen as usize).checked_next_multiple_of(4)?..).unwrap_or(&[]);
                    Some(Packet {
                        iface: self.section_base.checked_add(iface)?,
                        ticks: (hi << 32) | lo,
                        options: options_native(opts, big, epb_width),
                        caplen,
                        wire,
                    })
                })();
            }
            SPB => {
                self.last = u32_at(body, 0, big).map(|wire| Packet {
                    iface: self.section_base,
                    ticks: 0,
                    options: Vec::new(),
                    caplen: (body.len() - 4) as u32,
                    wire,
                })
            }
            _ => {}
        }
    }

    /// The kind and total length of the block at the start of `b` (as much
    /// of it as is there: its first 12 bytes at least), switching to the
    /// byte order a section header gives. `None`: not a block.
    fn head(&mut self, b: &[u8]) -> Option<(u32, usize)> {
        let kind = u32_at(b, 0, self.big)?;
        if kind == SHB {
            self.big = match (u32_at(b, 8, false)?, u32_at(b, 8, true)?) {
                (BYTE_ORDER_MAGIC, _) => false,
                (_, BYTE_ORDER_MAGIC) => true,
                _ => return None,
            };
        }
        let len = u32_at(b, 4, self.big)? as usize;
        (len >= 12 && len % 4 == 0 && len <= MAX_BLOCK).then_some((kind, len))
    }
}

/// Walks the blocks of `bytes` from its start; returns what was found and
/// how many bytes were whole blocks.
pub fn parse_blocks(bytes: &[u8]) -> (Blocks, usize) {
    let mut blocks = Blocks::default();
    let mut at = 0;
    while let Some((kind, len)) = bytes.get(at..).and_then(|b| blocks.head(b)) {
        if at + len > bytes.len() {
            break;
        }
        let body = &bytes[at + 8..at + len - 4];
        blocks.absorb(kind, body);
        at += len;
    }
    (blocks, at)
}

/// Walks `bytes` as blocks and asks every interface read for its units:
/// the entry point of the fuzz target (`fuzz/pcapng/`, which builds this
/// file alone) and of the property test (any panic is a bug).
#[cfg_attr(not(test), allow(dead_code))]
pub fn exercise(bytes: &[u8]) {
    let (blocks, n) = parse_blocks(bytes);
    assert!(n <= bytes.len());
    for i in blocks.ifaces.iter().flatten() {
        let _ = (i.units(), i.tsoffset());
    }
}

/// The last packet libpcap handed out, as its block says and as it was
/// handed out (timestamp in the feed's precision, lengths).
#[derive(Clone, Debug)]
pub struct Last {
    pub packet: Packet,
    pub sec: i64,
    pub frac: i64,
    pub caplen: u32,
    pub len: u32,
}

struct TraceState {
    /// The descriptor libpcap reads (the source's), until the source is
    /// closed.
    source_fd: Option<std::os::unix::io::RawFd>,
    /// What the trace reads.
    window: Window,
    /// The offset of the next block not looked at.
    pos: u64,
    /// How far blocks were walked: blocks before this offset walked again
    /// (after a seek back) add no interface, and a section header there
    /// takes up its section again.
    seen_to: u64,
    /// Where each section starts, its first interface and byte order.
    sections: Vec<(u64, usize, bool)>,
    blocks: Blocks,
    last: Option<Last>,
}

/// The bytes of the file a trace reads, a window at a time.
#[derive(Default)]
struct Window {
    /// A duplicate of the source's descriptor, ours, made when the trace
    /// starts (read with `pread` only: libpcap's offset is shared with it).
    file: Option<std::fs::File>,
    buf: Vec<u8>,
    /// The file offset of `buf[0]`.
    at: u64,
}

impl Window {
    /// `n` bytes at `at` (fewer at the end of the file).
    fn read(&mut self, at: u64, n: usize) -> &[u8] {
        let end = self.at + self.buf.len() as u64;
        if at < self.at || at + n as u64 > end {
            self.buf.resize(n.max(WINDOW), 0);
            let mut got = 0;
            while let (true, Some(file)) = (got < self.buf.len(), &self.file) {
                match file.read_at(&mut self.buf[got..], at + got as u64) {
                    Ok(0) => break,
                    Ok(k) => got += k,
                    Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
                    Err(_) => break,
                }
            }
            self.buf.truncate(got);
            self.at = at;
        }
        let from = (at - self.at) as usize;
        let to = (from + n).min(self.buf.len());
        &self.buf[from.min(to)..to]
    }
}

impl TraceState {
    /// Looks at the blocks from `pos` up to the first packet block, that one
    /// included. False when there is none whole.
    fn walk_to_packet(&mut self) -> bool {
        loop {
            let pos = self.pos;
            let Some((kind, len)) = self.blocks.head(self.window.read(pos, 12)) else { return false };
            if !self.step(pos, kind, len) {
                return false;
            }
            if matches!(kind, EPB | SPB | PB) {
                return true;
            }
        }
    }

    /// Takes in the block of `kind` and `len` bytes at `pos` (see `walk`).
    fn step(&mut self, pos: u64, kind: u32, len: usize) -> bool {
        let body = self.window.read(pos + 8, len - 12);
        if body.len() != len - 12 {
            return false;
        }
        if pos >= self.seen_to {
            self.blocks.absorb(kind, body);
            if kind == SHB {
                self.sections.push((pos, self.blocks.section_base, self.blocks.big));
            }
            self.seen_to = pos + len as u64;
        } else if kind == SHB {
            self.resume_section(pos);
        } else if kind != IDB {
            self.blocks.absorb(kind, body);
        }
        self.pos += len as u64;
        true
    }

    /// Takes up the section that holds offset `at` (walked before).
    fn resume_section(&mut self, at: u64) {
        if let Some(&(_, base, big)) = self.sections.iter().rev().find(|(start, _, _)| *start <= at) {
            (self.blocks.section_base, self.blocks.big) = (base, big);
        }
    }

    /// Looks at the blocks from `pos` up to `to`. With `to` `None`: what
    /// libpcap reads when it opens the file, the section header and the
    /// blocks up to the first interface description (stopping before a
    /// packet block). False when they do not end at `to`.
    fn walk(&mut self, to: Option<u64>) -> bool {
        loop {
            if to.is_some_and(|to| self.pos >= to) {
                return to == Some(self.pos);
            }
            let pos = self.pos;
            let Some((kind, len)) = self.blocks.head(self.window.read(pos, 12)) else { return false };
            if to.is_none() && (matches!(kind, EPB | SPB | PB) || (kind == IDB && !self.blocks.ifaces.is_empty())) {
                return true;
            }
            if to.is_some_and(|to| pos + len as u64 > to) || !self.step(pos, kind, len) {
                return false;
            }
        }
    }
}

/// Follows libpcap through a pcapng file (see the module's text). Shared
/// by the feed's source, which updates it after each record once a
/// `Dumper` asked for it, and that `Dumper`.
pub struct Trace {
    wanted: AtomicBool,
    /// Whether the trace stands where libpcap does (see `needs_offset`).
    synced: AtomicBool,
    state: Mutex<TraceState>,
}

impl Trace {
    /// A trace of the pcapng file open on `fd`, which stays the caller's
    /// (who calls [`Trace::source_closed`] before closing it); the trace
    /// reads a duplicate, made when it starts. `None` when `fd` is not a
    /// pcapng file that `pread` can read.
    pub fn open(fd: std::os::unix::io::RawFd) -> Option<Self> {
        let mut magic = [0u8; 4];
        // SAFETY: reads 4 bytes into our buffer from an open descriptor.
        if unsafe { libc::pread(fd, magic.as_mut_ptr().cast(), 4, 0) } != 4 || u32::from_ne_bytes(magic) != SHB {
            return None;
        }
        let state = TraceState {
            source_fd: Some(fd),
            window: Window::default(),
            pos: 0,
            seen_to: 0,
            sections: Vec::new(),
            blocks: Blocks::default(),
            last: None,
        };
        Some(Trace { wanted: AtomicBool::new(false), synced: AtomicBool::new(false), state: Mutex::new(state) })
    }

    /// The source's descriptor is about to be closed: a trace that has not
    /// started never will.
    pub fn source_closed(&self) {
        self.state().source_fd = None;
    }

    fn state(&self) -> std::sync::MutexGuard<'_, TraceState> {
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Whether a `Dumper` asked for the trace (one load per record).
    #[inline]
    pub fn wanted(&self) -> bool {
        self.wanted.load(Ordering::Relaxed)
    }

    /// Starts following libpcap: reads the section header and first
    /// interface description (what libpcap read when it opened the file;
    /// the blocks libpcap read since are walked with its next record).
    /// Returns the interfaces known.
    pub fn start(&self) -> Vec<Option<Interface>> {
        let mut st = self.state();
        if st.window.file.is_none() {
            // SAFETY: duplicates the source's descriptor, open until
            // `source_closed` (called with this lock); the duplicate is ours.
            let dup = st.source_fd.map_or(-1, |fd| unsafe { libc::fcntl(fd, libc::F_DUPFD_CLOEXEC, 0) });
            if dup < 0 {
                return Vec::new();
            }
            // SAFETY: a descriptor of ours, owned by the File from now on.
            st.window.file = Some(unsafe { <std::fs::File as std::os::fd::FromRawFd>::from_raw_fd(dup) });
            st.walk(None);
            self.wanted.store(true, Ordering::Release);
        }
        st.blocks.ifaces.clone()
    }

    /// Whether the next update needs libpcap's offset: the trace has just
    /// started, or lost track (an error, a block it could not match).
    #[inline]
    pub fn needs_offset(&self) -> bool {
        !self.synced.load(Ordering::Relaxed)
    }

    /// After libpcap handed out a packet of `caplen` bytes (`len` on the
    /// wire) stamped `(sec, frac)`: its block is the last packet block
    /// before `after`, libpcap's offset (needed after a start, a loss of
    /// track, and when libpcap runs a filter, which skips blocks), or else
    /// the next packet block (blocks being read in order).
    pub fn update(&self, after: Option<u64>, sec: i64, frac: i64, caplen: u32, len: u32) {
        let mut st = self.state();
        st.blocks.last = None;
        let found = match after {
            Some(after) if after >= st.pos => st.walk(Some(after)) && st.pos == after,
            Some(after) => {
                // Behind the trace: a seek it was not told of.
                st.resume_section(after);
                st.pos = after;
                false
            }
            None => st.walk_to_packet(),
        };
        if let Some(after) = after {
            st.pos = after;
        }
        let packet = st.blocks.last.take().filter(|p| found && p.wire == len && p.caplen >= caplen);
        self.synced.store(packet.is_some(), Ordering::Relaxed);
        st.last = packet.map(|packet| Last { packet, sec, frac, caplen, len });
    }

    /// libpcap's stream moved to `off` (`fseek()`): the next block is there.
    pub fn seeked(&self, off: u64) {
        let mut st = self.state();
        if st.window.file.is_some() {
            // Forward: the interfaces described on the way count.
            let walked = off > st.pos && st.walk(Some(off));
            if !walked {
                st.resume_section(off);
            }
            st.pos = off;
            st.last = None;
        }
    }

    /// libpcap's read failed: where its stream stands is not known.
    pub fn lost(&self) {
        self.synced.store(false, Ordering::Relaxed);
        self.state().last = None;
    }

    /// How many interfaces are known, and the block of the last packet
    /// when it is the one handed out as `(sec, frac)`, `caplen`, `len`.
    pub fn lookup(&self, sec: i64, frac: i64, caplen: u32, len: u32) -> (usize, Option<Packet>) {
        let st = self.state();
        let packet = st
            .last
            .as_ref()
            .filter(|l| (l.sec, l.frac, l.caplen, l.len) == (sec, frac, caplen, len))
            .map(|l| l.packet.clone());
        (st.blocks.ifaces.len(), packet)
    }

    /// How many interfaces are known.
    pub fn interface_count(&self) -> usize {
        self.state().blocks.ifaces.len()
    }

    /// Interface `i`, when known and readable.
    pub fn interface(&self, i: usize) -> Option<Interface> {
        self.state().blocks.ifaces.get(i).cloned().flatten()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn block(kind: u32, body: &[u8], big: bool) -> Vec<u8> {
        let w = |v: u32| if big { v.to_be_bytes() } else { v.to_le_bytes() };
        let len = (12 + body.len().next_multiple_of(4)) as u32;
        let mut b = w(kind).to_vec();
        b.extend(w(len));
        b.extend(body);
        b.resize(len as usize - 4, 0);
        b.extend(w(len));
        b
    }

    fn file(big: bool) -> Vec<u8> {
        let w32 = |v: u32| if big { v.to_be_bytes() } else { v.to_le_bytes() };
        let w16 = |v: u16| if big { v.to_be_bytes() } else { v.to_le_bytes() };
        let mut shb = w32(BYTE_ORDER_MAGIC).to_vec();
        shb.extend(w16(1));
        shb.extend(w16(0));
        shb.extend([0xff; 8]);
        let mut idb = w16(1).to_vec();
        idb.extend(w16(0));
        idb.extend(w32(96));
        for (code, value) in [(2u16, b"eth0".to_vec()), (9, vec![9]), (8, 1_000_000u64.to_be_bytes().to_vec()), (9999, vec![1, 2])] {
            idb.extend(w16(code));
            idb.extend(w16(value.len() as u16));
            let mut v = value.clone();
            if code == 8 && !big {
                v.reverse();
            }
            idb.extend(&v);
            idb.resize(idb.len().next_multiple_of(4), 0);
        }
        idb.extend([0; 4]);
        let mut epb = w32(0).to_vec();
        epb.extend(w32(1));
        epb.extend(w32(2));
        epb.extend(w32(3));
        epb.extend(w32(60));
        epb.extend([0xaa, 0xbb, 0xcc, 0]);
        epb.extend(w16(2));
        epb.extend(w16(4));
        epb.extend(w32(0x0000_0001));
        epb.extend([0; 4]);
        [block(SHB, &shb, big), block(IDB, &idb, big), block(EPB, &epb, big)].concat()
    }

    #[test]
    fn blocks_read_alike_in_either_byte_order() {
        let (le, n) = parse_blocks(&file(false));
        assert_eq!(n, file(false).len());
        let (be, _) = parse_blocks(&file(true));
        let iface = le.ifaces[0].clone().unwrap();
        assert_eq!((iface.linktype, iface.snaplen, iface.tsresol(), iface.units()), (1, 96, 9, 1_000_000_000));
        assert_eq!(option_value(&iface.options, 2), Some(&b"eth0"[..]));
        assert_eq!(option_value(&iface.options, 8), Some(&1_000_000u64.to_ne_bytes()[..]));
        let big_iface = be.ifaces[0].clone().unwrap();
        // The unknown option cannot be turned around: dropped from the big one.
        assert_eq!(option_value(&iface.options, 9999), Some(&[1, 2][..]));
        assert_eq!(option_value(&big_iface.options, 9999), None);
        assert_eq!(option_value(&big_iface.options, 8), option_value(&iface.options, 8));
        let p = le.last.unwrap();
        assert_eq!((p.iface, p.ticks), (0, (1 << 32) | 2));
        assert_eq!(option_value(&p.options, 2), Some(&1u32.to_ne_bytes()[..]));
        assert_eq!(be.last.unwrap(), p);
    }

    #[test]
    fn damaged_blocks_end_the_walk_without_panicking() {
        let good = file(false);
        let mut rng = crate::testing::Rng(0x18_5eed);
        for _ in 0..20_000 {
            let mut f = good.clone();
            for _ in 0..1 + rng.below(4) {
                let i = rng.below(f.len());
                f[i] = rng.below(256) as u8;
            }
            f.truncate(rng.below(f.len() + 1));
            exercise(&f);
        }
    }
}
