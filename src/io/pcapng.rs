//! A pcapng writer for `Dumper(feed, path, format="pcapng")`.
//!
//! libpcap 1.10 reads pcapng but cannot write it, so the blocks are laid
//! out here, in this machine's byte order, as the pcapng specification
//! (draft-ietf-opsawg-pcapng) gives them: one section header block, the
//! interface description blocks (the feed's: link type, snap length,
//! `if_tsresol`, and `if_name` for a live feed; or, for a feed that reads a
//! pcapng file, a copy of each of that file's, from `crate::io::pcapng_read`)
//! and one enhanced packet block per packet, with an optional `opt_comment`.
//! The blocks go through a `crate::io::sink::Sink`, which knows what the
//! output holds after a write error or a signal.

use super::pcapng_blocks::Interface as Described;
use super::pcapng_read::Trace;
use super::sink::Sink;
use std::sync::Arc;

use super::format::{BYTE_ORDER_MAGIC, EPB, IDB, IF_NAME, IF_TSRESOL, OPT_COMMENT, OPT_ENDOFOPT, SHB, SHB_USERAPPL};

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

/// What the interface description block of a feed says (a feed that is
/// not a pcapng file: its link type, snap length and precision).
pub struct Interface {
    pub linktype: u16,
    pub snaplen: u32,
    /// Nanosecond timestamps (`if_tsresol` 9) or microseconds (6).
    pub nano: bool,
    /// `if_name`, for a live feed.
    pub name: Option<String>,
}

impl Interface {
    /// The same as an interface read from a file.
    fn described(&self) -> Described {
        let mut options = Block(Vec::new());
        if let Some(name) = &self.name {
            options.option(IF_NAME, &name.as_bytes()[..name.len().min(MAX_COMMENT)]);
        }
        options.option(IF_TSRESOL, &[if self.nano { 9 } else { 6 }]);
        Described { linktype: self.linktype, snaplen: self.snaplen, options: options.0 }
    }
}

/// Which interface of the output a packet goes to.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Key {
    /// The feed's own (when the input is not pcapng).
    Feed,
    /// Interface `n` of the pcapng input.
    Input(usize),
}

/// Lays out the blocks of a pcapng section for a `Dumper`: the section
/// header, then per packet the interface descriptions it needs first (a
/// copy of a pcapng input gets the input's interfaces, in its order, so
/// with the same numbers) and its enhanced packet block. The bytes go into
/// a [`Sink`], which writes them.
pub struct Writer {
    pub sink: Sink,
    /// The blocks of the packet being written.
    blocks: Block,
    feed: Interface,
    /// The input's interfaces, when the feed reads a pcapng file.
    trace: Option<Arc<Trace>>,
    /// The input's interfaces the trace told of so far (`None`: one it
    /// could not read).
    known: Vec<Option<Described>>,
    /// The output's interfaces, in order.
    emitted: Vec<(Key, Described)>,
}

/// The longest comment an option can carry (its length is 16 bits).
pub const MAX_COMMENT: usize = u16::MAX as usize;

/// Where the output interfaces stood before a packet (to undo its
/// interface descriptions when the packet is not taken).
pub struct Mark(usize);

impl Writer {
    /// Lays out the section header and the interface descriptions known so
    /// far: the feed's, or those of the pcapng file it reads (`trace`).
    pub fn new(mut sink: Sink, feed: Interface, trace: Option<Arc<Trace>>) -> Self {
        let mut shb = Block::new(SHB);
        shb.u32(BYTE_ORDER_MAGIC).u16(1).u16(0);
        shb.0.extend_from_slice(&(-1i64).to_ne_bytes()); // section length: unknown
        shb.option(SHB_USERAPPL, b"pyopenbsd");
        sink.push_blocks(shb.finish(true));
        let known = trace.as_ref().map(|t| t.start()).unwrap_or_default();
        let mut w = Writer { sink, blocks: Block(Vec::new()), feed, trace, known, emitted: Vec::new() };
        match w.known.len() {
            0 => w.emit(Key::Feed),
            n => w.emit(Key::Input(n - 1)),
        };
        w.sink.push_blocks(&w.blocks.0);
        w.blocks.0.clear();
        w
    }

