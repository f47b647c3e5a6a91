//! Reading pcapng blocks, beside libpcap: what libpcap 1.10 reads but does
//! not tell (the interface a packet came from, its timestamp in the
//! interface's own units, the options of interfaces and packets), for a
//! `Dumper(..., format="pcapng")` that copies a pcapng file or stream.
//!
//! libpcap stays the reader of the records a feed hands out (filters,
//! errors, offsets are all its own); a [`Trace`] follows it through the
//! same blocks, once a `Dumper` asks (`Trace::start`, which walks up to
//! where libpcap stands): after each record libpcap hands out, it walks
//! from the block after the last it looked at to the next packet block
//! (or, when libpcap may have skipped some: after a start, an error, or
//! with a filter, up to libpcap's offset), keeping the interface
//! descriptions it passes and that packet block, checked against the
//! record's lengths. `fseek()` moves it too. The blocks come from one of
//! two places, walked the same way: a regular file is read again with
//! `pread` on a descriptor of the trace's own; a stream that cannot seek
//! (a pipe, a FIFO, standard input) is tapped: its counting state
//! (`crate::io::stream`) kept the section headers and interface
//! descriptions libpcap read, and still holds the bytes of the record
//! libpcap read last; the blocks between (packets libpcap read past, other
//! kinds) tell a follower nothing and are stepped over. The blocks
//! themselves are parsed by `crate::io::pcapng_blocks`.

use std::os::unix::fs::FileExt;
use std::ptr::NonNull;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};

use super::format::{EPB, IDB, OBSOLETE_PB as PB, SHB, SPB};
use super::pcapng_blocks::{Blocks, Interface, Packet};
use super::stream::{Counted, Kept};

/// How much a trace reads at once.
const WINDOW: usize = 256 << 10;

/// The last packet libpcap handed out, as its block says and as it was
/// handed out (timestamp in the feed's precision, lengths).
#[derive(Clone, Debug)]
pub struct Last {
    pub packet: Packet,
    pub sec: i64,
    pub frac: i64,
    pub caplen: u32,
    pub len: u32,
    /// Whether the record was seen handed out (false: found when the trace
    /// started, its timestamp worked out as libpcap works it out, its
    /// captured length at most the block's).
    pub seen: bool,
}

/// The timestamp libpcap 1.10 hands out for `ticks` of `iface` at
/// nanosecond or microsecond precision (`sf-pcapng.c`: whole units plus
/// `if_tsoffset` in 64 bits, the fraction scaled to the precision, in 64
/// bits for a binary resolution, then cast to `int`), seconds taken as a
/// file source takes them.
fn libpcap_stamp(iface: &Interface, ticks: u64, nano: bool) -> (i64, i64) {
    let units = iface.units();
    let user: u64 = if nano { 1_000_000_000 } else { 1_000_000 };
    let sec = (ticks / units).wrapping_add(iface.tsoffset() as u64) as i64;
    let frac = ticks % units;
    let frac = if units == user {
        frac
    } else if iface.tsresol() & 0x80 != 0 {
        frac.wrapping_mul(user) / units
    } else {
        (u128::from(frac) * u128::from(user) / u128::from(units)) as u64
    };
    (crate::io::record::file_seconds(sec), i64::from(frac as i32))
}

/// Where a trace reads the blocks again.
enum Input {
    /// A regular file: libpcap's stream, until the source is closed (for
    /// its offset and descriptor), and the window read with `pread`.
    File { source: Option<*mut libc::FILE>, window: Window },
    /// A stream that cannot seek (a pipe, a FIFO, standard input): its
    /// counting state, until the source is closed (the bytes it still
    /// holds, the block of the packet handed out last among them), the
    /// section headers and interface descriptions it kept, and the offset
    /// where libpcap stood once it had opened the stream.
    Stream { counted: Option<NonNull<Counted>>, kept: Arc<Mutex<Kept>>, opened: u64 },
}

