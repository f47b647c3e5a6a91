//! Capture files read in parts: the record boundary at a byte offset
//! (`split_point`), and the records between two boundaries (`Records`),
//! read a window at a time (`Window`) from a `Fetch`, for classic pcap and
//! pcapng (any number of sections, interfaces described anywhere).
//!
//! A part of a file is given by two byte offsets. Its records are those of
//! the file's chain of records (the one a sequential read follows from the
//! file header) from the *split point* of its start to the split point of
//! its end. The split point of an offset `b` is found from the bytes of the
//! file after `b` alone, so the two parts that meet at `b` find the same
//! one:
//!
//! - a *candidate* is an offset in `[b, b + unit)` (`unit`: the longest
//!   record the file's snap length allows) where a record (or pcapng block)
//!   header is plausible, and whose chain of following headers stays
//!   plausible for `chain` bytes or up to the end of the file;
//! - all candidates' chains are followed; the split point is the first
//!   offset common to all of them. The file's own chain goes through
//!   `[b, b + unit)`, so in a well-formed file it is a candidate and the
//!   split point lies on it;
//! - chains that do not meet within `reach` bytes (a capture of a capture
//!   file download, whose payload holds real records), or a chain broken
//!   before they meet: the split point is *in doubt* (`None`), and the
//!   planner reads on from an earlier boundary.
//!
//! The guarantee does not rest on the heuristics: a part reads along the
//! chain from its start split point and must land exactly on its end split
//! point (`Records` reports an error otherwise), so the parts of a file
//! read together are the sequential read, or one of them fails. The
//! heuristics only decide whether a split succeeds.

use super::format::{
    BYTE_ORDER_MAGIC, EPB, IDB, MAXIMUM_SNAPLEN, OBSOLETE_PB, PCAPNG_MAX_BLOCK as PCAPNG_MAX_BLOCKSIZE,
    PCAP_FILE_HEADER, PCAP_MAGIC_NSEC, PCAP_MAGIC_USEC, PCAP_RECORD_HEADER, REWRITTEN_LINKTYPES, SHB, SPB,
};

/// Largest pcapng block a candidate may be: a packet of the largest snap
/// length, its block fields and a few options.
const PCAPNG_MAX_CANDIDATE_BLOCK: u32 = MAXIMUM_SNAPLEN + 4096;
/// Wire lengths above this are not plausible in a candidate header.
const MAX_WIRE_LEN: u32 = 1 << 24;
/// Shortest distance a candidate's chain must stay plausible.
const MIN_CHAIN: u64 = 1 << 16;

/// libpcap's largest snap length for `linktype` (`max_snaplen_for_dlt`).
fn max_snaplen_for(linktype: u32) -> u32 {
    match linktype {
        231 => 128 * 1024 * 1024, // DBUS
        279 => 8 * 1024 * 1024,   // EBHSCR
        249 => 1024 * 1024,       // USBPCAP
        _ => MAXIMUM_SNAPLEN,
    }
}

/// The snap length libpcap uses for a file header's `snaplen`
/// (`pcap_adjust_snapshot`): 0 or too large means the link type's maximum.
fn adjust_snapshot(linktype: u32, snaplen: u32) -> u32 {
    let max = max_snaplen_for(linktype);
    if snaplen == 0 || snaplen > max {
        max
    } else {
        snaplen
    }
}

fn u32_of(b: &[u8], swapped: bool) -> u32 {
    let v = u32::from_ne_bytes([b[0], b[1], b[2], b[3]]);
    if swapped {
        v.swap_bytes()
    } else {
        v
    }
}

fn u16_of(b: &[u8], swapped: bool) -> u16 {
    let v = u16::from_ne_bytes([b[0], b[1]]);
    if swapped {
        v.swap_bytes()
    } else {
        v
    }
}

/// Bytes of a file: `data` holds the file's bytes from offset `base`; the
/// file is `size` bytes long.
#[derive(Clone, Copy)]
pub struct Bytes<'a> {
    pub base: u64,
    pub data: &'a [u8],
    pub size: u64,
}

impl<'a> Bytes<'a> {
    /// The `n` bytes at file offset `off`, when held.
    fn get(&self, off: u64, n: usize) -> Option<&'a [u8]> {
        let i = usize::try_from(off.checked_sub(self.base)?).ok()?;
        self.data.get(i..i.checked_add(n)?)
    }

    /// The file offset just after the bytes held.
    fn end(&self) -> u64 {
        self.base + self.data.len() as u64
    }
}