    /// Whether the input's trace lost interfaces it walked past (see
    /// `Trace::incomplete`): a copy would lack them.
    pub fn incomplete(&self) -> bool {
        self.trace.as_ref().is_some_and(|t| t.incomplete())
    }

    /// The output number of interface `key`, laying out the descriptions
    /// it needs (an input's interfaces come in its order, up to `key`; one
    /// the input does not describe is the feed's).
    fn emit(&mut self, key: Key) -> u32 {
        if let Some(i) = self.emitted.iter().position(|(k, _)| *k == key) {
            return i as u32;
        }
        let wanted: Vec<Key> = match key {
            Key::Feed => vec![Key::Feed],
            Key::Input(n) => (0..=n).map(Key::Input).filter(|k| !self.emitted.iter().any(|(e, _)| e == k)).collect(),
        };
        for k in wanted {
            let d = match k {
                // An interface the input describes in a way this reader
                // could not follow: the feed's own stands in.
                Key::Input(i) => self.known.get(i).cloned().flatten().unwrap_or_else(|| self.feed.described()),
                Key::Feed => self.feed.described(),
            };
            let mut idb = Block::new(IDB);
            idb.u16(d.linktype).u16(0).u32(d.snaplen);
            idb.0.extend_from_slice(&d.options);
            self.blocks.0.extend_from_slice(idb.finish(!d.options.is_empty()));
            self.emitted.push((k, d));
        }
        (self.emitted.len() - 1) as u32
    }

    /// Lays out one packet (after the interface descriptions it needs);
    /// `blocks()` then has its bytes. `sec`/`frac` are the timestamp in the
    /// feed's precision (`nano`), seconds taken in 32 bits as in a pcap
    /// savefile (see `Dumper`), so that a copy of a pcap file agrees with
    /// it. A packet the feed just read from a pcapng file keeps its
    /// interface, its timestamp in that interface's units and its options;
    /// `comment` is added to them.
    pub fn packet(&mut self, data: &[u8], sec: i64, frac: i64, len: u32, comment: Option<&str>) -> Mark {
        let mark = Mark(self.emitted.len());
        self.blocks.0.clear();
        let packet = match self.trace.as_ref().map(|t| t.lookup(sec, frac, data.len() as u32, len)) {
            Some((count, packet)) => {
                self.learn(count);
                packet
            }
            None => None,
        };
        let (id, ticks, options) = match (&packet, self.known.len()) {
            (_, 0) => {
                let id = self.emit(Key::Feed);
                (id, self.ticks_for(id, sec, frac), &[][..])
            }
            (packet, n) => {
                // The interfaces libpcap read past come first, where they
                // were in the input: before this packet.
                self.emit(Key::Input(n - 1));
                match packet {
                    Some(p) => (self.emit(Key::Input(p.iface)), p.ticks, &p.options[..]),
                    None => {
                        let id = self.emit(Key::Input(0));
                        (id, self.ticks_for(id, sec, frac), &[][..])
                    }
                }
            }
        };
        let mut epb = Block::new(EPB);
        epb.u32(id).u32((ticks >> 32) as u32).u32(ticks as u32).u32(data.len() as u32).u32(len).padded(data);
        epb.0.extend_from_slice(options);
        if let Some(c) = comment {
            epb.option(OPT_COMMENT, c.as_bytes());
        }
        let had = !options.is_empty() || comment.is_some();
        self.blocks.0.extend_from_slice(epb.finish(had));
        mark
    }