/// The bytes a walk reads, by offset in the file or stream.
enum Bytes<'a> {
    File(&'a mut Window),
    /// A stream's kept blocks, and from `base` on, what its buffer holds.
    Stream {
        kept: &'a [(u64, Vec<u8>)],
        base: u64,
        buf: &'a [u8],
    },
}

impl Bytes<'_> {
    /// `n` bytes at `at` (fewer where they end; none in a gap).
    fn read(&mut self, at: u64, n: usize) -> &[u8] {
        match self {
            Bytes::File(w) => w.read(at, n),
            Bytes::Stream { kept, base, buf } => {
                let (bytes, from) = match at.checked_sub(*base) {
                    Some(from) => (*buf, from),
                    None => match kept.partition_point(|(o, _)| *o <= at).checked_sub(1).map(|i| &kept[i]) {
                        Some((o, b)) => (&b[..], at - o),
                        None => return &[],
                    },
                };
                let from = usize::try_from(from).unwrap_or(usize::MAX).min(bytes.len());
                &bytes[from..bytes.len().min(from.saturating_add(n))]
            }
        }
    }

    /// Where the next block that can be read starts after a gap at `at`
    /// (a stream's blocks that were not kept: packets, other kinds, which
    /// tell a follower nothing it needs).
    fn after_gap(&self, at: u64) -> Option<u64> {
        match self {
            Bytes::File(_) => None,
            Bytes::Stream { kept, base, .. } => (at < *base).then(|| {
                let i = kept.partition_point(|(o, _)| *o <= at);
                kept.get(i).map_or(*base, |(o, _)| (*o).min(*base))
            }),
        }
    }
}

/// Where a trace stands in the blocks, and what it found.
#[derive(Default)]
struct Walker {
    /// The offset of the next block not looked at.
    pos: u64,
    /// How far blocks were walked: blocks before this offset walked again
    /// (after a seek back) add no interface, and a section header there
    /// takes up its section again.
    seen_to: u64,
    /// Where each section starts, its first interface and byte order.
    sections: Vec<(u64, usize, bool)>,
    blocks: Blocks,
}

struct TraceState {
    input: Input,
    walker: Walker,
    /// The feed's precision (nanoseconds or microseconds).
    nano: bool,
    last: Option<Last>,
}

// The raw pointers are the source's, used only while it is open, by the
// feed's reads and by `Trace::start` when no read runs (see there).
unsafe impl Send for TraceState {}

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

impl Walker {
    /// Looks at the blocks from `pos` up to the first packet block, that one
    /// included. False when there is none whole.
    fn walk_to_packet(&mut self, b: &mut Bytes<'_>) -> bool {
        loop {
            let pos = self.pos;
            let Some((kind, len)) = self.blocks.head(b.read(pos, 12)) else { return false };
            if !self.step(b, pos, kind, len) {
                return false;
            }
            if matches!(kind, EPB | SPB | PB) {
                return true;
            }
        }
    }