/// A pcapng interface, as libpcap reads it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Interface {
    pub linktype: u32,
    /// The snap length libpcap uses, and the one in the block.
    pub snaplen: u32,
    raw_snaplen: u32,
    /// Time stamp units per second, and whether they are a power of 2.
    tsresol: u64,
    binary: bool,
    /// Seconds added to every time stamp.
    tsoffset: i64,
}

/// A capture file's format, from its header.
#[derive(Clone, Debug)]
pub enum Format {
    Pcap {
        swapped: bool,
        nsec: bool,
        linktype: u32,
        /// The snap length libpcap uses.
        snapshot: u32,
    },
    Pcapng {
        swapped: bool,
        /// The interfaces described before the first packet.
        interfaces: Vec<Interface>,
        linktype: u32,
        snapshot: u32,
        /// Where the first block after the section header and the
        /// interface descriptions starts.
        data_start: u64,
    },
}

/// What `Format::parse` needs or found wrong.
#[derive(Debug, PartialEq, Eq)]
pub enum HeadError {
    /// The header region is longer: pass the first `n` bytes of the file.
    NeedMore(u64),
    Bad(String),
}

/// What one step along a chain found at an offset.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Step {
    /// A plausible record; the next one starts here.
    Next(u64),
    /// The end of the file (or a record running past it).
    End,
    /// Not a plausible header.
    Bad,
    /// Beyond the bytes held.
    Unknown,
}

impl Format {
    /// The format of a file whose first bytes are `head` (a prefix of the
    /// file, `size` bytes long). Classic pcap needs 24 bytes; pcapng needs
    /// the section header and the blocks up to the first packet.
    pub fn parse(head: &[u8], size: u64) -> Result<Format, HeadError> {
        if head.len() < 4 {
            return if size < 4 {
                Err(HeadError::Bad("file too short to be a capture".into()))
            } else {
                Err(HeadError::NeedMore(PCAP_FILE_HEADER as u64))
            };
        }
        let magic = u32::from_le_bytes([head[0], head[1], head[2], head[3]]);
        if magic == SHB {
            return Self::parse_pcapng(head, size);
        }
        let (swapped, nsec) = match magic {
            PCAP_MAGIC_USEC => (false, false),
            m if m == PCAP_MAGIC_USEC.swap_bytes() => (true, false),
            PCAP_MAGIC_NSEC => (false, true),
            m if m == PCAP_MAGIC_NSEC.swap_bytes() => (true, true),
            _ => {
                return Err(HeadError::Bad(
                    "not a classic pcap or pcapng file this reader can split (unknown magic number)".into(),
                ))
            }
        };
        // Magic numbers are read in the file's order: little-endian read
        // above, so "swapped" means a big-endian file on any host.
        let swapped = swapped != cfg!(target_endian = "big");
        if head.len() < PCAP_FILE_HEADER {
            return if size < PCAP_FILE_HEADER as u64 {
                Err(HeadError::Bad("truncated dump file; the file header is cut short".into()))
            } else {
                Err(HeadError::NeedMore(PCAP_FILE_HEADER as u64))
            };
        }
        let major = u16_of(&head[4..], swapped);
        let minor = u16_of(&head[6..], swapped);
        if (major, minor) != (2, 4) {
            return Err(HeadError::Bad(format!(
                "pcap format version {major}.{minor} cannot be read in parts (only 2.4)"
            )));
        }
        let snaplen = u32_of(&head[16..], swapped);
        // The upper bits hold FCS flags (LINKTYPE_* is in the low 28 bits).
        let linktype = u32_of(&head[20..], swapped) & 0x0fff_ffff;
        if REWRITTEN_LINKTYPES.contains(&linktype) {
            return Err(HeadError::Bad(format!(
                "link type {linktype} cannot be read in parts (libpcap rewrites its pseudo-headers)"
            )));
        }
        Ok(Format::Pcap { swapped, nsec, linktype, snapshot: adjust_snapshot(linktype, snaplen) })
    }