    /// The timestamp `(sec, frac)` of the feed's precision in the units of
    /// output interface `id` (truncated; 0 when the time is before its
    /// `if_tsoffset`).
    fn ticks_for(&self, id: u32, sec: i64, frac: i64) -> u64 {
        let d = &self.emitted[id as usize].1;
        let units = u128::from(d.units());
        let feed_units: u128 = if self.feed.nano { 1_000_000_000 } else { 1_000_000 };
        let secs = i128::from(sec as u32) - i128::from(d.tsoffset());
        let Ok(secs) = u128::try_from(secs) else { return 0 };
        let t = secs * units + u128::from(frac as u32) * units / feed_units;
        u64::try_from(t).unwrap_or(u64::MAX)
    }

    /// The blocks of the packet laid out last.
    pub fn blocks(&self) -> &[u8] {
        &self.blocks.0
    }

    /// Hands the input's interfaces known and not described yet to the
    /// sink (`flush()`, `close()`: a copy gets every interface libpcap read
    /// past, a filter's or a count's copy too).
    pub fn describe_known(&mut self) {
        let Some(count) = self.trace.as_ref().map(|t| t.interface_count()) else { return };
        self.learn(count);
        if let Some(last) = self.known.len().checked_sub(1) {
            self.blocks.0.clear();
            self.emit(Key::Input(last));
            self.push();
            self.blocks.0.clear();
        }
    }

    /// Copies the interfaces the trace learnt since the last call (it
    /// knows `count`).
    fn learn(&mut self, count: usize) {
        if let Some(t) = &self.trace {
            for i in self.known.len()..count {
                self.known.push(t.interface(i));
            }
        }
    }

    /// Hands the blocks of the packet laid out last to the sink.
    pub fn push(&mut self) {
        self.sink.push_blocks(&self.blocks.0);
    }

    /// Forgets the interfaces described for a packet that was not taken.
    pub fn undo(&mut self, mark: Mark) {
        self.emitted.truncate(mark.0);
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
        let mut w = Writer::new(Sink::pcapng(), iface, None);
        let out = w.sink.pending().to_vec();
        // SHB: 28 bytes + userappl option (4 + 12) + end (4) = 48.
        assert_eq!(&out[0..8], &le(&[SHB, 48])[..]);
        assert_eq!(&out[44..48], &48u32.to_ne_bytes());
        // IDB: 16 + if_tsresol (4 + 4) + end (4) + length (4) = 32.
        assert_eq!(&out[48..56], &le(&[IDB, 32])[..]);
        let tsresol: Vec<u8> = [IF_TSRESOL.to_ne_bytes(), 1u16.to_ne_bytes()].concat();
        assert_eq!(&out[64..68], &tsresol[..]);
        assert_eq!(&out[68..72], &[9, 0, 0, 0]);
        assert_eq!(out.len(), 80);
        w.packet(&[1, 2, 3], 2, 5, 60, Some("hi"));
        let epb = w.blocks();
        // 28 + data 4 + comment (4 + 4) + end 4 + 4 = 48
        assert_eq!(epb.len(), 48);
        assert_eq!(&epb[..28], &le(&[EPB, 48, 0, 0, 2_000_000_005, 3, 60])[..]);
        assert_eq!(&epb[28..32], &[1, 2, 3, 0]);
        let comment: Vec<u8> = [OPT_COMMENT.to_ne_bytes(), 2u16.to_ne_bytes()].concat();
        assert_eq!(&epb[32..36], &comment[..]);
        assert_eq!(&epb[36..40], b"hi\0\0");
        assert_eq!(&epb[44..48], &48u32.to_ne_bytes());
        // Read back by the block reader: one interface, the packet on it.
        let file = [&out[..], epb].concat();
        let (blocks, n) = crate::io::pcapng_blocks::parse_blocks(&file);
        assert_eq!(n, file.len());
        assert_eq!(blocks.ifaces.len(), 1);
        let p = blocks.last.unwrap();
        assert_eq!((p.iface, p.ticks), (0, 2_000_000_005));
        assert_eq!(crate::io::pcapng_blocks::option_value(&p.options, OPT_COMMENT), Some(&b"hi"[..]));
    }
}