    /// Takes in the block of `kind` and `len` bytes at `pos` (see `walk`).
    fn step(&mut self, b: &mut Bytes<'_>, pos: u64, kind: u32, len: usize) -> bool {
        let body = b.read(pos + 8, len - 12);
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

    /// Looks at the blocks from `pos` up to `to` (over the gaps of a
    /// stream). With `to` `None`: what libpcap reads when it opens the
    /// file, the section header and the blocks up to the first interface
    /// description (stopping before a packet block). False when they do not
    /// end at `to`.
    fn walk(&mut self, b: &mut Bytes<'_>, to: Option<u64>) -> bool {
        loop {
            if to.is_some_and(|to| self.pos >= to) {
                return to == Some(self.pos);
            }
            let pos = self.pos;
            let Some((kind, len)) = self.blocks.head(b.read(pos, 12)) else {
                match (b.after_gap(pos), to) {
                    (Some(next), Some(to)) if next > pos && next <= to => {
                        self.pos = next;
                        continue;
                    }
                    _ => return false,
                }
            };
            if to.is_none() && (matches!(kind, EPB | SPB | PB) || (kind == IDB && !self.blocks.ifaces.is_empty())) {
                return true;
            }
            if to.is_some_and(|to| pos + len as u64 > to) || !self.step(b, pos, kind, len) {
                return false;
            }
        }
    }

    /// Follows libpcap to its offset `after` (see `Trace::update`), or,
    /// without it, to the next packet block; true when the walk ended
    /// there, the last packet block being in `blocks.last`.
    fn follow(&mut self, b: &mut Bytes<'_>, after: Option<u64>) -> bool {
        let found = match after {
            Some(after) if after >= self.pos => self.walk(b, Some(after)) && self.pos == after,
            Some(after) => {
                // Behind the trace: a seek it was not told of.
                self.resume_section(after);
                false
            }
            None => self.walk_to_packet(b),
        };
        if let Some(after) = after {
            self.pos = after;
        }
        found
    }
}

impl TraceState {
    /// Runs `f` on the walker and the bytes it reads: a file's window, or
    /// a stream's kept blocks and (with `buffer`) what its buffer holds.
    /// `None` once the source is closed.
    fn with_bytes<R>(&mut self, buffer: bool, f: impl FnOnce(&mut Walker, &mut Bytes<'_>) -> R) -> Option<R> {
        let walker = &mut self.walker;
        match &mut self.input {
            Input::File { source: Some(_), window } => Some(f(walker, &mut Bytes::File(window))),
            Input::Stream { counted: Some(c), kept, opened } => {
                let kept = kept.lock().unwrap_or_else(|p| p.into_inner());
                // SAFETY: the source's counting state, open (the pointer is
                // cleared before it closes); read only while no libpcap
                // read runs (the callers'), so nothing changes under us.
                let (base, buf) = if buffer { unsafe { c.as_ref().window() } } else { (*opened, &[][..]) };
                Some(f(walker, &mut Bytes::Stream { kept: &kept.blocks, base, buf }))
            }
            _ => None,
        }
    }

    /// After a walk of a stream: whether it went past a block the stream
    /// did not keep; the kept blocks it walked past go (the trace never
    /// walks a stream back).
    fn settle(&mut self) -> bool {
        let Input::Stream { kept, .. } = &self.input else { return false };
        let mut kept = kept.lock().unwrap_or_else(|p| p.into_inner());
        let lost = kept.lost.is_some_and(|at| at < self.walker.pos);
        kept.prune(self.walker.pos);
        lost
    }

    /// Where libpcap stands, when it can be asked (no read runs): the
    /// offset after the last record it read.
    fn libpcap_offset(&self) -> Option<u64> {
        match &self.input {
            // SAFETY: libpcap's open stream (cleared before it closes).
            Input::File { source: Some(f), .. } => u64::try_from(unsafe { libc::ftello(*f) }).ok(),
            // SAFETY: as in `with_bytes`.
            Input::Stream { counted: Some(c), .. } => Some(unsafe { c.as_ref().consumed() }),
            _ => None,
        }
    }
}

/// Follows libpcap through a pcapng file or stream (see the module's
/// text). Shared by the feed's source, which updates it after each record
/// once a `Dumper` asked for it, and that `Dumper`.
pub struct Trace {
    wanted: AtomicBool,
    /// Whether the trace stands where libpcap does (see `needs_offset`).
    synced: AtomicBool,
    /// Whether a read of a stream runs without the GIL (`Trace::reading`).
    reading: AtomicBool,
    /// Whether the trace walked past blocks of a stream that the stream
    /// did not keep (see `Kept`): the interfaces they described are not
    /// known.
    incomplete: AtomicBool,
    state: Mutex<TraceState>,
}

impl Trace {
    fn with_input(input: Input, nano: bool) -> Self {
        let state = TraceState { input, walker: Walker::default(), nano, last: None };
        Trace {
            wanted: AtomicBool::new(false),
            synced: AtomicBool::new(false),
            reading: AtomicBool::new(false),
            incomplete: AtomicBool::new(false),
            state: Mutex::new(state),
        }
    }