    fn parse_pcapng(head: &[u8], size: u64) -> Result<Format, HeadError> {
        if head.len() < 12 {
            return if size < 12 {
                Err(HeadError::Bad("truncated pcapng section header block".into()))
            } else {
                Err(HeadError::NeedMore(12))
            };
        }
        let bom = u32::from_ne_bytes([head[8], head[9], head[10], head[11]]);
        let swapped = match bom {
            BYTE_ORDER_MAGIC => false,
            b if b.swap_bytes() == BYTE_ORDER_MAGIC => true,
            _ => return Err(HeadError::Bad("pcapng section header with an unknown byte-order magic".into())),
        };
        let bytes = Bytes { base: 0, data: head, size };
        let mut interfaces = Vec::new();
        let mut off = 0u64;
        loop {
            if off >= size {
                break;
            }
            let Some(h) = bytes.get(off, 8) else {
                return Err(HeadError::NeedMore(off + 8));
            };
            let btype = u32_of(h, swapped);
            let blen = u32_of(&h[4..], swapped);
            if blen < 12 || blen % 4 != 0 {
                return Err(HeadError::Bad(format!("pcapng block at offset {off} has a bad length {blen}")));
            }
            if off > 0 && matches!(btype, EPB | SPB | OBSOLETE_PB | SHB) {
                break;
            }
            let Some(block) = bytes.get(off, blen as usize) else {
                if off + blen as u64 > size {
                    return Err(HeadError::Bad(format!("truncated pcapng block at offset {off}")));
                }
                return Err(HeadError::NeedMore(off + blen as u64));
            };
            if btype == SHB {
                let major = u16_of(&block[12..], swapped);
                if major != 1 {
                    return Err(HeadError::Bad(format!("pcapng major version {major} is not supported")));
                }
            }
            if btype == IDB {
                interfaces.push(parse_idb(block, swapped).map_err(HeadError::Bad)?);
            }
            off += blen as u64;
        }
        let first = interfaces.first().cloned();
        let (linktype, snapshot) = match first {
            Some(i) => (i.linktype, i.snaplen),
            None => (1, MAXIMUM_SNAPLEN),
        };
        for i in &interfaces {
            check_interface(i, linktype, snapshot).map_err(HeadError::Bad)?;
        }
        Ok(Format::Pcapng { swapped, interfaces, linktype, snapshot, data_start: off })
    }

    /// The file's link type (the first interface's, for pcapng).
    pub fn linktype(&self) -> u32 {
        match self {
            Format::Pcap { linktype, .. } | Format::Pcapng { linktype, .. } => *linktype,
        }
    }

    /// Whether the file's byte order differs from this machine's.
    pub fn swapped(&self) -> bool {
        match self {
            Format::Pcap { swapped, .. } | Format::Pcapng { swapped, .. } => *swapped,
        }
    }

    /// The snap length libpcap reads the file with.
    pub fn snapshot(&self) -> u32 {
        match self {
            Format::Pcap { snapshot, .. } | Format::Pcapng { snapshot, .. } => *snapshot,
        }
    }

    /// Where the first record (block) after the file's header starts.
    pub fn first_record(&self) -> u64 {
        match self {
            Format::Pcap { .. } => PCAP_FILE_HEADER as u64,
            Format::Pcapng { .. } => 0,
        }
    }

    /// Where the file's header ends (pcapng: the section header and the
    /// interface descriptions before the first packet): split points at or
    /// before it are the first record.
    pub fn header_end(&self) -> u64 {
        match self {
            Format::Pcap { .. } => PCAP_FILE_HEADER as u64,
            Format::Pcapng { data_start, .. } => *data_start,
        }
    }

    /// The longest unit (record and header, or block) a candidate can be.
    pub fn unit(&self) -> u64 {
        match self {
            Format::Pcap { snapshot, .. } => PCAP_RECORD_HEADER as u64 + *snapshot as u64,
            Format::Pcapng { .. } => PCAPNG_MAX_CANDIDATE_BLOCK as u64,
        }
    }

    /// How far a candidate's chain must stay plausible.
    pub fn chain(&self) -> u64 {
        (2 * self.unit()).max(MIN_CHAIN)
    }

    /// How many bytes after an offset `split_point` may look at: pass at
    /// least this many (or up to the end of the file).
    pub fn lookahead(&self) -> u64 {
        // Candidates in [b, b + unit), chains followed up to b + unit +
        // chain, whose last header (or block) is read whole.
        2 * self.unit() + self.chain() + 16
    }

