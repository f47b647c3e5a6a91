//! A pcapng writer for `Dumper(feed, path, format="pcapng")`.
//!
//! libpcap 1.10 reads pcapng but cannot write it, so the blocks are laid
//! out here, in this machine's byte order, as the pcapng specification
//! (draft-ietf-opsawg-pcapng) gives them: one section header block, one
//! interface description block (link type, snap length, `if_tsresol`, and
//! `if_name` for a live feed) and one enhanced packet block per packet,
//! with an optional `opt_comment`.

use std::io::Write;

const SHB: u32 = 0x0A0D_0D0A;
const IDB: u32 = 0x0000_0001;
const EPB: u32 = 0x0000_0006;
const BYTE_ORDER_MAGIC: u32 = 0x1A2B_3C4D;
const OPT_ENDOFOPT: u16 = 0;
const OPT_COMMENT: u16 = 1;
const SHB_USERAPPL: u16 = 4;
const IF_NAME: u16 = 2;
const IF_TSRESOL: u16 = 9;

/// One block being laid out: type, length placeholder, body, options.
struct Block(Vec<u8>);

impl Block {
    fn new(kind: u32) -> Self {
        let mut b = Vec::with_capacity(64);
        b.extend_from_slice(&kind.to_ne_bytes());
        b.extend_from_slice(&0u32.to_ne_bytes()); // total length, set by `finish`
        Block(b)
    }

    fn u16(&mut self, v: u16) -> &mut Self {
        self.0.extend_from_slice(&v.to_ne_bytes());
        self
    }

    fn u32(&mut self, v: u32) -> &mut Self {
        self.0.extend_from_slice(&v.to_ne_bytes());
        self
    }

    /// Bytes, padded with zeros to a multiple of 4.
    fn padded(&mut self, data: &[u8]) -> &mut Self {
        self.0.extend_from_slice(data);
        self.0.resize(self.0.len().next_multiple_of(4), 0);
        self
    }

    fn option(&mut self, code: u16, value: &[u8]) -> &mut Self {
        self.u16(code).u16(value.len() as u16).padded(value)
    }

    /// Ends the options (when there were any), and writes the length at
    /// both ends.
    fn finish(&mut self, had_options: bool) -> &[u8] {
        if had_options {
            self.u16(OPT_ENDOFOPT).u16(0);
        }
        let total = (self.0.len() + 4) as u32;
        self.u32(total);
        self.0[4..8].copy_from_slice(&total.to_ne_bytes());
        &self.0
    }
}

/// What the interface description block says.
pub struct Interface {
    pub linktype: u16,
    pub snaplen: u32,
    /// Nanosecond timestamps (`if_tsresol` 9) or microseconds (6).
    pub nano: bool,
    /// `if_name`, for a live feed.
    pub name: Option<String>,
}

/// Writes a pcapng section to `out`, counting the bytes written.
pub struct Writer<W: Write> {
    out: W,
    written: u64,
    nano: bool,
}

/// The longest comment an option can carry (its length is 16 bits).
pub const MAX_COMMENT: usize = u16::MAX as usize;

impl<W: Write> Writer<W> {
    /// Writes the section header and the interface description.
    pub fn new(out: W, iface: &Interface) -> std::io::Result<Self> {
        let mut w = Writer { out, written: 0, nano: iface.nano };
        let mut shb = Block::new(SHB);
        shb.u32(BYTE_ORDER_MAGIC).u16(1).u16(0);
        shb.0.extend_from_slice(&(-1i64).to_ne_bytes()); // section length: unknown
        shb.option(SHB_USERAPPL, b"pyopenbsd");
        w.put(shb.finish(true))?;
        let mut idb = Block::new(IDB);
        idb.u16(iface.linktype).u16(0).u32(iface.snaplen);
        if let Some(name) = &iface.name {
            idb.option(IF_NAME, &name.as_bytes()[..name.len().min(MAX_COMMENT)]);
        }
        idb.option(IF_TSRESOL, &[if iface.nano { 9 } else { 6 }]);
        w.put(idb.finish(true))?;
        Ok(w)
    }

    fn put(&mut self, bytes: &[u8]) -> std::io::Result<()> {
        self.out.write_all(bytes)?;
        self.written += bytes.len() as u64;
        Ok(())
    }

    /// Writes one enhanced packet block. `sec`/`frac` are the timestamp in
    /// the interface's resolution; seconds are taken in 32 bits as in a pcap
    /// savefile (see `Dumper`), so that a copy of a pcap file agrees with it.
    pub fn packet(&mut self, data: &[u8], sec: i64, frac: i64, len: u32, comment: Option<&str>) -> std::io::Result<()> {
        let units: u64 = if self.nano { 1_000_000_000 } else { 1_000_000 };
        let ticks = u64::from(sec as u32).wrapping_mul(units).wrapping_add(frac as u32 as u64);
        let mut epb = Block::new(EPB);
        epb.u32(0).u32((ticks >> 32) as u32).u32(ticks as u32).u32(data.len() as u32).u32(len).padded(data);
        if let Some(c) = comment {
            epb.option(OPT_COMMENT, c.as_bytes());
        }
        self.put(epb.finish(comment.is_some()))
    }

    /// Bytes written so far.
    pub fn tell(&self) -> u64 {
        self.written
    }

    pub fn flush(&mut self) -> std::io::Result<()> {
        self.out.flush()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn le(words: &[u32]) -> Vec<u8> {
        words.iter().flat_map(|w| w.to_ne_bytes()).collect()
    }

    #[test]
    fn blocks_are_laid_out_as_the_specification_says() {
        let iface = Interface { linktype: 1, snaplen: 96, nano: true, name: None };
        let mut w = Writer::new(Vec::new(), &iface).unwrap();
        let head = w.tell() as usize;
        // SHB: 28 bytes + userappl option (4 + 12) + end (4) = 48.
        assert_eq!(&w.out[0..8], &le(&[SHB, 48])[..]);
        assert_eq!(&w.out[44..48], &48u32.to_ne_bytes());
        // IDB: 16 + if_tsresol (4 + 4) + end (4) + length (4) = 32.
        assert_eq!(&w.out[48..56], &le(&[IDB, 32])[..]);
        let tsresol: Vec<u8> = [IF_TSRESOL.to_ne_bytes(), 1u16.to_ne_bytes()].concat();
        assert_eq!(&w.out[64..68], &tsresol[..]);
        assert_eq!(&w.out[68..72], &[9, 0, 0, 0]);
        w.packet(&[1, 2, 3], 2, 5, 60, Some("hi")).unwrap();
        let epb = &w.out[head..];
        // 28 + data 4 + comment (4 + 4) + end 4 + 4 = 48
        assert_eq!(epb.len(), 48);
        assert_eq!(&epb[..28], &le(&[EPB, 48, 0, 0, 2_000_000_005, 3, 60])[..]);
        assert_eq!(&epb[28..32], &[1, 2, 3, 0]);
        let comment: Vec<u8> = [OPT_COMMENT.to_ne_bytes(), 2u16.to_ne_bytes()].concat();
        assert_eq!(&epb[32..36], &comment[..]);
        assert_eq!(&epb[36..40], b"hi\0\0");
        assert_eq!(&epb[44..48], &48u32.to_ne_bytes());
    }
}