    /// A trace of the pcapng regular file libpcap reads through `file`,
    /// at nanosecond precision or not. The stream stays the caller's (who
    /// calls [`Trace::source_closed`] before closing it); the trace reads
    /// a duplicate of its descriptor, made when it starts. `None` when it
    /// is not a pcapng file that `pread` can read.
    ///
    /// # Safety
    /// `file` must be an open stream.
    pub unsafe fn open(file: *mut libc::FILE, nano: bool) -> Option<Self> {
        let mut magic = [0u8; 4];
        // SAFETY: reads 4 bytes into our buffer from an open descriptor.
        if unsafe { libc::pread(libc::fileno(file), magic.as_mut_ptr().cast(), 4, 0) } != 4
            || u32::from_ne_bytes(magic) != SHB
        {
            return None;
        }
        Some(Self::with_input(Input::File { source: Some(file), window: Window::default() }, nano))
    }

    /// A trace of the pcapng stream read through `counted` (the source's,
    /// which calls [`Trace::source_closed`] before closing it), right after
    /// libpcap opened it. `None` when it is not pcapng.
    ///
    /// # Safety
    /// `counted` must be an open stream's state, no read running.
    pub unsafe fn open_stream(counted: NonNull<Counted>, nano: bool) -> Option<Self> {
        // SAFETY: as the caller promised.
        let c = unsafe { counted.as_ref() };
        let kept = c.kept();
        let pcapng = kept
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .blocks
            .first()
            .is_some_and(|(at, b)| *at == 0 && b.get(..4) == Some(&SHB.to_ne_bytes()[..]));
        let opened = c.consumed();
        pcapng.then(|| Self::with_input(Input::Stream { counted: Some(counted), kept, opened }, nano))
    }

    /// The source is about to be closed: the trace reads it no more.
    pub fn source_closed(&self) {
        match &mut self.state().input {
            Input::File { source, .. } => *source = None,
            Input::Stream { counted, .. } => *counted = None,
        }
    }

    fn state(&self) -> std::sync::MutexGuard<'_, TraceState> {
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Whether a `Dumper` asked for the trace (one load per record).
    #[inline]
    pub fn wanted(&self) -> bool {
        self.wanted.load(Ordering::Relaxed)
    }

    /// A read of the stream starts (`true`) or ends without the GIL: while
    /// it runs, `start` (called with the GIL, maybe from another thread)
    /// leaves the stream's state alone.
    #[inline]
    pub fn reading(&self, on: bool) {
        self.reading.store(on, Ordering::Relaxed);
    }