    /// One step along a chain at `off`.
    pub fn step(&self, bytes: &Bytes<'_>, off: u64) -> Step {
        if off >= bytes.size {
            return Step::End;
        }
        match self {
            Format::Pcap { swapped, nsec, snapshot, .. } => {
                if off + PCAP_RECORD_HEADER as u64 > bytes.size {
                    return Step::End;
                }
                let Some(h) = bytes.get(off, PCAP_RECORD_HEADER) else { return Step::Unknown };
                let frac = u32_of(&h[4..], *swapped);
                let caplen = u32_of(&h[8..], *swapped);
                let len = u32_of(&h[12..], *swapped);
                let frac_max = if *nsec { 1_000_000_000 } else { 1_000_000 };
                if caplen > *snapshot || len < caplen || len == 0 || len > MAX_WIRE_LEN || frac >= frac_max {
                    return Step::Bad;
                }
                let next = off + PCAP_RECORD_HEADER as u64 + caplen as u64;
                if next > bytes.size {
                    Step::End
                } else {
                    Step::Next(next)
                }
            }
            Format::Pcapng { swapped, .. } => {
                if off + 12 > bytes.size {
                    return Step::End;
                }
                let Some(h) = bytes.get(off, 8) else { return Step::Unknown };
                let blen = u32_of(&h[4..], *swapped);
                if blen < 12 || blen % 4 != 0 || blen > PCAPNG_MAX_CANDIDATE_BLOCK {
                    return Step::Bad;
                }
                let next = off + blen as u64;
                if next > bytes.size {
                    return Step::End;
                }
                match bytes.get(next - 4, 4) {
                    None => Step::Unknown,
                    Some(t) if u32_of(t, *swapped) == blen => Step::Next(next),
                    Some(_) => Step::Bad,
                }
            }
        }
    }
}

/// An interface description block's link type, snap length and time
/// stamp options.
fn parse_idb(block: &[u8], swapped: bool) -> Result<Interface, String> {
    if block.len() < 20 {
        return Err("pcapng interface description block too short".into());
    }
    let linktype = u16_of(&block[8..], swapped) as u32;
    let raw_snaplen = u32_of(&block[12..], swapped);
    let snaplen = adjust_snapshot(linktype, raw_snaplen);
    let mut iface = Interface { linktype, snaplen, raw_snaplen, tsresol: 1_000_000, binary: false, tsoffset: 0 };
    let body_end = block.len() - 4;
    let mut i = 16;
    while i + 4 <= body_end {
        let code = u16_of(&block[i..], swapped);
        let olen = u16_of(&block[i + 2..], swapped) as usize;
        let v = block.get(i + 4..i + 4 + olen).ok_or("pcapng option runs past its block")?;
        match code {
            0 => break,
            9 if olen == 1 => {
                let r = v[0];
                if r & 0x80 != 0 {
                    let e = (r & 0x7f) as u32;
                    if e > 63 {
                        return Err(format!("unsupported time stamp resolution 2^-{e}"));
                    }
                    iface.tsresol = 1u64 << e;
                    iface.binary = true;
                } else {
                    if r > 19 {
                        return Err(format!("unsupported time stamp resolution 10^-{r}"));
                    }
                    iface.tsresol = 10u64.pow(r as u32);
                    iface.binary = false;
                }
            }
            14 if olen == 8 => {
                let raw = i64::from_ne_bytes(v[..8].try_into().map_err(|_| "bad if_tsoffset")?);
                iface.tsoffset = if swapped { raw.swap_bytes() } else { raw };
            }
            _ => {}
        }
        i += 4 + olen.div_ceil(4) * 4;
    }
    Ok(iface)
}

/// The split point at or after `b`: the first record boundary common to
/// every plausible chain starting in `[b, b + unit)` (see the module's
/// documentation), or `None` when in doubt. `bytes` must hold the file
/// from `b` for `fmt.lookahead()` bytes, or up to its end.
pub fn split_point(fmt: &Format, bytes: &Bytes<'_>, b: u64) -> Option<u64> {
    if b <= fmt.header_end() {
        return Some(fmt.first_record());
    }
    if b >= bytes.size {
        return Some(bytes.size);
    }
    let unit = fmt.unit();
    let chain = fmt.chain();
    let limit = b + unit + chain;
    // reach[i]: 0 unknown, u32::MAX no break up to the end of the file,
    // else 1 + (where the chain from b + i breaks) - b.
    let span = usize::try_from((limit + unit).min(bytes.end()).saturating_sub(b)).ok()?;
    let mut reach = vec![0u32; span];
    let mut path = Vec::new();
    let mut reach_of = |p: u64| -> u64 {
        path.clear();
        let mut q = p;
        let r = loop {
            if q >= bytes.size {
                break u64::MAX;
            }
            let i = (q - b) as usize;
            if i >= span {
                break q;
            }
            match reach[i] {
                0 => {}
                u32::MAX => break u64::MAX,
                v => break b + v as u64 - 1,
            }
            match fmt.step(bytes, q) {
                Step::Next(n) => {
                    path.push(i);
                    q = n;
                }
                Step::End => {
                    path.push(i);
                    break u64::MAX;
                }
                Step::Bad | Step::Unknown => {
                    path.push(i);
                    break q;
                }
            }
        };
        let enc = if r == u64::MAX { u32::MAX } else { u32::try_from(r - b + 1).unwrap_or(u32::MAX - 1) };
        for &i in &path {
            reach[i] = enc;
        }
        r
    };
    let mut heads = std::collections::BTreeSet::new();
    let stop = (b + unit).min(bytes.size);
    for p in b..stop {
        if matches!(fmt.step(bytes, p), Step::Bad) {
            continue;
        }
        let r = reach_of(p);
        if r == u64::MAX || r >= p + chain {
            heads.insert(p);
        }
    }
    if bytes.size < b + unit {
        // The file may end before any record starts after b.
        heads.insert(bytes.size);
    }
    // Advance the chain that is furthest behind until all meet.
    while heads.len() > 1 {
        let m = heads.pop_first()?;
        match fmt.step(bytes, m) {
            Step::Next(n) if n < limit || n == bytes.size => {
                heads.insert(n);
            }
            Step::End => {
                heads.insert(bytes.size);
            }
            _ => return None,
        }
    }
    heads.pop_first()
}

