//! pcapng blocks parsed with every length checked against the bytes there
//! are: interface descriptions (link type, snap length, options, the
//! timestamp units their `if_tsresol` and `if_tsoffset` give) and packet
//! blocks (interface, ticks, lengths, options), walked the way libpcap
//! walks them, switching byte order at each section header. Options are
//! rewritten in this machine's byte order, those whose layout is not known
//! being dropped when that order differs from the file's. `Trace`
//! (`crate::io::pcapng_read`) walks a file or stream with these; this file
//! is also built alone, with `format.rs`, by the fuzz target
//! (`fuzz/pcapng/`), which drives `exercise` as the property test does.

use super::format::{
    BYTE_ORDER_MAGIC, EPB, IDB, IF_TSOFFSET, IF_TSRESOL, OBSOLETE_PB as PB, PCAPNG_MAX_BLOCK, SHB, SPB,
};

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
        option_value(&self.options, IF_TSRESOL).and_then(|v| v.first().copied()).unwrap_or(6)
    }

    /// `if_tsoffset`: seconds added to every timestamp.
    pub fn tsoffset(&self) -> i64 {
        option_value(&self.options, IF_TSOFFSET).and_then(|v| v.try_into().ok()).map_or(0, i64::from_ne_bytes)
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
    pub fn absorb(&mut self, kind: u32, body: &[u8]) {
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
    pub fn head(&mut self, b: &[u8]) -> Option<(u32, usize)> {
        let kind = u32_at(b, 0, self.big)?;
        if kind == SHB {
            self.big = match (u32_at(b, 8, false)?, u32_at(b, 8, true)?) {
                (BYTE_ORDER_MAGIC, _) => false,
                (_, BYTE_ORDER_MAGIC) => true,
                _ => return None,
            };
        }
        let len = u32_at(b, 4, self.big)? as usize;
        // (The largest block believed is libpcap's largest.)
        (len >= 12 && len % 4 == 0 && len <= PCAPNG_MAX_BLOCK as usize).then_some((kind, len))
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

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    pub(crate) fn block(kind: u32, body: &[u8], big: bool) -> Vec<u8> {
        let w = |v: u32| if big { v.to_be_bytes() } else { v.to_le_bytes() };
        let len = (12 + body.len().next_multiple_of(4)) as u32;
        let mut b = w(kind).to_vec();
        b.extend(w(len));
        b.extend(body);
        b.resize(len as usize - 4, 0);
        b.extend(w(len));
        b
    }

    pub(crate) fn file(big: bool) -> Vec<u8> {
        let w32 = |v: u32| if big { v.to_be_bytes() } else { v.to_le_bytes() };
        let w16 = |v: u16| if big { v.to_be_bytes() } else { v.to_le_bytes() };
        let mut shb = w32(BYTE_ORDER_MAGIC).to_vec();
        shb.extend(w16(1));
        shb.extend(w16(0));
        shb.extend([0xff; 8]);
        let mut idb = w16(1).to_vec();
        idb.extend(w16(0));
        idb.extend(w32(96));
        for (code, value) in
            [(2u16, b"eth0".to_vec()), (9, vec![9]), (8, 1_000_000u64.to_be_bytes().to_vec()), (9999, vec![1, 2])]
        {
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