    /// Starts following libpcap: walks the blocks up to where libpcap
    /// stands (every interface it read past, and the block of the packet it
    /// handed out last), or, while a read of the stream runs in another
    /// thread, what libpcap read when it opened the stream (the rest is
    /// walked with the next record). Called with the GIL, so that no read
    /// of a regular file runs meanwhile. Returns the interfaces known.
    pub fn start(&self) -> Vec<Option<Interface>> {
        let mut guard = self.state();
        let st = &mut *guard;
        if !self.wanted() {
            if let Input::File { source: Some(f), window } = &mut st.input {
                // SAFETY: duplicates libpcap's descriptor, open until
                // `source_closed` (called with this lock); the duplicate is
                // ours.
                let dup = unsafe { libc::fcntl(libc::fileno(*f), libc::F_DUPFD_CLOEXEC, 0) };
                if dup < 0 {
                    return Vec::new();
                }
                // SAFETY: a descriptor of ours, owned by the File from now on.
                window.file = Some(unsafe { <std::fs::File as std::os::fd::FromRawFd>::from_raw_fd(dup) });
            }
            let idle = !self.reading.load(Ordering::Relaxed);
            let to = if idle { st.libpcap_offset() } else { None };
            let walked = match (&st.input, to) {
                (Input::Stream { opened, .. }, None) => {
                    let opened = *opened;
                    st.with_bytes(false, |w, b| w.walk(b, Some(opened)))
                }
                // libpcap's offset not known: what it read when it opened
                // the file (the rest is walked with the next record).
                (_, None) => st.with_bytes(true, |w, b| {
                    w.walk(b, None);
                    false
                }),
                (_, Some(to)) => st.with_bytes(true, |w, b| w.walk(b, Some(to)) && w.pos == to),
            };
            let Some(walked) = walked else { return Vec::new() };
            // The packet handed out last, if the walk found it: the next
            // call may write it (a `Dumper` opened in the feed's callback).
            let nano = st.nano;
            let last = st.walker.blocks.last.take().filter(|_| walked && to.is_some());
            st.last = last.and_then(|packet| {
                let iface = st.walker.blocks.ifaces.get(packet.iface).cloned().flatten()?;
                let (sec, frac) = libpcap_stamp(&iface, packet.ticks, nano);
                let (caplen, len) = (packet.caplen, packet.wire);
                Some(Last { packet, sec, frac, caplen, len, seen: false })
            });
            self.synced.store(walked, Ordering::Relaxed);
            if st.settle() {
                self.incomplete.store(true, Ordering::Relaxed);
            }
            self.wanted.store(true, Ordering::Release);
        }
        st.walker.blocks.ifaces.clone()
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
    /// track, when libpcap runs a filter, which skips blocks, and always on
    /// a stream, where it costs nothing), or else the next packet block
    /// (blocks being read in order).
    pub fn update(&self, after: Option<u64>, sec: i64, frac: i64, caplen: u32, len: u32) {
        let mut st = self.state();
        st.walker.blocks.last = None;
        let found = st.with_bytes(true, |w, b| w.follow(b, after)).unwrap_or(false);
        if st.settle() {
            self.incomplete.store(true, Ordering::Relaxed);
        }
        let packet = st.walker.blocks.last.take().filter(|p| found && p.wire == len && p.caplen >= caplen);
        self.synced.store(packet.is_some(), Ordering::Relaxed);
        st.last = packet.map(|packet| Last { packet, sec, frac, caplen, len, seen: true });
    }

    /// libpcap's stream moved to `off` (`fseek()`): the next block is there.
    pub fn seeked(&self, off: u64) {
        let mut st = self.state();
        if matches!(&st.input, Input::File { window: Window { file: Some(_), .. }, .. }) {
            // Forward: the interfaces described on the way count.
            let pos = st.walker.pos;
            let walked = off > pos && st.with_bytes(true, |w, b| w.walk(b, Some(off))).unwrap_or(false);
            if !walked {
                st.walker.resume_section(off);
            }
            st.walker.pos = off;
            st.last = None;
        }
    }

    /// Whether the trace walked past section headers or interface
    /// descriptions of a stream that the stream could not keep (more than
    /// `stream::MAX_KEPT` bytes of them before a pcapng `Dumper` was
    /// opened, or between two packets): a copy would lose interfaces.
    pub fn incomplete(&self) -> bool {
        self.incomplete.load(Ordering::Relaxed)
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
            .filter(|l| {
                (l.sec, l.frac, l.len) == (sec, frac, len) && (l.caplen == caplen || (!l.seen && caplen < l.caplen))
            })
            .map(|l| l.packet.clone());
        (st.walker.blocks.ifaces.len(), packet)
    }

    /// How many interfaces are known.
    pub fn interface_count(&self) -> usize {
        self.state().walker.blocks.ifaces.len()
    }

    /// Interface `i`, when known and readable.
    pub fn interface(&self, i: usize) -> Option<Interface> {
        self.state().walker.blocks.ifaces.get(i).cloned().flatten()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::io::pcapng_blocks::tests::{block, file};

    #[test]
    fn a_stream_is_walked_over_the_blocks_it_did_not_keep() {
        // SHB, IDB, EPB (iface 0), IDB, EPB (iface 1, flags), EPB (iface 0).
        let one = file(false);
        let len_at = |at: usize| u32::from_le_bytes(one[at + 4..at + 8].try_into().unwrap()) as usize;
        let (shb_idb, first_epb) = one.split_at(len_at(0) + len_at(len_at(0)));
        let mut idb = 1u16.to_le_bytes().to_vec();
        idb.extend([0, 0]);
        idb.extend(96u32.to_le_bytes());
        let mut epb1 = first_epb.to_vec();
        epb1[8..12].copy_from_slice(&1u32.to_le_bytes());
        let blocks = [shb_idb, first_epb, &block(IDB, &idb, false), &epb1, first_epb];
        let starts: Vec<u64> =
            blocks.iter().scan(0u64, |at, b| Some(std::mem::replace(at, *at + b.len() as u64))).collect();
        let stream = blocks.concat();
        let shb_len = len_at(0);
        // What the stream kept: the section header and both interfaces; its
        // buffer holds the last two packet blocks.
        let kept = vec![
            (0, stream[..shb_len].to_vec()),
            (shb_len as u64, shb_idb[shb_len..].to_vec()),
            (starts[2], blocks[2].to_vec()),
        ];
        for (base, to, iface) in
            [(starts[3], starts[4], 1), (starts[3], stream.len() as u64, 0), (starts[4], stream.len() as u64, 0)]
        {
            let mut w = Walker::default();
            let buf = &stream[base as usize..];
            assert!(w.walk(&mut Bytes::Stream { kept: &kept, base, buf }, Some(to)));
            assert_eq!((w.pos, w.blocks.ifaces.len()), (to, 2));
            assert_eq!(w.blocks.last.map(|p| p.iface), Some(iface));
        }
        // Kept blocks alone, up to where libpcap stood once it had opened
        // the stream (after the first interface).
        let mut w = Walker::default();
        assert!(w.walk(&mut Bytes::Stream { kept: &kept, base: starts[1], buf: &[] }, Some(starts[1])));
        assert_eq!((w.blocks.ifaces.len(), w.blocks.last.is_none()), (1, true));
        // A gap past the buffer's start is not stepped over.
        let mut w = Walker::default();
        assert!(!w.walk(&mut Bytes::Stream { kept: &kept, base: starts[3], buf: &[] }, Some(stream.len() as u64)));
    }

    #[test]
    fn libpcap_stamps_are_worked_out_as_libpcap_works_them_out() {
        let iface = |tsresol: u8, offset: i64| {
            let mut options = [9u16.to_ne_bytes(), 1u16.to_ne_bytes()].concat();
            options.extend([tsresol, 0, 0, 0]);
            options.extend([14u16.to_ne_bytes(), 8u16.to_ne_bytes()].concat());
            options.extend(offset.to_ne_bytes());
            Interface { linktype: 1, snaplen: 96, options }
        };
        let t = 1_700_000_000_123_456_789u64;
        assert_eq!(libpcap_stamp(&iface(9, 0), t, true), (1_700_000_000, 123_456_789));
        assert_eq!(libpcap_stamp(&iface(9, 0), t, false), (1_700_000_000, 123_456));
        assert_eq!(libpcap_stamp(&iface(3, 5), 1_700_000_000_124, false), (1_700_000_005, 124_000));
        // 2^-20 s: 12345 ticks are 12345 * 10^6 / 2^20 = 11773 µs.
        assert_eq!(libpcap_stamp(&iface(0x94, 0), (1_700_000_000 << 20) + 12345, false), (1_700_000_000, 11_773));
        // Seconds past 2^31 as a file source hands them out.
        assert_eq!(libpcap_stamp(&iface(6, 0), 3_000_000_000_000_001, false), (3_000_000_000, 1));
    }
}