/// One record read from memory.
pub struct Rec<'a> {
    pub sec: i64,
    /// The fraction of the second: microseconds, or nanoseconds when the
    /// records are read with `nano`.
    pub frac: i64,
    pub len: u32,
    pub data: &'a [u8],
}

/// Why `Records::next` stopped short of a record.
#[derive(Debug, PartialEq, Eq)]
pub enum Miss {
    /// The bytes `at..at + n` of the file are needed and not held: fetch
    /// them (`Window::fill`) and call again.
    Need(u64, usize),
    /// The file is not what the part expects (the message names the
    /// offset, not the file).
    Bad(String),
}

/// The state of a pcapng section at a block boundary: the interfaces
/// described so far in the section (what a packet block names).
pub type Section = Vec<Interface>;

/// The records of a part: from the split point `start` along the chain,
/// ending exactly at the split point `end`, read from bytes the caller
/// holds (`Bytes`, refilled on `Miss::Need`).
///
/// A pcapng part also needs the section it starts in: its interface
/// descriptions before `start`, and whether another section header came
/// in between. Those are read by walking the chain of blocks from an
/// earlier boundary whose section state is known (`from`, `section`: the
/// file's start and nothing, or a checkpoint an earlier part left), only
/// the block lengths of packets and the section and interface blocks
/// whole, before the part's records start.
pub struct Records {
    fmt: Format,
    pos: u64,
    start: u64,
    end: u64,
    /// Fractions in nanoseconds (else microseconds).
    nano: bool,
    done: bool,
    /// The bytes up to here were asked into the cache (`RUN_AHEAD`).
    ahead: u64,
}

/// How far ahead of the walk from header to header the bytes are asked
/// into the cache: each header's load waits on the one before it, so the
/// lines ahead are asked for early, many on their way at once (as
/// `crate::io::savefile` does for its runs).
const RUN_AHEAD: u64 = 4096;

impl Records {
    /// The records from `start` to `end`, walking from `from` (a block
    /// boundary at or before `start` where the section's interfaces are
    /// `section`; classic pcap: `start`).
    pub fn new(mut fmt: Format, from: u64, section: Section, start: u64, end: u64, nano: bool) -> Self {
        let from = if matches!(fmt, Format::Pcap { .. }) { start } else { from.min(start) };
        if let Format::Pcapng { ref mut interfaces, .. } = fmt {
            *interfaces = section;
        }
        Records { fmt, pos: from, start, end, nano, done: start == end, ahead: 0 }
    }

    /// Where the next block (record) starts.
    pub fn pos(&self) -> u64 {
        self.pos
    }

    /// The pcapng section's interfaces at `pos()` (empty for pcap).
    pub fn section(&self) -> &[Interface] {
        match &self.fmt {
            Format::Pcapng { interfaces, .. } => interfaces,
            Format::Pcap { .. } => &[],
        }
    }

    /// The next record, `None` at the end of the part, or why not.
    #[allow(clippy::should_implement_trait)]
    pub fn next<'b>(&mut self, bytes: &Bytes<'b>) -> Option<Result<Rec<'b>, Miss>> {
        while !self.done {
            if self.pos == self.end || self.pos >= bytes.size {
                self.done = true;
                if self.pos != self.end && self.end < bytes.size {
                    return Some(Err(Miss::Bad(format!(
                        "the part's records end at offset {}, before its end split point {}",
                        self.pos, self.end
                    ))));
                }
                return None;
            }
            if self.pos > self.end {
                self.done = true;
                return Some(Err(Miss::Bad(format!(
                    "split point {} is not a record boundary: the record chain passes it (next record at offset {})",
                    self.end, self.pos
                ))));
            }
            let until = (self.pos + RUN_AHEAD).min(bytes.end());
            if self.ahead < until {
                let from = self.ahead.max(self.pos);
                if let Some(b) = bytes.get(from, (until - from) as usize) {
                    crate::io::savefile::prefetch(b);
                }
                self.ahead = until;
            }
            let r = match &self.fmt {
                Format::Pcap { .. } => self.next_pcap(bytes).map(Some),
                Format::Pcapng { .. } => self.next_pcapng(bytes),
            };
            match r {
                Ok(Some(rec)) => return Some(Ok(rec)),
                Ok(None) => {}
                Err(Miss::Need(at, n)) => return Some(Err(Miss::Need(at, n))),
                Err(e) => {
                    self.done = true;
                    return Some(Err(e));
                }
            }
        }
        None
    }

    fn next_pcap<'b>(&mut self, bytes: &Bytes<'b>) -> Result<Rec<'b>, Miss> {
        let Format::Pcap { swapped, nsec, linktype, snapshot } = self.fmt else { unreachable!() };
        let h = need(bytes, self.pos, PCAP_RECORD_HEADER, "header bytes")?;
        let sec = u32_of(h, swapped) as i64;
        // Signed and scaled as libpcap does (see capture::source::file).
        let frac = u32_of(&h[4..], swapped) as i32 as i64;
        let caplen = u32_of(&h[8..], swapped);
        let len = u32_of(&h[12..], swapped);
        let max = max_snaplen_for(linktype);
        if caplen > max {
            return Err(Miss::Bad(format!("invalid packet capture length {caplen}, bigger than maximum of {max}")));
        }
        // The header and the bytes are asked for together: a refill keeps
        // nothing before what it is asked for.
        let whole = PCAP_RECORD_HEADER + caplen as usize;
        let data = match need(bytes, self.pos, whole, "captured bytes") {
            Ok(r) => &r[PCAP_RECORD_HEADER..],
            Err(Miss::Bad(_)) => need(bytes, self.pos + PCAP_RECORD_HEADER as u64, caplen as usize, "captured bytes")?,
            Err(e) => return Err(e),
        };
        self.pos += whole as u64;
        let frac = match (nsec, self.nano) {
            (true, false) => frac / 1000,
            (false, true) => frac * 1000,
            _ => frac,
        };
        Ok(Rec { sec, frac, len, data: &data[..data.len().min(snapshot as usize)] })
    }

    fn next_pcapng<'b>(&mut self, bytes: &Bytes<'b>) -> Result<Option<Rec<'b>>, Miss> {
        let off = self.pos;
        let (nano, walking) = (self.nano, off < self.start);
        let Format::Pcapng { swapped, ref mut interfaces, linktype, snapshot, .. } = self.fmt else { unreachable!() };
        let bad = |m: String| Miss::Bad(m);
        let h = need(bytes, off, 12, "block header bytes")?;
        let btype = u32_of(h, swapped);
        let blen = u32_of(&h[4..], swapped);
        // libpcap's checks (`read_block`), in its words.
        if blen < 12 {
            return Err(bad(format!("block in pcapng dump file has a length of {blen} < 12")));
        }
        if blen % 4 != 0 {
            return Err(bad(format!("block in pcapng dump file has a length of {blen} that is not a multiple of 4")));
        }
        let max = PCAPNG_MAX_BLOCKSIZE.max(max_snaplen_for(linktype) + 131_072);
        if blen > max {
            return Err(bad(format!("pcapng block size {blen} > maximum {max}")));
        }
        let block = need(bytes, off, blen as usize, "block bytes")?;
        if u32_of(&block[blen as usize - 4..], swapped) != blen {
            return Err(bad(format!("pcapng block at offset {off}: its lengths at both ends differ")));
        }
        let body = &block[8..blen as usize - 4];
        let short = || bad(format!("pcapng block at offset {off} is too short for its type"));
        let rec = match btype {
            SHB => {
                // A new section: libpcap reads on only in the same byte
                // order and version, with none of the interfaces before.
                if body.len() < 8 {
                    return Err(short());
                }
                match u32_of(body, swapped) {
                    BYTE_ORDER_MAGIC => {}
                    m if m.swap_bytes() == BYTE_ORDER_MAGIC => {
                        return Err(bad("the file has sections with different byte orders".into()))
                    }
                    _ => return Err(bad("the file has a section with a bad byte order magic field".into())),
                }
                let major = u16_of(&body[4..], swapped);
                if major != 1 {
                    return Err(bad(format!("unknown pcapng savefile major version number {major}")));
                }
                interfaces.clear();
                None
            }
            IDB => {
                let i = parse_idb(block, swapped).map_err(bad)?;
                // libpcap holds every interface of the file to the first.
                check_interface(&i, linktype, snapshot).map_err(bad)?;
                interfaces.push(i);
                None
            }
            _ if walking => None,
            EPB | OBSOLETE_PB => {
                if body.len() < 20 {
                    return Err(short());
                }
                let ifid = if btype == EPB { u32_of(body, swapped) } else { u16_of(body, swapped) as u32 };
                let rest = &body[4..];
                let hi = u32_of(rest, swapped) as u64;
                let lo = u32_of(&rest[4..], swapped) as u64;
                let caplen = u32_of(&rest[8..], swapped);
                let len = u32_of(&rest[12..], swapped);
                let data = rest[16..].get(..caplen as usize).ok_or_else(|| {
                    bad(format!("pcapng block at offset {off}: its capture length {caplen} runs past the block"))
                })?;
                let iface = interfaces.get(ifid as usize).ok_or_else(|| {
                    bad(format!(
                        "a packet arrived on interface {ifid}, but there's no Interface Description Block for that interface"
                    ))
                })?;
                if caplen > snapshot {
                    // libpcap refuses the record (the file's snap length is
                    // that of its first interface).
                    return Err(bad(format!(
                        "invalid packet capture length {caplen}, bigger than snaplen of {snapshot}"
                    )));
                }
                let (sec, frac) = iface_time(iface, (hi << 32) | lo, nano);
                Some(Rec { sec, frac, len, data })
            }
            SPB => {
                if body.len() < 4 {
                    return Err(short());
                }
                let iface = interfaces.first().ok_or_else(|| {
                    bad("a packet arrived on interface 0, but there's no Interface Description Block for that interface".into())
                })?;
                let len = u32_of(body, swapped);
                let caplen = (len.min(iface.snaplen).min(snapshot) as usize).min(body.len() - 4);
                Some(Rec { sec: 0, frac: 0, len, data: &body[4..4 + caplen] })
            }
            _ => None,
        };
        self.pos += blen as u64;
        if walking && self.pos > self.start {
            return Err(bad(format!(
                "split point {} is not a block boundary: the block chain passes it (next block at offset {})",
                self.start, self.pos
            )));
        }
        Ok(rec)
    }
}

/// libpcap's checks of an interface description against the file's first
/// (`pcap_ng_next_packet`): the same link type and adjusted snap length.
fn check_interface(i: &Interface, linktype: u32, snapshot: u32) -> Result<(), String> {
    if i.linktype != linktype {
        return Err(format!("an interface has a type {} different from the type of the first interface", i.linktype));
    }
    if i.snaplen != snapshot {
        return Err(format!(
            "an interface has a snapshot length {} different from the snapshot length of the first interface",
            i.raw_snaplen
        ));
    }
    Ok(())
}

/// The `n` bytes at `at`, `Miss::Need` when they are in the file but not
/// held, or the error a short file gives (libpcap's words).
fn need<'a>(bytes: &Bytes<'a>, at: u64, n: usize, what: &str) -> Result<&'a [u8], Miss> {
    if let Some(b) = bytes.get(at, n) {
        return Ok(b);
    }
    let have = bytes.size.saturating_sub(at);
    if have < n as u64 {
        Err(Miss::Bad(format!("truncated dump file; tried to read {n} {what}, only got {have}")))
    } else {
        Err(Miss::Need(at, n))
    }
}

/// A pcapng time stamp in `iface`'s units, as libpcap turns it into
/// seconds and a fraction in microseconds (or nanoseconds, `nano`): the
/// fraction passed through, or scaled by a power of ten, or multiplied by
/// the wanted units and divided by the interface's in 64 bits (binary
/// resolutions), as `pcap_ng_next_packet` does.
fn iface_time(iface: &Interface, t: u64, nano: bool) -> (i64, i64) {
    let user: u64 = if nano { 1_000_000_000 } else { 1_000_000 };
    let res = iface.tsresol;
    let sec = (t / res).wrapping_add(iface.tsoffset as u64) as i64;
    let frac = t % res;
    let frac = if res == user {
        frac
    } else if iface.binary {
        frac.wrapping_mul(user) / res
    } else if res > user {
        frac / (res / user)
    } else {
        frac * (user / res)
    };
    (sec, frac as i32 as i64)
}

/// Why a `Fetch` failed: a message (the file's name is added by the
/// caller), or the error a Python reader raised, as it is.
pub enum FetchError {
    Io(String),
    Py(pyo3::PyErr),
}

/// Where a part's bytes come from: a local file, an object store's ranged
/// reads, bytes in memory.
pub trait Fetch: Send {
    /// Fills `buf` with the file's bytes from `off` (all of them: a short
    /// read is an error).
    fn fetch(&mut self, off: u64, buf: &mut [u8]) -> Result<(), FetchError>;

    /// The file's `len` bytes from `off` (a multiple of the page size)
    /// mapped into memory, or `None`: read them with `fetch` instead.
    fn map(&mut self, _off: u64, _len: usize) -> Option<crate::io::mapping::Window> {
        None
    }
}

/// A local file, read with `pread`, or mapped into memory where it can be
/// (`crate::io::mapping`).
pub struct LocalFile(pub std::fs::File);

impl Fetch for LocalFile {
    fn fetch(&mut self, off: u64, buf: &mut [u8]) -> Result<(), FetchError> {
        use std::os::unix::fs::FileExt;
        let n = buf.len();
        self.0.read_exact_at(buf, off).map_err(|e| {
            FetchError::Io(match e.kind() {
                std::io::ErrorKind::UnexpectedEof => {
                    format!("read fewer than {n} bytes at offset {off} (the file changed while it was read?)")
                }
                _ => e.to_string(),
            })
        })
    }

    fn map(&mut self, off: u64, len: usize) -> Option<crate::io::mapping::Window> {
        use std::os::unix::io::AsRawFd;
        crate::io::mapping::Window::map(self.0.as_raw_fd(), off, len)
    }
}

/// How many bytes a part reads at a time.
pub const CHUNK: usize = 4 << 20;
/// How many bytes of a local file a part maps at a time: no copy, and the
/// decoder touches only the cache lines of the headers it reads (16 MiB,
/// as `crate::io::savefile` maps).
pub const MAPPED_CHUNK: usize = 16 << 20;

/// The bytes of a file a part holds: one chunk at a time, refilled
/// forwards, so a part of any size holds about `CHUNK` bytes (or one
/// record, when longer); a local file's bytes are mapped, `MAPPED_CHUNK`
/// at a time, where the `Fetch` can map them.
pub struct Window {
    base: u64,
    buf: Vec<u8>,
    /// The mapped bytes from `base` (and `buf` empty), when mapped.
    mapped: Option<crate::io::mapping::Window>,
    size: u64,
    /// Bytes past this offset are fetched only when a record needs them.
    cap: u64,
}

impl Window {
    /// An empty window on a file of `size` bytes, read up to `cap` (the
    /// part's end) unless a record runs past it.
    pub fn new(size: u64, cap: u64) -> Self {
        Window { base: 0, buf: Vec::new(), mapped: None, size, cap: cap.min(size) }
    }

    pub fn bytes(&self) -> Bytes<'_> {
        let data = match &self.mapped {
            Some(m) => m.bytes(),
            None => &self.buf,
        };
        Bytes { base: self.base, data, size: self.size }
    }

    /// False once the file was found shorter than a mapped window of it
    /// (cut short while it was read): what was read from the window since
    /// may be zeros instead of its bytes.
    pub fn intact(&self) -> bool {
        self.mapped.as_ref().is_none_or(|m| m.intact())
    }

    /// Holds at least `at..at + n`, and up to `CHUNK` bytes from `at`
    /// (`MAPPED_CHUNK` mapped; not past `cap`), dropping what comes
    /// before `at`.
    pub fn fill(&mut self, src: &mut dyn Fetch, at: u64, n: usize) -> Result<(), FetchError> {
        if self.mapped.take().is_some() {
            // Unmapped first: one window of a part is mapped at a time.
            self.base = self.size;
        }
        let page = crate::io::mapping::page_size() as u64;
        let from = at - at % page;
        let map_end = (at + n as u64).max((at + MAPPED_CHUNK as u64).min(self.cap)).min(self.size);
        if map_end > from {
            if let Some(m) = usize::try_from(map_end - from).ok().and_then(|len| src.map(from, len)) {
                self.buf = Vec::new();
                self.base = from;
                self.mapped = Some(m);
                return Ok(());
            }
        }
        let held = self.base + self.buf.len() as u64;
        if at < self.base || at > held {
            self.buf.clear();
            self.base = at;
        } else {
            self.buf.drain(..(at - self.base) as usize);
            self.base = at;
        }
        let want_end = (at + n as u64).max((at + CHUNK as u64).min(self.cap)).min(self.size);
        let have_end = self.base + self.buf.len() as u64;
        if want_end > have_end {
            let old = self.buf.len();
            self.buf.resize(old + (want_end - have_end) as usize, 0);
            src.fetch(have_end, &mut self.buf[old..]).inspect_err(|_| self.buf.truncate(old))?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests;
